//! Territories and quotas stored (issue 8): effective-dated territory versions (rule-set text of
//! the `planning` crate), the company's accounts assigned by the version in force with the reason,
//! coverage gaps and overlaps, coin sort of last year's won revenue under a draft against the live
//! design; balancing scenarios built from the company's own accounts (units = postal areas),
//! stored as drafts, compared side by side and accepted as a new live version from a date; quotas
//! per user and period (allocated top down with ramp, kept with history) and attainment.
//!
//! Who may do what: planners (head of commercial ops, sales-ops managers, CRM administrators)
//! write; everyone signed in reads, through the visibility of their role (a rep sees the
//! assignment of their own accounts and their own quota, a manager their team's).

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use model::{Currency, FxTable, Money, Period, Role};
use planning::rules::{Account as RuleAccount, Criterion, Rule, RuleSet, Sale, Territory, TerritoryPlan};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use store::{NewQuota, QuotaRow, TerritoryAccountRow, TerritoryScenarioRow, TerritoryVersionRow};

use crate::planning::{
    AssessmentDto, BalanceInput, BalanceResultDto, RepInput, UnitInput, UnitRep, assessment_dto, instance, may_plan,
    outcome_dto, run_balance,
};
use crate::{App, AppError, Principal};

fn require_planner(p: &Principal) -> Result<(), AppError> {
    if may_plan(p.user.role) { p.require_write_credential() } else { Err(AppError::Forbidden) }
}

fn parse_date(field: &str, text: &str) -> Result<Date, AppError> {
    text.trim().parse().map_err(|_| AppError::invalid(field, format!("'{text}' is not a date such as 2027-01-01")))
}

/// A stored version as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TerritoryVersionDto {
    pub id: i64,
    /// First day in force (YYYY-MM-DD).
    pub valid_from: String,
    /// draft, live or replaced.
    pub status: String,
    pub note: String,
    /// The rule-set text.
    pub body: String,
    pub scenario_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub territories: usize,
    pub rules: usize,
}

fn version_dto(v: &TerritoryVersionRow) -> TerritoryVersionDto {
    let parsed = planning::rules::parse_rule_set(&v.body).ok();
    TerritoryVersionDto {
        id: v.id,
        valid_from: v.valid_from.to_string(),
        status: v.status.clone(),
        note: v.note.clone(),
        body: v.body.clone(),
        scenario_id: v.scenario_id,
        created_by: v.created_by.clone(),
        created_at: v.created_at.to_string(),
        territories: parsed.as_ref().map_or(0, |r| r.territories.len()),
        rules: parsed.as_ref().map_or(0, |r| r.rules.len()),
    }
}

/// A new territory version: the rule-set text (its `version` line gives the start date).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewVersionInput {
    pub body: String,
    /// draft (default) or live.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Checks a rule-set text: 422 on field `body` with the line (`line 3: unknown criterion colour`).
pub fn check_rules(body: &str) -> Result<(RuleSet, Vec<String>), AppError> {
    if body.len() > 1_000_000 {
        return Err(AppError::invalid("body", "at most 1 MB of rules"));
    }
    let rules = planning::rules::parse_rule_set(body).map_err(|e| AppError::invalid("body", e.to_string()))?;
    let notes = rules.check().into_iter().map(|d| d.message).collect();
    Ok((rules, notes))
}

/// One account and where the rules put it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountAssignmentDto {
    pub account_id: i64,
    pub account: String,
    pub country: String,
    pub postal_code: String,
    pub owner: String,
    /// Territory, or none for a coverage gap.
    pub territory: Option<String>,
    /// Path from the root, e.g. `EMEA > DACH`.
    pub path: String,
    pub reason: String,
    /// Other territories matched at the same best priority (an overlap).
    pub tied_with: Vec<String>,
}

/// Won revenue of the last twelve months per territory: under the live design and a draft.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CoinSortRowDto {
    pub territory: String,
    /// Exact decimal text in `currency`; empty when the design has no such territory.
    pub live: String,
    pub draft: String,
    pub live_deals: usize,
    pub draft_deals: usize,
}

/// The territory design on a date, with the accounts it assigns.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TerritoryViewDto {
    pub on: String,
    /// The live version in force on `on`.
    pub in_force: Option<TerritoryVersionDto>,
    pub versions: Vec<TerritoryVersionDto>,
    pub assignments: Vec<AccountAssignmentDto>,
    /// Account names no rule covers.
    pub gaps: Vec<String>,
    /// Accounts matched by rules of equal best priority to different territories.
    pub overlaps: Vec<AccountAssignmentDto>,
    /// Accounts per territory.
    pub counts: Vec<(String, usize)>,
    /// The draft compared in the coin sort, if any.
    pub draft: Option<TerritoryVersionDto>,
    pub coin_sort: Vec<CoinSortRowDto>,
    /// Reporting currency of the coin sort.
    pub currency: String,
    pub coin_from: String,
    pub coin_to: String,
    pub notes: Vec<String>,
}

/// The live versions as an effective-dated plan (unparsable stored text is skipped with a note).
fn live_plan(rows: &[TerritoryVersionRow], notes: &mut Vec<String>) -> TerritoryPlan {
    let mut plan = TerritoryPlan::new();
    for v in rows.iter().filter(|v| v.status == "live") {
        match planning::rules::parse_rule_set(&v.body) {
            Ok(mut rules) => {
                rules.valid_from = v.valid_from;
                plan.add_version(rules);
            }
            Err(e) => notes.push(format!("version {} cannot be read: {e}", v.id)),
        }
    }
    plan
}

fn rule_account(a: &TerritoryAccountRow) -> RuleAccount {
    RuleAccount {
        id: a.id.to_string(),
        country: a.country.clone(),
        region: a.region.clone(),
        postal_code: Some(a.postal_code.clone()),
        industry: Some(a.industry.clone()),
        employees: u32::try_from(a.employees).ok(),
    }
}

/// Converts won amounts to `to` at their close dates; amounts without a rate are left out (noted).
fn converted_sales(
    won: &[store::WonRow],
    fx: &FxTable,
    to: Currency,
    notes: &mut Vec<String>,
) -> Result<Vec<Sale>, AppError> {
    let mut sales = Vec::with_capacity(won.len());
    let mut missing = 0usize;
    for w in won {
        let money = Money::parse(&w.amount, &w.currency)?;
        match fx.convert(money, to, w.close_date) {
            Ok(m) => sales.push(Sale { account: w.account_id.to_string(), amount: m, date: w.close_date }),
            Err(_) => missing += 1,
        }
    }
    if missing > 0 {
        notes.push(format!("{missing} won amount(s) left out: no exchange rate to {}", to.code()));
    }
    Ok(sales)
}

impl App {
    /// Every territory version (anyone signed in may read the design).
    pub async fn territory_versions(&self, _p: &Principal) -> Result<Vec<TerritoryVersionDto>, AppError> {
        Ok(self.store.territory_versions().await?.iter().map(version_dto).collect())
    }

    /// Stores a version (planners). Errors name the line of the text.
    pub async fn territory_version_create(
        &self,
        p: &Principal,
        input: NewVersionInput,
    ) -> Result<(TerritoryVersionDto, Vec<String>), AppError> {
        require_planner(p)?;
        let status = match input.status.as_deref().map(str::trim).unwrap_or("draft") {
            "" | "draft" => "draft",
            "live" => "live",
            other => return Err(AppError::invalid("status", format!("'{other}' is not draft or live"))),
        };
        let (rules, notes) = check_rules(&input.body)?;
        let note = input.note.unwrap_or_default();
        if note.len() > 2_000 {
            return Err(AppError::invalid("note", "at most 2000 characters"));
        }
        let id = self
            .store
            .territory_version_create(&p.audit(self.now()), rules.valid_from, status, &input.body, note.trim())
            .await?;
        Ok((version_dto(&self.store.territory_version(id).await?), notes))
    }

    /// The design in force on `on` (default today), its accounts, gaps, overlaps, and the coin
    /// sort of the last twelve months' won revenue under `draft` (a version id) against it.
    pub async fn territory_view(
        &self,
        p: &Principal,
        on: Option<Date>,
        draft: Option<i64>,
    ) -> Result<TerritoryViewDto, AppError> {
        let today = self.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let on = on.unwrap_or(today);
        let rows = self.store.territory_versions().await?;
        let mut notes = Vec::new();
        let plan = live_plan(&rows, &mut notes);
        let in_force = plan.version_on(on).cloned();
        let in_force_row = in_force.as_ref().and_then(|r| {
            rows.iter().filter(|v| v.status == "live" && v.valid_from == r.valid_from).max_by_key(|v| v.id)
        });
        let draft_row = match draft {
            Some(id) => Some(rows.iter().find(|v| v.id == id).ok_or(AppError::NotFound)?),
            None => None,
        };
        let draft_rules = match draft_row {
            Some(v) => Some(check_rules(&v.body)?.0),
            None => None,
        };
        let viewer = self.viewer(p).await?;
        let accounts = self.store.territory_accounts(&viewer).await?;
        let rule_accounts: Vec<RuleAccount> = accounts.iter().map(rule_account).collect();
        let (mut assignments, mut gaps, mut overlaps, mut counts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        if let Some(rules) = &in_force {
            let coverage = planning::rules::coverage(rules, &rule_accounts);
            for (a, asg) in accounts.iter().zip(&coverage.assignments) {
                let dto = AccountAssignmentDto {
                    account_id: a.id,
                    account: a.name.clone(),
                    country: a.country.clone(),
                    postal_code: a.postal_code.clone(),
                    owner: a.owner_name.clone(),
                    territory: asg.territory.clone(),
                    path: asg.path.join(" > "),
                    reason: asg.reason.clone(),
                    tied_with: asg.tied_with.clone(),
                };
                if asg.territory.is_none() {
                    gaps.push(a.name.clone());
                }
                if !asg.tied_with.is_empty() {
                    overlaps.push(dto.clone());
                }
                assignments.push(dto);
            }
            counts = coverage.counts.into_iter().collect();
            notes.extend(rules.check().into_iter().map(|d| d.message));
        }
        // Coin sort: won revenue of the twelve months before today, in the reporting currency.
        let currency = self.store.reporting_currency().await?;
        let coin_to = today;
        let coin_from = today.checked_sub(jiff::Span::new().years(1)).map_err(|e| AppError::Internal(e.to_string()))?;
        let coin_from = coin_from.tomorrow().unwrap_or(coin_from);
        let mut coin_sort = Vec::new();
        if in_force.is_some() || draft_rules.is_some() {
            let won = self.store.won_between(&viewer, coin_from, coin_to).await?;
            let fx = self.store.fx_table().await?;
            let sales = converted_sales(&won, &fx, currency, &mut notes)?;
            let sort = |rules: &RuleSet| -> BTreeMap<String, (Decimal, usize)> {
                let (c, _) = planning::rules::coin_sort(rules, &rule_accounts, &sales);
                c.totals.into_iter().map(|((t, _), v)| (t, v)).collect()
            };
            let live = in_force.as_ref().map(sort).unwrap_or_default();
            let drafted = draft_rules.as_ref().map(sort).unwrap_or_default();
            let mut names: Vec<&String> = live.keys().chain(drafted.keys()).collect();
            names.sort();
            names.dedup();
            let digits = currency.minor_units();
            for name in names {
                let cell = |m: &BTreeMap<String, (Decimal, usize)>| {
                    m.get(name).map_or((String::new(), 0), |(v, n)| (v.round_dp(digits).to_string(), *n))
                };
                let (l, ln) = cell(&live);
                let (d, dn) = cell(&drafted);
                coin_sort.push(CoinSortRowDto {
                    territory: name.clone(),
                    live: l,
                    draft: d,
                    live_deals: ln,
                    draft_deals: dn,
                });
            }
        }
        Ok(TerritoryViewDto {
            on: on.to_string(),
            in_force: in_force_row.map(version_dto),
            versions: rows.iter().map(version_dto).collect(),
            assignments,
            gaps,
            overlaps,
            counts,
            draft: draft_row.map(version_dto),
            coin_sort,
            currency: currency.code().to_string(),
            coin_from: coin_from.to_string(),
            coin_to: coin_to.to_string(),
            notes,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios from the company's accounts

/// How to build a balancing scenario from the company's accounts.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScenarioInput {
    pub name: String,
    /// Units are postal areas: country and the first `postal_digits` characters of the postal
    /// code (1–3, default 2).
    #[serde(default)]
    pub postal_digits: Option<usize>,
    /// Only accounts of this region code (default: every account).
    #[serde(default)]
    pub region: Option<String>,
    /// Workload bounds as factors of the mean (default `[0.8, 1.2]`).
    #[serde(default)]
    #[schema(value_type = Option<Vec<f64>>)]
    pub bounds: Option<(f64, f64)>,
    /// distance (default) or disruption.
    #[serde(default)]
    pub objective: Option<String>,
    /// Units locked to a rep (`unit` e.g. `DE-10`, `rep` the rep's e-mail).
    #[serde(default)]
    pub locks: Vec<UnitRep>,
}

/// What was built from the accounts, kept with the scenario.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScenarioBuild {
    pub postal_digits: usize,
    pub region: Option<String>,
    /// Accounts per unit, in unit order.
    pub accounts_per_unit: Vec<usize>,
    /// Rep e-mail -> name.
    pub rep_names: BTreeMap<String, String>,
    /// Where today's assignment came from: `live version <id>` or `account owners`.
    pub current_from: String,
    pub notes: Vec<String>,
}

/// A stored scenario.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScenarioDto {
    pub id: i64,
    pub name: String,
    /// draft or accepted.
    pub status: String,
    pub accepted_version_id: Option<i64>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub instance: BalanceInput,
    pub build: ScenarioBuild,
    pub result: BalanceResultDto,
}

#[derive(Serialize, Deserialize)]
struct StoredInput {
    instance: serde_json::Value,
    build: ScenarioBuild,
}

fn scenario_dto(row: &TerritoryScenarioRow) -> Result<ScenarioDto, AppError> {
    let corrupt = |e: serde_json::Error| AppError::Internal(format!("scenario {}: {e}", row.id));
    let stored: StoredInput = serde_json::from_value(row.input.clone()).map_err(corrupt)?;
    Ok(ScenarioDto {
        id: row.id,
        name: row.name.clone(),
        status: row.status.clone(),
        accepted_version_id: row.accepted_version_id,
        created_by: row.created_by.clone(),
        created_at: row.created_at.to_string(),
        instance: serde_json::from_value(stored.instance).map_err(corrupt)?,
        build: stored.build,
        result: serde_json::from_value(row.result.clone()).map_err(corrupt)?,
    })
}

fn normalise_postal(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

/// The distance proxy between two postal units (documented in docs/planning.md): within a
/// country, the difference of the numeric prefixes scaled to 0–10; between countries 20.
fn proxy_distance(a: &(String, String), b: &(String, String)) -> f64 {
    if a == b {
        return 0.0;
    }
    if a.0 != b.0 {
        return 20.0;
    }
    match (a.1.parse::<f64>(), b.1.parse::<f64>()) {
        (Ok(x), Ok(y)) => 10.0 * (x - y).abs() / 10f64.powi(a.1.len() as i32),
        _ => 5.0,
    }
}

/// Per postal area: workload, potential, accounts, and accounts per rep e-mail.
type UnitTally = (f64, f64, usize, BTreeMap<String, usize>);

/// Won revenue and won deals per owner.
type WonPerOwner = (HashMap<i64, Decimal>, HashMap<i64, usize>);

/// Builds the balancing instance from the accounts (see [`ScenarioInput`]).
pub fn build_instance(
    input: &ScenarioInput,
    accounts: &[TerritoryAccountRow],
    work: &HashMap<i64, (i64, i64)>,
    potential: &HashMap<i64, f64>,
    today_rep: &HashMap<i64, (String, String)>,
    current_from: String,
) -> Result<(BalanceInput, ScenarioBuild), AppError> {
    let digits = input.postal_digits.unwrap_or(2);
    if !(1..=3).contains(&digits) {
        return Err(AppError::invalid("postal_digits", "between 1 and 3"));
    }
    let region = input.region.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    let mut notes = Vec::new();
    // unit key -> (workload, potential, accounts, rep email -> accounts)
    let mut units: BTreeMap<(String, String), UnitTally> = BTreeMap::new();
    let mut rep_names: BTreeMap<String, String> = BTreeMap::new();
    let mut skipped = 0usize;
    for a in accounts {
        if let Some(r) = &region
            && a.region.as_deref() != Some(r.as_str())
        {
            continue;
        }
        let postal = normalise_postal(&a.postal_code);
        if postal.chars().count() < digits {
            skipped += 1;
            continue;
        }
        let key = (a.country.to_ascii_uppercase(), postal.chars().take(digits).collect::<String>());
        let (open, acts) = work.get(&a.id).copied().unwrap_or((0, 0));
        let entry = units.entry(key).or_insert_with(|| (0.0, 0.0, 0, BTreeMap::new()));
        entry.0 += 1.0 + open as f64 + acts as f64;
        entry.1 += potential.get(&a.id).copied().unwrap_or(0.0);
        entry.2 += 1;
        let (email, name) =
            today_rep.get(&a.id).cloned().unwrap_or_else(|| (a.owner_email.clone(), a.owner_name.clone()));
        *entry.3.entry(email.clone()).or_insert(0) += 1;
        rep_names.entry(email).or_insert(name);
    }
    if skipped > 0 {
        notes.push(format!("{skipped} account(s) without a postal code of {digits} characters left out"));
    }
    if units.is_empty() {
        return Err(AppError::invalid("region", "no accounts with a postal code in this scope"));
    }
    let keys: Vec<(String, String)> = units.keys().cloned().collect();
    // Today's rep of a unit: the rep with most of its accounts (ties: first e-mail).
    let majority = |owners: &BTreeMap<String, usize>, allowed: &dyn Fn(&str) -> bool| -> Option<String> {
        owners.iter().filter(|(e, _)| allowed(e)).max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(e, _)| e.clone())
    };
    // Homes: reps by workload held, each takes their heaviest unit not yet taken.
    let mut held: BTreeMap<String, Vec<(f64, usize)>> = BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let u = &units[key];
        for (email, n) in &u.3 {
            held.entry(email.clone()).or_default().push((u.0 * *n as f64 / u.2 as f64, i));
        }
    }
    let mut order: Vec<(String, f64)> = held.iter().map(|(e, v)| (e.clone(), v.iter().map(|x| x.0).sum())).collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut taken = vec![false; keys.len()];
    let mut reps: Vec<RepInput> = Vec::new();
    for (email, _) in &order {
        let mut mine = held[email].clone();
        mine.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        match mine.iter().find(|(_, i)| !taken[*i]) {
            Some(&(_, i)) => {
                taken[i] = true;
                reps.push(RepInput { id: email.clone(), home: format!("{}-{}", keys[i].0, keys[i].1) });
            }
            None => notes.push(format!("{email} has no postal area of their own left for a home; not balanced")),
        }
    }
    let rep_set: std::collections::BTreeSet<String> = reps.iter().map(|r| r.id.clone()).collect();
    let mut assignment = Vec::with_capacity(keys.len());
    let mut unit_inputs = Vec::with_capacity(keys.len());
    let mut accounts_per_unit = Vec::with_capacity(keys.len());
    let mut matrix = Vec::with_capacity(keys.len());
    for key in &keys {
        let u = &units[key];
        let id = format!("{}-{}", key.0, key.1);
        let rep = majority(&u.3, &|e| rep_set.contains(e)).unwrap_or_else(|| reps[0].id.clone());
        assignment.push(UnitRep { unit: id.clone(), rep });
        unit_inputs.push(UnitInput { id, workload: u.0, potential: u.1, x: None, y: None });
        accounts_per_unit.push(u.2);
        matrix.push(keys.iter().map(|k| proxy_distance(key, k)).collect::<Vec<f64>>());
    }
    rep_names.retain(|e, _| rep_set.contains(e));
    let instance = BalanceInput {
        units: unit_inputs,
        reps,
        assignment,
        distances: Some(matrix),
        bounds: input.bounds.unwrap_or((0.8, 1.2)),
        objective: input.objective.clone(),
        locks: input.locks.clone(),
        steps: None,
    };
    let build = ScenarioBuild { postal_digits: digits, region, accounts_per_unit, rep_names, current_from, notes };
    Ok((instance, build))
}

/// Accepting a scenario: which date, and a note.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AcceptInput {
    /// First day the new design is in force (YYYY-MM-DD).
    pub valid_from: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Side-by-side figures of drafts built on the same units, with the live assignment first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScenarioComparisonDto {
    /// Scenario names ("live" for today's assignment) and their figures.
    pub scenarios: Vec<(String, AssessmentDto)>,
    /// Drafts left out because they were built on other units.
    pub left_out: Vec<String>,
}

/// The rule set of an accepted scenario: one territory per rep (owned by the rep's e-mail) with
/// priority-0 postal rules for its units, on top of the design in force on the date (which keeps
/// covering accounts outside the scenario).
pub fn accepted_rules(s: &ScenarioDto, valid_from: Date, base: Option<&RuleSet>) -> RuleSet {
    let mut territories: Vec<Territory> = base.map(|b| b.territories.clone()).unwrap_or_default();
    let mut ids: HashMap<String, String> = HashMap::new();
    for rep in &s.instance.reps {
        let local = rep.id.split('@').next().unwrap_or(&rep.id);
        let mut id = format!("T-{local}");
        let mut n = 2;
        while territories.iter().any(|t| t.id == id && t.owner.as_deref() != Some(rep.id.as_str())) {
            id = format!("T-{local}-{n}");
            n += 1;
        }
        if !territories.iter().any(|t| t.id == id) {
            territories.push(Territory { id: id.clone(), parent: None, owner: Some(rep.id.clone()) });
        }
        ids.insert(rep.id.clone(), id);
    }
    let mut rules = Vec::new();
    for ur in &s.result.assignment {
        let Some((country, prefix)) = ur.unit.split_once('-') else { continue };
        let territory = ids.get(&ur.rep).cloned().unwrap_or_else(|| format!("T-{}", ur.rep));
        rules.push(Rule {
            id: format!("s{}-{}", s.id, ur.unit),
            territory,
            priority: 0,
            criteria: vec![
                Criterion::Country(vec![country.to_string()]),
                Criterion::PostalRange { from: prefix.to_string(), to: prefix.to_string() },
            ],
        });
    }
    if let Some(b) = base {
        rules.extend(b.rules.iter().cloned());
    }
    RuleSet { valid_from, territories, rules }
}

impl App {
    /// Builds a scenario from the company's accounts, balances it and stores it as a draft.
    pub async fn territory_scenario_create(
        &self,
        p: &Principal,
        input: ScenarioInput,
    ) -> Result<ScenarioDto, AppError> {
        require_planner(p)?;
        let name = input.name.trim().to_string();
        if name.is_empty() || name.len() > 200 {
            return Err(AppError::invalid("name", "between 1 and 200 characters"));
        }
        let now = self.now();
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let viewer = self.viewer(p).await?;
        let accounts = self.store.territory_accounts(&viewer).await?;
        let year_ago = now.checked_sub(jiff::SignedDuration::from_hours(24 * 365)).unwrap_or(now);
        let work: HashMap<i64, (i64, i64)> =
            self.store.territory_account_work(year_ago).await?.into_iter().map(|(a, o, n)| (a, (o, n))).collect();
        let from = today.checked_sub(jiff::Span::new().years(1)).unwrap_or(today);
        let won = self.store.won_between(&viewer, from, today).await?;
        let fx = self.store.fx_table().await?;
        let currency = self.store.reporting_currency().await?;
        let mut notes = Vec::new();
        let mut potential: HashMap<i64, f64> = HashMap::new();
        for s in converted_sales(&won, &fx, currency, &mut notes)? {
            if let Ok(id) = s.account.parse::<i64>() {
                *potential.entry(id).or_insert(0.0) += s.amount.amount.to_f64().unwrap_or(0.0);
            }
        }
        // Today's rep: the owner of the account's territory under the live design, else its owner.
        let rows = self.store.territory_versions().await?;
        let plan = live_plan(&rows, &mut notes);
        let mut today_rep: HashMap<i64, (String, String)> = HashMap::new();
        let mut current_from = "account owners".to_string();
        if let Some(rules) = plan.version_on(today) {
            current_from = format!("live version from {}", rules.valid_from);
            let names: HashMap<String, String> =
                accounts.iter().map(|a| (a.owner_email.clone(), a.owner_name.clone())).collect();
            for a in &accounts {
                let asg = rules.assign(&rule_account(a));
                let owner = asg
                    .territory
                    .and_then(|t| rules.territories.iter().find(|x| x.id == t).and_then(|x| x.owner.clone()))
                    .filter(|o| names.contains_key(o));
                if let Some(o) = owner {
                    today_rep.insert(a.id, (o.clone(), names[&o].clone()));
                }
            }
        }
        let (balance_input, mut build) =
            build_instance(&input, &accounts, &work, &potential, &today_rep, current_from)?;
        build.notes.extend(notes);
        let inst = instance(&balance_input)?;
        let result = tokio::task::spawn_blocking(move || {
            let (outcome, diagnostics) = run_balance(&inst)?;
            Ok::<_, AppError>(outcome_dto(&inst.problem, inst.objective, &outcome, &diagnostics))
        })
        .await
        .map_err(|e| AppError::Internal(format!("balancing task: {e}")))??;
        let stored = StoredInput {
            instance: serde_json::to_value(&balance_input).map_err(|e| AppError::Internal(e.to_string()))?,
            build,
        };
        let input_json = serde_json::to_value(&stored).map_err(|e| AppError::Internal(e.to_string()))?;
        let result_json = serde_json::to_value(&result).map_err(|e| AppError::Internal(e.to_string()))?;
        let id = self.store.territory_scenario_create(&p.audit(now), &name, &input_json, &result_json).await?;
        scenario_dto(&self.store.territory_scenario(id).await?)
    }

    /// Every scenario (planners), newest first.
    pub async fn territory_scenarios(&self, p: &Principal) -> Result<Vec<ScenarioDto>, AppError> {
        if !may_plan(p.user.role) {
            return Err(AppError::Forbidden);
        }
        self.store.territory_scenarios().await?.iter().map(scenario_dto).collect()
    }

    pub async fn territory_scenario(&self, p: &Principal, id: i64) -> Result<ScenarioDto, AppError> {
        if !may_plan(p.user.role) {
            return Err(AppError::Forbidden);
        }
        scenario_dto(&self.store.territory_scenario(id).await?)
    }

    /// Scenario `id` and the other drafts built on the same units, side by side with the live
    /// assignment (`planning::compare_scenarios`).
    pub async fn territory_scenario_compare(&self, p: &Principal, id: i64) -> Result<ScenarioComparisonDto, AppError> {
        let first = self.territory_scenario(p, id).await?;
        let all = self.territory_scenarios(p).await?;
        let inst = instance(&first.instance)?;
        let problem = &inst.problem;
        let unit_index: HashMap<&str, usize> =
            problem.units.iter().enumerate().map(|(i, u)| (u.id.as_str(), i)).collect();
        let rep_index: HashMap<&str, usize> =
            problem.reps.iter().enumerate().map(|(j, r)| (r.id.as_str(), j)).collect();
        let as_indices = |s: &ScenarioDto| -> Option<Vec<usize>> {
            if s.result.assignment.len() != problem.units.len() {
                return None;
            }
            let mut out = vec![usize::MAX; problem.units.len()];
            for ur in &s.result.assignment {
                out[*unit_index.get(ur.unit.as_str())?] = *rep_index.get(ur.rep.as_str())?;
            }
            out.iter().all(|&r| r != usize::MAX).then_some(out)
        };
        let mut scenarios = vec![("live".to_string(), problem.current.clone())];
        let mut left_out = Vec::new();
        let mut others: Vec<&ScenarioDto> = all.iter().filter(|s| s.id != id && s.status == "draft").collect();
        others.insert(0, &first);
        for s in others {
            match as_indices(s) {
                Some(a) => scenarios.push((s.name.clone(), a)),
                None => left_out.push(s.name.clone()),
            }
        }
        let compared = planning::balance::compare_scenarios(problem, &scenarios);
        Ok(ScenarioComparisonDto {
            scenarios: compared.iter().map(|(n, a)| (n.clone(), assessment_dto(a))).collect(),
            left_out,
        })
    }

    /// Accepts a draft: a new live version from `valid_from`; earlier versions stay for history.
    pub async fn territory_scenario_accept(
        &self,
        p: &Principal,
        id: i64,
        input: AcceptInput,
    ) -> Result<TerritoryVersionDto, AppError> {
        require_planner(p)?;
        let valid_from = parse_date("valid_from", &input.valid_from)?;
        let scenario = scenario_dto(&self.store.territory_scenario(id).await?)?;
        if scenario.status != "draft" {
            return Err(AppError::Refused(format!("scenario {id} is {}, not a draft", scenario.status)));
        }
        let rows = self.store.territory_versions().await?;
        let mut notes = Vec::new();
        let plan = live_plan(&rows, &mut notes);
        let base = plan.version_on(valid_from).map(|b| {
            // The scenario's own earlier rules (if any) do not stack.
            let mut b = b.clone();
            b.rules.retain(|r| !r.id.starts_with(&format!("s{id}-")));
            b
        });
        let rules = accepted_rules(&scenario, valid_from, base.as_ref());
        let body = rules.to_text();
        check_rules(&body)?;
        let note = input.note.unwrap_or_else(|| format!("accepted scenario '{}'", scenario.name));
        let vid =
            self.store.territory_scenario_accept(&p.audit(self.now()), id, valid_from, &body, note.trim()).await?;
        Ok(version_dto(&self.store.territory_version(vid).await?))
    }
}

// ---------------------------------------------------------------------------------------------
// Quotas

/// Parses a period (`2026-Q3`, `2026-07`, `FY2026`) into its key and first and last day.
pub async fn period_bounds(app: &App, text: &str) -> Result<(String, Date, Date), AppError> {
    let period = Period::parse(text).map_err(|e| AppError::invalid("period", e.to_string()))?;
    let cal = app.fiscal_calendar().await?;
    Ok((period.to_string(), cal.start(period), cal.end(period)))
}

/// One quota to set.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct QuotaInput {
    pub user_id: i64,
    /// revenue (default) or count.
    #[serde(default)]
    pub kind: Option<String>,
    /// Exact decimal text.
    pub amount: String,
    /// Currency of a revenue quota.
    #[serde(default)]
    pub currency: Option<String>,
    /// Ramp factor applied (default 1).
    #[serde(default)]
    pub ramp: Option<String>,
    /// How it was set (default manual).
    #[serde(default)]
    pub method: Option<String>,
}

/// Quotas of a period to set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct QuotasInput {
    pub quotas: Vec<QuotaInput>,
}

/// A quota with the won revenue of the period and the attainment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaLineDto {
    pub user_id: i64,
    pub user: String,
    pub kind: String,
    /// Exact decimal text.
    pub amount: String,
    pub currency: String,
    pub ramp: String,
    pub method: String,
    pub set_by: Option<String>,
    pub set_at: String,
    /// Won in the period: revenue in the quota's currency, or the number of won opportunities.
    pub won: String,
    /// won / quota (4 decimals), none for a zero quota.
    pub attainment: Option<String>,
}

/// The quotas of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotasDto {
    pub period: String,
    pub from: String,
    pub to: String,
    pub quotas: Vec<QuotaLineDto>,
    pub notes: Vec<String>,
}

/// A proposal for one rep (the quota page's review step).
#[derive(Debug, Clone, Serialize)]
pub struct QuotaProposal {
    pub user_id: i64,
    pub name: String,
    /// Won in the same period last year, in the target's currency.
    pub prior_year: Decimal,
    /// Won in the twelve months before the period.
    pub trailing_twelve_months: Decimal,
    /// Tenure month at the period's start (0 = first month).
    pub tenure_months: i64,
    pub ramp: Decimal,
    pub quota: Decimal,
}

/// Won revenue per owner between two dates, converted to `to`.
async fn won_per_owner(
    app: &App,
    viewer: &store::Viewer,
    from: Date,
    to_date: Date,
    to: Currency,
    notes: &mut Vec<String>,
) -> Result<WonPerOwner, AppError> {
    let won = app.store.won_between(viewer, from, to_date).await?;
    let fx = app.store.fx_table().await?;
    let (mut sums, mut counts): (HashMap<i64, Decimal>, HashMap<i64, usize>) = (HashMap::new(), HashMap::new());
    let mut missing = 0usize;
    for w in &won {
        *counts.entry(w.owner_id).or_insert(0) += 1;
        let money = Money::parse(&w.amount, &w.currency)?;
        match fx.convert(money, to, w.close_date) {
            Ok(m) => *sums.entry(w.owner_id).or_insert(Decimal::ZERO) += m.amount,
            Err(_) => missing += 1,
        }
    }
    if missing > 0 {
        notes.push(format!("{missing} won amount(s) left out: no exchange rate to {}", to.code()));
    }
    Ok((sums, counts))
}

impl App {
    /// Sets quotas of a period (planners). A changed quota replaces the current one, which is kept.
    pub async fn quotas_set(&self, p: &Principal, period: &str, input: QuotasInput) -> Result<usize, AppError> {
        require_planner(p)?;
        let (key, _, _) = period_bounds(self, period).await?;
        if input.quotas.is_empty() || input.quotas.len() > 10_000 {
            return Err(AppError::invalid("quotas", "between 1 and 10000 quotas"));
        }
        let users = self.store.user_list(&store::UserFilter::default(), 100_000, 0).await?;
        let known: HashMap<i64, bool> = users.items.iter().map(|u| (u.user.id.0, u.user.active)).collect();
        let mut rows = Vec::with_capacity(input.quotas.len());
        let mut seen = std::collections::HashSet::new();
        for (i, q) in input.quotas.iter().enumerate() {
            let field = |f: &str| format!("quotas[{i}].{f}");
            if !known.contains_key(&q.user_id) {
                return Err(AppError::invalid(field("user_id"), format!("no user {}", q.user_id)));
            }
            let kind = match q.kind.as_deref().map(str::trim).unwrap_or("revenue") {
                "" | "revenue" => "revenue",
                "count" => "count",
                other => return Err(AppError::invalid(field("kind"), format!("'{other}' is not revenue or count"))),
            };
            if !seen.insert((q.user_id, kind)) {
                return Err(AppError::invalid(field("user_id"), "this user's quota appears twice"));
            }
            let (amount, currency) =
                if kind == "revenue" {
                    let code = q.currency.as_deref().unwrap_or("").trim();
                    let cur = Currency::parse(code)
                        .map_err(|_| AppError::invalid(field("currency"), format!("'{code}' is not a currency")))?;
                    let amount: Decimal =
                        q.amount.trim().parse().map_err(|_| {
                            AppError::invalid(field("amount"), format!("'{}' is not a number", q.amount))
                        })?;
                    if amount.scale() > cur.minor_units() {
                        return Err(AppError::invalid(
                            field("amount"),
                            format!("{} has at most {} decimals", cur.code(), cur.minor_units()),
                        ));
                    }
                    (amount, cur.code().to_string())
                } else {
                    let amount: Decimal = q.amount.trim().parse().map_err(|_| {
                        AppError::invalid(field("amount"), format!("'{}' is not a whole number", q.amount))
                    })?;
                    if amount.fract() != Decimal::ZERO {
                        return Err(AppError::invalid(field("amount"), "a count quota is a whole number"));
                    }
                    (amount, String::new())
                };
            if amount.is_sign_negative() {
                return Err(AppError::invalid(field("amount"), "must be >= 0"));
            }
            let ramp: Decimal = match q.ramp.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                None => Decimal::ONE,
                Some(r) => r.parse().map_err(|_| AppError::invalid(field("ramp"), format!("'{r}' is not a number")))?,
            };
            if ramp.is_sign_negative() || ramp > Decimal::ONE {
                return Err(AppError::invalid(field("ramp"), "between 0 and 1"));
            }
            let method = q.method.as_deref().map(str::trim).filter(|m| !m.is_empty()).unwrap_or("manual");
            if method.len() > 100 {
                return Err(AppError::invalid(field("method"), "at most 100 characters"));
            }
            rows.push(NewQuota {
                user_id: q.user_id,
                kind: kind.to_string(),
                amount: amount.to_string(),
                currency,
                ramp: ramp.normalize().to_string(),
                method: method.to_string(),
            });
        }
        Ok(self.store.quotas_set(&p.audit(self.now()), &key, &rows).await?)
    }

    /// The quotas of a period the caller may see (a rep: their own), with attainment.
    pub async fn quotas(&self, p: &Principal, period: &str) -> Result<QuotasDto, AppError> {
        let (key, from, to) = period_bounds(self, period).await?;
        let viewer = self.viewer(p).await?;
        let rows = self.store.quotas_of_period(&viewer, &key, false).await?;
        let mut notes = Vec::new();
        let mut by_currency: BTreeMap<String, WonPerOwner> = BTreeMap::new();
        for r in &rows {
            let code = if r.kind == "revenue" { r.currency.clone() } else { String::new() };
            if let std::collections::btree_map::Entry::Vacant(slot) = by_currency.entry(code) {
                let cur = if slot.key().is_empty() {
                    self.store.reporting_currency().await?
                } else {
                    Currency::parse(slot.key())?
                };
                slot.insert(won_per_owner(self, &viewer, from, to, cur, &mut notes).await?);
            }
        }
        let quotas = rows
            .iter()
            .map(|r| {
                let code = if r.kind == "revenue" { r.currency.clone() } else { String::new() };
                let (sums, counts) = &by_currency[&code];
                let quota: Decimal = r.amount.parse().unwrap_or(Decimal::ZERO);
                let won = if r.kind == "revenue" {
                    sums.get(&r.user_id).copied().unwrap_or(Decimal::ZERO)
                } else {
                    Decimal::from(counts.get(&r.user_id).copied().unwrap_or(0))
                };
                let won = match Currency::parse(&r.currency) {
                    Ok(c) if r.kind == "revenue" => won.round_dp(c.minor_units()),
                    _ => won,
                };
                let attainment = (!quota.is_zero()).then(|| (won / quota).round_dp(4).to_string());
                QuotaLineDto {
                    user_id: r.user_id,
                    user: r.user_name.clone(),
                    kind: r.kind.clone(),
                    amount: r.amount.clone(),
                    currency: r.currency.clone(),
                    ramp: r.ramp.clone(),
                    method: r.method.clone(),
                    set_by: r.set_by.clone(),
                    set_at: r.set_at.to_string(),
                    won: won.to_string(),
                    attainment,
                }
            })
            .collect();
        Ok(QuotasDto { period: key, from: from.to_string(), to: to.to_string(), quotas, notes })
    }

    /// A user's current revenue quota for a period (for dashboards and compensation).
    pub async fn quota_for(&self, user_id: i64, period: &str) -> Result<Option<QuotaRow>, AppError> {
        let (key, _, _) = period_bounds(self, period).await?;
        Ok(self.store.quota_for(user_id, &key, "revenue").await?)
    }

    /// Allocates `target` over the active reps by `basis` (even, prior_year or ttm) times each
    /// rep's ramp factor (tenure since the user's creation or first account, whichever is earlier;
    /// 25/50/75/100 %), exactly: the quotas
    /// add up to the target (`planning::quota::split`). Stores nothing.
    pub async fn quota_proposal(
        &self,
        p: &Principal,
        period: &str,
        target: &str,
        currency: &str,
        basis: &str,
    ) -> Result<(Vec<QuotaProposal>, Vec<String>), AppError> {
        require_planner(p)?;
        let (_, from, to) = period_bounds(self, period).await?;
        let target = Money::parse(target, currency)?;
        if target.amount.is_sign_negative() {
            return Err(AppError::invalid("target", "must be >= 0"));
        }
        if !matches!(basis, "even" | "prior_year" | "ttm") {
            return Err(AppError::invalid("method", format!("'{basis}' is not even, prior_year or ttm")));
        }
        let filter = store::UserFilter { role: Some(Role::SalesRep), ..store::UserFilter::default() };
        let reps: Vec<store::UserRow> =
            self.store.user_list(&filter, 100_000, 0).await?.items.into_iter().filter(|u| u.user.active).collect();
        if reps.is_empty() {
            return Err(AppError::invalid("recipients", "there are no active sales reps"));
        }
        let viewer = self.viewer(p).await?;
        let mut notes = Vec::new();
        let cal = self.fiscal_calendar().await?;
        let last = Period::parse(period).map_err(|e| AppError::invalid("period", e.to_string()))?;
        let last = cal.same_period_last_year(last);
        let (prior, _) =
            won_per_owner(self, &viewer, cal.start(last), cal.end(last), target.currency, &mut notes).await?;
        let ttm_from = from.checked_sub(jiff::Span::new().years(1)).unwrap_or(from);
        let ttm_to = from.yesterday().unwrap_or(from);
        let (ttm, _) = won_per_owner(self, &viewer, ttm_from, ttm_to, target.currency, &mut notes).await?;
        let ramp_steps = planning::quota::standard_ramp();
        // Start: the user's creation, or their first account if earlier (imported history).
        let first: HashMap<i64, jiff::Timestamp> = self.store.first_account_per_owner().await?.into_iter().collect();
        let mut proposals: Vec<QuotaProposal> = reps
            .iter()
            .map(|u| {
                let start = first.get(&u.user.id.0).map_or(u.created_at, |f| (*f).min(u.created_at));
                let started = start.to_zoned(jiff::tz::TimeZone::UTC).date();
                let tenure = i64::from(from.year() - started.year()) * 12 + i64::from(from.month() - started.month());
                let ramp = planning::quota::ramp_factor(tenure.clamp(0, 1_000) as i32, &ramp_steps);
                QuotaProposal {
                    user_id: u.user.id.0,
                    name: u.user.name.clone(),
                    prior_year: prior.get(&u.user.id.0).copied().unwrap_or(Decimal::ZERO),
                    trailing_twelve_months: ttm.get(&u.user.id.0).copied().unwrap_or(Decimal::ZERO),
                    tenure_months: tenure.max(0),
                    ramp,
                    quota: Decimal::ZERO,
                }
            })
            .collect();
        let mut weights: Vec<Decimal> = proposals
            .iter()
            .map(|q| {
                let figure = match basis {
                    "prior_year" => q.prior_year,
                    "ttm" => q.trailing_twelve_months,
                    _ => Decimal::ONE,
                };
                figure.max(Decimal::ZERO) * q.ramp
            })
            .collect();
        if weights.iter().all(|w| w.is_zero()) {
            notes.push(format!("no {basis} figures for these reps: split evenly (times ramp)"));
            weights = proposals.iter().map(|q| q.ramp).collect();
            if weights.iter().all(|w| w.is_zero()) {
                weights = vec![Decimal::ONE; proposals.len()];
            }
        }
        let parts = planning::quota::split(target.amount, &weights, target.currency.minor_units());
        for (q, part) in proposals.iter_mut().zip(parts) {
            q.quota = part;
        }
        let _ = to;
        Ok((proposals, notes))
    }
}
