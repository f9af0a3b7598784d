-- 013: images (screenshots) attached to an issue; bytes are stored in the row from migration 021
CREATE TABLE image_attachments (
    id                       TEXT PRIMARY KEY,
    issue_id                 TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    file_name                TEXT NOT NULL,
    file_path                TEXT NOT NULL DEFAULT '',
    file_size                INTEGER NOT NULL DEFAULT 0,
    mime_type                TEXT NOT NULL DEFAULT 'image/png',
    upload_hash              TEXT NOT NULL DEFAULT '',
    uploaded_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    pii_warning_acknowledged INTEGER NOT NULL DEFAULT 1 CHECK (pii_warning_acknowledged IN (0, 1)),
    is_paste                 INTEGER NOT NULL DEFAULT 0 CHECK (is_paste IN (0, 1))
);
CREATE INDEX idx_image_attachments_issue ON image_attachments(issue_id);
CREATE INDEX idx_image_attachments_uploaded ON image_attachments(uploaded_at);
