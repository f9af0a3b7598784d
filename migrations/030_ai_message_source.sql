-- 030: the text a user message was composed from (original values, kept in the encrypted
-- database only), so each later turn re-sends history redacted with the current rules instead
-- of the text an older detector produced. NULL for replies and for rows older than this column.
ALTER TABLE ai_messages ADD COLUMN source_content TEXT;
