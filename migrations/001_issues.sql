-- 001: incidents under investigation
CREATE TABLE issues (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    severity    TEXT NOT NULL DEFAULT 'medium'
                CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status      TEXT NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'investigating', 'resolved', 'closed')),
    category    TEXT,
    source      TEXT,
    created_at  TEXT NOT NULL,            -- 'YYYY-MM-DD HH:MM:SS' UTC
    updated_at  TEXT NOT NULL,
    resolved_at TEXT,
    assigned_to TEXT,
    tags        TEXT NOT NULL DEFAULT '[]' -- JSON array
);
CREATE INDEX idx_issues_status   ON issues(status);
CREATE INDEX idx_issues_severity ON issues(severity);
CREATE INDEX idx_issues_category ON issues(category);
CREATE INDEX idx_issues_created  ON issues(created_at);
CREATE INDEX idx_issues_updated  ON issues(updated_at);
