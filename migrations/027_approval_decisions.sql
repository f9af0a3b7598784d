-- 027: remembered approval decisions for tier-2 commands
CREATE TABLE approval_decisions (
    id              TEXT PRIMARY KEY,
    command_pattern TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('allow_once', 'allow_session', 'deny')),
    session_id      TEXT,
    decided_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    expires_at      TEXT
);
CREATE INDEX idx_approval_decisions_session ON approval_decisions(session_id);
