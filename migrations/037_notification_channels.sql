-- 037: notification channels (Slack, Microsoft Teams, a generic JSON webhook, SMTP e-mail), the
-- events each is subscribed to, and every delivery attempt's outcome (failures are kept and shown)
CREATE TABLE notification_channels (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    channel_type     TEXT NOT NULL CHECK (channel_type IN ('slack', 'teams', 'webhook', 'email')),
    -- the webhook URL (it holds the channel's token) or the SMTP password, base64(nonce || ciphertext || tag)
    encrypted_secret TEXT,
    config           TEXT NOT NULL DEFAULT '{}',  -- JSON, no secret: SMTP host/port/from/to/user, URL host
    events           TEXT NOT NULL,               -- JSON list of event names
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE TABLE notification_deliveries (
    id          TEXT PRIMARY KEY,
    channel_id  TEXT NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    issue_id    TEXT REFERENCES issues(id) ON DELETE SET NULL,
    status      TEXT NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts    INTEGER NOT NULL,
    error       TEXT,
    sent_sha256 TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX notification_deliveries_channel ON notification_deliveries(channel_id, created_at);
