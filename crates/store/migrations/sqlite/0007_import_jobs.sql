-- Imports started from the web page run as jobs, so a large file shows its progress (issue 4, C4).
-- The row is written when the job starts and when it ends, outside the import's own transaction;
-- on PostgreSQL the running job also stores its progress and a heartbeat every second, so any
-- serve process can show it. The import itself is audited as before.
CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users(id),
    entity TEXT NOT NULL,
    file_name TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    -- 'running', 'done' (the report says whether it was applied) or 'failed'.
    status TEXT NOT NULL,
    rows_total BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    -- The import report as JSON once done; the error message once failed.
    report TEXT,
    error TEXT,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX import_jobs_user ON import_jobs(user_id, id);
