-- 041: command policies (Triage Warden's policies, evaluated this time): a condition over the
-- command, its tier and the issue decides auto_approve / require_approval (at a level) / deny
-- before anyone is asked; lower priority first, the first match decides. Kubeconfigs list their
-- contexts (names, clusters, namespaces, never credentials) and are unique by name.
CREATE TABLE policies (
    id             TEXT PRIMARY KEY,                  -- UUID v7
    name           TEXT NOT NULL UNIQUE,
    description    TEXT,
    condition      TEXT NOT NULL,                     -- e.g. program == kubectl and tier == 2
    action         TEXT NOT NULL CHECK (action IN ('auto_approve', 'require_approval', 'deny')),
    approval_level TEXT CHECK (approval_level IN ('analyst', 'admin')),
    priority       INTEGER NOT NULL DEFAULT 100,
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX idx_policies_priority ON policies(enabled, priority);

ALTER TABLE kubeconfig_files ADD COLUMN contexts TEXT NOT NULL DEFAULT '[]';
CREATE UNIQUE INDEX idx_kubeconfig_name ON kubeconfig_files(name);
