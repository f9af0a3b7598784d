-- 015: consistent placeholders per issue: the same value always becomes the same placeholder
CREATE TABLE pii_pseudonyms (
    id             TEXT PRIMARY KEY,
    issue_id       TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    pii_type       TEXT NOT NULL,
    original_value TEXT NOT NULL,
    placeholder    TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    UNIQUE (issue_id, pii_type, original_value),
    UNIQUE (issue_id, placeholder)
);
