-- 034: a human timeline. An event may carry the time it happened (backfilled: "14:02 paged"),
-- apart from when it was recorded (created_at). Edits and deletions keep every earlier text:
-- the event row holds the current revision, timeline_event_revisions the ones it replaced;
-- a deleted event stays (deleted_at set) so its text and history are never lost.
ALTER TABLE timeline_events ADD COLUMN occurred_at TEXT;          -- UTC 'YYYY-MM-DD HH:MM:SS'; NULL: created_at
ALTER TABLE timeline_events ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE timeline_events ADD COLUMN updated_at TEXT;           -- the last edit (NULL: never edited)
ALTER TABLE timeline_events ADD COLUMN updated_by TEXT;
ALTER TABLE timeline_events ADD COLUMN deleted_at TEXT;           -- NULL: shown on the timeline
ALTER TABLE timeline_events ADD COLUMN deleted_by TEXT;
CREATE INDEX idx_timeline_events_at ON timeline_events(issue_id, coalesce(occurred_at, created_at));

CREATE TABLE timeline_event_revisions (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL REFERENCES timeline_events(id) ON DELETE CASCADE,
    issue_id    TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    revision    INTEGER NOT NULL,                 -- the revision this row keeps (1 = as first recorded)
    event_type  TEXT NOT NULL,
    description TEXT NOT NULL,
    metadata    TEXT,
    occurred_at TEXT,
    written_at  TEXT NOT NULL,                    -- when this revision was written
    written_by  TEXT NOT NULL,                    -- who wrote it
    replaced_at TEXT NOT NULL,                    -- when the edit or deletion replaced it
    replaced_by TEXT NOT NULL,
    change      TEXT NOT NULL CHECK (change IN ('edit', 'delete')),
    UNIQUE (event_id, revision)
);
CREATE INDEX idx_timeline_event_revisions_issue ON timeline_event_revisions(issue_id);
