-- 022: cross-incident attachment views; they name their columns so BLOBs are never selected
CREATE VIEW v_log_files_with_issue AS
SELECT lf.id, lf.issue_id, lf.file_name, lf.file_path, lf.file_size,
       lf.mime_type, lf.content_hash, lf.uploaded_at, lf.redacted,
       i.title AS issue_title
FROM log_files lf
JOIN issues i ON i.id = lf.issue_id;

CREATE VIEW v_image_attachments_with_issue AS
SELECT ia.id, ia.issue_id, ia.file_name, ia.file_path, ia.file_size,
       ia.mime_type, ia.upload_hash, ia.uploaded_at,
       ia.pii_warning_acknowledged, ia.is_paste,
       i.title AS issue_title
FROM image_attachments ia
JOIN issues i ON i.id = ia.issue_id;
