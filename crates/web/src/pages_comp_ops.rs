//! Compensation operations pages: a payee disputes a statement line (from `/comp/statement`),
//! and Finance's `/comp/operations` page lists the disputes awaiting a decision, adjustments
//! awaiting approval and the holds, with their actions (CSRF forms), plus `/comp/compare`, two
//! runs of a period compared line by line.

use askama::Template;
use axum::extract::{Query, State};
use rust_decimal::Decimal;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::i18n::Tr;
use crate::pages::{OrPage, PageError, PageResult, render, see_other, shell, url_encode};
use crate::pages_admin::error_text;
use app::{AdjustmentInput, AppError, HoldInput, Principal};
use model::{Currency, Money, Permission, Role};
use store::{DisputeFilter, DisputeRow};

/// Money text in the viewer's format (raw text when it does not parse).
pub(crate) fn money(t: &Tr, amount: &str, currency: &str) -> String {
    match (amount.parse::<Decimal>(), Currency::parse(currency)) {
        (Ok(a), Ok(c)) => t.money(&Money::new(a, c)),
        _ => format!("{amount} {currency}"),
    }
}

fn current_month(state: &AppState) -> String {
    let d = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    format!("{:04}-{:02}", d.year(), d.month())
}

fn runs_payroll(p: &Principal) -> bool {
    p.user.role == Role::Finance || p.can(Permission::AdministerOrganisation)
}

/// One step of a dispute's thread, formatted.
pub struct EventView {
    pub when: String,
    pub who: String,
    pub status: String,
    pub note: String,
}

/// A dispute with its thread, formatted.
pub struct DisputeView {
    pub id: i64,
    pub payee: String,
    pub status: String,
    pub status_label: String,
    pub line: String,
    pub amount: String,
    pub adjustment: Option<i64>,
    pub events: Vec<EventView>,
    pub unresolved: bool,
}

pub(crate) fn dispute_view(t: &Tr, d: &DisputeRow) -> DisputeView {
    DisputeView {
        id: d.id,
        payee: d.payee_name.clone(),
        status: d.status.clone(),
        status_label: t.t(&format!("comp-dispute-status-{}", d.status.replace('_', "-"))),
        line: d.line_sentence.clone(),
        amount: money(t, &d.line_amount, &d.currency),
        adjustment: d.adjustment_id,
        events: d
            .events
            .iter()
            .map(|e| EventView {
                when: t.ts(e.at),
                who: e.actor.clone().unwrap_or_default(),
                status: t.t(&format!("comp-dispute-status-{}", e.status.replace('_', "-"))),
                note: e.note.clone(),
            })
            .collect(),
        unresolved: d.status == "open" || d.status == "in_review",
    }
}

/// The payee disputes one of their lines from the statement page.
pub async fn dispute_open(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let line = f.id("line_id").or_page(p)?.ok_or_else(|| PageError::new(AppError::NotFound, Some(p)))?;
    let back = format!("/comp/statement?period={}", url_encode(f.get("period")));
    match state.app.comp_dispute_open(p, line, f.get("text")).await {
        Ok(id) => Ok(see_other(&format!("{back}#dispute-{id}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_) | AppError::Conflict(_))) => {
            Ok(see_other(&format!("{back}&error={}", url_encode(&error_text(&e)))))
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub struct HoldView {
    id: i64,
    scope: String,
    target: String,
    reason: String,
    from: String,
    released: String,
    active: bool,
}

pub struct AdjustmentView {
    id: i64,
    payee_id: i64,
    payee: String,
    /// The viewer may approve it (neither its requester nor its payee).
    can_approve: bool,
    period: String,
    amount: String,
    reason: String,
    note: String,
    requested_by: String,
    dispute: Option<i64>,
}

#[derive(Template)]
#[template(path = "comp_operations.html")]
struct OperationsPage {
    shell: crate::pages::Shell,
    period: String,
    can_act: bool,
    disputes: Vec<DisputeView>,
    adjustments: Vec<AdjustmentView>,
    holds: Vec<HoldView>,
    /// (id, name) of the payees with a plan.
    payees: Vec<(i64, String)>,
    plans: Vec<String>,
    /// (code, label)
    reasons: Vec<(String, String)>,
    /// (code, label)
    scopes: Vec<(String, String)>,
    error: Option<String>,
    done: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct OperationsQuery {
    pub period: Option<String>,
    pub error: Option<String>,
    pub done: Option<String>,
}

/// Finance's desk: disputes awaiting a decision, adjustments awaiting approval, holds.
pub async fn operations(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<OperationsQuery>,
) -> PageResult {
    let sh = shell(&p, "comp");
    let t = &sh.t;
    let period = q.period.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| current_month(&state));
    let period = app::parse_period(&period).or_page(&p)?.id.to_string();
    let holds = state.app.comp_holds(&p).await.or_page(&p)?;
    let f = DisputeFilter { unresolved: true, ..DisputeFilter::default() };
    let disputes = state.app.comp_disputes(&p, &f).await.or_page(&p)?;
    let pending = state.app.comp_adjustments(&p, Some("pending"), None).await.or_page(&p)?;
    let plans_view = state.app.comp_plans(&p).await.or_page(&p)?;
    let mut payees: Vec<(i64, String)> =
        plans_view.assignments.iter().map(|a| (a.payee_id, a.payee_name.clone())).collect();
    payees.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    payees.dedup();
    let mut plans: Vec<String> = plans_view.versions.iter().map(|v| v.plan_key.clone()).collect();
    plans.dedup();
    let page = OperationsPage {
        can_act: runs_payroll(&p),
        disputes: disputes.iter().map(|d| dispute_view(t, d)).collect(),
        adjustments: pending
            .iter()
            .map(|a| AdjustmentView {
                id: a.id,
                payee_id: a.payee_id,
                payee: a.payee_name.clone(),
                can_approve: a.requested_by != Some(p.user.id.0) && a.payee_id != p.user.id.0,
                period: a.period.clone(),
                amount: money(t, &a.amount, &a.currency),
                reason: t.t(&format!("comp-reason-{}", a.reason_code.replace('_', "-"))),
                note: a.note.clone(),
                requested_by: a.requested_by_name.clone().unwrap_or_default(),
                dispute: a.dispute_id,
            })
            .collect(),
        holds: holds
            .iter()
            .map(|h| HoldView {
                id: h.id,
                scope: t.t(&format!("comp-scope-{}", h.scope)),
                target: match h.scope.as_str() {
                    "opportunity" => format!(
                        "#{} {}",
                        h.opportunity_id.unwrap_or_default(),
                        h.opportunity_name.clone().unwrap_or_default()
                    ),
                    "payee" => h.payee_name.clone().unwrap_or_default(),
                    _ => h.plan_key.clone().unwrap_or_default(),
                },
                reason: h.reason.clone(),
                from: h.from_period.clone(),
                released: h.released_in.clone().unwrap_or_default(),
                active: h.released_in.is_none(),
            })
            .collect(),
        payees,
        plans,
        reasons: app::ADJUSTMENT_REASONS
            .iter()
            .map(|r| (r.to_string(), t.t(&format!("comp-reason-{}", r.replace('_', "-")))))
            .collect(),
        scopes: ["opportunity", "payee", "plan"]
            .iter()
            .map(|s| (s.to_string(), t.t(&format!("comp-scope-{s}"))))
            .collect(),
        error: q.error.clone(),
        done: q.done.as_ref().map(|_| t.t("flash-saved")),
        period,
        shell: sh,
    };
    Ok(render(&page))
}

/// Finance's actions from the operations page: hold, release, adjust, approve, and the dispute
/// transitions. Refusals come back as an error above the page.
pub async fn action(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let period = f.get("period").to_string();
    let opt_id = |k: &str| f.id(k);
    let result: Result<(), AppError> = async {
        match f.get("action") {
            "hold" => {
                let scope = f.get("scope").to_string();
                let input = HoldInput {
                    opportunity_id: if scope == "opportunity" { opt_id("opportunity_id")? } else { None },
                    payee_id: if scope == "payee" { opt_id("payee_id")? } else { None },
                    plan: (scope == "plan").then(|| f.get("plan").to_string()),
                    scope,
                    reason: f.get("reason").to_string(),
                    from_period: f.get("from_period").to_string(),
                };
                state.app.comp_hold_create(p, &input).await.map(|_| ())
            }
            "release" => {
                let id = opt_id("id")?.ok_or(AppError::NotFound)?;
                state.app.comp_hold_release(p, id, f.get("release_period")).await
            }
            "adjust" => {
                let input = AdjustmentInput {
                    payee_id: opt_id("payee_id")?.ok_or_else(|| AppError::invalid("payee_id", "which payee?"))?,
                    period: f.get("adj_period").to_string(),
                    amount: f.get("amount").to_string(),
                    currency: f.get("currency").to_string(),
                    reason_code: f.get("reason_code").to_string(),
                    note: f.get("note").to_string(),
                    opportunity_id: opt_id("opportunity_id")?,
                    plan: Some(f.get("adj_plan").trim()).filter(|k| !k.is_empty()).map(str::to_string),
                };
                state.app.comp_adjustment_create(p, &input).await.map(|_| ())
            }
            "approve" => {
                let id = opt_id("id")?.ok_or(AppError::NotFound)?;
                state.app.comp_adjustment_approve(p, id).await
            }
            to @ ("in_review" | "accepted" | "rejected") => {
                let id = opt_id("id")?.ok_or(AppError::NotFound)?;
                let amount = f.get("amount");
                let amount = (!amount.trim().is_empty()).then_some(amount);
                state.app.comp_dispute_move(p, id, to, f.get("note"), amount).await.map(|_| ())
            }
            other => Err(AppError::invalid("action", format!("'{other}'"))),
        }
    }
    .await;
    let back = format!("/comp/operations?period={}", url_encode(&period));
    match result {
        Ok(()) => Ok(see_other(&format!("{back}&done=1"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_) | AppError::Conflict(_))) => {
            Ok(see_other(&format!("{back}&error={}", url_encode(&error_text(&e)))))
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub struct ComparedView {
    payee: String,
    rule: String,
    sentence: String,
    before: String,
    after: String,
    change: String,
    opportunity: Option<i64>,
}

#[derive(Template)]
#[template(path = "comp_compare.html")]
struct ComparePage {
    shell: crate::pages::Shell,
    period: String,
    /// (id, label) of the period's runs, newest first.
    runs: Vec<(i64, String)>,
    a: i64,
    b: i64,
    compared: bool,
    /// (title, id, lines): changed, added, removed.
    sections: Vec<(String, &'static str, Vec<ComparedView>)>,
    unchanged: String,
    total_a: String,
    total_b: String,
}

#[derive(serde::Deserialize, Default)]
pub struct CompareQuery {
    pub period: Option<String>,
    pub a: Option<i64>,
    pub b: Option<i64>,
}

/// Two runs of a period compared line by line (defaults: the two newest runs).
pub async fn compare(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<CompareQuery>,
) -> PageResult {
    let sh = shell(&p, "comp");
    let t = &sh.t;
    let period = q.period.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| current_month(&state));
    let runs = state.app.comp_period_runs(&p, &period).await.or_page(&p)?;
    let period = app::parse_period(&period).or_page(&p)?.id.to_string();
    let labels: Vec<(i64, String)> = runs
        .iter()
        .map(|r| {
            let kind = if r.kind == "delta" {
                t.t1("comp-delta-of", "period", &r.source_period)
            } else {
                t.t("comp-kind-calculation")
            };
            (r.id, format!("#{} {} · {} · {}", r.id, r.plan_key, kind, t.ts(r.created_at)))
        })
        .collect();
    let a = q.a.or_else(|| runs.get(1).map(|r| r.id)).unwrap_or_default();
    let b = q.b.or_else(|| runs.first().map(|r| r.id)).unwrap_or_default();
    let mut page = ComparePage {
        period,
        runs: labels,
        a,
        b,
        compared: false,
        sections: vec![],
        unchanged: String::new(),
        total_a: String::new(),
        total_b: String::new(),
        shell: sh,
    };
    if a > 0 && b > 0 && a != b {
        let c = state.app.comp_run_compare(&p, a, b).await.or_page(&p)?;
        let t = &page.shell.t;
        let m = |d: Option<Decimal>, cur: &str| d.map(|d| money(t, &d.to_string(), cur)).unwrap_or_default();
        let view = |l: &app::ComparedLine| ComparedView {
            payee: l.payee_name.clone(),
            rule: l.rule.clone(),
            sentence: l.sentence.clone(),
            before: m(l.before, &l.currency),
            after: m(l.after, &l.currency),
            change: m(Some(l.after.unwrap_or_default() - l.before.unwrap_or_default()), &l.currency),
            opportunity: l.opportunity_id,
        };
        let totals = |map: &std::collections::BTreeMap<String, Decimal>| {
            map.iter().map(|(c, v)| money(t, &v.to_string(), c)).collect::<Vec<_>>().join(" + ")
        };
        page.sections = vec![
            (t.t("comp-changed"), "changed", c.changed.iter().map(view).collect()),
            (t.t("comp-added"), "added", c.added.iter().map(view).collect()),
            (t.t("comp-removed"), "removed", c.removed.iter().map(view).collect()),
        ];
        page.unchanged = t.int(i64::try_from(c.unchanged).unwrap_or(i64::MAX));
        page.total_a = totals(&c.payable_a);
        page.total_b = totals(&c.payable_b);
        page.compared = true;
    }
    Ok(render(&page))
}
