-- Incentive compensation (issue 7, I1-I3): plan versions as their TOML text, assignments to
-- payees, acceptances, periods, and immutable calculation runs (snapshots) with their
-- statements and explained lines. Amounts are exact decimal text; dates YYYY-MM-DD text.

-- One version of a plan: the text is what was parsed; the columns repeat its header for queries.
CREATE TABLE comp_plan_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_key TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (plan_key, version)
);

-- A plan (all its versions) assigned to a payee from a date, optionally to a date.
CREATE TABLE comp_assignments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_key TEXT NOT NULL,
    payee_id BIGINT NOT NULL REFERENCES users(id),
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX comp_assignments_payee ON comp_assignments(payee_id);

-- A payee accepted a plan version (who, when, which version).
CREATE TABLE comp_acceptances (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_version_id BIGINT NOT NULL REFERENCES comp_plan_versions(id),
    payee_id BIGINT NOT NULL REFERENCES users(id),
    accepted_at BIGINT NOT NULL,
    UNIQUE (plan_version_id, payee_id)
);

-- A period's state: open -> calculated -> approved -> locked. Absent = open.
CREATE TABLE comp_periods (
    period TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One calculation run: never changed after it is written. kind 'calculation' for a period's own
-- statements, 'delta' for corrections of a locked period (source_period) paid in `period`.
CREATE TABLE comp_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_period TEXT NOT NULL,
    plan_version_id BIGINT NOT NULL REFERENCES comp_plan_versions(id),
    inputs_hash TEXT NOT NULL,
    diagnostics_json TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX comp_runs_period ON comp_runs(period, kind);

CREATE TABLE comp_statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id BIGINT NOT NULL REFERENCES comp_runs(id),
    payee_id BIGINT NOT NULL REFERENCES users(id),
    currency TEXT NOT NULL,
    payable TEXT NOT NULL,
    held TEXT NOT NULL,
    credited TEXT NOT NULL,
    quota TEXT,
    attainment TEXT,
    UNIQUE (run_id, payee_id)
);
CREATE INDEX comp_statements_payee ON comp_statements(payee_id);

-- A payout line with its key (for deltas), its English sentence and its structured explanation.
CREATE TABLE comp_lines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statement_id BIGINT NOT NULL REFERENCES comp_statements(id),
    position BIGINT NOT NULL,
    rule TEXT NOT NULL,
    kind TEXT NOT NULL,
    transaction_id BIGINT,
    overlay_of BIGINT,
    segment BIGINT NOT NULL,
    grp BIGINT NOT NULL,
    status TEXT NOT NULL,
    amount TEXT NOT NULL,
    opportunity_id BIGINT,
    sentence TEXT NOT NULL,
    explanation_json TEXT NOT NULL
);
CREATE INDEX comp_lines_statement ON comp_lines(statement_id, position);
