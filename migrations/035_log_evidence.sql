-- 035: evidence that is not plain text (PDF, DOCX, pcap/pcapng, .gz/.zip of logs). The row's
-- content (content_compressed) is then the text extracted from it, which is what is read, scanned
-- for PII, redacted and mined; the file as uploaded is kept beside it, gzip-compressed, in the
-- encrypted database. content_hash and file_size stay those of the original bytes.
ALTER TABLE log_files ADD COLUMN original_compressed BLOB;     -- NULL: the content is the original
ALTER TABLE log_files ADD COLUMN extracted_from TEXT
    CHECK (extracted_from IS NULL OR extracted_from IN ('pdf', 'docx', 'pcap', 'gzip', 'zip'));
ALTER TABLE log_files ADD COLUMN extraction_note TEXT;         -- e.g. '3 page(s)', '120 packet(s), decoded by tshark'
