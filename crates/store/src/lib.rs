//! The only crate with SQL. One [`Store`] value wraps either an SQLite or a PostgreSQL pool;
//! every query is written once with `$1` placeholders (SQLite accepts them) and runs on both
//! through the [`dispatch!`] macro, which expands the same body for each concrete pool type.
//!
//! Conventions shared by both schemas (see `migrations/`): timestamps are BIGINT microseconds
//! since the Unix epoch in UTC, dates are `YYYY-MM-DD` text, money and rates are exact decimal
//! text. Row-level visibility is applied here, in the SQL, from a [`Viewer`].
//! Writes that users make go through functions taking an [`AuditContext`]; they insert the
//! audit entry in the same transaction as the change.

mod alerts;
mod audit;
mod auth;
mod backup;
mod bulk;
mod commerce;
mod comp;
mod comp_ops;
mod crm;
mod forecast;
mod forecast_calls;
mod import;
mod jobs;
mod kpi;
mod kpi_rollup;
mod org;
pub(crate) mod records;
mod search;
mod settings;
mod sort;
mod territories;

use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use alerts::{AlertRunRow, NotificationRow, PendingMail, WebhookRow};
pub use audit::{AuditContext, AuditEntry, AuditFilter};
pub use auth::{ApiTokenRow, NewApiToken, SessionRow};
pub use backup::{BackupSummary, TABLES};
pub use bulk::BulkSet;
pub use commerce::{LineRow, OrderEventRow, OrderFilter, OrderRow, ProductRow, QuoteFilter, QuoteRow};
pub use comp::{
    AcceptanceRow, AssignmentRow, BookingRow, LineRow as CompLineRow, NewLine, NewPlanVersion, NewRun, NewStatement,
    PlanVersionRow, RunRow, StatementRow,
};
pub use comp_ops::{
    AdjustmentRow, DisputeEventRow, DisputeFilter, DisputeRow, HoldRow, LineRef as CompLineRef, NewAdjustment, NewHold,
};
pub use crm::{
    ActivityFilter, ActivityRow, ContactFilter, ContactRow, Conversion, DuplicateCandidate, DuplicateKeys, LeadFilter,
    LeadHistoryRow, LeadRow, NewLead, ScoreRow, StageHistoryRow, StageMove,
};
pub use forecast::{RevenueSlice, WonAmount};
pub use forecast_calls::{CallOpportunity, CallPerson, NewSubmission, SubmissionRow};
pub use import::{
    AccountExport, ActivityExport, ContactExport, ImportSet, ImportWriter, LeadExport, LeadStatusChange, Lookups,
    OpportunityExport,
};
pub use jobs::ImportJobRow;
pub use kpi::{KpiLead, KpiOpportunity};
pub use kpi_rollup::{ROLLUP_COUNTS, RollupCell, RollupDims, RollupMonth, RollupSum};
pub use org::{NewUser, OrgCounts, UserFilter, UserPatch, UserRow};
pub use records::{AccountFilter, AccountRow, OpenAmount, OpportunityFilter, OpportunityRow};
pub use sort::{Sort, SortList};
pub use territories::{NewQuota, QuotaRow, TerritoryAccountRow, TerritoryScenarioRow, TerritoryVersionRow, WonRow};

/// Errors at the store boundary. `sqlx::Error` never leaves this crate untranslated.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid reference: {0}")]
    InvalidReference(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Refused(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => {
                let msg = db.message().to_string();
                if db.is_unique_violation() {
                    StoreError::Conflict(msg)
                } else if db.is_foreign_key_violation() {
                    StoreError::InvalidReference(msg)
                } else {
                    StoreError::Database(e)
                }
            }
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A handle on the database; cheap to clone (pools are reference-counted).
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
}

/// Expands `$body` once per backend with `$p` bound to the concrete pool.
macro_rules! dispatch {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($p) => $body,
            $crate::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Who is reading: the store turns this into a WHERE clause on owner columns.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user_id: model::UserId,
    pub visibility: model::Visibility,
    /// For subtree visibility: the user ids of the subtree, resolved once per request by
    /// [`Store::viewer`]. Queries then filter on a literal id list, which both planners handle
    /// far better than a recursive CTE inside every list and count query. None falls back to
    /// the CTE.
    pub subtree: Option<std::sync::Arc<[i64]>>,
}

impl Store {
    /// The viewer for a user, with the manager subtree resolved when the role needs it.
    pub async fn viewer(&self, user_id: model::UserId, visibility: model::Visibility) -> Result<Viewer> {
        let subtree = match visibility {
            model::Visibility::Subtree => Some(self.subtree_ids(user_id).await?.into()),
            _ => None,
        };
        Ok(Viewer { user_id, visibility, subtree })
    }
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub max_connections: u32,
    /// PostgreSQL only: run everything inside this schema (tests use one schema per test).
    pub pg_schema: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions { max_connections: 16, pg_schema: None }
    }
}

impl Store {
    /// Opens `sqlite://path.db` (created if missing) or `postgres://…`. Does not migrate.
    pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let o = SqliteConnectOptions::from_str(url)
                .map_err(|e| StoreError::Refused(format!("bad SQLite URL '{url}': {e}")))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                // 64 MiB page cache per connection (allocated as used) and in-memory temp
                // b-trees: list pages and bulk loads stop re-reading pages from disk.
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                // Rows travel from SQLite's worker thread one message each; a roomy channel lets
                // a whole page through without the worker waiting on the reader.
                .row_buffer_size(512);
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .min_connections(1)
                .connect_with(o)
                .await?;
            Ok(Store { pool: Pool::Sqlite(pool) })
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut o =
                PgConnectOptions::from_str(url).map_err(|e| StoreError::Refused(format!("bad PostgreSQL URL: {e}")))?;
            o = o.application_name("salesops");
            if let Some(schema) = &opts.pg_schema {
                // The schema name doubles as the application name, so `drop_pg_schema` can end
                // this pool's sessions (and any transaction they left open) before dropping.
                o = o.options([("search_path", schema.as_str())]).application_name(schema);
            }
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(o)
                .await?;
            Ok(Store { pool: Pool::Postgres(pool) })
        } else {
            Err(StoreError::Refused(format!("unsupported database URL '{url}': use sqlite://FILE or postgres://…")))
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. Safe to call from several processes at once (PostgreSQL
    /// migrations take an advisory lock).
    pub async fn migrate(&self) -> Result<()> {
        // Was the search migration (0006) applied before this run? (No bookkeeping table yet
        // means a fresh database: nothing to fill.)
        let had_search: Option<i64> = dispatch!(self, p => sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE version = 6").fetch_optional(p).await.unwrap_or(Some(0)));
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        if had_search.is_none() {
            // Rows written before the search columns existed get them once.
            self.fill_search_text().await?;
        }
        Ok(())
    }

    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, p => sqlx::query("SELECT 1").execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Refreshes planner statistics where they are stale (SQLite's `PRAGMA optimize`; PostgreSQL
    /// has autovacuum for this). Run by the periodic housekeeping job.
    pub async fn optimize(&self) -> Result<()> {
        if let Pool::Sqlite(p) = &self.pool {
            sqlx::query("PRAGMA optimize").execute(p).await?;
        }
        Ok(())
    }

    /// (size, idle) of the connection pool, for `/metrics`.
    pub fn pool_stats(&self) -> (u32, usize) {
        dispatch!(self, p => (p.size(), p.num_idle()))
    }

    pub async fn close(&self) {
        dispatch!(self, p => p.close().await)
    }

    /// Creates a fresh PostgreSQL schema (for tests and for `restore` into a new namespace).
    pub async fn create_pg_schema(url: &str, schema: &str) -> Result<()> {
        if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Refused(format!("bad schema name '{schema}'")));
        }
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }

    pub async fn drop_pg_schema(url: &str, schema: &str) -> Result<()> {
        if !schema.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::Refused(format!("bad schema name '{schema}'")));
        }
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(schema)
        .execute(&pool)
        .await?;
        sqlx::query("SET lock_timeout = '30s'").execute(&pool).await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await?;
        pool.close().await;
        Ok(())
    }
}

/// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up
/// front (waiting up to the busy timeout) instead of upgrading a read transaction later, which
/// SQLite refuses at once with SQLITE_BUSY when another connection is writing.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

pub(crate) fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(|e| StoreError::Corrupt(format!("timestamp {v}: {e}")))
}

/// A bind argument for dynamically built queries.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    Text(String),
    Bool(bool),
    OptI64(Option<i64>),
    OptText(Option<String>),
}

/// A WHERE clause under construction; placeholders are numbered as arguments are pushed.
#[derive(Debug, Default)]
pub(crate) struct Where {
    pub clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Pushes an argument and returns its placeholder (`$n`).
    pub fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }
    pub fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() { String::from("1=1") } else { self.clauses.join(" AND ") }
    }
    /// Restricts `owner_column` to what `viewer` may see.
    pub fn visible(&mut self, owner_column: &str, viewer: &Viewer) {
        match viewer.visibility {
            model::Visibility::All => {}
            model::Visibility::Own => {
                let p = self.arg(Arg::I64(viewer.user_id.0));
                self.push(format!("{owner_column} = {p}"));
            }
            model::Visibility::Subtree => match &viewer.subtree {
                // Ids come from the database as integers, so inlining them is injection-safe.
                Some(ids) if !ids.is_empty() => {
                    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                    self.push(format!("{owner_column} IN ({list})"));
                }
                _ => {
                    let p = self.arg(Arg::I64(viewer.user_id.0));
                    self.push(format!("{owner_column} IN ({})", subtree_sql(&p)));
                }
            },
        }
    }
}

/// The ids of a user and everyone below them in the manager hierarchy.
pub(crate) fn subtree_sql(placeholder: &str) -> String {
    format!(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM users WHERE id = {placeholder} \
         UNION SELECT u.id FROM users u JOIN sub ON u.manager_id = sub.id) SELECT id FROM sub"
    )
}

/// Binds `args` to a query built by `sqlx::query_as` / `sqlx::query` / `query_scalar`.
macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args.iter() {
            q = match a {
                $crate::Arg::I64(v) => q.bind(*v),
                $crate::Arg::Text(s) => q.bind(s.clone()),
                $crate::Arg::Bool(b) => q.bind(*b),
                $crate::Arg::OptI64(v) => q.bind(*v),
                $crate::Arg::OptText(s) => q.bind(s.clone()),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// Maps a user-supplied search text to a LIKE pattern, escaping wildcards.
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

/// A page of results plus the total matching count.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching rows; a lower bound when `total_exact` is false.
    pub total: i64,
    pub total_exact: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Counting stops here unless an exact count is asked for: an exact COUNT over a million rows
/// costs more than the page itself, and "more than 1,000" is what a person needs to see on a list page.
pub const COUNT_CAP: i64 = 1_000;

/// SQL counting the rows of `from_where` ("opportunities o WHERE …"), capped unless `exact`.
pub(crate) fn count_sql(from_where: &str, exact: bool) -> String {
    if exact {
        format!("SELECT COUNT(*) FROM {from_where}")
    } else {
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from_where} LIMIT {}) capped", COUNT_CAP + 1)
    }
}

impl<T> Page<T> {
    /// A page from its items and the result of [`count_sql`] (capped unless `exact`).
    pub(crate) fn new(items: Vec<T>, counted: i64, exact: bool, limit: i64, offset: i64) -> Page<T> {
        let (total, total_exact) = if exact || counted <= COUNT_CAP { (counted, true) } else { (COUNT_CAP, false) };
        Page { items, total, total_exact, limit, offset }
    }
}

/// Runs a list query and its count query with the same arguments; yields `(rows, counted)`.
macro_rules! fetch_page {
    ($store:expr, $row:ty, $sql:expr, $count_sql:expr, $args:expr) => {
        dispatch!($store, p => (
            bind_all!(sqlx::query_as::<_, $row>($sql), $args).fetch_all(p).await?,
            bind_all!(sqlx::query_scalar::<_, i64>($count_sql), $args).fetch_one(p).await?,
        ))
    };
}
pub(crate) use fetch_page;
