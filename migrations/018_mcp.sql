-- 018: MCP servers and what discovery found on them
CREATE TABLE mcp_servers (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    url                TEXT NOT NULL,
    transport_type     TEXT NOT NULL CHECK (transport_type IN ('stdio', 'http')),
    transport_config   TEXT NOT NULL DEFAULT '{}',
    auth_type          TEXT NOT NULL CHECK (auth_type IN ('none', 'api_key', 'bearer', 'oauth2')),
    auth_value         TEXT,              -- AES-256-GCM ciphertext
    env_config         TEXT,              -- AES-256-GCM ciphertext of a JSON object
    enabled            INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_discovered_at TEXT,
    discovery_status   TEXT NOT NULL DEFAULT 'pending'
                       CHECK (discovery_status IN ('pending', 'connected', 'unreachable', 'error')),
    discovery_error    TEXT,
    created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
    updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
);
CREATE TABLE mcp_tools (
    id          TEXT PRIMARY KEY,
    server_id   TEXT NOT NULL REFERENCES mcp_servers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    tool_key    TEXT NOT NULL,            -- mcp_{server}_{tool}
    description TEXT,
    parameters  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_mcp_tools_server ON mcp_tools(server_id);
CREATE TABLE mcp_resources (
    id          TEXT PRIMARY KEY,
    server_id   TEXT NOT NULL REFERENCES mcp_servers(id) ON DELETE CASCADE,
    uri         TEXT NOT NULL,
    name        TEXT,
    description TEXT
);
