-- 010: full-text index over issue titles and descriptions, kept in step by triggers.
-- Prefix indexes (1-3 characters) keep search-as-you-type fast on large databases.
CREATE VIRTUAL TABLE issues_fts USING fts5(
    id UNINDEXED,
    title,
    description,
    content = 'issues',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
CREATE TRIGGER issues_fts_ai AFTER INSERT ON issues BEGIN
    INSERT INTO issues_fts(rowid, id, title, description)
    VALUES (new.rowid, new.id, new.title, new.description);
END;
CREATE TRIGGER issues_fts_ad AFTER DELETE ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, id, title, description)
    VALUES ('delete', old.rowid, old.id, old.title, old.description);
END;
CREATE TRIGGER issues_fts_au AFTER UPDATE OF title, description ON issues BEGIN
    INSERT INTO issues_fts(issues_fts, rowid, id, title, description)
    VALUES ('delete', old.rowid, old.id, old.title, old.description);
    INSERT INTO issues_fts(rowid, id, title, description)
    VALUES (new.rowid, new.id, new.title, new.description);
END;
