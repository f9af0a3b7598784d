-- 025: kubeconfigs, AES-256-GCM encrypted; at most one active
CREATE TABLE kubeconfig_files (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    encrypted_content TEXT NOT NULL,
    context           TEXT NOT NULL,
    cluster_url       TEXT,
    is_active         INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
    uploaded_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
);
CREATE INDEX idx_kubeconfig_active ON kubeconfig_files(is_active);
