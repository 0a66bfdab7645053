-- Forecast calls (issue 6, F3 + F4 per submitter): the numbers people submit per period and
-- category (append-only: a manager's override is a new row naming the person overridden, the
-- person's own number stays), and dated snapshots of each period's opportunities for the
-- waterfall of how the call moved. Settings `forecast_stale_days` and `forecast_rollup_method`
-- live in `settings`. Amounts are exact decimal text in the reporting currency.

-- One submitted number. submitter_id is the person whose call this is; override_by is NULL for
-- their own submission, else the manager (or ops user) who overrode it (with a mandatory note).
CREATE TABLE forecast_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    submitter_id BIGINT NOT NULL REFERENCES users(id),
    override_by BIGINT REFERENCES users(id),
    period TEXT NOT NULL,
    category TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    note TEXT NOT NULL,
    rollup_method TEXT NOT NULL,
    submitted_at BIGINT NOT NULL
);
CREATE INDEX forecast_submissions_period ON forecast_submissions(period, submitter_id, submitted_at);

-- One opportunity as it stood on a snapshot date, for one period: every opportunity closing in
-- the period plus every open one (so a deal pushed out of the period is still seen).
CREATE TABLE forecast_snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    period TEXT NOT NULL,
    snapshot_date TEXT NOT NULL,
    opportunity_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users(id),
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    close_date TEXT NOT NULL,
    category TEXT NOT NULL,
    stage_kind TEXT NOT NULL,
    created_on TEXT NOT NULL,
    taken_at BIGINT NOT NULL,
    UNIQUE (period, snapshot_date, opportunity_id)
);
CREATE INDEX forecast_snapshots_owner ON forecast_snapshots(owner_id);
