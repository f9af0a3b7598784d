-- 019: sudo credentials for shell execution (AES-256-GCM), one row per user
CREATE TABLE sudo_config (
    id                 TEXT PRIMARY KEY,
    username           TEXT NOT NULL UNIQUE,
    encrypted_password TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
