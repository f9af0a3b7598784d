-- 014: AI provider configurations; API keys are AES-256-GCM ciphertext
CREATE TABLE ai_providers (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL UNIQUE,
    provider_type         TEXT NOT NULL
                          CHECK (provider_type IN ('openai', 'ollama', 'anthropic', 'gemini', 'custom')),
    api_url               TEXT NOT NULL,
    encrypted_api_key     TEXT,
    model                 TEXT NOT NULL,
    max_tokens            INTEGER NOT NULL DEFAULT 4096,
    temperature           REAL NOT NULL DEFAULT 0.7,
    custom_endpoint_path  TEXT,
    custom_auth_header    TEXT,
    custom_auth_prefix    TEXT,
    api_format            TEXT,
    user_id               TEXT,
    supports_tool_calling INTEGER NOT NULL DEFAULT 0 CHECK (supports_tool_calling IN (0, 1)),
    is_active             INTEGER NOT NULL DEFAULT 0 CHECK (is_active IN (0, 1)),
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
-- at most one active provider
CREATE UNIQUE INDEX idx_ai_providers_one_active ON ai_providers(is_active) WHERE is_active = 1;
