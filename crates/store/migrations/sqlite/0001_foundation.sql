-- Foundation schema: organisation, auth, audit, currencies, first commercial records.
-- Timestamps are BIGINT microseconds since the Unix epoch (UTC); dates are TEXT 'YYYY-MM-DD';
-- money amounts and rates are exact decimal TEXT (never REAL). Kept identical to postgres/.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE currencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    minor_units BIGINT NOT NULL,
    active BOOLEAN NOT NULL
);
CREATE TABLE fx_rates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    from_currency TEXT NOT NULL REFERENCES currencies(code),
    to_currency TEXT NOT NULL REFERENCES currencies(code),
    valid_from TEXT NOT NULL,
    rate TEXT NOT NULL,
    UNIQUE (from_currency, to_currency, valid_from)
);
CREATE TABLE regions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    time_zone TEXT NOT NULL
);
CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    region_id BIGINT REFERENCES regions(id)
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id),
    manager_id BIGINT REFERENCES users(id),
    region_id BIGINT REFERENCES regions(id),
    time_zone TEXT NOT NULL,
    locale TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX users_manager ON users(manager_id);
CREATE INDEX users_team ON users(team_id);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    ip TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE TABLE job_locks (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor_user_id BIGINT,
    actor_token_id BIGINT,
    ip TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log(actor_user_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TABLE pipelines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE stages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    probability BIGINT NOT NULL,
    kind TEXT NOT NULL,
    UNIQUE (pipeline_id, position)
);
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    industry TEXT NOT NULL,
    employees BIGINT NOT NULL,
    country TEXT NOT NULL,
    region_id BIGINT REFERENCES regions(id),
    city TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    parent_id BIGINT REFERENCES accounts(id),
    currency TEXT NOT NULL REFERENCES currencies(code),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX accounts_owner ON accounts(owner_id);
CREATE INDEX accounts_name ON accounts(name);
CREATE INDEX accounts_region ON accounts(region_id);
CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    stage_id BIGINT NOT NULL REFERENCES stages(id),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL REFERENCES currencies(code),
    close_date TEXT NOT NULL,
    forecast_category TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX opportunities_owner ON opportunities(owner_id, close_date);
CREATE INDEX opportunities_account ON opportunities(account_id);
CREATE INDEX opportunities_close ON opportunities(close_date);
CREATE INDEX opportunities_stage ON opportunities(stage_id);
