-- 023: richer MCP resource records
ALTER TABLE mcp_resources ADD COLUMN mime_type TEXT;
ALTER TABLE mcp_resources ADD COLUMN discovered_at TEXT;
CREATE INDEX idx_mcp_resources_server ON mcp_resources(server_id);
