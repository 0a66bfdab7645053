-- CRM core (issue 4): external ids for idempotent imports, stage history, exit criteria,
-- loss reasons, contacts, leads with their lifecycle history, activities and field visits.
ALTER TABLE accounts ADD COLUMN external_id TEXT;
ALTER TABLE accounts ADD COLUMN domain TEXT;
ALTER TABLE accounts ADD COLUMN phone TEXT;
CREATE UNIQUE INDEX accounts_external_id ON accounts(external_id);
CREATE INDEX accounts_domain ON accounts(domain);

-- Fields an opportunity must have filled in to leave the stage, comma separated
-- (e.g. 'amount,close_date,next_step'); see model::EXIT_FIELDS.
ALTER TABLE stages ADD COLUMN exit_criteria TEXT NOT NULL DEFAULT '';

CREATE TABLE loss_reasons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL
);

ALTER TABLE opportunities ADD COLUMN external_id TEXT;
-- Percent; NULL means "the stage's probability".
ALTER TABLE opportunities ADD COLUMN probability BIGINT;
ALTER TABLE opportunities ADD COLUMN loss_reason_id BIGINT REFERENCES loss_reasons(id);
ALTER TABLE opportunities ADD COLUMN lead_source TEXT;
ALTER TABLE opportunities ADD COLUMN next_step TEXT;
-- The day the buyer first engaged (start of the sales cycle); created_at when unknown.
ALTER TABLE opportunities ADD COLUMN engaged_on TEXT;
-- When the current stage was entered (micros): time in stage without reading the history.
ALTER TABLE opportunities ADD COLUMN stage_entered_at BIGINT;
CREATE UNIQUE INDEX opportunities_external_id ON opportunities(external_id);

CREATE TABLE stage_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    opportunity_id BIGINT NOT NULL REFERENCES opportunities(id),
    from_stage_id BIGINT REFERENCES stages(id),
    to_stage_id BIGINT NOT NULL REFERENCES stages(id),
    at BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id),
    source TEXT NOT NULL
);
CREATE INDEX stage_history_opportunity ON stage_history(opportunity_id, at);
CREATE INDEX stage_history_at ON stage_history(at);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    account_id BIGINT REFERENCES accounts(id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    title TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_external_id ON contacts(external_id);
CREATE INDEX contacts_account ON contacts(account_id);
CREATE INDEX contacts_owner ON contacts(owner_id);
CREATE INDEX contacts_email ON contacts(email);

CREATE TABLE leads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    company TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    -- Normalised keys for duplicate detection (see model::dedupe).
    email_key TEXT,
    phone_key TEXT,
    company_key TEXT NOT NULL,
    domain TEXT,
    source TEXT NOT NULL,
    campaign TEXT NOT NULL,
    status TEXT NOT NULL,
    disqualify_reason TEXT,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    converted_at BIGINT,
    account_id BIGINT REFERENCES accounts(id),
    contact_id BIGINT REFERENCES contacts(id),
    opportunity_id BIGINT REFERENCES opportunities(id),
    merged_into_id BIGINT REFERENCES leads(id)
);
CREATE UNIQUE INDEX leads_external_id ON leads(external_id);
CREATE INDEX leads_owner ON leads(owner_id, status);
CREATE INDEX leads_email_key ON leads(email_key);
CREATE INDEX leads_phone_key ON leads(phone_key);
CREATE INDEX leads_company_key ON leads(company_key);
CREATE INDEX leads_domain ON leads(domain);

CREATE TABLE lead_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id BIGINT NOT NULL REFERENCES leads(id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT,
    at BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users(id)
);
CREATE INDEX lead_history_lead ON lead_history(lead_id, at);

CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    external_id TEXT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    at BIGINT NOT NULL,
    duration_seconds BIGINT,
    outcome TEXT,
    address TEXT,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    account_id BIGINT REFERENCES accounts(id),
    contact_id BIGINT REFERENCES contacts(id),
    lead_id BIGINT REFERENCES leads(id),
    opportunity_id BIGINT REFERENCES opportunities(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX activities_external_id ON activities(external_id);
CREATE INDEX activities_owner ON activities(owner_id, at);
CREATE INDEX activities_opportunity ON activities(opportunity_id, at);
CREATE INDEX activities_account ON activities(account_id, at);
CREATE INDEX activities_lead ON activities(lead_id, at);
