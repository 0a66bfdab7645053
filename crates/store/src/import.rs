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

/// A lead's move from one status to another, as its history records it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadStatusChange {
    pub lead_id: model::LeadId,
    pub from: model::LeadStatus,
    pub to: model::LeadStatus,
    pub reason: Option<String>,
    pub at: jiff::Timestamp,
    pub actor: Option<model::UserId>,
}

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
    /// `history`: the status moves of changed leads, written to their lead history.
    Leads {
        new: Vec<Lead>,
        changed: Vec<Lead>,
        history: Vec<LeadStatusChange>,
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
            ImportSet::Leads { new, changed, .. } => (new.len(), changed.len()),
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

    /// Which of these ids exist in `table` (for checking a file's references by salesops id).
    pub async fn ids_present(&self, table: &str, ids: &[i64]) -> Result<std::collections::HashSet<i64>> {
        if !["accounts", "contacts", "leads", "opportunities", "activities"].contains(&table) {
            return Err(StoreError::Refused(format!("no id lookup on {table}")));
        }
        let mut out = std::collections::HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let sql = format!("SELECT id FROM {table} WHERE id IN ({list})");
            let found: Vec<i64> = dispatch!(self, p => sqlx::query_scalar(&sql).fetch_all(p).await?);
            out.extend(found);
        }
        Ok(out)
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
        let (new_count, _) = set.counts();
        let mut w = self.import_begin(set.table(), new_count).await?;
        match w.write(set, progress).await {
            Ok(ids) => {
                w.commit(ctx, summary).await?;
                Ok(ids)
            }
            Err(e) => {
                let _ = w.rollback().await;
                Err(e)
            }
        }
    }

    /// Starts writing an import of `table` in one transaction, in as many [`ImportWriter::write`]
    /// calls as the caller likes (a big file chunk by chunk, while the next chunk is read).
    /// `expected_new` (an estimate is fine) decides whether the secondary indexes and foreign
    /// keys are dropped now and rebuilt once at commit, which is faster for a large load into a
    /// small table.
    pub async fn import_begin(&self, table: &'static str, expected_new: usize) -> Result<ImportWriter> {
        if !["accounts", "contacts", "leads", "opportunities", "activities"].contains(&table) {
            return Err(StoreError::Refused(format!("no import into {table}")));
        }
        let mut tx = self.begin().await?;
        let begun: Result<(i64, Vec<String>)> = async {
            if let Tx::Postgres(t) = &mut tx {
                // New ids are assigned here; keep concurrent inserts out until commit.
                sqlx::query(&format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")).execute(&mut **t).await?;
            }
            let sql = format!("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {table}");
            let (max, existing): (i64, i64) = match &mut tx {
                Tx::Sqlite(t) => sqlx::query_as(&sql).fetch_one(&mut **t).await?,
                Tx::Postgres(t) => sqlx::query_as(&sql).fetch_one(&mut **t).await?,
            };
            let rebuild = expected_new > 20_000 && expected_new as i64 > existing;
            let mut tables = vec![table];
            if table == "opportunities" {
                tables.push("stage_history");
            }
            let mut indexes = vec![];
            if rebuild {
                indexes = self.drop_secondary_indexes(&mut tx, &tables).await?;
                // Foreign keys go back (and are checked in one pass) with the indexes.
                indexes.extend(self.drop_foreign_keys(&mut tx, &tables).await?);
                indexes.extend(self.suspend_search(&mut tx, &tables).await?);
            }
            Ok((max + 1, indexes))
        }
        .await;
        let (next_id, indexes) = match begun {
            Ok(v) => v,
            Err(e) => return tx.finish(Err(e)).await,
        };
        Ok(ImportWriter {
            store: self.clone(),
            tx,
            table,
            next_id,
            indexes,
            account_ids: vec![],
            accounts_locked: false,
            written: 0,
        })
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

/// An import being written: one open transaction. Dropping it without [`ImportWriter::commit`]
/// rolls everything back.
pub struct ImportWriter {
    store: Store,
    tx: Tx<'static>,
    table: &'static str,
    /// The id the next new record gets.
    next_id: i64,
    /// Indexes and foreign keys to put back at commit.
    indexes: Vec<String>,
    /// Ids of the accounts created so far (what account placeholders point at).
    account_ids: Vec<i64>,
    accounts_locked: bool,
    written: u64,
}

impl ImportWriter {
    /// Writes one part of the import. Placeholders (ids below zero) of new records point into
    /// this `set`'s new records; those of new accounts into every account created by this
    /// writer so far, in order. Returns the ids given to this set's new records.
    pub async fn write(&mut self, set: &ImportSet, progress: &(dyn Fn(u64) + Sync)) -> Result<Vec<i64>> {
        if set.table() != self.table {
            return Err(StoreError::Refused(format!("this import writes {}, not {}", self.table, set.table())));
        }
        let (new_count, changed_count) = set.counts();
        let ids: Vec<i64> = (self.next_id..self.next_id + new_count as i64).collect();
        self.next_id += new_count as i64;
        let store = self.store.clone();
        let (tx, table) = (&mut self.tx, self.table);
        match set {
            ImportSet::Accounts { new, changed } => {
                let rows = ArgRows::new(new, Some(&ids), &ids, account_new);
                store.insert_batches(tx, table, ACCOUNT_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(changed, None, &ids, account_new);
                store.update_rows(tx, table, ACCOUNT_COLUMNS, rows, progress).await?;
            }
            ImportSet::Contacts { new, changed } => {
                let rows = ArgRows::new(new, Some(&ids), &ids, contact_new);
                store.insert_batches(tx, table, CONTACT_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(changed, None, &ids, contact_new);
                store.update_rows(tx, table, CONTACT_COLUMNS, rows, progress).await?;
            }
            ImportSet::Leads { new, changed, history } => {
                let rows = ArgRows::new(new, Some(&ids), &ids, lead_new);
                store.insert_batches(tx, table, LEAD_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(new, Some(&ids), &ids, lead_new_history);
                store.insert_batches(tx, "lead_history", LEAD_HISTORY_COLUMNS, rows, &|_| {}).await?;
                let rows = ArgRows::new(changed, None, &ids, lead_new);
                store.update_rows(tx, table, LEAD_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(history, None, &ids, lead_change_history);
                store.insert_batches(tx, "lead_history", LEAD_HISTORY_COLUMNS, rows, &|_| {}).await?;
            }
            ImportSet::Opportunities { new, changed, history, new_accounts } => {
                if !new_accounts.is_empty() {
                    if !self.accounts_locked
                        && let Tx::Postgres(t) = tx
                    {
                        sqlx::query("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE").execute(&mut **t).await?;
                    }
                    self.accounts_locked = true;
                    let sql = "SELECT COALESCE(MAX(id), 0) + 1 FROM accounts";
                    let first: i64 = match tx {
                        Tx::Sqlite(t) => sqlx::query_scalar(sql).fetch_one(&mut **t).await?,
                        Tx::Postgres(t) => sqlx::query_scalar(sql).fetch_one(&mut **t).await?,
                    };
                    let account_ids: Vec<i64> = (first..first + new_accounts.len() as i64).collect();
                    let targets =
                        self.account_ids.iter().copied().chain(account_ids.iter().copied()).collect::<Vec<_>>();
                    let rows = ArgRows::new(new_accounts, Some(&account_ids), &targets, account_new);
                    store.insert_batches(tx, "accounts", ACCOUNT_COLUMNS, rows, &|_| {}).await?;
                    store.reset_sequences(tx, &["accounts"]).await?;
                    self.account_ids = targets;
                }
                let rows = ArgRows::new(new, Some(&ids), &self.account_ids, opportunity_new);
                store.insert_batches(tx, table, OPPORTUNITY_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(changed, None, &self.account_ids, opportunity_new);
                store.update_rows(tx, table, OPPORTUNITY_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(history, None, &ids, history_new);
                store.insert_batches(tx, "stage_history", STAGE_HISTORY_COLUMNS, rows, &|_| {}).await?;
            }
            ImportSet::Activities { new, changed } => {
                let rows = ArgRows::new(new, Some(&ids), &ids, activity_new);
                store.insert_batches(tx, table, ACTIVITY_COLUMNS, rows, progress).await?;
                let rows = ArgRows::new(changed, None, &ids, activity_new);
                store.update_rows(tx, table, ACTIVITY_COLUMNS, rows, progress).await?;
            }
        }
        self.written += (new_count + changed_count) as u64;
        Ok(ids)
    }

    /// One audit entry per changed record (`import_update`): the record as it was and as the
    /// import leaves it.
    pub async fn audit_changes(
        &mut self,
        ctx: &AuditContext,
        changes: &[(i64, serde_json::Value, serde_json::Value)],
    ) -> Result<()> {
        let entity = self.table.to_string();
        for (id, before, after) in changes {
            let id = Some(id.to_string());
            match &mut self.tx {
                Tx::Sqlite(t) => {
                    let c: &mut sqlx::SqliteConnection = t;
                    audit!(c, ctx, "import_update", entity.clone(), id, Some(before), Some(after))
                }
                Tx::Postgres(t) => {
                    let c: &mut sqlx::PgConnection = t;
                    audit!(c, ctx, "import_update", entity.clone(), id, Some(before), Some(after))
                }
            }
        }
        Ok(())
    }

    /// Puts the indexes back, writes the audit entry (`summary`) and commits; then refreshes
    /// the planner statistics of the tables written if the import was large.
    pub async fn commit(mut self, ctx: &AuditContext, summary: &serde_json::Value) -> Result<()> {
        let store = self.store.clone();
        let table = self.table;
        let clock = std::time::Instant::now();
        let done: Result<()> = async {
            if !self.indexes.is_empty() {
                if let Tx::Sqlite(t) = &mut self.tx {
                    // CREATE INDEX sorts with helper threads.
                    sqlx::query("PRAGMA threads = 2").execute(&mut **t).await?;
                }
                store.create_indexes(&mut self.tx, &self.indexes).await?;
                if let Tx::Sqlite(t) = &mut self.tx {
                    sqlx::query("PRAGMA threads = 0").execute(&mut **t).await?;
                }
                tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: indexes built");
            }
            let mut seq = vec![table];
            match table {
                "opportunities" => seq.push("stage_history"),
                "leads" => seq.push("lead_history"),
                _ => {}
            }
            store.reset_sequences(&mut self.tx, &seq).await?;
            let entity = table.to_string();
            match &mut self.tx {
                Tx::Sqlite(t) => {
                    let c: &mut sqlx::SqliteConnection = t;
                    audit!(c, ctx, "import", entity, None::<String>, None::<&serde_json::Value>, Some(summary))
                }
                Tx::Postgres(t) => {
                    let c: &mut sqlx::PgConnection = t;
                    audit!(c, ctx, "import", entity, None::<String>, None::<&serde_json::Value>, Some(summary))
                }
            }
            Ok(())
        }
        .await;
        self.tx.finish(done).await?;
        tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: committed");
        if self.written > 20_000 {
            let mut tables = vec![table];
            match table {
                "opportunities" => tables.push("stage_history"),
                "leads" => tables.push("lead_history"),
                _ => {}
            }
            if self.accounts_locked {
                tables.push("accounts");
            }
            store.refresh_statistics_of(&tables).await?;
            tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: statistics");
        }
        Ok(())
    }

    /// Writes nothing: rolls the transaction back.
    pub async fn rollback(self) -> Result<()> {
        match self.tx {
            Tx::Sqlite(t) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
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

fn lead_change_history(c: &LeadStatusChange, _: Option<i64>, _: &[i64]) -> Vec<Arg> {
    vec![
        Arg::I64(c.lead_id.0),
        Arg::OptText(Some(c.from.as_str().into())),
        Arg::Text(c.to.as_str().into()),
        Arg::OptText(c.reason.clone()),
        Arg::I64(crate::micros(c.at)),
        Arg::OptI64(c.actor.map(|u| u.0)),
    ]
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

/// An account as the salesops export writes it.
#[derive(Debug, Clone)]
pub struct AccountExport {
    pub account: Account,
    pub owner_email: String,
    pub parent_external_id: Option<String>,
}

/// A contact as the salesops export writes it.
#[derive(Debug, Clone)]
pub struct ContactExport {
    pub contact: Contact,
    pub owner_email: String,
    pub account_external_id: Option<String>,
}

/// A lead as the salesops export writes it.
#[derive(Debug, Clone)]
pub struct LeadExport {
    pub lead: Lead,
    pub owner_email: String,
}

/// An activity as the salesops export writes it: references by external id where the record
/// has one.
#[derive(Debug, Clone)]
pub struct ActivityExport {
    pub activity: Activity,
    pub owner_email: String,
    pub account_external_id: Option<String>,
    pub opportunity_external_id: Option<String>,
    pub contact_external_id: Option<String>,
    pub lead_external_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RefRow {
    id: i64,
    owner_email: String,
    r1: Option<String>,
    r2: Option<String>,
    r3: Option<String>,
    r4: Option<String>,
}

impl Store {
    /// The ids of the next `limit` visible records of `table` (alias `alias`) after `after`, and
    /// the owner e-mail plus up to four external ids of referenced records (`refs`: SQL
    /// expressions over `alias` and the joins in `joins`).
    async fn export_ids(
        &self,
        viewer: &crate::Viewer,
        (table, alias): (&str, &str),
        joins: &str,
        refs: [&str; 4],
        after: i64,
        limit: i64,
    ) -> Result<(Vec<i64>, HashMap<i64, RefRow>)> {
        let mut w = crate::Where::default();
        w.visible(&format!("{alias}.owner_id"), viewer);
        let p = w.arg(Arg::I64(after));
        w.push(format!("{alias}.id > {p}"));
        let cond = w.sql();
        let ids_sql = format!("SELECT {alias}.id FROM {table} {alias} WHERE {cond} ORDER BY {alias}.id LIMIT {limit}");
        let ids: Vec<i64> =
            dispatch!(self, p => bind_all!(sqlx::query_scalar::<_, i64>(&ids_sql), w.args).fetch_all(p).await?);
        if ids.is_empty() {
            return Ok((ids, HashMap::new()));
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let [r1, r2, r3, r4] = refs;
        let sql = format!(
            "SELECT {alias}.id, u.email AS owner_email, {r1} AS r1, {r2} AS r2, {r3} AS r3, {r4} AS r4 \
             FROM {table} {alias} JOIN users u ON u.id = {alias}.owner_id {joins} WHERE {alias}.id IN ({list})"
        );
        let rows: Vec<RefRow> = dispatch!(self, p => sqlx::query_as::<_, RefRow>(&sql).fetch_all(p).await?);
        Ok((ids, rows.into_iter().map(|r| (r.id, r)).collect()))
    }

    /// The next `limit` visible accounts after id `after`, in id order.
    pub async fn account_export_page(
        &self,
        viewer: &crate::Viewer,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AccountExport>> {
        let joins = "LEFT JOIN accounts pa ON pa.id = a.parent_id";
        let refs = ["pa.external_id", "NULL", "NULL", "NULL"];
        let (ids, mut extra) = self.export_ids(viewer, ("accounts", "a"), joins, refs, after, limit).await?;
        let mut records = self.accounts_by_id(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (a, x) = (records.remove(id)?, extra.remove(id)?);
                Some(AccountExport { account: a, owner_email: x.owner_email, parent_external_id: x.r1 })
            })
            .collect())
    }

    /// The next `limit` visible contacts after id `after`, in id order.
    pub async fn contact_export_page(
        &self,
        viewer: &crate::Viewer,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ContactExport>> {
        let joins = "LEFT JOIN accounts a ON a.id = c.account_id";
        let refs = ["a.external_id", "NULL", "NULL", "NULL"];
        let (ids, mut extra) = self.export_ids(viewer, ("contacts", "c"), joins, refs, after, limit).await?;
        let mut records = self.contacts_by_id(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (c, x) = (records.remove(id)?, extra.remove(id)?);
                Some(ContactExport { contact: c, owner_email: x.owner_email, account_external_id: x.r1 })
            })
            .collect())
    }

    /// The next `limit` visible leads after id `after`, in id order.
    pub async fn lead_export_page(&self, viewer: &crate::Viewer, after: i64, limit: i64) -> Result<Vec<LeadExport>> {
        let refs = ["NULL", "NULL", "NULL", "NULL"];
        let (ids, mut extra) = self.export_ids(viewer, ("leads", "l"), "", refs, after, limit).await?;
        let mut records = self.leads_by_id(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (l, x) = (records.remove(id)?, extra.remove(id)?);
                Some(LeadExport { lead: l, owner_email: x.owner_email })
            })
            .collect())
    }

    /// The next `limit` visible activities after id `after`, in id order.
    pub async fn activity_export_page(
        &self,
        viewer: &crate::Viewer,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ActivityExport>> {
        let joins = "LEFT JOIN accounts a ON a.id = t.account_id LEFT JOIN opportunities o ON o.id = t.opportunity_id \
                     LEFT JOIN contacts c ON c.id = t.contact_id LEFT JOIN leads l ON l.id = t.lead_id";
        let refs = ["a.external_id", "o.external_id", "c.external_id", "l.external_id"];
        let (ids, mut extra) = self.export_ids(viewer, ("activities", "t"), joins, refs, after, limit).await?;
        let mut records = self.activities_by_id(&ids).await?;
        Ok(ids
            .iter()
            .filter_map(|id| {
                let (a, x) = (records.remove(id)?, extra.remove(id)?);
                Some(ActivityExport {
                    activity: a,
                    owner_email: x.owner_email,
                    account_external_id: x.r1,
                    opportunity_external_id: x.r2,
                    contact_external_id: x.r3,
                    lead_external_id: x.r4,
                })
            })
            .collect())
    }
}
