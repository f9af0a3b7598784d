-- 002: log files attached to an issue (content is stored in the row from migration 020)
CREATE TABLE log_files (
    id           TEXT PRIMARY KEY,
    issue_id     TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    file_name    TEXT NOT NULL,
    file_path    TEXT NOT NULL,           -- where it was uploaded from (informational only)
    file_size    INTEGER,
    mime_type    TEXT,
    content_hash TEXT,                    -- SHA-256 hex of the original bytes
    uploaded_at  TEXT NOT NULL,
    redacted     INTEGER NOT NULL DEFAULT 0 CHECK (redacted IN (0, 1))
);
CREATE INDEX idx_log_files_issue ON log_files(issue_id);
CREATE INDEX idx_log_files_uploaded ON log_files(uploaded_at);
