-- Full-text search on the lists (issue 4, lists): each record's searchable fields, normalised
-- by model::search (lowercase, accents folded) and written by the store on every write path,
-- indexed by FTS5 external-content tables kept in step by triggers. The FTS tables are derived
-- data: they are not in store::TABLES nor in backups. See docs/search.md.
ALTER TABLE accounts ADD COLUMN search_name TEXT;
ALTER TABLE accounts ADD COLUMN search_text TEXT;
ALTER TABLE opportunities ADD COLUMN search_text TEXT;
ALTER TABLE contacts ADD COLUMN search_text TEXT;
ALTER TABLE leads ADD COLUMN search_text TEXT;

CREATE VIRTUAL TABLE accounts_fts USING fts5(search_name, search_text, content='accounts', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER accounts_fts_ai AFTER INSERT ON accounts BEGIN
    INSERT INTO accounts_fts(rowid, search_name, search_text) VALUES (new.id, new.search_name, new.search_text);
END;
CREATE TRIGGER accounts_fts_ad AFTER DELETE ON accounts BEGIN
    INSERT INTO accounts_fts(accounts_fts, rowid, search_name, search_text)
        VALUES ('delete', old.id, old.search_name, old.search_text);
END;
CREATE TRIGGER accounts_fts_au AFTER UPDATE OF search_name, search_text ON accounts BEGIN
    INSERT INTO accounts_fts(accounts_fts, rowid, search_name, search_text)
        VALUES ('delete', old.id, old.search_name, old.search_text);
    INSERT INTO accounts_fts(rowid, search_name, search_text) VALUES (new.id, new.search_name, new.search_text);
END;
INSERT INTO accounts_fts(accounts_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE opportunities_fts USING fts5(search_text, content='opportunities', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER opportunities_fts_ai AFTER INSERT ON opportunities BEGIN
    INSERT INTO opportunities_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER opportunities_fts_ad AFTER DELETE ON opportunities BEGIN
    INSERT INTO opportunities_fts(opportunities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER opportunities_fts_au AFTER UPDATE OF search_text ON opportunities BEGIN
    INSERT INTO opportunities_fts(opportunities_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO opportunities_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO opportunities_fts(opportunities_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE contacts_fts USING fts5(search_text, content='contacts', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE leads_fts USING fts5(search_text, content='leads', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER leads_fts_ai AFTER INSERT ON leads BEGIN
    INSERT INTO leads_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER leads_fts_ad AFTER DELETE ON leads BEGIN
    INSERT INTO leads_fts(leads_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER leads_fts_au AFTER UPDATE OF search_text ON leads BEGIN
    INSERT INTO leads_fts(leads_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO leads_fts(rowid, search_text) VALUES (new.id, new.search_text);
END;
INSERT INTO leads_fts(leads_fts) VALUES ('rebuild');
