//! Importing CSV files (C4): parse and validate with the `import` crate, resolve references
//! (owners by e-mail, accounts by id / external id / name, pipelines and stages by name, loss
//! reasons), match rows to existing records (salesops id, else external id), keep only what
//! changes, and write it all or nothing. A dry run stops before writing and reports.

use std::collections::{HashMap, HashSet};

use import::{Entity, Mapping, Problem, Ref, Rows};
use jiff::Timestamp;
use model::{
    Account, AccountId, Activity, ActivityId, Contact, ContactId, Currency, ForecastCategory, Lead, LeadId, LeadStatus,
    LossReasonId, Opportunity, OpportunityId, Permission, Pipeline, StageChange, StageKind, TimeZoneName, UserId,
};
use serde::Serialize;
use store::{ImportSet, LeadStatusChange, Lookups};

use crate::{App, AppError, Principal, default_forecast};

/// How to read a file and what an import may do.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub entity: Entity,
    /// A preset name ("salesops", "salesforce", "hubspot"), or None to detect it from the header.
    pub preset: Option<String>,
    /// A TOML mapping file; overrides `preset`.
    pub mapping: Option<String>,
    /// Validate and report only.
    pub dry_run: bool,
    /// Create accounts that opportunities refer to but that do not exist (by name or external id).
    pub create_missing: bool,
    /// The file comes from another salesops: its salesops ids (of the rows and of the records
    /// they refer to) are that installation's, so they are read as external ids. A record
    /// without an external id is stored with its old salesops id as external id, which is what
    /// the other files of the same export refer to it by; the files then import in the order
    /// accounts, contacts, leads, opportunities, activities.
    pub foreign_ids: bool,
    /// Shown in the audit entry.
    pub file_name: String,
    pub max_bytes: u64,
}

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub entity: String,
    pub preset: String,
    pub dry_run: bool,
    /// True when the rows were written.
    pub applied: bool,
    pub rows_read: u64,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Accounts created because opportunities referred to them (`create_missing`).
    pub created_accounts: usize,
    pub problems: Vec<Problem>,
    pub problem_count: u64,
    pub ignored_columns: Vec<String>,
}

const MAX_PROBLEMS: usize = 1000;

/// The records of one kind a file may refer to.
struct Known {
    ext: HashMap<String, i64>,
    ids: HashSet<i64>,
}

/// A row's reference to a record that must exist; Err carries the value that names nothing.
/// By name only opportunities are refused: a contact's or lead's name (HubSpot's "Associated
/// Contact") is not unique enough to link by, so such a link is left out, as before.
fn resolve(field: &str, r: &Option<Ref>, known: &Known) -> Result<Option<i64>, String> {
    match r {
        None => Ok(None),
        Some(Ref::Id(id)) if known.ids.contains(id) => Ok(Some(*id)),
        Some(Ref::Id(id)) => Err(id.to_string()),
        Some(Ref::External(e)) => known.ext.get(e).copied().map(Some).ok_or_else(|| e.clone()),
        Some(Ref::Name(n)) if field == "opportunity" => Err(n.clone()),
        Some(Ref::Name(_)) => Ok(None),
    }
}

struct Ctx<'a> {
    now: Timestamp,
    me: UserId,
    my_zone: TimeZoneName,
    reporting: Currency,
    lookups: &'a Lookups,
    existing: HashMap<String, i64>,
    problems: Vec<Problem>,
    problem_count: u64,
    seen_ids: HashSet<i64>,
    /// (line, data row) of each parsed row, and field -> CSV column, from the parser.
    positions: Vec<(u64, u64)>,
    columns: std::collections::BTreeMap<String, String>,
    /// Changed records of the current chunk, for the audit log.
    changes: Changes,
}

impl Ctx<'_> {
    /// The CSV column a field was read from (the first of `fields` the file has).
    fn column(&self, fields: &[&str]) -> String {
        fields.iter().find_map(|f| self.columns.get(*f).cloned()).unwrap_or_else(|| fields[0].to_string())
    }

    /// A problem with the `row`-th parsed row (1-based), in `field` (or its alternatives).
    fn problem(&mut self, row: usize, field: &str, value: &str, code: &'static str, message: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_PROBLEMS {
            let (line, file_row) =
                self.positions.get(row.wrapping_sub(1)).copied().unwrap_or((row as u64 + 1, row as u64));
            let column = match field {
                "account" => self.column(&["account_name", "account_external_id", "account_id"]),
                "parent" => self.column(&["parent_name", "parent_external_id", "parent_id"]),
                "opportunity" => self.column(&["opportunity_external_id", "opportunity_id"]),
                "lead" => self.column(&["lead_external_id", "lead_id"]),
                "contact" => self.column(&["contact_external_id", "contact_id"]),
                "id" => self.column(&["id", "external_id"]),
                f => self.column(&[f]),
            };
            self.problems.push(Problem {
                line,
                row: file_row,
                column: Some(column),
                value: Some(value.chars().take(80).collect()),
                code: code.into(),
                message,
            });
        }
    }

    fn owner(&mut self, row: usize, email: &Option<String>) -> UserId {
        match email {
            None => self.me,
            Some(e) => match self.lookups.users.get(&e.to_lowercase()) {
                Some(id) => UserId(*id),
                None => {
                    self.problem(row, "owner_email", e, "unknown_reference", format!("no user has the e-mail '{e}'"));
                    self.me
                }
            },
        }
    }

    /// Matches a row to an existing record: the salesops id must exist; otherwise the external id.
    fn existing_id(
        &mut self,
        row: usize,
        id: Option<i64>,
        external: &Option<String>,
        table_ids: &HashSet<i64>,
    ) -> Option<i64> {
        if let Some(id) = id {
            if !table_ids.contains(&id) {
                self.problem(
                    row,
                    "id",
                    &id.to_string(),
                    "unknown_reference",
                    format!("there is no record with id {id}"),
                );
                return None;
            }
            if !self.seen_ids.insert(id) {
                self.problem(
                    row,
                    "id",
                    &id.to_string(),
                    "duplicate_key",
                    "the same record appears twice in the file".into(),
                );
            }
            return Some(id);
        }
        let found = external.as_ref().and_then(|e| self.existing.get(e).copied());
        if let Some(id) = found
            && !self.seen_ids.insert(id)
        {
            self.problem(
                row,
                "id",
                &id.to_string(),
                "duplicate_key",
                "the same record appears twice in the file".into(),
            );
        }
        found
    }

    fn account_ref(&self, r: &Ref) -> Option<i64> {
        let l = self.lookups;
        match r {
            Ref::Id(id) => l.account_ids.contains(id).then_some(*id),
            Ref::External(e) => l.account_external.get(e).copied(),
            Ref::Name(n) => l.account_names.get(&n.to_lowercase()).copied(),
        }
    }

    fn unknown_account(&mut self, row: usize, column: &str, r: &Ref) {
        let (v, what) = match r {
            Ref::Id(id) => (id.to_string(), "id"),
            Ref::External(e) => (e.clone(), "external id"),
            Ref::Name(n) => (n.clone(), "name"),
        };
        self.problem(
            row,
            column,
            &v,
            "unknown_reference",
            format!("no account has the {what} '{v}' (import the accounts first, or allow creating missing ones)"),
        );
    }
}

impl App {
    /// Imports one CSV file of `opts.entity`. Administrators only (head of commercial
    /// operations, sales operations, CRM administrator).
    pub async fn import_file(
        &self,
        p: &Principal,
        data: &[u8],
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportReport, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let now = self.now();
        let (mapping, preset_name) = match (&opts.mapping, &opts.preset) {
            (Some(text), _) => {
                let m = Mapping::from_toml(text).map_err(|e| AppError::invalid("mapping", e.to_string()))?;
                let name = m.preset.unwrap_or("custom").to_string();
                (m, format!("mapping file ({name})"))
            }
            (None, Some(name)) => {
                let m = import::preset(name, opts.entity).map_err(|e| AppError::invalid("preset", e.to_string()))?;
                (m, name.clone())
            }
            (None, None) => {
                let header = data.split(|b| *b == b'\n').next().unwrap_or_default();
                let name = import::detect_preset(header, opts.entity);
                (
                    import::preset(name, opts.entity).map_err(|e| AppError::invalid("preset", e.to_string()))?,
                    name.to_string(),
                )
            }
        };
        let limits = import::Limits { max_bytes: opts.max_bytes, max_problems: MAX_PROBLEMS };
        let clock = std::time::Instant::now();
        let mut stream = import::Stream::new(data, opts.entity, &mapping, &limits);
        let mut report = ImportReport {
            entity: opts.entity.as_str().into(),
            preset: preset_name,
            dry_run: opts.dry_run,
            applied: false,
            rows_read: 0,
            new: 0,
            changed: 0,
            unchanged: 0,
            created_accounts: 0,
            problems: vec![],
            problem_count: 0,
            ignored_columns: vec![],
        };
        if stream.problem_count() > 0 {
            // The header (or the file as a whole) is wrong: no rows follow.
            let parsed = stream.finish();
            report.rows_read = parsed.rows_read;
            report.problems = parsed.problems;
            report.problem_count = parsed.problem_count;
            report.ignored_columns = parsed.ignored_columns;
            return Ok(report);
        }
        let lookups = self.store.import_lookups().await?;
        let table = opts.entity.as_str();
        let mut cx = Ctx {
            now,
            me: p.user.id,
            my_zone: p.user.time_zone.clone(),
            reporting: self.store.reporting_currency().await?,
            lookups: &lookups,
            existing: self.store.external_ids(table).await?,
            problems: vec![],
            problem_count: 0,
            seen_ids: HashSet::new(),
            positions: vec![],
            columns: stream.columns(),
            changes: vec![],
        };
        // Opportunities (the big files) are read, checked and written chunk by chunk: while the
        // writer task stores one chunk, the next is read and checked, and no more than a few
        // chunks are in memory. The other kinds are read whole (accounts may name parents
        // further down the file). Everything is written in one transaction, committed only when
        // the whole file is free of problems: a problem anywhere rolls back what was written.
        let chunk_rows = if opts.entity == Entity::Opportunities { CHUNK_ROWS } else { usize::MAX };
        let mut opp = OpportunityPlan::default();
        if opts.entity == Entity::Opportunities {
            let pipelines: Vec<Pipeline> = self.store.pipeline_list().await?;
            let reasons = self.store.loss_reasons().await?;
            opp.reason_ids = reasons.iter().map(|r| (r.name.to_lowercase(), r.id.0)).collect();
            opp.pipelines = pipelines;
        }
        let mut writer: Option<Writer> = None;
        let mut planned = 0.0;
        while let Some(chunk) = stream.next_chunk(chunk_rows) {
            let planning = std::time::Instant::now();
            cx.positions = chunk.positions;
            let n = chunk.rows.len() as u64;
            let mut rows = chunk.rows;
            if opts.foreign_ids {
                foreign_ids(&mut rows);
            }
            let set = match rows {
                Rows::Opportunities(rows) => {
                    self.plan_opportunities(&mut cx, &mut opp, rows, opts.create_missing, &mut report).await?
                }
                Rows::Accounts(rows) => self.plan_accounts(&mut cx, rows, &mut report).await?,
                Rows::Contacts(rows) => self.plan_contacts(&mut cx, rows, &mut report).await?,
                Rows::Leads(rows) => self.plan_leads(&mut cx, rows, &mut report).await?,
                Rows::Activities(rows) => self.plan_activities(&mut cx, rows, &mut report).await?,
            };
            planned += planning.elapsed().as_secs_f64();
            progress(n);
            if cx.problem_count > 0 || stream.problem_count() > 0 || opts.dry_run {
                cx.changes.clear();
                // Nothing will be written; go on reading to report every problem.
                if let Some(w) = writer.take() {
                    w.abort().await;
                }
                continue;
            }
            let (new, changed) = set.counts();
            if new + changed == 0 {
                cx.changes.clear();
                continue;
            }
            let w = match &mut writer {
                Some(w) => w,
                None => {
                    // How many new records the whole file brings, judged from this first part.
                    let share = stream.bytes_read().max(1) as f64 / data.len().max(1) as f64;
                    let expected = (new as f64 / share.min(1.0)) as usize;
                    writer.insert(Writer::start(self.store.clone(), opts.entity, expected, p.audit(now)))
                }
            };
            w.send(set, std::mem::take(&mut cx.changes)).await?;
        }
        let parsed = stream.finish();
        tracing::debug!(
            rows = parsed.rows_read,
            seconds = clock.elapsed().as_secs_f64(),
            planning_seconds = planned,
            "import: read and checked"
        );
        report.rows_read = parsed.rows_read;
        report.ignored_columns = parsed.ignored_columns;
        report.problem_count = parsed.problem_count + cx.problem_count;
        let mut problems = parsed.problems;
        problems.append(&mut cx.problems);
        problems.sort_by_key(|p| (p.line, p.row));
        problems.truncate(MAX_PROBLEMS);
        report.problems = problems;
        if report.problem_count > 0 || opts.dry_run {
            if let Some(w) = writer.take() {
                w.abort().await;
            }
            return Ok(report);
        }
        if let Some(w) = writer {
            let summary = serde_json::json!({
                "file": opts.file_name,
                "preset": report.preset,
                "rows": report.rows_read,
                "new": report.new,
                "changed": report.changed,
                "unchanged": report.unchanged,
                "created_accounts": report.created_accounts,
            });
            w.commit(summary).await?;
            tracing::debug!(seconds = clock.elapsed().as_secs_f64(), "import: written");
        }
        report.applied = true;
        Ok(report)
    }

    async fn plan_opportunities(
        &self,
        cx: &mut Ctx<'_>,
        opp: &mut OpportunityPlan,
        rows: Vec<import::OpportunityRow>,
        create_missing: bool,
        report: &mut ImportReport,
    ) -> Result<ImportSet, AppError> {
        let pipelines = &opp.pipelines;
        let reason_ids = &opp.reason_ids;
        // The stored opportunities the rows name by salesops id, loaded once: they tell which ids
        // exist and are what the rows are compared against. Rows matched by external id are
        // loaded next, unless already there.
        let by_id: Vec<i64> = rows.iter().filter_map(|r| r.id).collect();
        let mut before = self.store.opportunities_by_id(&by_id).await?;
        let matched: Vec<Option<i64>> = {
            let all: HashSet<i64> = before.keys().copied().collect();
            rows.iter().enumerate().map(|(i, r)| cx.existing_id(i + 1, r.id, &r.external_id, &all)).collect()
        };
        let by_external: Vec<i64> = matched.iter().flatten().copied().filter(|id| !before.contains_key(id)).collect();
        before.extend(self.store.opportunities_by_id(&by_external).await?);
        let mut new = vec![];
        let mut changed = vec![];
        let mut history = vec![];
        // Accounts created by this chunk; their placeholders count every account created by
        // the import so far.
        let mut new_accounts: Vec<Account> = vec![];
        let created_before = opp.accounts_created;
        let new_account_keys = &mut opp.new_account_keys;
        for (i, (r, existing)) in rows.into_iter().zip(matched).enumerate() {
            let row = i + 1;
            let owner = cx.owner(row, &r.owner_email);
            let account_id = match cx.account_ref(&r.account) {
                Some(id) => id,
                None if create_missing && !matches!(r.account, Ref::Id(_)) => {
                    let next = -((created_before + new_accounts.len()) as i64) - 1;
                    *new_account_keys.entry(r.account.clone()).or_insert_with(|| {
                        let (name, external_id) = match &r.account {
                            Ref::External(e) => (e.clone(), Some(e.clone())),
                            Ref::Name(n) => (n.clone(), None),
                            Ref::Id(_) => unreachable!(),
                        };
                        new_accounts.push(Account {
                            id: AccountId(0),
                            name,
                            industry: String::new(),
                            employees: 0,
                            country: String::new(),
                            region_id: None,
                            city: String::new(),
                            postal_code: String::new(),
                            time_zone: cx.my_zone.clone(),
                            owner_id: owner,
                            parent_id: None,
                            currency: r.amount.currency,
                            created_at: r.created_at.unwrap_or(cx.now),
                            external_id,
                            domain: None,
                            phone: None,
                        });
                        next
                    })
                }
                None => {
                    cx.unknown_account(row, "account", &r.account);
                    continue;
                }
            };
            // Pipeline by name, else the first one that has the stage.
            let stage_name = r.stage.to_lowercase();
            let pipeline = match &r.pipeline {
                Some(name) => match pipelines.iter().find(|pl| pl.name.eq_ignore_ascii_case(name)) {
                    Some(pl) => pl,
                    None => {
                        cx.problem(
                            row,
                            "pipeline",
                            name,
                            "unknown_reference",
                            format!("there is no pipeline named '{name}'"),
                        );
                        continue;
                    }
                },
                None => match pipelines.iter().find(|pl| pl.stages.iter().any(|s| s.name.to_lowercase() == stage_name))
                {
                    Some(pl) => pl,
                    None => {
                        let names: Vec<&str> =
                            pipelines.iter().flat_map(|pl| pl.stages.iter().map(|s| s.name.as_str())).collect();
                        cx.problem(
                            row,
                            "stage",
                            &r.stage,
                            "unknown_reference",
                            format!(
                                "no pipeline has a stage named '{}' (stages: {}); map it with [values.stage]",
                                r.stage,
                                names.join(", ")
                            ),
                        );
                        continue;
                    }
                },
            };
            let Some(stage) = pipeline.stages.iter().find(|s| s.name.to_lowercase() == stage_name) else {
                cx.problem(
                    row,
                    "stage",
                    &r.stage,
                    "unknown_reference",
                    format!("pipeline '{}' has no stage '{}'", pipeline.name, r.stage),
                );
                continue;
            };
            let loss_reason_id = match &r.loss_reason {
                Some(name) => match reason_ids.get(&name.to_lowercase()) {
                    Some(id) => Some(LossReasonId(*id)),
                    None => {
                        cx.problem(row, "loss_reason", name, "unknown_reference",
                            format!("'{name}' is not a loss reason; add it under Sales process or map it with [values.loss_reason]"));
                        continue;
                    }
                },
                None => None,
            };
            let loss_reason_id = if stage.kind == StageKind::Lost { loss_reason_id } else { None };
            // The stage entries the file brings, mapped to this pipeline's stages.
            let mut entries: Vec<(model::StageId, Timestamp)> = vec![];
            let mut bad_entry = false;
            for (name, at) in &r.stage_entered {
                match pipeline.stages.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
                    Some(s) => entries.push((s.id, *at)),
                    None => {
                        cx.problem(
                            row,
                            "stage_entered",
                            name,
                            "unknown_reference",
                            format!("pipeline '{}' has no stage '{name}'", pipeline.name),
                        );
                        bad_entry = true;
                    }
                }
            }
            if bad_entry {
                continue;
            }
            entries.sort_by_key(|e| e.1);
            let prior = existing.and_then(|id| before.get(&id));
            let created_at =
                r.created_at.or(prior.map(|o| o.created_at)).or(entries.first().map(|e| e.1)).unwrap_or(cx.now);
            if entries.last().map(|e| e.0) != Some(stage.id) {
                let at = match prior {
                    Some(o) if o.stage_id == stage.id => o.stage_entered_at,
                    Some(_) => cx.now,
                    None => entries.last().map(|e| e.1).unwrap_or(created_at).max(created_at),
                };
                entries.push((stage.id, at));
            }
            let stage_entered_at = entries.last().map(|e| e.1).unwrap_or(created_at);
            let forecast_category = r.forecast_category.unwrap_or(match stage.kind {
                StageKind::Won => ForecastCategory::Closed,
                StageKind::Lost => ForecastCategory::Omitted,
                StageKind::Open => {
                    prior.map(|o| o.forecast_category).unwrap_or_else(|| default_forecast(stage.probability))
                }
            });
            let mut o = Opportunity {
                id: OpportunityId(existing.unwrap_or(0)),
                name: r.name,
                account_id: AccountId(account_id),
                owner_id: owner,
                pipeline_id: pipeline.id,
                stage_id: stage.id,
                amount: r.amount,
                close_date: r.close_date,
                forecast_category,
                created_at,
                updated_at: cx.now,
                external_id: r.external_id.or(prior.and_then(|o| o.external_id.clone())),
                probability: r.probability.filter(|p| *p != stage.probability),
                loss_reason_id,
                lead_source: r.lead_source,
                next_step: prior.and_then(|o| o.next_step.clone()),
                engaged_on: r.engaged_on,
                stage_entered_at,
            };
            match prior {
                None => {
                    let placeholder = -(new.len() as i64) - 1;
                    let mut from = None;
                    for (sid, at) in &entries {
                        history.push(StageChange {
                            opportunity_id: OpportunityId(placeholder),
                            from_stage_id: from,
                            to_stage_id: *sid,
                            at: *at,
                            actor_user_id: None,
                        });
                        from = Some(*sid);
                    }
                    new.push(o);
                }
                Some(b) => {
                    o.updated_at = b.updated_at;
                    if o.stage_id == b.stage_id {
                        o.stage_entered_at = b.stage_entered_at;
                    }
                    if o == *b {
                        report.unchanged += 1;
                        continue;
                    }
                    if o.stage_id != b.stage_id {
                        history.push(StageChange {
                            opportunity_id: b.id,
                            from_stage_id: Some(b.stage_id),
                            to_stage_id: o.stage_id,
                            at: o.stage_entered_at,
                            actor_user_id: Some(cx.me),
                        });
                    }
                    o.updated_at = cx.now;
                    cx.changes.push((b.id.0, json(b), json(&o)));
                    changed.push(o);
                }
            }
        }
        report.new += new.len();
        report.changed += changed.len();
        report.created_accounts += new_accounts.len();
        opp.accounts_created += new_accounts.len();
        Ok(ImportSet::Opportunities { new, changed, history, new_accounts })
    }

    async fn plan_accounts(
        &self,
        cx: &mut Ctx<'_>,
        rows: Vec<import::AccountRow>,
        report: &mut ImportReport,
    ) -> Result<ImportSet, AppError> {
        let matched: Vec<Option<i64>> = {
            let lookups = cx.lookups;
            rows.iter()
                .enumerate()
                .map(|(i, r)| cx.existing_id(i + 1, r.id, &r.external_id, &lookups.account_ids))
                .collect()
        };
        let ids: Vec<i64> = matched.iter().flatten().copied().collect();
        let before = self.store.accounts_by_id(&ids).await?;
        // Parents may be in the same file: by external id or name, resolved to the new rows.
        let mut in_file: HashMap<Ref, usize> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            if let Some(e) = &r.external_id {
                in_file.insert(Ref::External(e.clone()), i);
            }
            in_file.entry(Ref::Name(r.name.to_lowercase())).or_insert(i);
        }
        // (existing id, account, parent's position in the file, own position in the file)
        let mut out: Vec<(Option<i64>, Account, Option<usize>, usize)> = vec![];
        for (i, (r, existing)) in rows.into_iter().zip(matched).enumerate() {
            let row = i + 1;
            let owner = cx.owner(row, &r.owner_email);
            let mut parent_in_file = None;
            let parent_id = match &r.parent {
                None => None,
                Some(pr) => match cx.account_ref(pr) {
                    Some(id) => Some(AccountId(id)),
                    None => {
                        let key = match pr {
                            Ref::Name(n) => Ref::Name(n.to_lowercase()),
                            other => other.clone(),
                        };
                        match in_file.get(&key) {
                            Some(j) if *j != i => {
                                parent_in_file = Some(*j);
                                None
                            }
                            _ => {
                                cx.unknown_account(row, "parent", pr);
                                continue;
                            }
                        }
                    }
                },
            };
            let time_zone = match &r.time_zone {
                Some(z) => match TimeZoneName::parse(z) {
                    Ok(z) => z,
                    Err(e) => {
                        cx.problem(row, "time_zone", z, "bad_value", e.reason);
                        continue;
                    }
                },
                None => cx.my_zone.clone(),
            };
            let prior = existing.and_then(|id| before.get(&id));
            let a = Account {
                id: AccountId(existing.unwrap_or(0)),
                name: r.name,
                industry: r.industry,
                employees: r.employees.unwrap_or(0),
                country: r.country,
                region_id: prior.and_then(|a| a.region_id),
                city: r.city,
                postal_code: r.postal_code,
                time_zone,
                owner_id: owner,
                parent_id,
                currency: r.currency.or(prior.map(|a| a.currency)).unwrap_or(cx.reporting),
                created_at: r.created_at.or(prior.map(|a| a.created_at)).unwrap_or(cx.now),
                external_id: r.external_id.or(prior.and_then(|a| a.external_id.clone())),
                domain: r.domain,
                phone: r.phone,
            };
            if let Some(b) = prior
                && a == *b
                && parent_in_file.is_none()
            {
                report.unchanged += 1;
                continue;
            }
            out.push((existing, a, parent_in_file, i));
        }
        // New accounts in an order where parents come first; placeholders point at them.
        let out_of_file: HashMap<usize, usize> = out.iter().enumerate().map(|(k, o)| (o.3, k)).collect();
        let mut new = vec![];
        let mut changed = vec![];
        let mut new_index: HashMap<usize, usize> = HashMap::new();
        let mut pending: Vec<usize> = (0..out.len()).collect();
        let mut guard = 0;
        while !pending.is_empty() && guard < 64 {
            guard += 1;
            let mut rest = vec![];
            for idx in pending {
                let (existing, a, parent, _) = &out[idx];
                let parent_ref = match parent {
                    None => None,
                    Some(j) => match out_of_file.get(j).and_then(|k| new_index.get(k)) {
                        Some(n) => Some(AccountId(-(*n as i64) - 1)),
                        None => {
                            rest.push(idx);
                            continue;
                        }
                    },
                };
                let mut a = a.clone();
                if parent_ref.is_some() {
                    a.parent_id = parent_ref;
                }
                match existing {
                    Some(id) => {
                        if let Some(b) = before.get(id) {
                            cx.changes.push((*id, json(b), json(&a)));
                        }
                        changed.push(a)
                    }
                    None => {
                        new_index.insert(idx, new.len());
                        new.push(a);
                    }
                }
            }
            pending = rest;
        }
        for idx in pending {
            cx.problem(
                out[idx].3 + 1,
                "parent",
                "",
                "unknown_reference",
                "the parent account chain loops or is not in the file".into(),
            );
        }
        report.new += new.len();
        report.changed += changed.len();
        Ok(ImportSet::Accounts { new, changed })
    }

    /// Matches rows to stored records (salesops id, else external id) and loads those records.
    async fn matched<T: Stored>(
        &self,
        cx: &mut Ctx<'_>,
        keys: Vec<(Option<i64>, Option<String>)>,
    ) -> Result<(Vec<Option<i64>>, HashMap<i64, T>), AppError> {
        let by_id: Vec<i64> = keys.iter().filter_map(|k| k.0).collect();
        let mut before = T::load(&self.store, by_id).await?;
        let all: HashSet<i64> = before.keys().copied().collect();
        let matched: Vec<Option<i64>> =
            keys.iter().enumerate().map(|(i, (id, ext))| cx.existing_id(i + 1, *id, ext, &all)).collect();
        let rest: Vec<i64> = matched.iter().flatten().copied().filter(|id| !before.contains_key(id)).collect();
        before.extend(T::load(&self.store, rest).await?);
        Ok((matched, before))
    }

    async fn plan_contacts(
        &self,
        cx: &mut Ctx<'_>,
        rows: Vec<import::ContactRow>,
        report: &mut ImportReport,
    ) -> Result<ImportSet, AppError> {
        let keys = rows.iter().map(|r| (r.id, r.external_id.clone())).collect();
        let (matched, before) = self.matched::<Contact>(cx, keys).await?;
        let (mut new, mut changed) = (vec![], vec![]);
        for (i, (r, existing)) in rows.into_iter().zip(matched).enumerate() {
            let row = i + 1;
            let prior = existing.and_then(|id| before.get(&id));
            let owner = match (&r.owner_email, prior) {
                (None, Some(b)) => b.owner_id,
                (e, _) => cx.owner(row, e),
            };
            let account_id = match &r.account {
                Some(a) => match cx.account_ref(a) {
                    Some(id) => Some(AccountId(id)),
                    None => {
                        cx.unknown_account(row, "account", a);
                        continue;
                    }
                },
                None => prior.and_then(|b| b.account_id),
            };
            let c = Contact {
                id: ContactId(existing.unwrap_or(0)),
                external_id: r.external_id.or(prior.and_then(|b| b.external_id.clone())),
                account_id,
                first_name: r.first_name,
                last_name: r.last_name,
                email: r.email,
                phone: r.phone,
                title: r.title,
                owner_id: owner,
                created_at: r.created_at.or(prior.map(|b| b.created_at)).unwrap_or(cx.now),
            };
            match prior {
                None => new.push(c),
                Some(b) if *b == c => report.unchanged += 1,
                Some(b) => {
                    cx.changes.push((b.id.0, json(b), json(&c)));
                    changed.push(c);
                }
            }
        }
        report.new += new.len();
        report.changed += changed.len();
        Ok(ImportSet::Contacts { new, changed })
    }

    async fn plan_leads(
        &self,
        cx: &mut Ctx<'_>,
        rows: Vec<import::LeadRow>,
        report: &mut ImportReport,
    ) -> Result<ImportSet, AppError> {
        let keys = rows.iter().map(|r| (r.id, r.external_id.clone())).collect();
        let (matched, before) = self.matched::<Lead>(cx, keys).await?;
        let (mut new, mut changed, mut history) = (vec![], vec![], vec![]);
        for (i, (r, existing)) in rows.into_iter().zip(matched).enumerate() {
            let row = i + 1;
            let prior = existing.and_then(|id| before.get(&id));
            let owner = match (&r.owner_email, prior) {
                (None, Some(b)) => b.owner_id,
                (e, _) => cx.owner(row, e),
            };
            let l = Lead {
                id: LeadId(existing.unwrap_or(0)),
                external_id: r.external_id.or(prior.and_then(|b| b.external_id.clone())),
                first_name: r.first_name,
                last_name: r.last_name,
                company: r.company,
                email: r.email,
                phone: r.phone,
                source: r.source,
                campaign: r.campaign,
                status: r.status.or(prior.map(|b| b.status)).unwrap_or(LeadStatus::New),
                disqualify_reason: r.disqualify_reason,
                owner_id: owner,
                created_at: r.created_at.or(prior.map(|b| b.created_at)).unwrap_or(cx.now),
                // Conversion is done in salesops, not by a file.
                converted_at: prior.and_then(|b| b.converted_at),
                account_id: prior.and_then(|b| b.account_id),
                contact_id: prior.and_then(|b| b.contact_id),
                opportunity_id: prior.and_then(|b| b.opportunity_id),
            };
            match prior {
                None => new.push(l),
                Some(b) if *b == l => report.unchanged += 1,
                Some(b) => {
                    if b.status != l.status {
                        history.push(LeadStatusChange {
                            lead_id: b.id,
                            from: b.status,
                            to: l.status,
                            reason: l.disqualify_reason.clone(),
                            at: cx.now,
                            actor: Some(cx.me),
                        });
                    }
                    cx.changes.push((b.id.0, json(b), json(&l)));
                    changed.push(l);
                }
            }
        }
        report.new += new.len();
        report.changed += changed.len();
        Ok(ImportSet::Leads { new, changed, history })
    }

    async fn plan_activities(
        &self,
        cx: &mut Ctx<'_>,
        rows: Vec<import::ActivityRow>,
        report: &mut ImportReport,
    ) -> Result<ImportSet, AppError> {
        // The records the rows refer to: by external id, or by salesops id when that id exists.
        let known = |ext: HashMap<String, i64>, ids: HashSet<i64>| Known { ext, ids };
        let ids_of = |pick: fn(&import::ActivityRow) -> &Option<Ref>| -> Vec<i64> {
            rows.iter().filter_map(|r| if let Some(Ref::Id(id)) = pick(r) { Some(*id) } else { None }).collect()
        };
        let opp_known = known(
            self.store.external_ids("opportunities").await?,
            self.store.ids_present("opportunities", &ids_of(|r| &r.opportunity)).await?,
        );
        let lead_known = known(
            self.store.external_ids("leads").await?,
            self.store.ids_present("leads", &ids_of(|r| &r.lead)).await?,
        );
        let contact_known = known(
            self.store.external_ids("contacts").await?,
            self.store.ids_present("contacts", &ids_of(|r| &r.contact)).await?,
        );
        let keys = rows.iter().map(|r| (r.id, r.external_id.clone())).collect();
        let (matched, before) = self.matched::<Activity>(cx, keys).await?;
        let (mut new, mut changed) = (vec![], vec![]);
        for (i, (r, existing)) in rows.into_iter().zip(matched).enumerate() {
            let row = i + 1;
            let prior = existing.and_then(|id| before.get(&id));
            let owner = match (&r.owner_email, prior) {
                (None, Some(b)) => b.owner_id,
                (e, _) => cx.owner(row, e),
            };
            let account_id = match &r.account {
                Some(a) => match cx.account_ref(a) {
                    Some(id) => Some(AccountId(id)),
                    None => {
                        cx.unknown_account(row, "account", a);
                        continue;
                    }
                },
                None => None,
            };
            let mut refs = [(None, "opportunity"), (None, "lead"), (None, "contact")];
            let mut unknown = false;
            for (slot, (field, r, known)) in refs.iter_mut().zip([
                ("opportunity", &r.opportunity, &opp_known),
                ("lead", &r.lead, &lead_known),
                ("contact", &r.contact, &contact_known),
            ]) {
                match resolve(field, r, known) {
                    Ok(v) => slot.0 = v,
                    Err(v) => {
                        cx.problem(
                            row,
                            field,
                            &v,
                            "unknown_reference",
                            format!("no {field} has the id or external id '{v}'"),
                        );
                        unknown = true;
                    }
                }
            }
            if unknown {
                continue;
            }
            let [(opportunity_id, _), (lead_id, _), (contact_id, _)] = refs;
            let a = Activity {
                id: ActivityId(existing.unwrap_or(0)),
                external_id: r.external_id.or(prior.and_then(|b| b.external_id.clone())),
                kind: r.kind,
                subject: r.subject,
                at: r.at,
                duration_seconds: r.duration_seconds,
                outcome: r.outcome,
                address: r.address,
                owner_id: owner,
                account_id,
                contact_id: contact_id.map(ContactId),
                lead_id: lead_id.map(LeadId),
                opportunity_id: opportunity_id.map(OpportunityId),
            };
            match prior {
                None => new.push(a),
                Some(b) if *b == a => report.unchanged += 1,
                Some(b) => {
                    cx.changes.push((b.id.0, json(b), json(&a)));
                    changed.push(a);
                }
            }
        }
        report.new += new.len();
        report.changed += changed.len();
        Ok(ImportSet::Activities { new, changed })
    }
}

/// Reads the salesops ids of another installation as external ids (`ImportOptions::foreign_ids`).
fn foreign_ids(rows: &mut Rows) {
    fn key(id: &mut Option<i64>, external: &mut Option<String>) {
        if let Some(id) = id.take()
            && external.is_none()
        {
            *external = Some(id.to_string());
        }
    }
    fn reference(r: &mut Ref) {
        if let Ref::Id(id) = r {
            *r = Ref::External(id.to_string());
        }
    }
    fn opt(r: &mut Option<Ref>) {
        if let Some(r) = r {
            reference(r);
        }
    }
    match rows {
        Rows::Accounts(v) => v.iter_mut().for_each(|r| {
            key(&mut r.id, &mut r.external_id);
            opt(&mut r.parent);
        }),
        Rows::Contacts(v) => v.iter_mut().for_each(|r| {
            key(&mut r.id, &mut r.external_id);
            opt(&mut r.account);
        }),
        Rows::Leads(v) => v.iter_mut().for_each(|r| key(&mut r.id, &mut r.external_id)),
        Rows::Opportunities(v) => v.iter_mut().for_each(|r| {
            key(&mut r.id, &mut r.external_id);
            reference(&mut r.account);
        }),
        Rows::Activities(v) => v.iter_mut().for_each(|r| {
            key(&mut r.id, &mut r.external_id);
            opt(&mut r.account);
            opt(&mut r.opportunity);
            opt(&mut r.contact);
            opt(&mut r.lead);
        }),
    }
}

/// Records an import compares rows against, loaded by id.
trait Stored: Sized {
    fn load(
        store: &store::Store,
        ids: Vec<i64>,
    ) -> impl std::future::Future<Output = Result<HashMap<i64, Self>, store::StoreError>> + Send;
}

impl Stored for Contact {
    async fn load(store: &store::Store, ids: Vec<i64>) -> Result<HashMap<i64, Self>, store::StoreError> {
        store.contacts_by_id(&ids).await
    }
}

impl Stored for Lead {
    async fn load(store: &store::Store, ids: Vec<i64>) -> Result<HashMap<i64, Self>, store::StoreError> {
        store.leads_by_id(&ids).await
    }
}

impl Stored for Activity {
    async fn load(store: &store::Store, ids: Vec<i64>) -> Result<HashMap<i64, Self>, store::StoreError> {
        store.activities_by_id(&ids).await
    }
}

fn json<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Rows read, checked and written at a time (opportunities).
const CHUNK_ROWS: usize = 16_384;

/// What planning opportunities keeps from one chunk to the next.
#[derive(Default)]
struct OpportunityPlan {
    pipelines: Vec<Pipeline>,
    reason_ids: HashMap<String, i64>,
    /// Accounts created by the import (`create_missing`), by the reference that named them ->
    /// their placeholder id.
    new_account_keys: HashMap<Ref, i64>,
    accounts_created: usize,
}

/// Changed records for the audit log: id, before, after.
type Changes = Vec<(i64, serde_json::Value, serde_json::Value)>;

enum WriteMsg {
    Rows(ImportSet, Changes),
    Commit(serde_json::Value),
}

/// The task that writes an import while the next chunk is read: one transaction, committed
/// only on [`Writer::commit`]; [`Writer::abort`] (or an error) rolls it back.
struct Writer {
    tx: tokio::sync::mpsc::Sender<WriteMsg>,
    task: tokio::task::JoinHandle<Result<(), store::StoreError>>,
}

impl Writer {
    fn start(store: store::Store, entity: Entity, expected_new: usize, ctx: store::AuditContext) -> Writer {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<WriteMsg>(2);
        let task = tokio::spawn(async move {
            let mut w = store.import_begin(entity.as_str(), expected_new).await?;
            while let Some(msg) = rx.recv().await {
                match msg {
                    WriteMsg::Rows(set, changes) => {
                        let written = match w.write(&set, &|_| {}).await {
                            Ok(_) => w.audit_changes(&ctx, &changes).await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = written {
                            let _ = w.rollback().await;
                            return Err(e);
                        }
                    }
                    WriteMsg::Commit(summary) => return w.commit(&ctx, &summary).await,
                }
            }
            w.rollback().await
        });
        Writer { tx, task }
    }

    async fn send(&mut self, set: ImportSet, changes: Changes) -> Result<(), AppError> {
        if self.tx.send(WriteMsg::Rows(set, changes)).await.is_err() {
            // The writer stopped: it failed.
            let (_, task) = (&self.tx, &mut self.task);
            return Err(match task.await {
                Ok(Err(e)) => e.into(),
                Ok(Ok(())) => AppError::Internal("the import writer stopped early".into()),
                Err(e) => AppError::Internal(format!("the import writer failed: {e}")),
            });
        }
        Ok(())
    }

    async fn commit(self, summary: serde_json::Value) -> Result<(), AppError> {
        let _ = self.tx.send(WriteMsg::Commit(summary)).await;
        drop(self.tx);
        match self.task.await {
            Ok(r) => Ok(r?),
            Err(e) => Err(AppError::Internal(format!("the import writer failed: {e}"))),
        }
    }

    async fn abort(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

/// Rows per page of a streamed export.
pub const EXPORT_PAGE: i64 = 5_000;

impl App {
    /// One page of the salesops CSV export of opportunities (the visible ones matching `f`),
    /// after id `after`; the header only on the first page. Returns the bytes, the cursor of
    /// the next page (None at the end) and the number of rows. Re-importing the whole export changes nothing.
    pub async fn export_opportunities_page(
        &self,
        p: &Principal,
        f: &store::OpportunityFilter,
        after: i64,
    ) -> Result<(Vec<u8>, Option<i64>, usize), AppError> {
        let viewer = self.viewer(p).await?;
        if after == 0 {
            self.store.audit_event(&p.audit(self.now()), "export", "opportunities", None).await?;
        }
        let rows = self.store.opportunity_export_page(&viewer, f, after, EXPORT_PAGE).await?;
        let next = (rows.len() as i64 == EXPORT_PAGE).then(|| rows.last().map(|r| r.opportunity.id.0)).flatten();
        let mut out =
            import::Exporter::new(Vec::new(), Entity::Opportunities).map_err(|e| AppError::Internal(e.to_string()))?;
        for r in &rows {
            let o = &r.opportunity;
            let row = import::OpportunityRow {
                id: Some(o.id.0),
                external_id: o.external_id.clone(),
                name: o.name.clone(),
                account: match &r.account_external_id {
                    Some(e) => Ref::External(e.clone()),
                    None => Ref::Id(o.account_id.0),
                },
                owner_email: Some(r.owner_email.clone()),
                pipeline: Some(r.pipeline.clone()),
                stage: r.stage.clone(),
                amount: o.amount,
                close_date: o.close_date,
                probability: Some(o.probability.unwrap_or(r.stage_probability)),
                forecast_category: Some(o.forecast_category),
                loss_reason: r.loss_reason.clone(),
                lead_source: o.lead_source.clone(),
                engaged_on: o.engaged_on,
                created_at: Some(o.created_at),
                stage_entered: r.stage_entered.clone(),
            };
            out.write(&row).map_err(|e| AppError::Internal(e.to_string()))?;
        }
        let mut bytes = out.finish().map_err(|e| AppError::Internal(e.to_string()))?;
        if after != 0 {
            let header = format!("{}\r\n", import::export_header(Entity::Opportunities).join(","));
            if bytes.starts_with(header.as_bytes()) {
                bytes.drain(..header.len());
            }
        }
        Ok((bytes, next, rows.len()))
    }
}

/// A reference to a record in an export: its external id when it has one, else its salesops
/// id (which another salesops imports as an external id, see `ImportOptions::foreign_ids`).
fn export_ref(id: i64, external: Option<String>) -> Ref {
    match external {
        Some(e) => Ref::External(e),
        None => Ref::Id(id),
    }
}

impl App {
    /// One page of the salesops CSV export of the visible accounts, contacts, leads or
    /// activities (opportunities: [`App::export_opportunities_page`]) after id `after`; the
    /// header only on the first page. Returns the bytes, the cursor of the next page (None at
    /// the end) and the number of rows. Re-importing the whole export changes nothing.
    pub async fn export_page(
        &self,
        p: &Principal,
        entity: Entity,
        after: i64,
    ) -> Result<(Vec<u8>, Option<i64>, usize), AppError> {
        let viewer = self.viewer(p).await?;
        if after == 0 {
            self.store.audit_event(&p.audit(self.now()), "export", entity.as_str(), None).await?;
        }
        let err = |e: import::ExportError| AppError::Internal(e.to_string());
        let mut out = import::Exporter::new(Vec::new(), entity).map_err(err)?;
        let mut last = None;
        let mut n = 0;
        match entity {
            Entity::Opportunities => {
                return self.export_opportunities_page(p, &store::OpportunityFilter::default(), after).await;
            }
            Entity::Accounts => {
                for r in self.store.account_export_page(&viewer, after, EXPORT_PAGE).await? {
                    let a = r.account;
                    (last, n) = (Some(a.id.0), n + 1);
                    out.write(&import::AccountRow {
                        id: Some(a.id.0),
                        external_id: a.external_id,
                        name: a.name,
                        industry: a.industry,
                        employees: Some(a.employees),
                        country: a.country,
                        city: a.city,
                        postal_code: a.postal_code,
                        time_zone: Some(a.time_zone.as_str().to_string()),
                        domain: a.domain,
                        phone: a.phone,
                        owner_email: Some(r.owner_email),
                        parent: a.parent_id.map(|p| export_ref(p.0, r.parent_external_id)),
                        currency: Some(a.currency),
                        created_at: Some(a.created_at),
                    })
                    .map_err(err)?;
                }
            }
            Entity::Contacts => {
                for r in self.store.contact_export_page(&viewer, after, EXPORT_PAGE).await? {
                    let c = r.contact;
                    (last, n) = (Some(c.id.0), n + 1);
                    out.write(&import::ContactRow {
                        id: Some(c.id.0),
                        external_id: c.external_id,
                        first_name: c.first_name,
                        last_name: c.last_name,
                        email: c.email,
                        phone: c.phone,
                        title: c.title,
                        account: c.account_id.map(|a| export_ref(a.0, r.account_external_id)),
                        owner_email: Some(r.owner_email),
                        created_at: Some(c.created_at),
                    })
                    .map_err(err)?;
                }
            }
            Entity::Leads => {
                for r in self.store.lead_export_page(&viewer, after, EXPORT_PAGE).await? {
                    let l = r.lead;
                    (last, n) = (Some(l.id.0), n + 1);
                    out.write(&import::LeadRow {
                        id: Some(l.id.0),
                        external_id: l.external_id,
                        first_name: l.first_name,
                        last_name: l.last_name,
                        company: l.company,
                        email: l.email,
                        phone: l.phone,
                        source: l.source,
                        campaign: l.campaign,
                        status: Some(l.status),
                        disqualify_reason: l.disqualify_reason,
                        owner_email: Some(r.owner_email),
                        created_at: Some(l.created_at),
                    })
                    .map_err(err)?;
                }
            }
            Entity::Activities => {
                for r in self.store.activity_export_page(&viewer, after, EXPORT_PAGE).await? {
                    let a = r.activity;
                    (last, n) = (Some(a.id.0), n + 1);
                    out.write(&import::ActivityRow {
                        id: Some(a.id.0),
                        external_id: a.external_id,
                        kind: a.kind,
                        subject: a.subject,
                        at: a.at,
                        duration_seconds: a.duration_seconds,
                        outcome: a.outcome,
                        address: a.address,
                        owner_email: Some(r.owner_email),
                        account: a.account_id.map(|x| export_ref(x.0, r.account_external_id)),
                        opportunity: a.opportunity_id.map(|x| export_ref(x.0, r.opportunity_external_id)),
                        contact: a.contact_id.map(|x| export_ref(x.0, r.contact_external_id)),
                        lead: a.lead_id.map(|x| export_ref(x.0, r.lead_external_id)),
                    })
                    .map_err(err)?;
                }
            }
        }
        let next = if n as i64 == EXPORT_PAGE { last } else { None };
        let mut bytes = out.finish().map_err(err)?;
        if after != 0 {
            let header = format!("{}\r\n", import::export_header(entity).join(","));
            if bytes.starts_with(header.as_bytes()) {
                bytes.drain(..header.len());
            }
        }
        Ok((bytes, next, n))
    }
}
