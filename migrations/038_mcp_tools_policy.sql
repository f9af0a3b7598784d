-- 038: MCP servers marked trusted (tool arguments reach them with the original values), each
-- tool's approval policy (auto | ask | deny), its annotations and output schema as discovered,
-- and the prompts a server offers.
ALTER TABLE mcp_servers ADD COLUMN trusted INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1));
ALTER TABLE mcp_tools ADD COLUMN approval TEXT NOT NULL DEFAULT 'ask' CHECK (approval IN ('auto', 'ask', 'deny'));
ALTER TABLE mcp_tools ADD COLUMN annotations TEXT NOT NULL DEFAULT '{}';
ALTER TABLE mcp_tools ADD COLUMN output_schema TEXT;
CREATE TABLE mcp_prompts (
    id          TEXT PRIMARY KEY,
    server_id   TEXT NOT NULL REFERENCES mcp_servers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    arguments   TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_mcp_prompts_server ON mcp_prompts(server_id);
