-- 011: integration credentials (AES-256-GCM) and configuration
CREATE TABLE credentials (
    id              TEXT PRIMARY KEY,
    service         TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azuredevops')),
    token_hash      TEXT NOT NULL,        -- SHA-256 of the token, for the audit log
    encrypted_token TEXT NOT NULL,        -- base64(nonce || ciphertext || tag)
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    UNIQUE (service)
);
CREATE TABLE integration_config (
    id                  TEXT PRIMARY KEY,
    service             TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azuredevops')),
    base_url            TEXT NOT NULL,
    username            TEXT,
    project_name        TEXT,
    space_key           TEXT,
    auto_create_enabled INTEGER NOT NULL DEFAULT 0 CHECK (auto_create_enabled IN (0, 1)),
    updated_at          TEXT NOT NULL,
    UNIQUE (service)
);
