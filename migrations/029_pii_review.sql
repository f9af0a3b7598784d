-- 029: PII review state: each span is pending, approved or rejected; the redacted text is
-- stored (gzip) in the database, never next to the user's file
ALTER TABLE pii_spans ADD COLUMN status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'approved', 'rejected'));
ALTER TABLE log_files ADD COLUMN redacted_compressed BLOB;
ALTER TABLE log_files ADD COLUMN redacted_hash TEXT;
ALTER TABLE log_files ADD COLUMN pii_scanned_at TEXT;      -- when spans were stored for review
ALTER TABLE log_files ADD COLUMN pii_summary TEXT;         -- JSON {"total": N, "by_type": {...}} from the upload scan
