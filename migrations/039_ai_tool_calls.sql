-- 039: every tool call the model asked for in a chat turn, what was decided and what came back.
-- arguments/result hold what the model saw (placeholders); the originals never leave this file.
CREATE TABLE ai_tool_calls (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES ai_conversations(id) ON DELETE CASCADE,
    message_id      TEXT,                 -- the assistant reply of the turn (NULL until stored)
    round           INTEGER NOT NULL,
    call_id         TEXT NOT NULL,        -- the provider's id of the call
    source          TEXT NOT NULL,        -- 'mcp', later 'shell'
    server          TEXT,
    tool            TEXT NOT NULL,
    arguments       TEXT NOT NULL,        -- JSON, as the model sent it
    decision        TEXT NOT NULL CHECK (decision IN ('auto', 'allow_once', 'allow_session', 'deny', 'timeout', 'policy_deny')),
    status          TEXT NOT NULL CHECK (status IN ('ok', 'error', 'denied')),
    result          TEXT NOT NULL,        -- what went back to the model (cleared by the egress guard)
    actor           TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX idx_ai_tool_calls_conversation ON ai_tool_calls(conversation_id, created_at);
