-- 021: image bytes stored in the row
ALTER TABLE image_attachments ADD COLUMN image_data BLOB;
