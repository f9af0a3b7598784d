-- 007: generated documents (RCA, post-mortem); timestamps are INTEGER milliseconds
CREATE TABLE documents (
    id         TEXT PRIMARY KEY,
    issue_id   TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    doc_type   TEXT NOT NULL CHECK (doc_type IN ('rca', 'postmortem')),
    title      TEXT NOT NULL,
    content_md TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX idx_documents_issue ON documents(issue_id);
