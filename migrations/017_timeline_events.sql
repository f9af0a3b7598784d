-- 017: incident timeline (dual-written to the audit log)
CREATE TABLE timeline_events (
    id          TEXT PRIMARY KEY,
    issue_id    TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    event_type  TEXT NOT NULL,
    description TEXT NOT NULL,
    metadata    TEXT,                     -- JSON object
    created_at  TEXT NOT NULL
);
CREATE INDEX idx_timeline_events_issue ON timeline_events(issue_id);
CREATE INDEX idx_timeline_events_time ON timeline_events(created_at);
