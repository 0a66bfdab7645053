//! Compensation pages: plans (read, accept, paste a new version with its parse error shown at
//! line and column), and the statement of a period with explained lines, the period's state
//! and actions for Finance, and the what-if box on one's own statement.

use askama::Template;
use axum::extract::{Query, State};
use rust_decimal::Decimal;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::pages::{OrPage, PageError, PageResult, render, see_other, shell, url_encode};
use crate::pages_admin::error_text;
use app::{AppError, Principal};
use model::{Currency, Money, Permission, Role};

fn current_month(state: &AppState) -> String {
    let d = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    format!("{:04}-{:02}", d.year(), d.month())
}

fn percent(s: &str) -> String {
    s.parse::<Decimal>().map(|d| format!("{}%", (d * Decimal::from(100)).round_dp(1).normalize())).unwrap_or_default()
}

fn money(t: &crate::i18n::Tr, amount: &str, currency: &str) -> String {
    match (amount.parse::<Decimal>(), Currency::parse(currency)) {
        (Ok(a), Ok(c)) => t.money(&Money::new(a, c)),
        _ => format!("{amount} {currency}"),
    }
}

// ---- plans ----------------------------------------------------------------------------------

pub struct PlanView {
    id: i64,
    plan: String,
    version: i64,
    name: String,
    effective: String,
    accepted: String,
    can_accept: bool,
}

#[derive(Template)]
#[template(path = "comp_plans.html")]
struct PlansPage {
    shell: crate::pages::Shell,
    plans: Vec<PlanView>,
    /// The plan version shown in full: (title, text).
    shown: Option<(String, String)>,
    /// (plan, payee, from, to)
    assignments: Vec<(String, String, String, String)>,
    can_admin: bool,
    text: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct PlansQuery {
    pub id: Option<i64>,
    pub done: Option<String>,
    pub error: Option<String>,
}

async fn plans_page(
    state: &AppState,
    p: &Principal,
    show: Option<i64>,
    text: String,
    error: Option<String>,
) -> PageResult {
    let mut sh = shell(p, "comp");
    let view = state.app.comp_plans(p).await.or_page(p)?;
    let mine: Vec<&str> =
        view.assignments.iter().filter(|a| a.payee_id == p.user.id.0).map(|a| a.plan_key.as_str()).collect();
    let plans: Vec<PlanView> = view
        .versions
        .iter()
        .map(|v| {
            let acc = view.acceptances.iter().find(|a| a.plan_version_id == v.id && a.payee_id == p.user.id.0);
            let count = view.acceptances.iter().filter(|a| a.plan_version_id == v.id).count();
            PlanView {
                id: v.id,
                plan: v.plan_key.clone(),
                version: v.version,
                name: v.name.clone(),
                effective: format!(
                    "{} – {}",
                    sh.t.date(v.effective_from),
                    v.effective_to.map(|d| sh.t.date(d)).unwrap_or_default()
                ),
                accepted: match acc {
                    Some(a) => format!("{} {}", sh.t.t("comp-accepted-on"), sh.t.ts(a.accepted_at)),
                    None if mine.contains(&v.plan_key.as_str()) => sh.t.t("comp-not-accepted"),
                    None => sh.t.t1("comp-acceptances", "count", count),
                },
                can_accept: acc.is_none() && mine.contains(&v.plan_key.as_str()),
            }
        })
        .collect();
    let shown_id = show.or_else(|| plans.last().map(|v| v.id));
    let shown = shown_id
        .and_then(|id| view.versions.iter().find(|v| v.id == id))
        .map(|v| (format!("{} — {} v{}", v.name, v.plan_key, v.version), v.body.clone()));
    if show.is_some() && shown.is_none() {
        return Err(PageError::new(AppError::NotFound, Some(p)));
    }
    sh.flash = None;
    let assignments = view
        .assignments
        .iter()
        .map(|a| {
            (
                a.plan_key.clone(),
                a.payee_name.clone(),
                sh.t.date(a.starts_on),
                a.ends_on.map(|d| sh.t.date(d)).unwrap_or_default(),
            )
        })
        .collect();
    let page = PlansPage {
        plans,
        shown,
        assignments,
        can_admin: p.can(Permission::AdministerOrganisation),
        text,
        error,
        shell: sh,
    };
    Ok(render(&page))
}

pub async fn plans(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<PlansQuery>) -> PageResult {
    let _ = q.done;
    plans_page(&state, &p, q.id, String::new(), q.error).await
}

/// Pasting a plan: a parse error re-shows the page with the text kept and the error (line and
/// column) above it.
pub async fn plan_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let text = f.get("text").to_string();
    match state.app.comp_plan_create(p, &text).await {
        Ok(id) => Ok(see_other(&format!("/comp/plans?id={id}"))),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            plans_page(&state, p, None, text, Some(error_text(&e))).await
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn plan_accept(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let id = f.id("id").or_page(p)?.ok_or_else(|| PageError::new(AppError::NotFound, Some(p)))?;
    state.app.comp_accept(p, id).await.or_page(p)?;
    Ok(see_other(&format!("/comp/plans?id={id}")))
}

// ---- statement ------------------------------------------------------------------------------

pub struct LineView {
    id: i64,
    /// Disputes on this line with their threads (only those the viewer may see).
    disputes: Vec<crate::pages_comp_ops::DisputeView>,
    /// The payee may dispute it (their own line, no dispute pending on it).
    can_dispute: bool,
    amount: String,
    held: bool,
    rule: String,
    sentence: String,
    opportunity: Option<i64>,
}

pub struct StatementView {
    payee: String,
    kind_label: String,
    plan: String,
    payable: String,
    held: String,
    credited: String,
    attainment: String,
    lines: Vec<LineView>,
}

#[derive(Template)]
#[template(path = "comp_statement.html")]
struct StatementPage {
    shell: crate::pages::Shell,
    period: String,
    status_label: String,
    statements: Vec<StatementView>,
    /// Other payees' statements the caller may open: (payee id, name, payable).
    others: Vec<(i64, String, String)>,
    can_run: bool,
    own: bool,
    what_if: Option<String>,
    what_if_amount: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct StatementQuery {
    pub period: Option<String>,
    pub payee: Option<i64>,
    pub amount: Option<String>,
    pub opportunity: Option<String>,
    pub error: Option<String>,
}

pub async fn statement(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<StatementQuery>,
) -> PageResult {
    let sh = shell(&p, "comp");
    let period = q.period.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| current_month(&state));
    let status = state.app.comp_period_status(&period).await.or_page(&p)?;
    let me = p.user.id.0;
    let all = state.app.comp_statements(&p, &period, None).await.or_page(&p)?;
    // Which payee to show: the one asked for (404 when not visible), else oneself.
    let payee = q.payee.unwrap_or(me);
    let rows = if q.payee.is_some() {
        state.app.comp_statements(&p, &period, Some(payee)).await.or_page(&p)?
    } else {
        all.iter().filter(|s| s.payee_id == me).cloned().collect()
    };
    let mut others: Vec<(i64, String, String)> = vec![];
    for s in all.iter().filter(|s| s.payee_id != payee && s.run_kind == "calculation") {
        others.push((s.payee_id, s.payee_name.clone(), money(&sh.t, &s.payable, &s.currency)));
    }
    let disputes = state
        .app
        .comp_disputes(&p, &store::DisputeFilter { period: Some(period.clone()), ..store::DisputeFilter::default() })
        .await
        .or_page(&p)?;
    let statements = rows
        .iter()
        .map(|s| StatementView {
            payee: s.payee_name.clone(),
            kind_label: if s.run_kind == "delta" {
                sh.t.t1("comp-delta-of", "period", &s.source_period)
            } else {
                sh.t.t("comp-kind-calculation")
            },
            plan: format!("{} v{}", s.plan_key, s.plan_version),
            payable: money(&sh.t, &s.payable, &s.currency),
            held: money(&sh.t, &s.held, &s.currency),
            credited: s
                .credited
                .parse::<Decimal>()
                .map(|d| model::format_decimal(sh.t.locale, d, 2))
                .unwrap_or_default(),
            attainment: s.attainment.as_deref().map(percent).unwrap_or_default(),
            lines: s
                .lines
                .iter()
                .map(|l| LineView {
                    id: l.id,
                    disputes: disputes
                        .iter()
                        .filter(|d| d.line_id == l.id)
                        .rev()
                        .map(|d| crate::pages_comp_ops::dispute_view(&sh.t, d))
                        .collect(),
                    can_dispute: s.payee_id == me
                        && !disputes
                            .iter()
                            .any(|d| d.line_id == l.id && (d.status == "open" || d.status == "in_review")),
                    amount: money(&sh.t, &l.amount, &s.currency),
                    held: l.status == "held",
                    rule: l.rule.clone(),
                    sentence: l.sentence.clone(),
                    opportunity: l.opportunity_id,
                })
                .collect(),
        })
        .collect();
    let own = payee == me;
    let mut error = q.error.clone();
    let mut what_if = None;
    let amount = q.amount.clone().unwrap_or_default();
    if own && !amount.trim().is_empty() {
        let opp = q.opportunity.as_deref().and_then(|o| o.trim().parse::<i64>().ok());
        match state.app.comp_what_if(&p, &period, &amount, opp).await {
            Ok((w, _)) => {
                what_if = Some(sh.t.t1("comp-what-if-result", "amount", sh.t.money(&w.difference)));
            }
            Err(e @ (AppError::Invalid { .. } | AppError::Refused(_))) => error = Some(error_text(&e)),
            Err(e) => return Err(PageError::new(e, Some(&p))),
        }
    }
    let page = StatementPage {
        status_label: sh.t.t(&format!("comp-status-{status}")),
        period,
        statements,
        others,
        can_run: p.user.role == Role::Finance || p.can(Permission::AdministerOrganisation),
        own,
        what_if,
        what_if_amount: amount,
        error,
        shell: sh,
    };
    Ok(render(&page))
}

/// Finance: calculate, approve or lock the period shown.
pub async fn period_action(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let period = f.get("period").to_string();
    let result = match f.get("action") {
        "calculate" => state.app.comp_run(p, &period, None).await.map(|_| ()),
        to => state.app.comp_period_move(p, &period, to).await,
    };
    let back = format!("/comp/statement?period={}", url_encode(&period));
    match result {
        Ok(()) => Ok(see_other(&back)),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_) | AppError::Conflict(_))) => {
            Ok(see_other(&format!("{back}&error={}", url_encode(&error_text(&e)))))
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}
