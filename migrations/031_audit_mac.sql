-- 031: the audit chain becomes keyed. mac = HMAC-SHA256 under the audit key (audit.key,
-- TFTSR_AUDIT_KEY or TFTSR_AUDIT_KEY_FILE; never derived from the database key) over the
-- entry's position (seq), the previous entry's mac and every field, so an entry cannot be
-- changed, removed, reordered or re-chained without the audit key. Entries made before this
-- migration keep mac = '' and seq NULL; the first write after it appends an
-- 'audit_chain_keyed' entry whose mac binds their count and last entry_hash (tftsr_kernel/audit.py).
ALTER TABLE audit_log ADD COLUMN seq INTEGER;
ALTER TABLE audit_log ADD COLUMN mac TEXT NOT NULL DEFAULT '';
CREATE INDEX idx_audit_seq ON audit_log(seq);
