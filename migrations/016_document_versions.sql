-- 016: earlier versions of a document stay retrievable after it is edited
CREATE TABLE document_versions (
    id          TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    content_md  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,          -- milliseconds since epoch
    UNIQUE (document_id, version)
);
