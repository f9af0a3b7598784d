-- 036: integrations: how each service signs in, OAuth2 login states, and what was published
-- where (pages on documents, tickets on issues)
ALTER TABLE integration_config ADD COLUMN auth_type TEXT NOT NULL DEFAULT 'token'
    CHECK (auth_type IN ('token', 'basic', 'oauth'));
-- JSON: {auth_url, token_url, client_id, scope}; never a secret
ALTER TABLE integration_config ADD COLUMN oauth_config TEXT;
-- the OAuth client secret (confidential clients), base64(nonce || ciphertext || tag)
ALTER TABLE integration_config ADD COLUMN encrypted_client_secret TEXT;
ALTER TABLE integration_config ADD COLUMN created_at TEXT;

-- one row per authorization request: the state is single-use and expires; only its SHA-256 is kept
CREATE TABLE oauth_states (
    id                 TEXT PRIMARY KEY,
    service            TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azuredevops')),
    state_hash         TEXT NOT NULL UNIQUE,
    encrypted_verifier TEXT NOT NULL,     -- the PKCE code verifier, base64(nonce || ciphertext || tag)
    redirect_uri       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    used_at            TEXT
);

-- a Confluence page published from a document, or a ticket opened from an issue
CREATE TABLE integration_links (
    id             TEXT PRIMARY KEY,
    service        TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azuredevops')),
    kind           TEXT NOT NULL CHECK (kind IN ('page', 'ticket')),
    issue_id       TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    document_id    TEXT REFERENCES documents(id) ON DELETE CASCADE,
    remote_id      TEXT NOT NULL,
    ticket_number  TEXT,
    url            TEXT NOT NULL,
    title          TEXT,
    remote_version INTEGER,               -- Confluence: the page version this workbench last wrote
    space_key      TEXT,
    sent_sha256    TEXT NOT NULL,         -- SHA-256 of the last request body sent
    redacted       INTEGER NOT NULL DEFAULT 1 CHECK (redacted IN (0, 1)),
    created_by     TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (service, kind, remote_id)
);
CREATE INDEX integration_links_issue ON integration_links(issue_id);
CREATE INDEX integration_links_document ON integration_links(document_id);
