-- 020: log content stored in the row: gzip of the original bytes, so attachments are self-contained
ALTER TABLE log_files ADD COLUMN content_compressed BLOB;
ALTER TABLE log_files ADD COLUMN text_encoding TEXT NOT NULL DEFAULT 'utf-8';
