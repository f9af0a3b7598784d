-- 026: every shell command executed, with its result
CREATE TABLE command_executions (
    id                TEXT PRIMARY KEY,
    issue_id          TEXT REFERENCES issues(id) ON DELETE CASCADE,
    command           TEXT NOT NULL,
    tier              INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    approval_status   TEXT NOT NULL CHECK (approval_status IN ('auto', 'approved', 'denied')),
    kubeconfig_id     TEXT REFERENCES kubeconfig_files(id) ON DELETE SET NULL,
    exit_code         INTEGER,
    stdout            TEXT,
    stderr            TEXT,
    execution_time_ms INTEGER,
    executed_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
);
CREATE INDEX idx_command_executions_issue ON command_executions(issue_id);
CREATE INDEX idx_command_executions_executed ON command_executions(executed_at);
