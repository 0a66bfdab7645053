//! `backup` / `restore`: one portable JSON-lines file of the whole database. The same file
//! restores into SQLite or PostgreSQL, and a backup of the restored database is byte-for-byte
//! the file it came from (tables in a fixed order, rows by key, values in a canonical form).
//!
//! Format: a header line, then per table a `{"table", "columns"}` line followed by one JSON
//! array per row, then a trailer with the row count of every table.

use std::io::{BufRead, Write};

use serde_json::{Value, json};
use sqlx::Row;

use crate::bulk::Tx;
use crate::{Arg, Result, Store, StoreError, dispatch};

/// Every application table, parents before children. A test checks this matches the schema.
pub const TABLES: &[&str] = &[
    "settings",
    "currencies",
    "fx_rates",
    "regions",
    "teams",
    "users",
    "sessions",
    "api_tokens",
    "rate_limits",
    "job_locks",
    "audit_log",
    "pipelines",
    "stages",
    "scorecard_criteria",
    "loss_reasons",
    "accounts",
    "opportunities",
    "opportunity_scores",
    "stage_history",
    "contacts",
    "leads",
    "lead_history",
    "activities",
    "products",
    "price_books",
    "price_book_entries",
    "opportunity_lines",
    "quotes",
    "orders",
    "order_events",
    "import_jobs",
    "comp_plan_versions",
    "comp_assignments",
    "comp_acceptances",
    "comp_periods",
    "comp_runs",
    "comp_statements",
    "comp_lines",
    "alert_runs",
    "notifications",
    "webhooks",
    "forecast_submissions",
    "forecast_snapshots",
    "territory_versions",
    "territory_scenarios",
    "quotas",
    "comp_closing_states",
    "comp_holds",
    "comp_adjustments",
    "comp_disputes",
    "comp_dispute_events",
];

/// Self-references: inserted as NULL first and set once all rows of the table exist, so the
/// order of rows never breaks a foreign key.
const LATE_COLUMNS: &[(&str, &str)] =
    &[("users", "manager_id"), ("accounts", "parent_id"), ("leads", "merged_into_id")];

const FORMAT: &str = "salesops-backup";
const VERSION: i64 = 1;
const PAGE: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Bool,
    Text,
}

/// The table being restored: its name, the file's column names and kinds, and buffered rows.
type Pending = (String, Vec<String>, Vec<Kind>, Vec<Vec<Arg>>);

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackupSummary {
    pub tables: Vec<(String, u64)>,
}

impl BackupSummary {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

fn bad(line: usize, msg: impl std::fmt::Display) -> StoreError {
    StoreError::Refused(format!("backup file line {line}: {msg}"))
}

impl Store {
    /// Names of the tables in the database (excluding SQLite internals and sqlx's bookkeeping).
    pub async fn table_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = match &self.pool {
            crate::Pool::Sqlite(p) => sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetch_all(p).await?,
            crate::Pool::Postgres(p) => sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'").fetch_all(p).await?,
        };
        // Full-text indexes (SQLite FTS5 tables and their shadow tables) are derived data.
        // KPI rollups (`kpi_rollup_*`) are derived from the records and rebuilt after a restore.
        names.retain(|n| n != "_sqlx_migrations" && !crate::search::is_fts_table(n) && !n.starts_with("kpi_rollup_"));
        names.sort();
        Ok(names)
    }

    async fn columns(&self, table: &str) -> Result<Vec<(String, Kind)>> {
        let rows: Vec<(String, String)> = match &self.pool {
            crate::Pool::Sqlite(p) => sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid").bind(table).fetch_all(p).await?,
            crate::Pool::Postgres(p) => sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position")
                .bind(table).fetch_all(p).await?,
        };
        Ok(rows
            .into_iter()
            .map(|(n, t)| {
                let t = t.to_ascii_uppercase();
                let kind = if t.contains("BOOL") {
                    Kind::Bool
                } else if t.contains("INT") {
                    Kind::Int
                } else {
                    Kind::Text
                };
                (n, kind)
            })
            .collect())
    }

    /// Writes the whole database to `out`. `progress` receives rows written per page.
    pub async fn backup(&self, out: &mut dyn Write, progress: &(dyn Fn(u64) + Sync)) -> Result<BackupSummary> {
        let version: i64 = dispatch!(self, p => sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations").fetch_one(p).await?);
        writeln!(out, "{}", json!({"format": FORMAT, "version": VERSION, "schema": version}))?;
        let mut summary = BackupSummary::default();
        for table in TABLES {
            let cols = self.columns(table).await?;
            let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
            writeln!(out, "{}", json!({"table": table, "columns": names}))?;
            let has_id = names.first() == Some(&"id");
            let mut count = 0u64;
            let select = names.join(", ");
            if has_id {
                // Keyset pages by id keep memory flat on million-row tables.
                let mut last = i64::MIN;
                loop {
                    let sql = format!("SELECT {select} FROM {table} WHERE id > $1 ORDER BY id LIMIT {PAGE}");
                    let rows = self.fetch_values(&sql, Some(last), &cols).await?;
                    if rows.is_empty() {
                        break;
                    }
                    last = rows.last().and_then(|r| r[0].as_i64()).unwrap_or(i64::MAX);
                    for r in &rows {
                        writeln!(out, "{}", Value::Array(r.clone()))?;
                    }
                    count += rows.len() as u64;
                    progress(rows.len() as u64);
                }
            } else {
                // Small keyed tables: sorted here, because text collation differs between stores.
                let sql = format!("SELECT {select} FROM {table}");
                let mut rows = self.fetch_values(&sql, None, &cols).await?;
                rows.sort_by_key(|r| Value::Array(r.clone()).to_string());
                for r in &rows {
                    writeln!(out, "{}", Value::Array(r.clone()))?;
                }
                count += rows.len() as u64;
                progress(rows.len() as u64);
            }
            summary.tables.push((table.to_string(), count));
        }
        let counts: serde_json::Map<String, Value> =
            summary.tables.iter().map(|(t, n)| (t.clone(), json!(n))).collect();
        writeln!(out, "{}", json!({"end": true, "rows": counts}))?;
        out.flush()?;
        Ok(summary)
    }

    async fn fetch_values(&self, sql: &str, after: Option<i64>, cols: &[(String, Kind)]) -> Result<Vec<Vec<Value>>> {
        macro_rules! decode {
            ($rows:expr) => {
                $rows
                    .iter()
                    .map(|row| {
                        cols.iter()
                            .enumerate()
                            .map(|(i, (_, kind))| {
                                Ok(match kind {
                                    Kind::Int => row.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::from),
                                    Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map_or(Value::Null, Value::from),
                                    Kind::Text => row.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::from),
                                })
                            })
                            .collect::<Result<Vec<Value>>>()
                    })
                    .collect::<Result<Vec<_>>>()
            };
        }
        dispatch!(self, p => {
            let mut q = sqlx::query(sql);
            if let Some(a) = after {
                q = q.bind(a);
            }
            let rows = q.fetch_all(p).await?;
            decode!(rows)
        })
    }

    /// Reads a backup into this (freshly migrated, empty) database in one transaction.
    pub async fn restore(&self, input: &mut dyn BufRead, progress: &(dyn Fn(u64) + Sync)) -> Result<BackupSummary> {
        for table in TABLES {
            if *table == "currencies" {
                continue;
            }
            let n: i64 =
                dispatch!(self, p => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(p).await?);
            if n > 0 {
                return Err(StoreError::Refused(format!(
                    "the target database is not empty ({table} has {n} rows); restore into a new database"
                )));
            }
        }
        let mut lines = input.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (ln, header) = lines.next().ok_or_else(|| bad(1, "empty file"))?;
        let header: Value = serde_json::from_str(&header?).map_err(|e| bad(ln, e))?;
        if header["format"] != FORMAT || header["version"] != VERSION {
            return Err(bad(ln, "not a salesops backup (or a newer format version)"));
        }
        let mut tx = self.begin().await?;
        // Explicit rollback on failure: a dropped transaction's ROLLBACK is only sent when its
        // connection is next used, and until then it would keep the dropped indexes' locks.
        let restored: Result<BackupSummary> = async {
            let mut indexes = self
                .drop_secondary_indexes(
                    &mut tx,
                    &[
                        "accounts",
                        "opportunities",
                        "audit_log",
                        "stage_history",
                        "contacts",
                        "leads",
                        "lead_history",
                        "activities",
                    ],
                )
                .await?;
            // Foreign keys are put back (checking every row in one pass) after the load.
            indexes.extend(
                self.drop_foreign_keys(
                    &mut tx,
                    &[
                        "accounts",
                        "opportunities",
                        "audit_log",
                        "stage_history",
                        "contacts",
                        "leads",
                        "lead_history",
                        "activities",
                    ],
                )
                .await?,
            );
            indexes.extend(self.suspend_search(&mut tx, &["accounts", "opportunities", "contacts", "leads"]).await?);
            match &mut tx {
                Tx::Sqlite(t) => {
                    sqlx::query("DELETE FROM currencies").execute(&mut **t).await?;
                }
                Tx::Postgres(t) => {
                    sqlx::query("DELETE FROM currencies").execute(&mut **t).await?;
                }
            }
            let mut summary = BackupSummary::default();
            let mut pending: Option<Pending> = None;
            let mut late: Vec<(String, String, i64, i64)> = vec![];
            let mut trailer: Option<Value> = None;
            for (ln, line) in lines {
                let line = line?;
                if line.is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(&line).map_err(|e| bad(ln, e))?;
                match v {
                    Value::Array(values) => {
                        let Some((table, names, kinds, rows)) = pending.as_mut() else {
                            return Err(bad(ln, "row before any table header"));
                        };
                        if values.len() != names.len() {
                            return Err(bad(ln, format!("{} values for {} columns", values.len(), names.len())));
                        }
                        let mut row = Vec::with_capacity(values.len());
                        for (i, (val, kind)) in values.into_iter().zip(kinds.iter()).enumerate() {
                            let is_late = LATE_COLUMNS.iter().any(|(t, c)| t == table && *c == names[i]);
                            let arg = match (kind, val) {
                                (Kind::Int, Value::Null) => Arg::OptI64(None),
                                (Kind::Int, Value::Number(n)) => {
                                    let n =
                                        n.as_i64().ok_or_else(|| bad(ln, format!("{}: not an integer", names[i])))?;
                                    if is_late {
                                        let id = row
                                            .first()
                                            .and_then(|a| if let Arg::I64(id) = a { Some(*id) } else { None })
                                            .ok_or_else(|| bad(ln, "self-reference on a table without id"))?;
                                        late.push((table.clone(), names[i].clone(), id, n));
                                        Arg::OptI64(None)
                                    } else {
                                        Arg::I64(n)
                                    }
                                }
                                (Kind::Bool, Value::Bool(b)) => Arg::Bool(b),
                                (Kind::Text, Value::Null) => Arg::OptText(None),
                                (Kind::Text, Value::String(s)) => Arg::Text(s),
                                (k, v) => return Err(bad(ln, format!("{}: expected {k:?}, found {v}", names[i]))),
                            };
                            row.push(arg);
                        }
                        rows.push(row);
                        if rows.len() >= 5_000 {
                            let batch = std::mem::take(rows);
                            let cols: Vec<&str> = names.iter().map(String::as_str).collect();
                            self.insert_batches(&mut tx, table, &cols, batch.into_iter(), progress).await?;
                        }
                    }
                    Value::Object(o) if o.contains_key("table") => {
                        if let Some((t, names, _, rows)) = pending.take() {
                            let cols: Vec<&str> = names.iter().map(String::as_str).collect();
                            self.insert_batches(&mut tx, &t, &cols, rows.into_iter(), progress).await?;
                        }
                        let table =
                            o["table"].as_str().ok_or_else(|| bad(ln, "table name is not a string"))?.to_string();
                        if !TABLES.contains(&table.as_str()) {
                            return Err(bad(ln, format!("unknown table '{table}'")));
                        }
                        let ours = self.columns(&table).await?;
                        let names: Vec<String> = o["columns"]
                            .as_array()
                            .ok_or_else(|| bad(ln, "columns missing"))?
                            .iter()
                            .map(|c| {
                                c.as_str().map(str::to_string).ok_or_else(|| bad(ln, "column name is not a string"))
                            })
                            .collect::<Result<_>>()?;
                        let kinds = names
                            .iter()
                            .map(|n| {
                                ours.iter()
                                    .find(|(c, _)| c == n)
                                    .map(|(_, k)| *k)
                                    .ok_or_else(|| bad(ln, format!("{table} has no column '{n}'")))
                            })
                            .collect::<Result<Vec<_>>>()?;
                        pending = Some((table, names, kinds, vec![]));
                    }
                    Value::Object(o) if o.contains_key("end") => {
                        trailer = Some(Value::Object(o));
                        break;
                    }
                    _ => return Err(bad(ln, "unexpected line")),
                }
            }
            if let Some((t, names, _, rows)) = pending.take() {
                let cols: Vec<&str> = names.iter().map(String::as_str).collect();
                self.insert_batches(&mut tx, &t, &cols, rows.into_iter(), progress).await?;
            }
            let trailer = trailer.ok_or_else(|| {
                StoreError::Refused("backup file is truncated (no end line); nothing was restored".into())
            })?;
            for (table, column, id, value) in &late {
                let sql = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
                match &mut tx {
                    Tx::Sqlite(t) => {
                        sqlx::query(&sql).bind(value).bind(id).execute(&mut **t).await?;
                    }
                    Tx::Postgres(t) => {
                        sqlx::query(&sql).bind(value).bind(id).execute(&mut **t).await?;
                    }
                }
            }
            // Every table with an id column gets its sequence past the restored ids.
            let mut with_id: Vec<&str> = vec![];
            for table in TABLES {
                if self.columns(table).await?.first().is_some_and(|(c, _)| c == "id") {
                    with_id.push(table);
                }
            }
            self.create_indexes(&mut tx, &indexes).await?;
            self.reset_sequences(&mut tx, &with_id).await?;
            for table in TABLES {
                let n: i64 = match &mut tx {
                    Tx::Sqlite(t) => {
                        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut **t).await?
                    }
                    Tx::Postgres(t) => {
                        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut **t).await?
                    }
                };
                let expected = trailer["rows"][table].as_i64().unwrap_or(0);
                if n != expected {
                    return Err(StoreError::Refused(format!(
                        "{table}: file says {expected} rows, restored {n}; nothing was restored"
                    )));
                }
                summary.tables.push((table.to_string(), n as u64));
            }
            Ok(summary)
        }
        .await;
        let summary = tx.finish(restored).await?;
        // A backup from before the search columns existed restores without them: fill them.
        self.fill_search_text().await?;
        self.refresh_statistics().await?;
        Ok(summary)
    }
}
