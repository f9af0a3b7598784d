-- 040: shell and kubectl commands proposed for an issue (from Triage Warden's actions and
-- approvals): the classifier's tier and reason, why it was proposed, the target, the priority,
-- what was decided (by a policy, a remembered session decision or a person) and the run it led to.
-- command_executions gains the actor, the action, who approved it, and whether the run timed out
-- or its output was cut at the cap.
CREATE TABLE shell_actions (
    id             TEXT PRIMARY KEY,                  -- UUID v7
    issue_id       TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    command        TEXT NOT NULL,
    tier           INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    tier_reason    TEXT NOT NULL,
    reason         TEXT,                              -- why it was proposed (the model's or the user's words)
    target         TEXT NOT NULL DEFAULT '{}',        -- JSON: {"host"} or {"kubeconfig", "context"}
    priority       INTEGER NOT NULL DEFAULT 50 CHECK (priority BETWEEN 1 AND 100),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'auto_approved', 'approved', 'denied',
                                                   'executed', 'failed')),
    approval_level TEXT CHECK (approval_level IN ('analyst', 'admin')),
    policy_id      TEXT,                              -- the policy that decided (kept if it is removed)
    policy_name    TEXT,
    decision       TEXT CHECK (decision IN ('auto', 'allow_once', 'allow_session', 'deny', 'policy_deny',
                                            'refused')),
    requested_by   TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT 'cli',       -- cli | chat | api | panel
    session_id     TEXT,
    decided_by     TEXT,
    decided_at     TEXT,
    decision_reason TEXT,
    kubeconfig_id  TEXT REFERENCES kubeconfig_files(id) ON DELETE SET NULL,
    execution_id   TEXT REFERENCES command_executions(id) ON DELETE SET NULL,
    created_at     TEXT NOT NULL,
    executed_at    TEXT
);
CREATE INDEX idx_shell_actions_issue ON shell_actions(issue_id, created_at);
CREATE INDEX idx_shell_actions_status ON shell_actions(status);

ALTER TABLE command_executions ADD COLUMN action_id TEXT REFERENCES shell_actions(id) ON DELETE SET NULL;
ALTER TABLE command_executions ADD COLUMN actor TEXT;
ALTER TABLE command_executions ADD COLUMN approved_by TEXT;
ALTER TABLE command_executions ADD COLUMN timed_out INTEGER NOT NULL DEFAULT 0 CHECK (timed_out IN (0, 1));
ALTER TABLE command_executions ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0 CHECK (truncated IN (0, 1));
