-- 024: command templates with their safety tier (1 auto, 2 approval, 3 denied)
CREATE TABLE shell_commands (
    id               TEXT PRIMARY KEY,
    command_template TEXT NOT NULL,
    tier             INTEGER NOT NULL CHECK (tier IN (1, 2, 3)),
    description      TEXT,
    category         TEXT NOT NULL,       -- 'kubectl', 'proxmox', 'general'
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now'))
);
