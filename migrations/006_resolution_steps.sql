-- 006: 5-Whys steps
CREATE TABLE resolution_steps (
    id           TEXT PRIMARY KEY,
    issue_id     TEXT NOT NULL REFERENCES issues(id) ON DELETE CASCADE,
    step_order   INTEGER NOT NULL CHECK (step_order BETWEEN 1 AND 5),
    why_question TEXT NOT NULL,
    answer       TEXT,
    evidence     TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX idx_resolution_steps_issue ON resolution_steps(issue_id, step_order);
