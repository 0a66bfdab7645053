//! Incentive compensation use cases: plan versions pasted as text (parsed by the `comp` engine,
//! errors with line and column), assignments and acceptance, calculation runs over won
//! opportunities (all or nothing, immutable snapshots, deltas after a lock), statements with
//! visibility, the what-if estimator and the payroll export.
//!
//! Who may do what: administrators (`AdministerOrganisation`) write plans and assignments;
//! Finance and administrators run, approve and lock periods; payees read and accept their own
//! plan; statements are visible to their payee, the payee's managers, and roles that read all
//! payouts (`ReadAllPayouts`) or administer the organisation.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use comp::{
    Explanation, Hierarchy, LineKey, LineKind, LineStatus, Payee, PayeeState, PayoutLine, Period, Plan, RuleId,
    Statement, Transaction, TransactionId, TransactionKind, TransactionLine, WhatIf,
};
use jiff::civil::Date;
use model::{AccountId, Currency, Money, OpportunityId, Permission, Role, UserId, Visibility};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use store::{
    AcceptanceRow, AssignmentRow, BookingRow, NewLine, NewPlanVersion, NewRun, NewStatement, PlanVersionRow,
    StatementRow, Viewer,
};

use crate::{App, AppError, Principal};

/// The result of a calculation request.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunOutcome {
    /// The runs written (one per plan; a delta run when the period was locked).
    pub runs: Vec<i64>,
    pub statements: usize,
    /// Findings that did not stop the run (payees without an accepted plan, missing rates, ...).
    pub diagnostics: Vec<String>,
}

/// Plans as a payee or an administrator sees them.
#[derive(Debug, Clone)]
pub struct PlansView {
    pub versions: Vec<PlanVersionRow>,
    pub assignments: Vec<AssignmentRow>,
    pub acceptances: Vec<AcceptanceRow>,
}

/// `2026-03` -> the month.
pub fn parse_period(s: &str) -> Result<Period, AppError> {
    let bad = || AppError::invalid("period", format!("'{s}' is not a month such as 2026-03"));
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m): (i16, i8) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Period::month(y, m).map_err(|_| bad())
}

/// The month before `p`.
pub(crate) fn previous_period(p: &Period) -> Result<Period, AppError> {
    let prev = p.start.yesterday().map_err(|e| AppError::Internal(e.to_string()))?;
    Period::month(prev.year(), prev.month()).map_err(|e| AppError::Internal(e.to_string()))
}

pub(crate) fn next_period(p: &Period) -> Result<Period, AppError> {
    let next = p.end.tomorrow().map_err(|e| AppError::Internal(e.to_string()))?;
    Period::month(next.year(), next.month()).map_err(|e| AppError::Internal(e.to_string()))
}

pub(crate) fn runs_payroll(p: &Principal) -> bool {
    p.user.role == Role::Finance || p.can(Permission::AdministerOrganisation)
}

pub(crate) fn require_runner(p: &Principal) -> Result<(), AppError> {
    if runs_payroll(p) { Ok(()) } else { Err(AppError::Forbidden) }
}

pub(crate) fn dec(what: &str, s: &str) -> Result<Decimal, AppError> {
    s.parse().map_err(|_| AppError::Internal(format!("{what}: '{s}' is not a decimal")))
}

/// The won opportunities of a period as bookings credited 100% to their owner; product lines
/// from the opportunity's lines (cost 0), or one line with the amount when it has none.
pub fn bookings_to_transactions(bookings: &[BookingRow]) -> Result<Vec<Transaction>, AppError> {
    let mut out = Vec::with_capacity(bookings.len());
    for b in bookings {
        let currency = Currency::parse(&b.currency).map_err(|e| AppError::Internal(e.reason))?;
        let mut lines = Vec::with_capacity(b.lines.len().max(1));
        for (code, family, qty, total) in &b.lines {
            lines.push(TransactionLine {
                product: Arc::from(code.as_str()),
                product_line: Arc::from(family.as_str()),
                quantity: dec("quantity", qty)?,
                amount: dec("total", total)?,
                cost: Decimal::ZERO,
            });
        }
        if lines.is_empty() {
            lines.push(TransactionLine {
                product: Arc::from(""),
                product_line: Arc::from(""),
                quantity: Decimal::ONE,
                amount: dec("amount", &b.amount)?,
                cost: Decimal::ZERO,
            });
        }
        out.push(Transaction {
            id: TransactionId(b.opportunity_id),
            kind: TransactionKind::Booking,
            date: b.close_date,
            currency,
            opportunity: Some(OpportunityId(b.opportunity_id)),
            customer: Some(AccountId(b.account_id)),
            new_customer: false,
            reverses: None,
            lines,
            splits: vec![comp::Split { payee: UserId(b.owner_id), share: Decimal::ONE }],
        });
    }
    Ok(out)
}

/// The version of `plan_key` in force in the period (the highest version that overlaps it).
pub(crate) fn version_in_force<'a>(
    versions: &'a [PlanVersionRow],
    plan_key: &str,
    period: &Period,
) -> Option<&'a PlanVersionRow> {
    versions
        .iter()
        .filter(|v| v.plan_key == plan_key)
        .filter(|v| v.effective_from <= period.end && v.effective_to.is_none_or(|to| to >= period.start))
        .max_by_key(|v| v.version)
}

pub(crate) fn assigned_in(a: &AssignmentRow, period: &Period) -> bool {
    a.starts_on <= period.end && a.ends_on.is_none_or(|e| e >= period.start)
}

fn dbg_str<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}").to_lowercase()
}

/// The structured explanation as JSON (stored with the line; the English sentence is stored too).
pub fn explanation_json(e: &Explanation) -> Value {
    let d = e.detail.as_deref();
    json!({
        "component_kind": e.component_kind.map(|k| k.as_str()),
        "transaction_kind": e.transaction_kind.map(|k| k.as_str()),
        "opportunity": e.opportunity.map(|o| o.0),
        "reverses": e.reverses.map(|t| t.0),
        "share": e.share.map(|v| v.to_string()),
        "base_kind": e.base_kind.as_ref().map(dbg_str),
        "base": e.base.map(|v| v.to_string()),
        "rate": e.rate.map(|v| v.to_string()),
        "tier": e.tier,
        "measure": e.measure.as_ref().map(|(m, t)| json!({"measure": dbg_str(m), "method": dbg_str(t)})),
        "range": e.range.map(|(a, b)| [a.to_string(), b.to_string()]),
        "quota": e.quota.map(|v| v.to_string()),
        "factor": e.factor.map(|v| v.to_string()),
        "plan_currency": e.plan_currency.map(|c| c.code().to_string()),
        "quantity": d.and_then(|d| d.quantity).map(|v| v.to_string()),
        "unit_amount": d.and_then(|d| d.unit_amount).map(|v| v.to_string()),
        "capped_from": d.and_then(|d| d.capped_from).map(|v| v.to_string()),
        "limit": d.and_then(|d| d.limit).map(|v| v.to_string()),
        "attainment": d.and_then(|d| d.attainment).map(|v| v.to_string()),
        "score": d.and_then(|d| d.score).map(|v| v.to_string()),
        "metric": d.and_then(|d| d.metric.clone()),
        "reason": d.and_then(|d| d.reason.clone()),
        "held_in": d.and_then(|d| d.held_in.as_deref().map(str::to_string)),
    })
}

pub(crate) const LINE_KINDS: [LineKind; 10] = [
    LineKind::Commission,
    LineKind::Fixed,
    LineKind::Score,
    LineKind::PeriodCap,
    LineKind::PeriodFloor,
    LineKind::YearCap,
    LineKind::Adjustment,
    LineKind::Release,
    LineKind::DrawTopUp,
    LineKind::DrawRecovery,
];

fn new_line(l: &PayoutLine) -> NewLine {
    NewLine {
        rule: l.key.rule.as_str().to_string(),
        kind: l.key.kind.as_str().to_string(),
        transaction_id: l.key.transaction.map(|t| t.0),
        overlay_of: l.key.overlay_of.map(|u| u.0),
        segment: i64::from(l.key.segment),
        grp: l.key.group,
        status: if l.status == LineStatus::Held { "held" } else { "payable" }.into(),
        amount: l.amount.amount.to_string(),
        opportunity_id: l.explanation.opportunity.map(|o| o.0),
        sentence: l.sentence(),
        explanation: {
            let mut v = explanation_json(&l.explanation);
            if let Some(c) = &l.corrects {
                v["corrects"] = json!({"period": &*c.period, "old": c.old.to_string(), "new": c.new.to_string()});
            }
            v
        },
    }
}

fn new_statement(s: &Statement) -> NewStatement {
    NewStatement {
        payee_id: s.payee.0,
        currency: s.currency.code().to_string(),
        payable: s.payable.amount.to_string(),
        held: s.held.amount.to_string(),
        credited: s.credited.to_string(),
        quota: s.quota.map(|q| q.to_string()),
        attainment: s.attainment.map(|a| a.to_string()),
        lines: s.lines.iter().map(new_line).collect(),
        closing: Some(crate::comp_ops::state_json(&s.closing).to_string()),
    }
}

/// A stored statement back as an engine statement (payable and held lines with their keys), so
/// that `comp::deltas` can compare it with a recalculation. Explanations keep the opportunity.
fn stored_statement(r: &StatementRow) -> Result<Statement, AppError> {
    let currency = Currency::parse(&r.currency).map_err(|e| AppError::Internal(e.reason))?;
    let mut lines = Vec::with_capacity(r.lines.len());
    for l in &r.lines {
        let kind = LINE_KINDS
            .into_iter()
            .find(|k| k.as_str() == l.kind)
            .ok_or_else(|| AppError::Internal(format!("line kind '{}'", l.kind)))?;
        let amount = dec("amount", &l.amount)?;
        lines.push(PayoutLine {
            key: LineKey {
                rule: RuleId::named(&l.rule),
                kind,
                transaction: l.transaction_id.map(TransactionId),
                overlay_of: l.overlay_of.map(UserId),
                segment: u32::try_from(l.segment).unwrap_or_default(),
                group: l.grp,
            },
            status: if l.status == "held" { LineStatus::Held } else { LineStatus::Payable },
            amount: Money::new(amount, currency),
            exact: amount,
            explanation: Explanation { opportunity: l.opportunity_id.map(OpportunityId), ..Explanation::default() },
            corrects: None,
        });
    }
    Ok(Statement {
        payee: UserId(r.payee_id),
        plan: Arc::from(r.plan_key.as_str()),
        plan_version: u32::try_from(r.plan_version).unwrap_or_default(),
        period: Arc::from(r.source_period.as_str()),
        currency,
        fx: None,
        lines,
        payable: Money::new(dec("payable", &r.payable)?, currency),
        held: Money::new(dec("held", &r.held)?, currency),
        credited: dec("credited", &r.credited)?,
        quota: r.quota.as_deref().map(|q| dec("quota", q)).transpose()?,
        attainment: r.attainment.as_deref().map(|a| dec("attainment", a)).transpose()?,
        closing: PayeeState::default(),
    })
}

fn inputs_hash(plan_text: &str, payees: &[(Payee, PayeeState)], transactions: &[Transaction]) -> String {
    let mut h = Sha256::new();
    h.update(plan_text.as_bytes());
    // The payees with their holds, releases, adjustments and carried-over state.
    h.update(format!("{payees:?}").as_bytes());
    h.update(format!("{transactions:?}").as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The latest run of each (kind, source period, plan) among `runs` (newest first).
/// The statements a reader sees: a delta run's statement without lines only carries a payee's
/// recalculated closing state to the next month, and pays nothing.
fn shown_statements(rows: Vec<StatementRow>) -> Vec<StatementRow> {
    rows.into_iter().filter(|s| s.run_kind != "delta" || !s.lines.is_empty()).collect()
}

fn latest_runs(runs: &[store::RunRow]) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    runs.iter()
        .filter(|r| seen.insert((r.kind.clone(), r.source_period.clone(), r.plan_key.clone())))
        .map(|r| r.id)
        .collect()
}

/// The demo company's plan text: the example of docs/comp-plans.md cut down to booking, in
/// EUR (deals in other currencies are converted with the dated rates), in force from the first
/// of January of last year so that a year of history can be modelled.
pub fn demo_plan_text(year: i16) -> String {
    format!(
        r#"[plan]
id = "ae"
name = "Account executive"
version = 1
effective_from = {year}-01-01
currency = "EUR"
earning_event = "booking"
quota = "40000"

[[component]]
id = "quota"
kind = "tiered"
tiers = [
  {{ from = "0%", rate = "5%" }},
  {{ from = "100%", rate = "8%" }},
]
accelerator = {{ above = "120%", factor = "1.5" }}
cap_per_line = "5000"

[[component]]
id = "services"
kind = "percentage"
product_lines = ["Services"]
rate = "2%"

[[component]]
id = "integration-spif"
kind = "spif"
products = ["SW-INT"]
amount = "100"
per = "transaction"
"#
    )
}

/// Stores the demo plan and assigns it to every sales rep of the demo company.
pub(crate) async fn demo_plan(
    store: &store::Store,
    company: &demo::Company,
    today: Date,
    now: jiff::Timestamp,
) -> Result<(), AppError> {
    let year = today.year() - 1;
    let text = demo_plan_text(year);
    let plan = Plan::parse(&text).map_err(|e| AppError::Internal(format!("demo plan: {e}")))?;
    let ctx = store::AuditContext::system(now);
    let v = NewPlanVersion {
        plan_key: plan.id.to_string(),
        version: i64::from(plan.version),
        name: plan.name.clone(),
        effective_from: plan.effective_from,
        effective_to: plan.effective_to,
        body: text,
    };
    store.comp_plan_create(&ctx, &v).await?;
    for u in company.users.iter().filter(|u| u.role == Role::SalesRep && u.active) {
        store.comp_assign(&ctx, &plan.id, u.id.0, plan.effective_from, None).await?;
    }
    Ok(())
}

impl App {
    /// The statement viewer: roles that see all records but do not read payouts see their own.
    async fn payout_viewer(&self, p: &Principal) -> Result<Viewer, AppError> {
        let mut v = self.viewer(p).await?;
        if v.visibility == Visibility::All
            && !p.can(Permission::ReadAllPayouts)
            && !p.can(Permission::AdministerOrganisation)
        {
            v.visibility = Visibility::Own;
        }
        Ok(v)
    }

    /// Stores a new plan version from its text (administrators). A parse error is an `invalid`
    /// error on field `text` whose message starts with "line L, column C".
    pub async fn comp_plan_create(&self, p: &Principal, text: &str) -> Result<i64, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let plan = Plan::parse(text).map_err(|e| AppError::invalid("text", e.to_string()))?;
        let v = NewPlanVersion {
            plan_key: plan.id.to_string(),
            version: i64::from(plan.version),
            name: plan.name.clone(),
            effective_from: plan.effective_from,
            effective_to: plan.effective_to,
            body: text.to_string(),
        };
        Ok(self.store.comp_plan_create(&p.audit(self.now()), &v).await?)
    }

    /// Plans: everything for administrators and payout readers; a payee's own plans otherwise.
    pub async fn comp_plans(&self, p: &Principal) -> Result<PlansView, AppError> {
        let all = p.can(Permission::AdministerOrganisation) || p.can(Permission::ReadAllPayouts) || runs_payroll(p);
        let assignments = self.store.comp_assignments(if all { None } else { Some(p.user.id.0) }).await?;
        let keys: BTreeSet<&str> = assignments.iter().map(|a| a.plan_key.as_str()).collect();
        let versions = self
            .store
            .comp_plan_versions()
            .await?
            .into_iter()
            .filter(|v| all || keys.contains(v.plan_key.as_str()))
            .collect();
        let acceptances =
            self.store.comp_acceptances().await?.into_iter().filter(|a| all || a.payee_id == p.user.id.0).collect();
        Ok(PlansView { versions, assignments, acceptances })
    }

    /// One plan version, if the caller may read it.
    pub async fn comp_plan(&self, p: &Principal, id: i64) -> Result<PlanVersionRow, AppError> {
        self.comp_plans(p).await?.versions.into_iter().find(|v| v.id == id).ok_or(AppError::NotFound)
    }

    /// Assigns a plan to a payee (administrators).
    pub async fn comp_assign(
        &self,
        p: &Principal,
        plan_key: &str,
        payee: i64,
        starts_on: &str,
        ends_on: Option<&str>,
    ) -> Result<i64, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        if !self.store.comp_plan_versions().await?.iter().any(|v| v.plan_key == plan_key) {
            return Err(AppError::invalid("plan", format!("no plan '{plan_key}'")));
        }
        let date = |field: &str, s: &str| -> Result<Date, AppError> {
            s.trim().parse().map_err(|_| AppError::invalid(field, format!("'{s}' is not a date (YYYY-MM-DD)")))
        };
        let starts = date("starts_on", starts_on)?;
        let ends = ends_on.filter(|s| !s.trim().is_empty()).map(|s| date("ends_on", s)).transpose()?;
        if ends.is_some_and(|e| e < starts) {
            return Err(AppError::invalid("ends_on", "ends before it starts"));
        }
        self.store.user_get(UserId(payee)).await.map_err(|_| AppError::invalid("payee_id", "no such user"))?;
        Ok(self.store.comp_assign(&p.audit(self.now()), plan_key, payee, starts, ends).await?)
    }

    /// The caller accepts a plan version assigned to them.
    pub async fn comp_accept(&self, p: &Principal, version_id: i64) -> Result<(), AppError> {
        p.require_write_credential()?;
        let v = self.store.comp_plan_version(version_id).await?;
        let mine = self.store.comp_assignments(Some(p.user.id.0)).await?;
        if !mine.iter().any(|a| a.plan_key == v.plan_key) {
            return Err(AppError::NotFound);
        }
        Ok(self.store.comp_accept(&p.audit(self.now()), version_id, p.user.id.0).await?)
    }

    /// Calculates a period (Finance, administrators): every plan with payees assigned in the
    /// period, or only `plan`. All or nothing: when any payee's statement cannot be calculated
    /// nothing is written. A locked period is recalculated into delta lines in the next period.
    pub async fn comp_run(&self, p: &Principal, period: &str, plan: Option<&str>) -> Result<RunOutcome, AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let period = parse_period(period)?;
        let status = self.store.comp_period_status(&period.id).await?;
        if status == "approved" {
            return Err(AppError::Refused(format!(
                "period {} is approved: lock it, then recalculate into delta lines",
                period.id
            )));
        }
        let versions = self.store.comp_plan_versions().await?;
        let assignments = self.store.comp_assignments(None).await?;
        let acceptances = self.store.comp_acceptances().await?;
        let mut keys: BTreeSet<&str> =
            assignments.iter().filter(|a| assigned_in(a, &period)).map(|a| a.plan_key.as_str()).collect();
        if let Some(only) = plan {
            if !versions.iter().any(|v| v.plan_key == only) {
                return Err(AppError::invalid("plan", format!("no plan '{only}'")));
            }
            keys.retain(|k| *k == only);
        }
        let bookings = self.store.comp_bookings(period.start, period.end).await?;
        let transactions = bookings_to_transactions(&bookings)?;
        let fx = self.store.fx_table().await?;
        let (book, credit_notes) = comp::allocate_credits(&transactions, &Hierarchy::default());
        let mut diagnostics: Vec<String> = credit_notes.iter().map(ToString::to_string).collect();
        let next = next_period(&period)?;
        let previous = previous_period(&period)?;
        let holds = self.store.comp_holds().await?;
        let adjustments = self.store.comp_adjustments(Some("approved"), Some(&period.id), None).await?;
        let mut runs = Vec::new();
        for key in keys {
            let Some(version) = version_in_force(&versions, key, &period) else {
                diagnostics.push(format!("plan '{key}': no version in force in {}", period.id));
                continue;
            };
            let plan = Plan::parse(&version.body)
                .map_err(|e| AppError::Internal(format!("stored plan {} does not parse: {e}", version.id)))?;
            let mut payees: Vec<(Payee, PayeeState)> = Vec::new();
            let mut seen = BTreeSet::new();
            // Each payee starts from the closing state of the latest run of the month before.
            let mut opening: HashMap<i64, PayeeState> = HashMap::new();
            for (payee, json) in self.store.comp_closing_states(key, &previous.id).await? {
                if let std::collections::hash_map::Entry::Vacant(e) = opening.entry(payee) {
                    e.insert(crate::comp_ops::state_from_json(&json)?);
                }
            }
            for a in assignments.iter().filter(|a| a.plan_key == key && assigned_in(a, &period)) {
                if !seen.insert(a.payee_id) {
                    continue;
                }
                if !acceptances.iter().any(|c| c.payee_id == a.payee_id && c.plan_version_id == version.id) {
                    diagnostics.push(format!(
                        "{} ({}) has not accepted plan '{}' version {}",
                        a.payee_name, a.payee_email, key, version.version
                    ));
                }
                let mut payee = Payee::new(UserId(a.payee_id));
                crate::comp_ops::payee_inputs(&mut payee, key, &period, &holds, &adjustments)?;
                payees.push((payee, opening.remove(&a.payee_id).unwrap_or_default()));
            }
            let (statements, notes) = comp::calculate_period(&plan, &payees, &book, &period, &fx, 1);
            if statements.len() != payees.len() {
                let why: Vec<String> = notes.iter().map(ToString::to_string).collect();
                return Err(AppError::Refused(format!("nothing was written: {}", why.join("; "))));
            }
            diagnostics.extend(notes.iter().map(ToString::to_string));
            let hash = inputs_hash(&version.body, &payees, &transactions);
            if status == "locked" {
                let locked_runs = self.store.comp_runs(&period.id).await?;
                let run = locked_runs
                    .iter()
                    .find(|r| r.kind == "calculation" && r.plan_key == key)
                    .ok_or_else(|| AppError::Refused(format!("period {} is locked without a run", period.id)))?;
                let all = Viewer { user_id: p.user.id, visibility: Visibility::All, subtree: None };
                let old: HashMap<i64, StatementRow> = self
                    .store
                    .comp_statements(&all, &[run.id], None)
                    .await?
                    .into_iter()
                    .map(|s| (s.payee_id, s))
                    .collect();
                let mut out = Vec::new();
                for s in &statements {
                    let delta_lines = match old.get(&s.payee.0) {
                        Some(o) => comp::deltas(&stored_statement(o)?, s)
                            .map_err(|e| AppError::Refused(format!("nothing was written: {e}")))?,
                        None => s.lines.iter().filter(|l| l.status == LineStatus::Payable).cloned().collect(),
                    };
                    // Every payee's statement is written, even without delta lines, because it
                    // carries the recalculated closing state (year-to-date, draw balance, held
                    // lines) that the next month starts from; the latest run of a month wins
                    // for every payee. Statements without lines are not shown (see
                    // `shown_statements`).
                    let total: Decimal = delta_lines.iter().map(|l| l.amount.amount).sum();
                    let mut st = new_statement(s);
                    st.payable = total.to_string();
                    st.held = Decimal::ZERO.to_string();
                    st.lines = delta_lines.iter().map(new_line).collect();
                    out.push(st);
                }
                runs.push(NewRun {
                    period: next.id.to_string(),
                    kind: "delta".into(),
                    source_period: period.id.to_string(),
                    plan_version_id: version.id,
                    inputs_hash: hash,
                    diagnostics: diagnostics.clone(),
                    statements: out,
                });
            } else {
                runs.push(NewRun {
                    period: period.id.to_string(),
                    kind: "calculation".into(),
                    source_period: period.id.to_string(),
                    plan_version_id: version.id,
                    inputs_hash: hash,
                    diagnostics: diagnostics.clone(),
                    statements: statements.iter().map(new_statement).collect(),
                });
            }
        }
        if runs.is_empty() {
            return Err(AppError::Refused(format!("no plan is assigned to anybody in {}", period.id)));
        }
        // Every plan's run of this calculation commits in one transaction: all or nothing.
        let ctx = p.audit(self.now());
        let ids = self.store.comp_runs_save(&ctx, &runs).await?;
        let count = runs
            .iter()
            .map(|r| r.statements.iter().filter(|s| r.kind == "calculation" || !s.lines.is_empty()).count())
            .sum();
        Ok(RunOutcome { runs: ids, statements: count, diagnostics })
    }

    /// Moves a period: calculated -> approved -> locked (Finance, administrators).
    pub async fn comp_period_move(&self, p: &Principal, period: &str, to: &str) -> Result<(), AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let period = parse_period(period)?;
        let from = match to {
            "approved" => "calculated",
            "locked" => "approved",
            other => return Err(AppError::invalid("status", format!("'{other}': use approved or locked"))),
        };
        Ok(self.store.comp_period_move(&p.audit(self.now()), &period.id, from, to).await?)
    }

    pub async fn comp_period_status(&self, period: &str) -> Result<String, AppError> {
        let period = parse_period(period)?;
        Ok(self.store.comp_period_status(&period.id).await?)
    }

    /// The statements of a period the caller may see: the latest calculation and the latest
    /// delta runs paid in it. Asking for a payee one may not see is `NotFound`, like a missing one.
    pub async fn comp_statements(
        &self,
        p: &Principal,
        period: &str,
        payee: Option<i64>,
    ) -> Result<Vec<StatementRow>, AppError> {
        let period = parse_period(period)?;
        let viewer = self.payout_viewer(p).await?;
        let runs = latest_runs(&self.store.comp_runs(&period.id).await?);
        let rows = shown_statements(self.store.comp_statements(&viewer, &runs, payee).await?);
        if payee.is_some() && rows.is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(rows)
    }

    /// Statements of one run (payout readers, Finance, administrators).
    pub async fn comp_run_statements(&self, p: &Principal, run: i64) -> Result<Vec<StatementRow>, AppError> {
        if !(runs_payroll(p) || p.can(Permission::ReadAllPayouts)) {
            return Err(AppError::Forbidden);
        }
        self.store.comp_run(run).await?;
        let all = Viewer { user_id: p.user.id, visibility: Visibility::All, subtree: None };
        Ok(shown_statements(self.store.comp_statements(&all, &[run], None).await?))
    }

    /// Payroll per payee and currency of a run: (e-mail, name, currency, payable amount).
    pub async fn comp_payroll(
        &self,
        p: &Principal,
        run: i64,
    ) -> Result<Vec<(String, String, String, Decimal)>, AppError> {
        let mut rows: BTreeMap<(String, String), (String, Decimal)> = BTreeMap::new();
        for s in self.comp_run_statements(p, run).await? {
            let e = rows
                .entry((s.payee_email.clone(), s.currency.clone()))
                .or_insert((s.payee_name.clone(), Decimal::ZERO));
            e.1 += dec("payable", &s.payable)?;
        }
        Ok(rows.into_iter().map(|((email, cur), (name, amount))| (email, name, cur, amount)).collect())
    }

    /// "If I close this opportunity at this amount in this period, I earn ...": the caller's
    /// plan in force, their real credits in the period, plus one booking of `amount` in the
    /// plan's currency.
    pub async fn comp_what_if(
        &self,
        p: &Principal,
        period: &str,
        amount: &str,
        opportunity: Option<i64>,
    ) -> Result<(WhatIf, Plan), AppError> {
        let period = parse_period(period)?;
        let amount: Decimal = amount
            .trim()
            .parse()
            .ok()
            .filter(|a: &Decimal| *a > Decimal::ZERO)
            .ok_or_else(|| AppError::invalid("amount", format!("'{amount}' is not an amount above 0")))?;
        let me = p.user.id.0;
        let assignments = self.store.comp_assignments(Some(me)).await?;
        let versions = self.store.comp_plan_versions().await?;
        let version = assignments
            .iter()
            .filter(|a| assigned_in(a, &period))
            .find_map(|a| version_in_force(&versions, &a.plan_key, &period))
            .ok_or_else(|| AppError::invalid("period", format!("you have no plan in force in {}", period.id)))?;
        let plan = Plan::parse(&version.body).map_err(|e| AppError::Internal(e.to_string()))?;
        // The real year-to-date and draw balance carried from the month before.
        let previous = previous_period(&period)?;
        let prior = match self
            .store
            .comp_closing_states(&version.plan_key, &previous.id)
            .await?
            .into_iter()
            .find(|(id, _)| *id == me)
        {
            Some((_, json)) => crate::comp_ops::state_from_json(&json)?,
            None => PayeeState::default(),
        };
        let transactions = bookings_to_transactions(&self.store.comp_bookings(period.start, period.end).await?)?;
        let fx = self.store.fx_table().await?;
        let (book, _) = comp::allocate_credits(&transactions, &Hierarchy::default());
        let credits = book.get(&UserId(me)).map_or(&[][..], Vec::as_slice);
        let hypothetical = Transaction {
            id: TransactionId(-1),
            kind: TransactionKind::Booking,
            date: period.end,
            currency: plan.currency,
            opportunity: opportunity.map(OpportunityId),
            customer: None,
            new_customer: false,
            reverses: None,
            lines: vec![TransactionLine {
                product: Arc::from(""),
                product_line: Arc::from(""),
                quantity: Decimal::ONE,
                amount,
                cost: Decimal::ZERO,
            }],
            splits: vec![comp::Split { payee: UserId(me), share: Decimal::ONE }],
        };
        let w = comp::what_if(&plan, &Payee::new(UserId(me)), credits, &period, &prior, &fx, &hypothetical)
            .map_err(|e| AppError::Refused(e.to_string()))?;
        Ok((w, plan))
    }

    /// Plan modelling: `draft` (plan text) against the current plan of the same id (or, when
    /// there is none, the plan assigned to most payees) over the stored won opportunities of the
    /// months `from` to `to`, for the payees of the current plan (Finance, administrators).
    pub async fn comp_simulate(
        &self,
        p: &Principal,
        draft: &str,
        from: &str,
        to: &str,
    ) -> Result<(comp::PlanModel, Vec<String>), AppError> {
        require_runner(p)?;
        let draft = Plan::parse(draft).map_err(|e| AppError::invalid("text", e.to_string()))?;
        let (first, last) = (parse_period(from)?, parse_period(to)?);
        if last.start < first.start {
            return Err(AppError::invalid("to", "ends before it starts"));
        }
        let mut periods = vec![first.clone()];
        while periods.last().is_some_and(|p| p.start < last.start) {
            let next = next_period(periods.last().unwrap_or(&first))?;
            periods.push(next);
        }
        let versions = self.store.comp_plan_versions().await?;
        let assignments = self.store.comp_assignments(None).await?;
        let key = if versions.iter().any(|v| v.plan_key == *draft.id) {
            draft.id.to_string()
        } else {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for a in &assignments {
                *counts.entry(a.plan_key.as_str()).or_default() += 1;
            }
            counts
                .into_iter()
                .max_by_key(|(_, n)| *n)
                .map(|(k, _)| k.to_string())
                .ok_or_else(|| AppError::Refused("no plan is assigned to anybody yet".into()))?
        };
        let current = version_in_force(&versions, &key, &last)
            .or_else(|| version_in_force(&versions, &key, &first))
            .ok_or_else(|| AppError::Refused(format!("plan '{key}' has no version in force from {from} to {to}")))?;
        let current = Plan::parse(&current.body).map_err(|e| AppError::Internal(e.to_string()))?;
        let mut ids = BTreeSet::new();
        let payees: Vec<Payee> = assignments
            .iter()
            .filter(|a| a.plan_key == key && ids.insert(a.payee_id))
            .map(|a| Payee::new(UserId(a.payee_id)))
            .collect();
        let bookings = self.store.comp_bookings(first.start, last.end).await?;
        let transactions = bookings_to_transactions(&bookings)?;
        let fx = self.store.fx_table().await?;
        let (book, _) = comp::allocate_credits(&transactions, &Hierarchy::default());
        let (model, notes) = comp::model_plan(&draft, &current, &payees, &book, &periods, &fx, 2);
        Ok((model, notes.iter().map(ToString::to_string).collect()))
    }
}
