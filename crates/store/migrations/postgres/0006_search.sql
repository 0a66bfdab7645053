-- Full-text search on the lists (issue 4, lists): each record's searchable fields, normalised
-- by model::search (lowercase, accents folded; no unaccent extension needed) and written by
-- the store on every write path, indexed by GIN indexes on tsvector expressions ('simple'
-- configuration). Queries repeat these expressions exactly. See docs/search.md.
ALTER TABLE accounts ADD COLUMN search_name TEXT;
ALTER TABLE accounts ADD COLUMN search_text TEXT;
ALTER TABLE opportunities ADD COLUMN search_text TEXT;
ALTER TABLE contacts ADD COLUMN search_text TEXT;
ALTER TABLE leads ADD COLUMN search_text TEXT;

CREATE INDEX accounts_search ON accounts USING GIN ((setweight(to_tsvector('simple', COALESCE(search_name, '')), 'A')
    || to_tsvector('simple', COALESCE(search_text, ''))));
CREATE INDEX opportunities_search ON opportunities USING GIN (to_tsvector('simple', COALESCE(search_text, '')));
CREATE INDEX contacts_search ON contacts USING GIN (to_tsvector('simple', COALESCE(search_text, '')));
CREATE INDEX leads_search ON leads USING GIN (to_tsvector('simple', COALESCE(search_text, '')));
