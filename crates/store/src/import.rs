//! Writing an import: new and changed records of one kind in one transaction, with the stage
//! history they bring, one audit entry for the whole file, all or nothing. Matching rows to
//! existing records and deciding what changed happens in the application layer; the lookups it
//! needs are here too.

use std::collections::HashMap;

use crate::audit::{AuditContext, audit};
use crate::bulk::Tx;
use crate::crm::*;
use crate::{Arg, Result, Store, StoreError, bind_all, dispatch};
use model::{Account, Activity, Contact, Lead, Opportunity, OpportunityId, StageChange};

/// The records an import writes. Ids below zero are references into the new records of this
/// import (index `-id - 1`), replaced by the ids assigned while writing: the opportunity of a
/// `history` entry, the `account_id` of opportunities, the `parent_id` of new accounts (new
/// accounts must come after their new parents).
#[derive(Debug, Clone)]
pub enum ImportSet {
    Accounts {
        new: Vec<Account>,
        changed: Vec<Account>,
    },
    Contacts {
        new: Vec<Contact>,
        changed: Vec<Contact>,
    },
    Leads {
        new: Vec<Lead>,
        changed: Vec<Lead>,
    },
    /// `new_accounts` are accounts the file refers to that do not exist yet (when the import
    /// may create them); an opportunity's `account_id` below zero refers to index `-id - 1`.
    Opportunities {
        new: Vec<Opportunity>,
        changed: Vec<Opportunity>,
        history: Vec<StageChange>,
        new_accounts: Vec<Account>,
    },
    Activities {
        new: Vec<Activity>,
        changed: Vec<Activity>,
    },
}

impl ImportSet {
    pub fn table(&self) -> &'static str {
        match self {
            ImportSet::Accounts { .. } => "accounts",
            ImportSet::Contacts { .. } => "contacts",
            ImportSet::Leads { .. } => "leads",
            ImportSet::Opportunities { .. } => "opportunities",
            ImportSet::Activities { .. } => "activities",
        }
    }
    pub fn counts(&self) -> (usize, usize) {
        match self {
            ImportSet::Accounts { new, changed } => (new.len(), changed.len()),
            ImportSet::Contacts { new, changed } => (new.len(), changed.len()),
            ImportSet::Leads { new, changed } => (new.len(), changed.len()),
            ImportSet::Opportunities { new, changed, .. } => (new.len(), changed.len()),
            ImportSet::Activities { new, changed } => (new.len(), changed.len()),
        }
    }
}

/// Names and keys an import resolves references against.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// Lower-case e-mail -> user id.
    pub users: HashMap<String, i64>,
    /// External id -> account id.
    pub account_external: HashMap<String, i64>,
    /// Lower-case name -> account id (the lowest id when names repeat).
    pub account_names: HashMap<String, i64>,
    pub account_ids: std::collections::HashSet<i64>,
}

impl Store {
    /// Users, and accounts by external id and by name.
    pub async fn import_lookups(&self) -> Result<Lookups> {
        let users: Vec<(i64, String)> =
            dispatch!(self, p => sqlx::query_as("SELECT id, email FROM users").fetch_all(p).await?);
        let accounts: Vec<(i64, String, Option<String>)> = dispatch!(self, p => sqlx::query_as(
            "SELECT id, name, external_id FROM accounts ORDER BY id").fetch_all(p).await?);
        let mut l =
            Lookups { users: users.into_iter().map(|(id, e)| (e.to_lowercase(), id)).collect(), ..Default::default() };
        for (id, name, ext) in accounts {
            l.account_ids.insert(id);
            l.account_names.entry(name.to_lowercase()).or_insert(id);
            if let Some(e) = ext {
                l.account_external.insert(e, id);
            }
        }
        Ok(l)
    }

    /// External id -> salesops id of every record of `table` that has one.
    pub async fn external_ids(&self, table: &str) -> Result<HashMap<String, i64>> {
        if !["accounts", "contacts", "leads", "opportunities", "activities"].contains(&table) {
            return Err(StoreError::Refused(format!("no external ids on {table}")));
        }
        let sql = format!("SELECT external_id, id FROM {table} WHERE external_id IS NOT NULL");
        let rows: Vec<(String, i64)> = dispatch!(self, p => sqlx::query_as(&sql).fetch_all(p).await?);
        Ok(rows.into_iter().collect())
    }

    /// The opportunities with these ids, as stored (for comparing an import against).
    pub async fn opportunities_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, Opportunity>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            for row in self.opportunity_rows_where(&format!("o.id IN ({list})")).await? {
                out.insert(row.opportunity.id.0, row.opportunity);
            }
        }
        Ok(out)
    }

    /// The accounts with these ids, as stored.
    pub async fn accounts_by_id(&self, ids: &[i64]) -> Result<HashMap<i64, Account>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            for row in self.account_rows_where(&format!("a.id IN ({list})")).await? {
                out.insert(row.account.id.0, row.account);
            }
        }
        Ok(out)
    }

    /// Writes an import, all or nothing, with one audit entry describing it (`summary`).
    /// Returns the ids given to the new records, in order.
    pub async fn import_apply(
        &self,
        ctx: &AuditContext,
        set: &ImportSet,
        summary: &serde_json::Value,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<i64>> {
        let table = set.table();
        let (new_count, _) = set.counts();
        let mut tx = self.begin().await?;
        let result: Result<Vec<i64>> = async {
            match &mut tx {
                Tx::Postgres(t) => {
                    // New ids are assigned here; keep concurrent inserts out until commit.
                    sqlx::query(&format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")).execute(&mut **t).await?;
                }
                Tx::Sqlite(_) => {}
            }
            let max_sql = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
            let (first_id, existing): (i64, i64) = match &mut tx {
                Tx::Sqlite(t) => {
                    let m: i64 = sqlx::query_scalar(&max_sql).fetch_one(&mut **t).await?;
                    let n: i64 =
                        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut **t).await?;
                    (m + 1, n)
                }
                Tx::Postgres(t) => {
                    let m: i64 = sqlx::query_scalar(&max_sql).fetch_one(&mut **t).await?;
                    let n: i64 =
                        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&mut **t).await?;
                    (m + 1, n)
                }
            };
            let ids: Vec<i64> = (first_id..first_id + new_count as i64).collect();
            // A large load into a small table is faster with the secondary indexes rebuilt once.
            let rebuild = new_count > 20_000 && new_count as i64 > existing;
            let mut tables = vec![table];
            if matches!(set, ImportSet::Opportunities { .. }) {
                tables.push("stage_history");
            }
            let clock = std::time::Instant::now();
            let mut indexes = if rebuild { self.drop_secondary_indexes(&mut tx, &tables).await? } else { vec![] };
            if rebuild {
                // Foreign keys go back (and are checked in one pass) with the indexes.
                indexes.extend(self.drop_foreign_keys(&mut tx, &tables).await?);
                indexes.extend(self.suspend_search(&mut tx, &tables).await?);
            }
            match set {
                ImportSet::Accounts { new, changed } => {
                    let rows = ArgRows::new(new, Some(&ids), &ids, account_new);
                    self.insert_batches(&mut tx, table, ACCOUNT_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(changed, None, &ids, account_new);
                    self.update_rows(&mut tx, table, ACCOUNT_COLUMNS, rows, progress).await?;
                }
                ImportSet::Contacts { new, changed } => {
                    let rows = ArgRows::new(new, Some(&ids), &ids, contact_new);
                    self.insert_batches(&mut tx, table, CONTACT_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(changed, None, &ids, contact_new);
                    self.update_rows(&mut tx, table, CONTACT_COLUMNS, rows, progress).await?;
                }
                ImportSet::Leads { new, changed } => {
                    let rows = ArgRows::new(new, Some(&ids), &ids, lead_new);
                    self.insert_batches(&mut tx, table, LEAD_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(new, Some(&ids), &ids, lead_new_history);
                    self.insert_batches(&mut tx, "lead_history", LEAD_HISTORY_COLUMNS, rows, &|_| {}).await?;
                    let rows = ArgRows::new(changed, None, &ids, lead_new);
                    self.update_rows(&mut tx, table, LEAD_COLUMNS, rows, progress).await?;
                }
                ImportSet::Opportunities { new, changed, history, new_accounts } => {
                    let account_ids = if new_accounts.is_empty() {
                        vec![]
                    } else {
                        let first: i64 = match &mut tx {
                            Tx::Sqlite(t) => {
                                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM accounts")
                                    .fetch_one(&mut **t)
                                    .await?
                            }
                            Tx::Postgres(t) => {
                                sqlx::query("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")
                                    .execute(&mut **t)
                                    .await?;
                                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM accounts")
                                    .fetch_one(&mut **t)
                                    .await?
                            }
                        };
                        let account_ids: Vec<i64> = (first..first + new_accounts.len() as i64).collect();
                        let rows = ArgRows::new(new_accounts, Some(&account_ids), &account_ids, account_new);
                        self.insert_batches(&mut tx, "accounts", ACCOUNT_COLUMNS, rows, &|_| {}).await?;
                        self.reset_sequences(&mut tx, &["accounts"]).await?;
                        account_ids
                    };
                    let rows = ArgRows::new(new, Some(&ids), &account_ids, opportunity_new);
                    self.insert_batches(&mut tx, table, OPPORTUNITY_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(changed, None, &account_ids, opportunity_new);
                    self.update_rows(&mut tx, table, OPPORTUNITY_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(history, None, &ids, history_new);
                    self.insert_batches(&mut tx, "stage_history", STAGE_HISTORY_COLUMNS, rows, &|_| {}).await?;
                }
                ImportSet::Activities { new, changed } => {
                    let rows = ArgRows::new(new, Some(&ids), &ids, activity_new);
                    self.insert_batches(&mut tx, table, ACTIVITY_COLUMNS, rows, progress).await?;
                    let rows = ArgRows::new(changed, None, &ids, activity_new);
                    self.update_rows(&mut tx, table, ACTIVITY_COLUMNS, rows, progress).await?;
                }
            }
            tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: rows inserted");
            self.create_indexes(&mut tx, &indexes).await?;
            tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: indexes built");
            let mut seq = vec![table];
            match set {
                ImportSet::Opportunities { .. } => seq.push("stage_history"),
                ImportSet::Leads { .. } => seq.push("lead_history"),
                _ => {}
            }
            self.reset_sequences(&mut tx, &seq).await?;
            let entity = table.to_string();
            match &mut tx {
                Tx::Sqlite(t) => {
                    let c: &mut sqlx::SqliteConnection = t;
                    audit!(c, ctx, "import", entity, None::<String>, None::<&serde_json::Value>, Some(summary))
                }
                Tx::Postgres(t) => {
                    let c: &mut sqlx::PgConnection = t;
                    audit!(c, ctx, "import", entity, None::<String>, None::<&serde_json::Value>, Some(summary))
                }
            }
            Ok(ids)
        }
        .await;
        let ids = tx.finish(result).await?;

        tracing::debug!("import: committed");
        if new_count > 20_000 {
            self.refresh_statistics().await?;
        }
        Ok(ids)
    }

    /// `UPDATE table SET every column = ... WHERE id = ...` per row (the first value is the id).
    async fn update_rows<I>(
        &self,
        tx: &mut Tx<'_>,
        table: &str,
        columns: &[&str],
        rows: I,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<()>
    where
        I: Iterator<Item = Vec<Arg>>,
    {
        let sets = columns[1..].iter().enumerate().map(|(i, c)| format!("{c} = ${}", i + 1)).collect::<Vec<_>>();
        let sql = format!("UPDATE {table} SET {} WHERE id = ${}", sets.join(", "), columns.len());
        let mut n = 0u64;
        for mut args in rows {
            let id = args.remove(0);
            args.push(id);
            match tx {
                Tx::Sqlite(t) => {
                    bind_all!(sqlx::query(&sql), args).execute(&mut **t).await?;
                }
                Tx::Postgres(t) => {
                    bind_all!(sqlx::query(&sql), args).execute(&mut **t).await?;
                }
            }
            n += 1;
            if n.is_multiple_of(1000) {
                progress(1000);
            }
        }
        progress(n % 1000);
        Ok(())
    }
}

/// Rows as bind arguments, with the id each new row gets (or its own id, for changed rows) and
/// the ids that placeholders (ids below zero) point at. A plain struct with `fn` pointers
/// rather than closures keeps the import future `Send` for the web server.
struct ArgRows<'a, T> {
    items: std::slice::Iter<'a, T>,
    ids: Option<std::slice::Iter<'a, i64>>,
    targets: &'a [i64],
    f: fn(&T, Option<i64>, &[i64]) -> Vec<Arg>,
}

impl<'a, T> ArgRows<'a, T> {
    fn new(
        items: &'a [T],
        ids: Option<&'a [i64]>,
        targets: &'a [i64],
        f: fn(&T, Option<i64>, &[i64]) -> Vec<Arg>,
    ) -> Self {
        ArgRows { items: items.iter(), ids: ids.map(|i| i.iter()), targets, f }
    }
}

impl<T> Iterator for ArgRows<'_, T> {
    type Item = Vec<Arg>;
    fn next(&mut self) -> Option<Vec<Arg>> {
        let item = self.items.next()?;
        let id = self.ids.as_mut().and_then(|i| i.next().copied());
        Some((self.f)(item, id, self.targets))
    }
}

fn resolve(id: i64, targets: &[i64]) -> i64 {
    if id < 0 { targets[(-id - 1) as usize] } else { id }
}

fn account_new(a: &Account, id: Option<i64>, parents: &[i64]) -> Vec<Arg> {
    let mut a = a.clone();
    if let Some(id) = id {
        a.id = model::AccountId(id);
    }
    a.parent_id = a.parent_id.map(|p| model::AccountId(resolve(p.0, parents)));
    account_args(&a)
}

fn contact_new(c: &Contact, id: Option<i64>, _: &[i64]) -> Vec<Arg> {
    let mut c = c.clone();
    if let Some(id) = id {
        c.id = model::ContactId(id);
    }
    contact_args(&c)
}

fn lead_new(l: &Lead, id: Option<i64>, _: &[i64]) -> Vec<Arg> {
    let mut l = l.clone();
    if let Some(id) = id {
        l.id = model::LeadId(id);
    }
    lead_args(&l)
}

fn lead_new_history(l: &Lead, id: Option<i64>, _: &[i64]) -> Vec<Arg> {
    let mut l = l.clone();
    if let Some(id) = id {
        l.id = model::LeadId(id);
    }
    lead_first_history_args(&l)
}

fn opportunity_new(o: &Opportunity, id: Option<i64>, accounts: &[i64]) -> Vec<Arg> {
    let mut o = o.clone();
    if let Some(id) = id {
        o.id = OpportunityId(id);
    }
    o.account_id = model::AccountId(resolve(o.account_id.0, accounts));
    opportunity_args(&o)
}

fn history_new(h: &StageChange, _: Option<i64>, opportunities: &[i64]) -> Vec<Arg> {
    let mut h = h.clone();
    h.opportunity_id = OpportunityId(resolve(h.opportunity_id.0, opportunities));
    stage_change_args(&h, "import")
}

fn activity_new(a: &Activity, id: Option<i64>, _: &[i64]) -> Vec<Arg> {
    let mut a = a.clone();
    if let Some(id) = id {
        a.id = model::ActivityId(id);
    }
    activity_args(&a)
}

/// One opportunity as the salesops export writes it: references by name, e-mail and external
/// id, plus its stage history.
#[derive(Debug, Clone)]
pub struct OpportunityExport {
    pub opportunity: Opportunity,
    pub account_external_id: Option<String>,
    pub owner_email: String,
    pub pipeline: String,
    pub stage: String,
    pub stage_probability: i32,
    pub loss_reason: Option<String>,
    pub stage_entered: Vec<(String, jiff::Timestamp)>,
}

#[derive(sqlx::FromRow)]
struct XRow {
    id: i64,
    account_external_id: Option<String>,
    owner_email: String,
    pipeline: String,
}

impl Store {
    /// The next `limit` opportunities after id `after` (in id order) of a filtered list, for
    /// exports that stream page by page in constant memory.
    pub async fn opportunity_export_page(
        &self,
        viewer: &crate::Viewer,
        f: &crate::OpportunityFilter,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OpportunityExport>> {
        let (mut w, search) = crate::records::opportunity_where(self.backend(), viewer, f);
        let p = w.arg(Arg::I64(after));
        w.push(format!("o.id > {p}"));
        let cond = w.sql();
        let crate::search::SearchSql { with, join } = search.unwrap_or_default();
        let ids_sql = format!("{with}SELECT o.id FROM opportunities o {join} WHERE {cond} ORDER BY o.id LIMIT {limit}");
        let ids: Vec<i64> =
            dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&ids_sql), w.args).fetch_all(p).await?);
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else { return Ok(vec![]) };
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows = self.opportunity_rows_where(&format!("o.id IN ({list}) ORDER BY o.id")).await?;
        let extra: Vec<XRow> = dispatch!(self, p => sqlx::query_as::<_, XRow>(&format!(
            "SELECT o.id, a.external_id AS account_external_id, u.email AS owner_email, pl.name AS pipeline \
             FROM opportunities o JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = o.owner_id \
             JOIN pipelines pl ON pl.id = o.pipeline_id WHERE o.id IN ({list}) ORDER BY o.id")).fetch_all(p).await?);
        let hist: Vec<(i64, String, i64)> = dispatch!(self, p => sqlx::query_as(
            "SELECT h.opportunity_id, s.name, h.at FROM stage_history h JOIN stages s ON s.id = h.to_stage_id \
             WHERE h.opportunity_id BETWEEN $1 AND $2 ORDER BY h.opportunity_id, h.at, h.id")
            .bind(first).bind(last).fetch_all(p).await?);
        let mut by_opp: HashMap<i64, Vec<(String, jiff::Timestamp)>> = HashMap::new();
        for (id, name, at) in hist {
            by_opp.entry(id).or_default().push((name, crate::from_micros(at)?));
        }
        let extra: HashMap<i64, XRow> = extra.into_iter().map(|x| (x.id, x)).collect();
        rows.into_iter()
            .map(|r| {
                let x =
                    extra.get(&r.opportunity.id.0).ok_or_else(|| StoreError::Corrupt("export row vanished".into()))?;
                Ok(OpportunityExport {
                    account_external_id: x.account_external_id.clone(),
                    owner_email: x.owner_email.clone(),
                    pipeline: x.pipeline.clone(),
                    stage: r.stage_name.clone(),
                    stage_probability: r.stage_probability,
                    loss_reason: r.loss_reason.clone(),
                    stage_entered: by_opp.remove(&r.opportunity.id.0).unwrap_or_default(),
                    opportunity: r.opportunity,
                })
            })
            .collect()
    }
}
