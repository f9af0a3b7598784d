-- 042: OAuth2 sign-ins of MCP servers share the single-use, expiring login states of the
-- integrations (036): a state may now belong to an MCP server (service 'mcp' and its server_id,
-- removed with the server). The MCP server's tokens live encrypted in mcp_servers.auth_value.
CREATE TABLE oauth_states_v2 (
    id                 TEXT PRIMARY KEY,
    service            TEXT NOT NULL CHECK (service IN ('confluence', 'servicenow', 'azuredevops', 'mcp')),
    server_id          TEXT REFERENCES mcp_servers(id) ON DELETE CASCADE,
    state_hash         TEXT NOT NULL UNIQUE,
    encrypted_verifier TEXT NOT NULL,     -- the PKCE code verifier, base64(nonce || ciphertext || tag)
    redirect_uri       TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    used_at            TEXT,
    CHECK ((service = 'mcp') = (server_id IS NOT NULL))
);
INSERT INTO oauth_states_v2(id, service, state_hash, encrypted_verifier, redirect_uri, created_at, expires_at, used_at)
    SELECT id, service, state_hash, encrypted_verifier, redirect_uri, created_at, expires_at, used_at FROM oauth_states;
DROP TABLE oauth_states;
ALTER TABLE oauth_states_v2 RENAME TO oauth_states;
CREATE INDEX idx_oauth_states_server ON oauth_states(server_id);
