//! Imports started from the web page run as background jobs so a large file shows its
//! progress. The job row (store) says what a job is and how it ended; while it runs, this
//! process counts the rows read in memory. On PostgreSQL, where several `serve` processes share
//! the database, the count and a heartbeat are also stored every second so any process can show
//! them. On SQLite (one process) they are not: the import's transaction holds the write lock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use model::Permission;
use store::{Backend, ImportJobRow};

use crate::{App, AppError, ImportOptions, ImportReport, Principal};

/// A running job with no heartbeat for this long is shown as interrupted (PostgreSQL).
const HEARTBEAT_STALE: Duration = Duration::from_secs(30);

/// The jobs this process runs: job id -> rows read so far.
#[derive(Default)]
pub(crate) struct Running(Mutex<HashMap<i64, Arc<AtomicU64>>>);

impl Running {
    fn rows(&self, id: i64) -> Option<u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&id).map(|n| n.load(Ordering::Relaxed))
    }
}

/// Takes the job off the running list however the task ends (also on a panic).
struct Registered {
    running: Arc<Running>,
    id: i64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.running.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.id);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    /// Ran to the end: the report says whether it was applied, only checked, or refused.
    Done,
    Failed,
    /// The process running it stopped before it ended; nothing was written.
    Interrupted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
        }
    }
}

/// An import job as its owner sees it.
#[derive(Debug, Clone)]
pub struct ImportJob {
    pub id: i64,
    pub entity: String,
    pub file_name: String,
    pub dry_run: bool,
    pub state: JobState,
    /// Data rows in the file (counted from its line breaks; a quoted multi-line value counts
    /// more than once, so this is an upper bound).
    pub rows_total: u64,
    pub rows_read: u64,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub report: Option<ImportReport>,
    pub error: Option<String>,
}

impl ImportJob {
    /// Percentage read, 0-100; below 100 until the job has ended.
    pub fn percent(&self) -> u64 {
        if self.state != JobState::Running {
            return 100;
        }
        (self.rows_read * 100).checked_div(self.rows_total).unwrap_or(0).min(99)
    }
}

/// What the caller waits on: the import's own outcome.
pub type JobHandle = tokio::task::JoinHandle<Result<ImportReport, AppError>>;

impl App {
    /// Starts importing `data` in the background and returns the job id and a handle on its
    /// outcome. Dropping the handle leaves the job running.
    pub async fn start_import_job(
        &self,
        p: &Principal,
        data: Vec<u8>,
        opts: ImportOptions,
    ) -> Result<(i64, JobHandle), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let rows_total = data.iter().filter(|b| **b == b'\n').count().saturating_sub(1)
            + usize::from(data.last().is_some_and(|b| *b != b'\n'));
        let id = self
            .store
            .import_job_start(
                p.user.id,
                opts.entity.as_str(),
                &opts.file_name,
                opts.dry_run,
                rows_total as i64,
                self.now(),
            )
            .await?;
        let counter = Arc::new(AtomicU64::new(0));
        self.running.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id, counter.clone());
        let registered = Registered { running: self.running.clone(), id };
        let app = self.clone();
        let p = p.clone();
        let handle = tokio::spawn(async move {
            let _registered = registered;
            let ticker = (app.store.backend() == Backend::Postgres).then(|| {
                let (app, counter) = (app.clone(), counter.clone());
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(Duration::from_secs(1));
                    loop {
                        every.tick().await;
                        let rows = counter.load(Ordering::Relaxed) as i64;
                        if let Err(e) = app.store.import_job_progress(id, rows, app.now()).await {
                            tracing::warn!(job = id, error = %e, "cannot store import progress");
                        }
                    }
                })
            });
            let outcome = app
                .import_file(&p, &data, &opts, &|n| {
                    counter.fetch_add(n, Ordering::Relaxed);
                })
                .await;
            if let Some(t) = ticker {
                t.abort();
            }
            let rows = counter.load(Ordering::Relaxed) as i64;
            let (report, error) = match &outcome {
                Ok(r) => (serde_json::to_string(r).ok(), None),
                Err(e) => (None, Some(e.to_string())),
            };
            if let Err(e) = app.store.import_job_finish(id, rows, report.as_deref(), error.as_deref(), app.now()).await
            {
                tracing::error!(job = id, error = %e, "cannot record the end of an import job");
            }
            outcome
        });
        Ok((id, handle))
    }

    /// One of the caller's own import jobs (404 for anyone else's).
    pub async fn import_job(&self, p: &Principal, id: i64) -> Result<ImportJob, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        let row = self.store.import_job(id).await?;
        if row.user_id != p.user.id.0 {
            return Err(AppError::NotFound);
        }
        Ok(self.job_view(row))
    }

    /// The caller's most recent import jobs, newest first.
    pub async fn import_jobs(&self, p: &Principal, limit: i64) -> Result<Vec<ImportJob>, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        let rows = self.store.import_jobs_of(p.user.id, limit).await?;
        Ok(rows.into_iter().map(|r| self.job_view(r)).collect())
    }

    fn job_view(&self, row: ImportJobRow) -> ImportJob {
        let (state, rows_read) = match row.status.as_str() {
            "running" => match self.running.rows(row.id) {
                Some(n) => (JobState::Running, n),
                None => {
                    let stale = self.now().duration_since(row.heartbeat_at).unsigned_abs() > HEARTBEAT_STALE;
                    // On SQLite only this process can have run it.
                    if self.store.backend() == Backend::Sqlite || stale {
                        (JobState::Interrupted, row.rows_read as u64)
                    } else {
                        (JobState::Running, row.rows_read as u64)
                    }
                }
            },
            "failed" => (JobState::Failed, row.rows_read as u64),
            _ => (JobState::Done, row.rows_read as u64),
        };
        ImportJob {
            id: row.id,
            entity: row.entity,
            file_name: row.file_name,
            dry_run: row.dry_run,
            state,
            rows_total: row.rows_total as u64,
            rows_read,
            started_at: row.started_at,
            finished_at: row.finished_at,
            report: row.report.as_deref().and_then(|r| serde_json::from_str(r).ok()),
            error: row.error,
        }
    }
}
