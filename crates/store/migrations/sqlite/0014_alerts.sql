-- Trend alerts (issue 5, A4). A daily scan compares the last week with the eight weeks before
-- (kpi::alerts) and stores what it found once per as-of date; every significant change becomes a
-- notification for the people who should hear about it, shown in the app and sent by e-mail;
-- signed webhooks receive the whole run.
CREATE TABLE alert_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    as_of TEXT NOT NULL UNIQUE,
    ran_at BIGINT NOT NULL,
    tested BIGINT NOT NULL,
    alert_count BIGINT NOT NULL,
    -- The scan with labels, as JSON.
    report TEXT NOT NULL
);
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    alert_run_id BIGINT REFERENCES alert_runs(id),
    created_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- What happened, as JSON; the sentence is written in the reader's language when shown.
    data TEXT NOT NULL,
    read_at BIGINT,
    emailed_at BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    -- Shared secret for the HMAC-SHA256 signature (needed in clear to sign).
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_status TEXT,
    last_at BIGINT
);
