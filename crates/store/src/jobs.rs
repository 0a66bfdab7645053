//! Import jobs started from the web page: one row per job, written when it starts, while it
//! runs (PostgreSQL only: progress and heartbeat) and when it ends. Never inside the import's
//! own transaction, so a job that fails or is rolled back still says so.

use jiff::Timestamp;

use crate::{Result, Store, StoreError, dispatch, from_micros, micros};

/// A job's state as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportJobRow {
    pub id: i64,
    pub user_id: i64,
    pub entity: String,
    pub file_name: String,
    pub dry_run: bool,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub rows_total: i64,
    pub rows_read: i64,
    /// The import report (JSON) once done.
    pub report: Option<String>,
    /// The error message once failed.
    pub error: Option<String>,
    pub started_at: Timestamp,
    pub heartbeat_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    user_id: i64,
    entity: String,
    file_name: String,
    dry_run: bool,
    status: String,
    rows_total: i64,
    rows_read: i64,
    report: Option<String>,
    error: Option<String>,
    started_at: i64,
    heartbeat_at: i64,
    finished_at: Option<i64>,
}

impl Row {
    fn into_row(self) -> Result<ImportJobRow> {
        Ok(ImportJobRow {
            id: self.id,
            user_id: self.user_id,
            entity: self.entity,
            file_name: self.file_name,
            dry_run: self.dry_run,
            status: self.status,
            rows_total: self.rows_total,
            rows_read: self.rows_read,
            report: self.report,
            error: self.error,
            started_at: from_micros(self.started_at)?,
            heartbeat_at: from_micros(self.heartbeat_at)?,
            finished_at: self.finished_at.map(from_micros).transpose()?,
        })
    }
}

const COLUMNS: &str = "id, user_id, entity, file_name, dry_run, status, rows_total, rows_read, report, error, \
                       started_at, heartbeat_at, finished_at";

impl Store {
    /// Records a job that starts now; returns its id.
    pub async fn import_job_start(
        &self,
        user_id: model::UserId,
        entity: &str,
        file_name: &str,
        dry_run: bool,
        rows_total: i64,
        now: Timestamp,
    ) -> Result<i64> {
        Ok(dispatch!(self, p => sqlx::query_scalar(
            "INSERT INTO import_jobs (user_id, entity, file_name, dry_run, status, rows_total, rows_read, started_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, 'running', $5, 0, $6, $6) RETURNING id")
            .bind(user_id.0).bind(entity).bind(file_name).bind(dry_run).bind(rows_total).bind(micros(now))
            .fetch_one(p).await?))
    }

    /// Stores how far a running job has come, with a heartbeat.
    pub async fn import_job_progress(&self, id: i64, rows_read: i64, now: Timestamp) -> Result<()> {
        dispatch!(self, p => sqlx::query(
            "UPDATE import_jobs SET rows_read = $2, heartbeat_at = $3 WHERE id = $1 AND status = 'running'")
            .bind(id).bind(rows_read).bind(micros(now)).execute(p).await.map(|_| ())?);
        Ok(())
    }

    /// Ends a job: `report` when it ran to the end (applied, checked or refused for problems),
    /// `error` when it failed.
    pub async fn import_job_finish(
        &self,
        id: i64,
        rows_read: i64,
        report: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let status = if error.is_some() { "failed" } else { "done" };
        dispatch!(self, p => sqlx::query(
            "UPDATE import_jobs SET status = $2, rows_read = $3, report = $4, error = $5, heartbeat_at = $6, finished_at = $6 \
             WHERE id = $1")
            .bind(id).bind(status).bind(rows_read).bind(report).bind(error).bind(micros(now)).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn import_job(&self, id: i64) -> Result<ImportJobRow> {
        let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE id = $1");
        let row: Option<Row> = dispatch!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await?);
        row.ok_or(StoreError::NotFound)?.into_row()
    }

    /// A user's most recent jobs, newest first.
    pub async fn import_jobs_of(&self, user_id: model::UserId, limit: i64) -> Result<Vec<ImportJobRow>> {
        let sql = format!("SELECT {COLUMNS} FROM import_jobs WHERE user_id = $1 ORDER BY id DESC LIMIT $2");
        let rows: Vec<Row> = dispatch!(self, p => sqlx::query_as(&sql).bind(user_id.0).bind(limit).fetch_all(p).await?);
        rows.into_iter().map(Row::into_row).collect()
    }
}
