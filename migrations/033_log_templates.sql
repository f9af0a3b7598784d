-- 033: log templates mined from each log (Drain), stored so a panel does not re-mine on every view.
-- Computed on first request; miner_version lets a newer miner recompute old results.
CREATE TABLE log_template_sets (
    log_file_id      TEXT PRIMARY KEY REFERENCES log_files(id) ON DELETE CASCADE,
    miner_version    INTEGER NOT NULL,
    computed_at      TEXT NOT NULL,
    line_count       INTEGER NOT NULL,
    template_count   INTEGER NOT NULL,
    timestamp_format TEXT,                 -- the format detected on the first lines, or NULL
    first_seen       TEXT,                 -- 'YYYY-MM-DD HH:MM:SS' UTC of the earliest line
    last_seen        TEXT,
    bursts           TEXT NOT NULL,        -- JSON list of {template_id, kind, at, count, baseline}
    line_templates   BLOB NOT NULL         -- zlib of the template id of each line (int32, little-endian)
);
CREATE TABLE log_templates (
    log_file_id   TEXT NOT NULL REFERENCES log_template_sets(log_file_id) ON DELETE CASCADE,
    template_id   INTEGER NOT NULL,
    template      TEXT NOT NULL,
    count         INTEGER NOT NULL,
    first_seen    TEXT,
    last_seen     TEXT,
    minute_counts TEXT NOT NULL,           -- JSON [[epoch_minute, lines], ...]
    PRIMARY KEY (log_file_id, template_id)
);
CREATE INDEX idx_log_templates_count ON log_templates(log_file_id, count DESC);
