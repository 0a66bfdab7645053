//! Compensation operations: the state carried from one month to the next, holds and releases,
//! manual adjustments approved by a second person, disputes on statement lines, and the line
//! by line comparison of two runs.
//!
//! Who may do what: Finance and administrators put and release holds, request and approve
//! adjustments (never their own request, never for themselves) and move disputes; a payee
//! opens disputes on their own lines only; disputes are read like statements (own, team, all).

use std::collections::BTreeMap;
use std::sync::Arc;

use comp::{Adjustment, HeldLine, Hold, HoldScope, LineKey, Payee, PayeeState, Period, Plan, RuleId, TransactionId};
use model::{Currency, OpportunityId, Permission, UserId, Visibility};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use store::{AdjustmentRow, DisputeFilter, DisputeRow, HoldRow, NewAdjustment, NewHold, RunRow, Viewer};

use crate::comp::{LINE_KINDS, dec, parse_period, require_runner, runs_payroll, version_in_force};
use crate::{App, AppError, Principal};

/// The reason codes an adjustment may carry (a fixed list, documented in docs/comp-plans.md).
pub const ADJUSTMENT_REASONS: &[&str] =
    &["missed_credit", "split_correction", "calculation_error", "dispute", "guarantee", "other"];

/// Dispute states, in workflow order.
pub const DISPUTE_STATES: &[&str] = &["open", "in_review", "accepted", "rejected"];

const MAX_TEXT: usize = 4000;

/// A payee's closing state as JSON (stored with the statement; amounts as exact decimal text).
pub fn state_json(s: &PayeeState) -> Value {
    json!({
        "year": s.year,
        "year_to_date": s.year_to_date.iter().map(|(k, v)| (k.as_str().to_string(), Value::from(v.to_string()))).collect::<serde_json::Map<_, _>>(),
        "draw_balance": s.draw_balance.to_string(),
        "held": s.held.iter().map(|h| json!({
            "period": &*h.period,
            "rule": h.key.rule.as_str(),
            "kind": h.key.kind.as_str(),
            "transaction": h.key.transaction.map(|t| t.0),
            "overlay_of": h.key.overlay_of.map(|u| u.0),
            "segment": h.key.segment,
            "group": h.key.group,
            "amount": h.amount.to_string(),
            "opportunity": h.opportunity.map(|o| o.0),
            "reason": h.reason,
        })).collect::<Vec<_>>(),
    })
}

/// The stored JSON back as a state.
pub fn state_from_json(text: &str) -> Result<PayeeState, AppError> {
    let bad = |what: &str| AppError::Internal(format!("stored closing state: {what}"));
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let s = |v: &Value, what: &str| v.as_str().map(str::to_string).ok_or_else(|| bad(what));
    let mut state = PayeeState {
        year: v["year"].as_i64().and_then(|y| i16::try_from(y).ok()).ok_or_else(|| bad("year"))?,
        draw_balance: dec("draw_balance", &s(&v["draw_balance"], "draw_balance")?)?,
        ..PayeeState::default()
    };
    if let Some(map) = v["year_to_date"].as_object() {
        for (k, amount) in map {
            state.year_to_date.insert(RuleId::named(k), dec("year_to_date", &s(amount, "year_to_date")?)?);
        }
    }
    for h in v["held"].as_array().map_or(&[][..], Vec::as_slice) {
        let kind = s(&h["kind"], "kind")?;
        let kind = LINE_KINDS.into_iter().find(|k| k.as_str() == kind).ok_or_else(|| bad("kind"))?;
        state.held.push(HeldLine {
            period: Arc::from(s(&h["period"], "period")?.as_str()),
            key: LineKey {
                rule: RuleId::named(&s(&h["rule"], "rule")?),
                kind,
                transaction: h["transaction"].as_i64().map(TransactionId),
                overlay_of: h["overlay_of"].as_i64().map(UserId),
                segment: h["segment"].as_u64().and_then(|v| u32::try_from(v).ok()).unwrap_or_default(),
                group: h["group"].as_i64().unwrap_or_default(),
            },
            amount: dec("held amount", &s(&h["amount"], "amount")?)?,
            opportunity: h["opportunity"].as_i64().map(OpportunityId),
            reason: h["reason"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(state)
}

fn hold_scope(h: &HoldRow) -> Option<HoldScope> {
    match h.scope.as_str() {
        "opportunity" => h.opportunity_id.map(|o| HoldScope::Opportunity(OpportunityId(o))),
        "payee" => h.payee_id.map(|p| HoldScope::Payee(UserId(p))),
        "plan" => h.plan_key.as_deref().map(|k| HoldScope::Plan(Arc::from(k))),
        _ => None,
    }
}

/// Whether a hold keeps lines of `plan_key` for `payee` back at all (opportunity holds apply to
/// every payee credited on the opportunity).
fn concerns(h: &HoldRow, payee: i64, plan_key: &str) -> bool {
    match h.scope.as_str() {
        "payee" => h.payee_id == Some(payee),
        "plan" => h.plan_key.as_deref() == Some(plan_key),
        _ => true,
    }
}

/// The payee's holds, releases and approved adjustments for one plan and period: a hold holds
/// from its first period until (not including) the period it is released in, where its held
/// lines are paid.
pub(crate) fn payee_inputs(
    payee: &mut Payee,
    plan_key: &str,
    period: &Period,
    holds: &[HoldRow],
    adjustments: &[AdjustmentRow],
) -> Result<(), AppError> {
    let id = payee.id.0;
    for h in holds.iter().filter(|h| concerns(h, id, plan_key)) {
        let Some(scope) = hold_scope(h) else { continue };
        let started = h.from_period.as_str() <= &*period.id;
        match h.released_in.as_deref() {
            Some(r) if r == &*period.id => payee.releases.push(scope),
            Some(r) if r < &*period.id => {}
            _ if started => payee.holds.push(Hold { scope, reason: h.reason.clone() }),
            _ => {}
        }
    }
    for a in adjustments.iter().filter(|a| a.payee_id == id && a.plan_key == plan_key && a.status == "approved") {
        payee.adjustments.push(Adjustment {
            id: a.id,
            amount: dec("adjustment", &a.amount)?,
            reason_code: a.reason_code.clone(),
            approver: a.approved_by.map(UserId),
            approver_name: a.approved_by_name.clone(),
            opportunity: a.opportunity_id.map(OpportunityId),
        });
    }
    Ok(())
}

/// A hold as asked for: what it holds (`opportunity`, `payee` or `plan` with its id), why and
/// from which month.
#[derive(Debug, Clone, Default)]
pub struct HoldInput {
    pub scope: String,
    pub opportunity_id: Option<i64>,
    pub payee_id: Option<i64>,
    pub plan: Option<String>,
    pub reason: String,
    pub from_period: String,
}

/// An adjustment as asked for. The amount is signed, in the plan's currency.
#[derive(Debug, Clone, Default)]
pub struct AdjustmentInput {
    pub payee_id: i64,
    pub period: String,
    pub amount: String,
    pub currency: String,
    pub reason_code: String,
    pub note: String,
    pub opportunity_id: Option<i64>,
    /// The plan whose statement carries it; absent: the payee's plan in force in the period.
    pub plan: Option<String>,
}

/// One line in a comparison of two runs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComparedLine {
    pub payee_id: i64,
    pub payee_name: String,
    pub rule: String,
    pub kind: String,
    pub status: String,
    pub opportunity_id: Option<i64>,
    pub currency: String,
    /// Amount in run A (absent for added lines).
    pub before: Option<Decimal>,
    /// Amount in run B (absent for removed lines).
    pub after: Option<Decimal>,
    /// The sentence of the newer line (of run A for removed lines).
    pub sentence: String,
}

/// Two runs of a period compared line by line (lines matched by payee and line key).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunComparison {
    pub run_a: i64,
    pub run_b: i64,
    pub period: String,
    pub added: Vec<ComparedLine>,
    pub removed: Vec<ComparedLine>,
    pub changed: Vec<ComparedLine>,
    pub unchanged: usize,
    /// Payable totals per currency of run A and run B.
    pub payable_a: BTreeMap<String, Decimal>,
    pub payable_b: BTreeMap<String, Decimal>,
}

fn text(field: &str, s: &str, required: bool) -> Result<String, AppError> {
    let s = s.trim();
    if required && s.is_empty() {
        return Err(AppError::invalid(field, "write a few words"));
    }
    if s.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(field, format!("at most {MAX_TEXT} characters")));
    }
    Ok(s.to_string())
}

fn reads_payouts(p: &Principal) -> bool {
    runs_payroll(p) || p.can(Permission::ReadAllPayouts)
}

impl App {
    /// The viewer for disputes: like statements (own, team, all for payout readers).
    async fn dispute_viewer(&self, p: &Principal) -> Result<Viewer, AppError> {
        let mut v = self.viewer(p).await?;
        if v.visibility == Visibility::All && !reads_payouts(p) && !p.can(Permission::AdministerOrganisation) {
            v.visibility = Visibility::Own;
        }
        Ok(v)
    }

    /// Puts a hold (Finance, administrators).
    pub async fn comp_hold_create(&self, p: &Principal, h: &HoldInput) -> Result<i64, AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let from = parse_period(&h.from_period).map_err(|_| {
            AppError::invalid("from_period", format!("'{}' is not a month such as 2026-03", h.from_period))
        })?;
        let reason = text("reason", &h.reason, true)?;
        let mut new = NewHold {
            scope: h.scope.clone(),
            opportunity_id: None,
            payee_id: None,
            plan_key: None,
            reason,
            from_period: from.id.to_string(),
        };
        match h.scope.as_str() {
            "opportunity" => {
                let id = h.opportunity_id.ok_or_else(|| AppError::invalid("opportunity_id", "which opportunity?"))?;
                self.store
                    .opportunity_get(&self.viewer(p).await?, model::OpportunityId(id))
                    .await
                    .map_err(|_| AppError::invalid("opportunity_id", format!("no opportunity {id}")))?;
                new.opportunity_id = Some(id);
            }
            "payee" => {
                let id = h.payee_id.ok_or_else(|| AppError::invalid("payee_id", "which payee?"))?;
                self.store.user_get(UserId(id)).await.map_err(|_| AppError::invalid("payee_id", "no such user"))?;
                new.payee_id = Some(id);
            }
            "plan" => {
                let key = h.plan.clone().unwrap_or_default();
                if !self.store.comp_plan_versions().await?.iter().any(|v| v.plan_key == key) {
                    return Err(AppError::invalid("plan", format!("no plan '{key}'")));
                }
                new.plan_key = Some(key);
            }
            other => return Err(AppError::invalid("scope", format!("'{other}': use opportunity, payee or plan"))),
        }
        Ok(self.store.comp_hold_create(&p.audit(self.now()), &new).await?)
    }

    /// Releases a hold: the lines it kept back are paid in `period` (Finance, administrators).
    pub async fn comp_hold_release(&self, p: &Principal, id: i64, period: &str) -> Result<(), AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let period = parse_period(period)?;
        let hold = self.store.comp_hold(id).await?;
        if &*period.id < hold.from_period.as_str() {
            return Err(AppError::invalid("period", format!("the hold starts in {}", hold.from_period)));
        }
        let status = self.store.comp_period_status(&period.id).await?;
        if status == "approved" || status == "locked" {
            return Err(AppError::Refused(format!("period {} is {status}: release into an open month", period.id)));
        }
        Ok(self.store.comp_hold_release(&p.audit(self.now()), id, &period.id).await?)
    }

    /// Every hold (payout readers, Finance, administrators).
    pub async fn comp_holds(&self, p: &Principal) -> Result<Vec<HoldRow>, AppError> {
        if !reads_payouts(p) {
            return Err(AppError::Forbidden);
        }
        Ok(self.store.comp_holds().await?)
    }

    /// The plan of `payee` in force in `period` (`plan` when given), as stored and parsed.
    async fn payee_plan(&self, payee: i64, period: &Period, plan: Option<&str>) -> Result<(String, Plan), AppError> {
        let versions = self.store.comp_plan_versions().await?;
        let assignments = self.store.comp_assignments(Some(payee)).await?;
        let mut in_force: Vec<_> = assignments
            .iter()
            .filter(|a| crate::comp::assigned_in(a, period) && plan.is_none_or(|k| k == a.plan_key))
            .filter_map(|a| version_in_force(&versions, &a.plan_key, period))
            .collect();
        in_force.dedup_by_key(|v| v.id);
        let version = match in_force.as_slice() {
            [one] => *one,
            [] => {
                return Err(AppError::invalid("plan", format!("the payee has no such plan in force in {}", period.id)));
            }
            several => {
                let keys: Vec<&str> = several.iter().map(|v| v.plan_key.as_str()).collect();
                return Err(AppError::invalid(
                    "plan",
                    format!("the payee has several plans in force ({}): name one", keys.join(", ")),
                ));
            }
        };
        let parsed = Plan::parse(&version.body).map_err(|e| AppError::Internal(e.to_string()))?;
        Ok((version.plan_key.clone(), parsed))
    }

    /// Requests a manual adjustment (Finance, administrators); it waits for another person's
    /// approval and is paid by the next calculation of its period.
    pub async fn comp_adjustment_create(&self, p: &Principal, a: &AdjustmentInput) -> Result<i64, AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let period = parse_period(&a.period)?;
        let amount: Decimal = a.amount.trim().parse().ok().filter(|d: &Decimal| !d.is_zero()).ok_or_else(|| {
            AppError::invalid("amount", format!("'{}' is not an amount (negative to take back)", a.amount))
        })?;
        if !ADJUSTMENT_REASONS.contains(&a.reason_code.as_str()) {
            return Err(AppError::invalid(
                "reason_code",
                format!("'{}': use one of {}", a.reason_code, ADJUSTMENT_REASONS.join(", ")),
            ));
        }
        let note = text("note", &a.note, true)?;
        self.store.user_get(UserId(a.payee_id)).await.map_err(|_| AppError::invalid("payee_id", "no such user"))?;
        if a.payee_id == p.user.id.0 {
            return Err(AppError::Refused("nobody adjusts their own pay".into()));
        }
        let (plan_key, plan) = self.payee_plan(a.payee_id, &period, a.plan.as_deref()).await?;
        let currency = Currency::parse(a.currency.trim())
            .map_err(|_| AppError::invalid("currency", format!("'{}' is not a currency", a.currency)))?;
        if currency != plan.currency {
            return Err(AppError::invalid(
                "currency",
                format!("plan '{plan_key}' calculates in {}: give the amount in {}", plan.currency, plan.currency),
            ));
        }
        if let Some(o) = a.opportunity_id {
            self.store
                .opportunity_get(&self.viewer(p).await?, OpportunityId(o))
                .await
                .map_err(|_| AppError::invalid("opportunity_id", format!("no opportunity {o}")))?;
        }
        let new = NewAdjustment {
            payee_id: a.payee_id,
            plan_key,
            period: period.id.to_string(),
            amount: amount.to_string(),
            currency: currency.code().to_string(),
            reason_code: a.reason_code.clone(),
            note,
            opportunity_id: a.opportunity_id,
        };
        Ok(self.store.comp_adjustment_create(&p.audit(self.now()), &new).await?)
    }

    /// Approves an adjustment: Finance or an administrator who neither requested it nor is paid
    /// by it.
    pub async fn comp_adjustment_approve(&self, p: &Principal, id: i64) -> Result<(), AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let a = self.store.comp_adjustment(id).await?;
        if a.requested_by == Some(p.user.id.0) {
            return Err(AppError::Refused("an adjustment is approved by someone other than who requested it".into()));
        }
        if a.payee_id == p.user.id.0 {
            return Err(AppError::Refused("nobody approves their own pay".into()));
        }
        Ok(self.store.comp_adjustment_approve(&p.audit(self.now()), id).await?)
    }

    /// Adjustments: every one for payout readers, Finance and administrators; one's own otherwise.
    pub async fn comp_adjustments(
        &self,
        p: &Principal,
        status: Option<&str>,
        period: Option<&str>,
    ) -> Result<Vec<AdjustmentRow>, AppError> {
        let period = period.map(parse_period).transpose()?;
        let payee = if reads_payouts(p) { None } else { Some(p.user.id.0) };
        Ok(self.store.comp_adjustments(status, period.as_ref().map(|p| &*p.id), payee).await?)
    }

    /// The payee opens a dispute on one of their own statement lines; anybody else's line is
    /// not found.
    pub async fn comp_dispute_open(&self, p: &Principal, line_id: i64, text_in: &str) -> Result<i64, AppError> {
        p.require_write_credential()?;
        let own = Viewer { user_id: p.user.id, visibility: Visibility::Own, subtree: None };
        let line = self.store.comp_line_ref(&own, line_id).await?;
        let body = text("text", text_in, true)?;
        Ok(self.store.comp_dispute_open(&p.audit(self.now()), &line, &body).await?)
    }

    /// Moves a dispute (Finance, administrators): open -> in_review; open or in_review ->
    /// accepted (with the amount of the adjustment it creates, pending approval) or rejected
    /// (with a reason). Returns the adjustment created.
    pub async fn comp_dispute_move(
        &self,
        p: &Principal,
        id: i64,
        to: &str,
        note: &str,
        amount: Option<&str>,
    ) -> Result<Option<i64>, AppError> {
        require_runner(p)?;
        p.require_write_credential()?;
        let dispute = self.comp_dispute(p, id).await?;
        let ctx = p.audit(self.now());
        match to {
            "in_review" => {
                let note = text("note", note, false)?;
                Ok(self.store.comp_dispute_move(&ctx, id, &["open"], to, &note, None).await?)
            }
            "rejected" => {
                let note = text("note", note, true)?;
                Ok(self.store.comp_dispute_move(&ctx, id, &["open", "in_review"], to, &note, None).await?)
            }
            "accepted" => {
                let note = text("note", note, false)?;
                let amount: Decimal =
                    amount.unwrap_or_default().trim().parse().ok().filter(|d: &Decimal| !d.is_zero()).ok_or_else(
                        || AppError::invalid("amount", "the amount of the adjustment (negative to take back)"),
                    )?;
                let all = Viewer { user_id: p.user.id, visibility: Visibility::All, subtree: None };
                let line = self.store.comp_line_ref(&all, dispute.line_id).await?;
                let run = self.store.comp_run(line.run_id).await?;
                let version = self.store.comp_plan_version(run.plan_version_id).await?;
                let plan = Plan::parse(&version.body).map_err(|e| AppError::Internal(e.to_string()))?;
                // Paid in the line's month while that is still open, else the next open month.
                let mut period = parse_period(&line.period)?;
                for _ in 0..36 {
                    let status = self.store.comp_period_status(&period.id).await?;
                    if status == "open" || status == "calculated" {
                        break;
                    }
                    period = crate::comp::next_period(&period)?;
                }
                let adjustment = NewAdjustment {
                    payee_id: dispute.payee_id,
                    plan_key: line.plan_key.clone(),
                    period: period.id.to_string(),
                    amount: amount.to_string(),
                    currency: plan.currency.code().to_string(),
                    reason_code: "dispute".into(),
                    note: if note.is_empty() { format!("dispute {id}") } else { format!("dispute {id}: {note}") },
                    opportunity_id: line.opportunity_id,
                };
                Ok(self.store.comp_dispute_move(&ctx, id, &["open", "in_review"], to, &note, Some(&adjustment)).await?)
            }
            other => Err(AppError::invalid("status", format!("'{other}': use in_review, accepted or rejected"))),
        }
    }

    /// Disputes the caller may see: a payee their own, a manager their team's, Finance all.
    pub async fn comp_disputes(&self, p: &Principal, f: &DisputeFilter) -> Result<Vec<DisputeRow>, AppError> {
        if let Some(s) = &f.status
            && !DISPUTE_STATES.contains(&s.as_str())
        {
            return Err(AppError::invalid("status", format!("'{s}': use {}", DISPUTE_STATES.join(", "))));
        }
        let viewer = self.dispute_viewer(p).await?;
        Ok(self.store.comp_disputes(&viewer, f).await?)
    }

    /// One dispute with its thread; not found when the caller may not see it.
    pub async fn comp_dispute(&self, p: &Principal, id: i64) -> Result<DisputeRow, AppError> {
        let f = DisputeFilter { id: Some(id), ..DisputeFilter::default() };
        self.comp_disputes(p, &f).await?.pop().ok_or(AppError::NotFound)
    }

    /// The runs of a period (as paid in), newest first (payout readers, Finance, administrators).
    pub async fn comp_period_runs(&self, p: &Principal, period: &str) -> Result<Vec<RunRow>, AppError> {
        if !reads_payouts(p) {
            return Err(AppError::Forbidden);
        }
        let period = parse_period(period)?;
        Ok(self.store.comp_runs(&period.id).await?)
    }

    /// Two runs of the same period compared line by line: lines added in B, removed from A, and
    /// lines whose amount changed (matched by payee and line key).
    pub async fn comp_run_compare(&self, p: &Principal, run_a: i64, run_b: i64) -> Result<RunComparison, AppError> {
        if !reads_payouts(p) {
            return Err(AppError::Forbidden);
        }
        let (a, b) = (self.store.comp_run(run_a).await?, self.store.comp_run(run_b).await?);
        if a.source_period != b.source_period || a.period != b.period {
            return Err(AppError::invalid(
                "run_b",
                format!(
                    "run {run_a} is of {} and run {run_b} of {}: compare runs of one period",
                    a.source_period, b.source_period
                ),
            ));
        }
        type Key = (i64, String, String, Option<i64>, Option<i64>, i64, i64, String);
        let lines = |rows: Vec<store::StatementRow>| {
            let mut out: BTreeMap<Key, ComparedLine> = BTreeMap::new();
            let mut totals: BTreeMap<String, Decimal> = BTreeMap::new();
            for s in rows {
                *totals.entry(s.currency.clone()).or_default() += s.payable.parse::<Decimal>().unwrap_or_default();
                for l in s.lines {
                    let key = (
                        s.payee_id,
                        l.rule.clone(),
                        l.kind.clone(),
                        l.transaction_id,
                        l.overlay_of,
                        l.segment,
                        l.grp,
                        l.status.clone(),
                    );
                    let amount = l.amount.parse::<Decimal>().unwrap_or_default();
                    out.entry(key).and_modify(|c| c.after = c.after.map(|x| x + amount)).or_insert(ComparedLine {
                        payee_id: s.payee_id,
                        payee_name: s.payee_name.clone(),
                        rule: l.rule,
                        kind: l.kind,
                        status: l.status,
                        opportunity_id: l.opportunity_id,
                        currency: s.currency.clone(),
                        before: None,
                        after: Some(amount),
                        sentence: l.sentence,
                    });
                }
            }
            (out, totals)
        };
        let all = Viewer { user_id: p.user.id, visibility: Visibility::All, subtree: None };
        let (old, payable_a) = lines(self.store.comp_statements(&all, &[run_a], None).await?);
        let (mut new, payable_b) = lines(self.store.comp_statements(&all, &[run_b], None).await?);
        let mut cmp = RunComparison {
            run_a,
            run_b,
            period: a.source_period.clone(),
            added: vec![],
            removed: vec![],
            changed: vec![],
            unchanged: 0,
            payable_a,
            payable_b,
        };
        for (key, mut was) in old {
            was.before = was.after.take();
            match new.remove(&key) {
                None => cmp.removed.push(was),
                Some(now) if now.after == was.before => cmp.unchanged += 1,
                Some(now) => cmp.changed.push(ComparedLine { before: was.before, ..now }),
            }
        }
        cmp.added = new.into_values().collect();
        Ok(cmp)
    }
}
