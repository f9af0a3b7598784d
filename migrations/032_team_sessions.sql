-- 032: team: users get an optional e-mail, an optional password (accounts signed in by
-- JupyterHub or API key only have none) and an OS login mapping; API keys can be revoked;
-- sign-in sessions (only the SHA-256 of the token is stored); failed sign-ins for rate limiting.
-- users and api_keys are rebuilt (SQLite cannot relax NOT NULL in place). api_keys goes first,
-- so dropping the old users table cascades into nothing; renaming users_v2 turns api_keys_v2's
-- reference into a reference to users.
CREATE TABLE users_v2 (
    id            TEXT PRIMARY KEY,                -- UUID v7
    email         TEXT UNIQUE,
    username      TEXT NOT NULL UNIQUE,            -- lower case, [a-z0-9_.-]
    password_hash TEXT,                            -- Argon2id (PHC string); NULL: no password sign-in
    role          TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    display_name  TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_login_at TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    os_user       TEXT UNIQUE                      -- OS login acting as this user (default: same name)
);
INSERT INTO users_v2(id, email, username, password_hash, role, display_name, enabled, last_login_at,
                     created_at, updated_at)
    SELECT id, email, username, NULLIF(password_hash, ''), role, display_name, enabled, last_login_at,
           created_at, updated_at FROM users;
CREATE TABLE api_keys_v2 (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users_v2(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the whole key, never the key
    key_prefix   TEXT NOT NULL,                    -- the 8 characters after "tftsr_", for lookup
    scopes       TEXT NOT NULL DEFAULT '[]',       -- JSON list, enforced by the kernel
    expires_at   TEXT,
    last_used_at TEXT,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
);
INSERT INTO api_keys_v2(id, user_id, name, key_hash, key_prefix, scopes, expires_at, last_used_at, created_at)
    SELECT id, user_id, name, key_hash, key_prefix, scopes, expires_at, last_used_at, created_at FROM api_keys;
DROP TABLE api_keys;
DROP TABLE users;
ALTER TABLE users_v2 RENAME TO users;
ALTER TABLE api_keys_v2 RENAME TO api_keys;
CREATE INDEX idx_users_email ON users(email);
CREATE INDEX idx_users_role ON users(role);
CREATE INDEX idx_users_enabled ON users(enabled);
CREATE INDEX idx_api_keys_user ON api_keys(user_id);
CREATE INDEX idx_api_keys_prefix ON api_keys(key_prefix);
CREATE INDEX idx_api_keys_expires ON api_keys(expires_at);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,                 -- UUID v7 (shown, never a credential)
    token_hash   TEXT NOT NULL UNIQUE,             -- SHA-256 hex of the session token
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    via          TEXT NOT NULL DEFAULT 'password', -- how the user signed in: password, hub
    client       TEXT,                             -- the client address the sign-in came from
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    last_seen_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX idx_sessions_user ON sessions(user_id);
CREATE INDEX idx_sessions_expires ON sessions(expires_at);

CREATE TABLE sign_in_failures (
    id         TEXT PRIMARY KEY,
    username   TEXT NOT NULL,                      -- as typed (lower case), known or not
    client     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX idx_sign_in_failures_user ON sign_in_failures(username, created_at);
CREATE INDEX idx_sign_in_failures_client ON sign_in_failures(client, created_at);

-- alert intake (POST /api/v1/alerts/alertmanager): one issue per Alertmanager group key, and
-- each alert's last known state, so a resolution is recorded on the timeline once
CREATE TABLE alert_groups (
    group_key   TEXT PRIMARY KEY,
    issue_id    TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    source      TEXT NOT NULL DEFAULT 'alertmanager',
    receiver    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX idx_alert_groups_issue ON alert_groups(issue_id);
CREATE TABLE alert_states (
    group_key   TEXT NOT NULL REFERENCES alert_groups(group_key) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    ends_at     TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (group_key, fingerprint, starts_at)
);

-- every timeline event names the acting user (audit_log.user_id already does); older events: local
ALTER TABLE timeline_events ADD COLUMN actor TEXT NOT NULL DEFAULT 'local';
