-- 003: detected PII spans (character offsets into the decoded log text)
CREATE TABLE pii_spans (
    id             TEXT PRIMARY KEY,
    log_file_id    TEXT NOT NULL REFERENCES log_files(id) ON DELETE CASCADE,
    pii_type       TEXT NOT NULL,
    start_offset   INTEGER NOT NULL,
    end_offset     INTEGER NOT NULL,
    original_value TEXT NOT NULL,
    replacement    TEXT NOT NULL,
    CHECK (end_offset > start_offset AND start_offset >= 0)
) WITHOUT ROWID;  -- time-ordered UUID keys: one B-tree instead of two for large scans
CREATE INDEX idx_pii_spans_log ON pii_spans(log_file_id, start_offset);
