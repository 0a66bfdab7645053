-- Compensation operations (issue 7, I2/I3): the closing state carried from one period to the
-- next, holds and releases, manual adjustments with an approver, and disputes on statement
-- lines with their thread. Amounts are exact decimal text; periods are months as `YYYY-MM`.

-- A statement's closing state (year-to-date per component, draw balance, held lines) as JSON:
-- the next period's calculation starts from it.
CREATE TABLE comp_closing_states (
    statement_id BIGINT PRIMARY KEY REFERENCES comp_statements(id),
    state_json TEXT NOT NULL
);

-- A hold on an opportunity, a payee or a plan, from a period until the period it is released in.
CREATE TABLE comp_holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    opportunity_id BIGINT REFERENCES opportunities(id),
    payee_id BIGINT REFERENCES users(id),
    plan_key TEXT,
    reason TEXT NOT NULL,
    from_period TEXT NOT NULL,
    released_in TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    released_by BIGINT REFERENCES users(id),
    released_at BIGINT
);

-- A manual adjustment: requested, then approved by someone else; only approved ones are paid.
CREATE TABLE comp_adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payee_id BIGINT NOT NULL REFERENCES users(id),
    plan_key TEXT NOT NULL,
    period TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    reason_code TEXT NOT NULL,
    note TEXT NOT NULL,
    opportunity_id BIGINT REFERENCES opportunities(id),
    status TEXT NOT NULL,
    requested_by BIGINT REFERENCES users(id),
    requested_at BIGINT NOT NULL,
    approved_by BIGINT REFERENCES users(id),
    approved_at BIGINT
);
CREATE INDEX comp_adjustments_period ON comp_adjustments(period, status);

-- A payee's dispute on one statement line: open -> in_review -> accepted (with an adjustment)
-- or rejected (with a reason).
CREATE TABLE comp_disputes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line_id BIGINT NOT NULL REFERENCES comp_lines(id),
    payee_id BIGINT NOT NULL REFERENCES users(id),
    period TEXT NOT NULL,
    status TEXT NOT NULL,
    adjustment_id BIGINT REFERENCES comp_adjustments(id),
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX comp_disputes_line ON comp_disputes(line_id);
CREATE INDEX comp_disputes_payee ON comp_disputes(payee_id);

-- The thread of a dispute: every step with who, when, the status it moved to and the text.
CREATE TABLE comp_dispute_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id BIGINT NOT NULL REFERENCES comp_disputes(id),
    at BIGINT NOT NULL,
    actor_id BIGINT REFERENCES users(id),
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX comp_dispute_events_dispute ON comp_dispute_events(dispute_id, id);
