-- Territories and quotas stored (issue 8, P1-P3): effective-dated territory rule-set versions (the
-- planning crate's text form), draft balancing scenarios built from the company's accounts with
-- their result, and quotas per user and period. Dates YYYY-MM-DD text, amounts exact decimal text.

-- One version of the territory design. `body` is the rule-set text exactly as parsed; `valid_from`
-- repeats its `version` line. status: draft (not in force) or live (in force from valid_from).
CREATE TABLE territory_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    valid_from TEXT NOT NULL,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    scenario_id BIGINT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX territory_versions_from ON territory_versions(status, valid_from);

-- A named draft balancing scenario: its input (JSON: units from the accounts, reps, today's
-- assignment, bounds, objective, locks, how units were grouped) and result (JSON: the new
-- assignment and its figures). status: draft or accepted (accepted_version_id then set).
CREATE TABLE territory_scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    accepted_version_id BIGINT REFERENCES territory_versions(id),
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);

-- A quota of a user for a period (`2026-Q3`, `2026-07`, `FY2026`). A changed quota is a new row;
-- the row it replaces keeps its values and gets `replaced_at`, so history is never lost.
CREATE TABLE quotas (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    ramp TEXT NOT NULL,
    method TEXT NOT NULL,
    set_by BIGINT REFERENCES users(id),
    set_at BIGINT NOT NULL,
    replaced_at BIGINT
);
CREATE INDEX quotas_period ON quotas(period, user_id);
