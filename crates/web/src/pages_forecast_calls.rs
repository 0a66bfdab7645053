//! The forecast-call page (`/forecasts/calls`): the roll-up of a period as an indented hierarchy
//! with category columns, inline submit and override forms, stale badges, the submission
//! history, the waterfall between two snapshots as a server-rendered SVG, and the accuracy of
//! each submitter's call.

use askama::Template;
use axum::extract::{Query, State};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::i18n::Tr;
use crate::pages::{OrPage, PageError, PageResult, render, see_other, shell_flash, url_encode};
use crate::pages_admin::error_text;
use app::{AppError, Call, CallAccuracy, CallSource, Principal, RollupMethod, StepKind, Submission, Waterfall};
use model::{Currency, Money, PeriodKind, Permission, Role};

pub struct NodeView {
    user_id: i64,
    name: String,
    indent: usize,
    is_manager: bool,
    stale: bool,
    missing: bool,
    pipeline: String,
    best_case: String,
    commit: String,
    closed: String,
    own_commit: String,
    own_best_case: String,
    override_text: String,
    override_note: String,
    call_commit: String,
    call_best_case: String,
    call_source: String,
    is_me: bool,
    can_override: bool,
}

pub struct HistoryView {
    at: String,
    person: String,
    category: String,
    amount: String,
    by: String,
    note: String,
}

pub struct StepView {
    kind: &'static str,
    label: String,
    amount: String,
    count: i64,
    /// (name, before, after, effect)
    opportunities: Vec<(String, String, String, String)>,
}

pub struct AccuracyView {
    name: String,
    indent: usize,
    actual: String,
    start_call: String,
    start_error: String,
    start_ape: String,
    start_bias: String,
    mid_call: String,
    mid_error: String,
    mid_ape: String,
    mid_bias: String,
}

#[derive(Template)]
#[template(path = "forecast_calls.html")]
struct CallsPage {
    shell: crate::pages::Shell,
    period: String,
    period_label: String,
    currency: String,
    method: String,
    method_cumulative: bool,
    stale_days: i64,
    nodes: Vec<NodeView>,
    history: Vec<HistoryView>,
    unconverted: usize,
    can_snapshot: bool,
    can_admin: bool,
    dates: Vec<String>,
    from: String,
    to: String,
    chart: String,
    steps: Vec<StepView>,
    waterfall_totals: Option<(String, String)>,
    accuracy: Vec<AccuracyView>,
    accuracy_note: String,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct CallsQuery {
    pub period: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub done: Option<String>,
}

fn money(t: &Tr, c: Currency, d: Decimal) -> String {
    t.money(&Money::new(d, c).rounded())
}

/// Whole units, for the dense roll-up table and the chart.
fn whole(t: &Tr, c: Currency, d: Decimal) -> String {
    model::format_money_whole(t.locale, Money::new(d, c))
}

fn opt_whole(t: &Tr, c: Currency, d: Option<Decimal>) -> String {
    d.map(|d| whole(t, c, d)).unwrap_or_else(|| "—".into())
}

fn pct(d: Option<Decimal>) -> String {
    d.map(|d| format!("{}%", d.round_dp(1).normalize())).unwrap_or_else(|| "—".into())
}

fn source_label(t: &Tr, c: &Call) -> String {
    match c.source {
        CallSource::Override => t.t("fc-source-override"),
        CallSource::Submitted => t.t("fc-source-submitted"),
        CallSource::RolledUp => t.t("fc-source-rolled-up"),
        CallSource::None => t.t("fc-source-none"),
    }
}

fn category_label(t: &Tr, s: &Submission) -> String {
    match s.category {
        app::CallCategory::Commit => t.t("forecast-commit"),
        app::CallCategory::BestCase => t.t("forecast-best-case"),
    }
}

fn step_label(t: &Tr, k: StepKind) -> String {
    match k {
        StepKind::New => t.t("fc-step-new"),
        StepKind::PulledIn => t.t("fc-step-pulled-in"),
        StepKind::AmountChanged => t.t("fc-step-amount-changed"),
        StepKind::PushedOut => t.t("fc-step-pushed-out"),
        StepKind::Won => t.t("fc-step-won"),
        StepKind::Lost => t.t("fc-step-lost"),
        StepKind::Removed => t.t("fc-step-removed"),
    }
}

/// The current fiscal quarter, e.g. `2026-Q2`.
async fn current_quarter(state: &AppState, p: &Principal) -> Result<String, PageError> {
    let cal = state.app.fiscal_calendar().await.or_page(p)?;
    let today = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    Ok(cal.period_of(today, PeriodKind::Quarter).to_string())
}

fn can_snapshot(p: &Principal) -> bool {
    p.can(Permission::AdministerOrganisation) || p.user.role == Role::SalesManager
}

async fn page(state: &AppState, p: &Principal, q: CallsQuery, error: Option<String>) -> PageResult {
    let sh = shell_flash(p, "forecast-calls", q.done.as_deref());
    let period = match q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.to_string(),
        None => current_quarter(state, p).await?,
    };
    let roll = match state.app.forecast_rollup(p, &period).await {
        Ok(r) => r,
        Err(e @ AppError::Invalid { .. }) => {
            // A bad period typed in: show the current quarter with the error.
            let q2 = CallsQuery { period: Some(current_quarter(state, p).await?), ..CallsQuery::default() };
            return Box::pin(page(state, p, q2, Some(error_text(&e)))).await;
        }
        Err(e) => return Err(PageError::new(e, Some(p))),
    };
    let t = &sh.t;
    let cur = Currency::parse(&roll.currency).unwrap_or(Currency::EUR);
    let me = p.user.id.0;
    let overrides_all = p.can(Permission::AdministerOrganisation);
    let nodes: Vec<NodeView> = roll
        .nodes
        .iter()
        .map(|n| {
            let ovr = n.override_commit.as_ref().or(n.override_best_case.as_ref());
            NodeView {
                user_id: n.user_id,
                name: n.name.clone(),
                indent: n.depth * 18,
                is_manager: n.has_reports,
                stale: n.stale,
                missing: n.last_submitted_at.is_none(),
                pipeline: whole(t, cur, n.team.pipeline),
                best_case: whole(t, cur, n.team.best_case),
                commit: whole(t, cur, n.team.commit),
                closed: whole(t, cur, n.team.closed),
                own_commit: opt_whole(t, cur, n.submitted_commit.as_ref().map(|s| s.amount)),
                own_best_case: opt_whole(t, cur, n.submitted_best_case.as_ref().map(|s| s.amount)),
                override_text: [&n.override_commit, &n.override_best_case]
                    .into_iter()
                    .flatten()
                    .map(|o| format!("{} {}", category_label(t, o), whole(t, cur, o.amount)))
                    .collect::<Vec<_>>()
                    .join(" · "),
                override_note: ovr
                    .map(|o| format!("{} — {}", o.override_by_name.clone().unwrap_or_default(), o.note))
                    .unwrap_or_default(),
                call_commit: opt_whole(t, cur, n.call_commit.amount),
                call_best_case: opt_whole(t, cur, n.call_best_case.amount),
                call_source: source_label(t, &n.call_commit),
                is_me: n.user_id == me,
                can_override: n.user_id != me
                    && p.user.role != Role::SalesRep
                    && (overrides_all || p.user.role == Role::SalesManager),
            }
        })
        .collect();
    let history: Vec<HistoryView> = roll
        .history
        .iter()
        .take(50)
        .map(|s| HistoryView {
            at: t.ts(s.submitted_at),
            person: s.user_name.clone(),
            category: category_label(t, s),
            amount: money(t, cur, s.amount),
            by: s.override_by_name.clone().unwrap_or_default(),
            note: s.note.clone(),
        })
        .collect();

    // Snapshots and the waterfall between the chosen (default: the last two) days.
    let dates: Vec<String> =
        state.app.forecast_snapshot_dates(&roll.period).await.or_page(p)?.iter().map(|d| d.to_string()).collect();
    let pick = |v: &Option<String>, default: Option<&String>| {
        v.clone().filter(|s| !s.trim().is_empty()).or_else(|| default.cloned()).unwrap_or_default()
    };
    let from = pick(&q.from, dates.len().checked_sub(2).and_then(|i| dates.get(i)));
    let to = pick(&q.to, dates.last());
    let (mut chart, mut steps, mut totals, mut wf_error) = (String::new(), vec![], None, None);
    if dates.len() >= 2 && !from.is_empty() && !to.is_empty() {
        let parsed = crate::api_forecast_calls::parse_day("from", &from)
            .and_then(|f| crate::api_forecast_calls::parse_day("to", &to).map(|t| (f, t)));
        let result = match parsed {
            Ok((f, to_d)) => state.app.forecast_waterfall(p, &roll.period, f, to_d).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(w) => {
                chart = waterfall_chart(t, cur, &w);
                totals = Some((money(t, cur, w.start), money(t, cur, w.end)));
                steps = w
                    .steps
                    .iter()
                    .map(|s| StepView {
                        kind: s.kind.as_str(),
                        label: step_label(t, s.kind),
                        amount: money(t, cur, s.amount),
                        count: s.count as i64,
                        opportunities: s
                            .opportunities
                            .iter()
                            .map(|o| {
                                let side = |a: Option<Decimal>, d: Option<jiff::civil::Date>| match (a, d) {
                                    (Some(a), Some(d)) => format!("{} · {}", money(t, cur, a), t.date(d)),
                                    _ => "—".into(),
                                };
                                (
                                    o.name.clone(),
                                    side(o.amount_before, o.close_before),
                                    side(o.amount_after, o.close_after),
                                    money(t, cur, o.effect),
                                )
                            })
                            .collect(),
                    })
                    .collect();
            }
            Err(e @ AppError::Invalid { .. }) => wf_error = Some(error_text(&e)),
            Err(e) => return Err(PageError::new(e, Some(p))),
        }
    }

    let acc = state.app.forecast_accuracy(p, &roll.period).await.or_page(p)?;
    let cell = |a: &CallAccuracy| {
        (opt_whole(t, cur, a.call), opt_whole(t, cur, a.error), pct(a.abs_pct_error), pct(a.bias_pct))
    };
    let accuracy = acc
        .rows
        .iter()
        .map(|r| {
            let (sc, se, sa, sb) = cell(&r.at_start);
            let (mc, me_, ma, mb) = cell(&r.at_mid);
            AccuracyView {
                name: r.name.clone(),
                indent: r.depth * 18,
                actual: whole(t, cur, r.actual),
                start_call: sc,
                start_error: se,
                start_ape: sa,
                start_bias: sb,
                mid_call: mc,
                mid_error: me_,
                mid_ape: ma,
                mid_bias: mb,
            }
        })
        .collect();
    let accuracy_note = t.targs(
        "fc-accuracy-note",
        &[
            ("start", t.date(acc.start)),
            ("mid", t.date(acc.mid)),
            ("state", if acc.complete { t.t("fc-accuracy-complete") } else { t.t("fc-accuracy-to-date") }),
        ],
    );
    let period_label = t.targs(
        "fc-period-range",
        &[("period", roll.period.clone()), ("from", t.date(roll.start)), ("to", t.date(roll.end))],
    );
    let method = match roll.settings.rollup_method {
        RollupMethod::Cumulative => t.t("fc-method-cumulative"),
        RollupMethod::Single => t.t("fc-method-single"),
    };
    let view = CallsPage {
        period: roll.period.clone(),
        period_label,
        currency: roll.currency.clone(),
        method,
        method_cumulative: roll.settings.rollup_method == RollupMethod::Cumulative,
        stale_days: roll.settings.stale_days,
        nodes,
        history,
        unconverted: roll.unconverted,
        can_snapshot: can_snapshot(p),
        can_admin: p.can(Permission::AdministerOrganisation),
        dates,
        from,
        to,
        chart,
        steps,
        waterfall_totals: totals,
        accuracy,
        accuracy_note,
        error: error.or(wf_error),
        shell: sh,
    };
    Ok(render(&view))
}

pub async fn calls(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<CallsQuery>) -> PageResult {
    page(&state, &p, q, None).await
}

fn back(period: &str) -> String {
    format!("/forecasts/calls?period={}&done=saved", url_encode(period))
}

/// The inline submit / override form. A bad amount or a missing note re-shows the page with
/// the error; a rep overriding someone else gets 403.
pub async fn submit(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let period = f.get("period").to_string();
    let user = f.id("user_id").or_page(p)?;
    let r = state.app.forecast_submit(p, &period, user, f.get("category"), f.get("amount"), f.get("note")).await;
    match r {
        Ok(_) => Ok(see_other(&back(&period))),
        Err(e @ (AppError::Invalid { .. } | AppError::Refused(_))) => {
            page(&state, p, CallsQuery { period: Some(period), ..Default::default() }, Some(error_text(&e))).await
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn snapshot(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let period = f.get("period").to_string();
    match state.app.forecast_snapshot(p, &period).await {
        Ok(_) => Ok(see_other(&back(&period))),
        Err(e @ AppError::Invalid { .. }) => {
            page(&state, p, CallsQuery { period: Some(period), ..Default::default() }, Some(error_text(&e))).await
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

pub async fn settings(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    let period = f.get("period").to_string();
    let stale = match f.get("stale_days").trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let e = AppError::invalid("stale_days", "must be a whole number of days");
                return page(
                    &state,
                    p,
                    CallsQuery { period: Some(period), ..Default::default() },
                    Some(error_text(&e)),
                )
                .await;
            }
        },
    };
    let method = Some(f.get("rollup_method")).filter(|m| !m.is_empty());
    match state.app.set_forecast_call_settings(p, stale, method).await {
        Ok(_) => Ok(see_other(&back(&period))),
        Err(e @ AppError::Invalid { .. }) => {
            page(&state, p, CallsQuery { period: Some(period), ..Default::default() }, Some(error_text(&e))).await
        }
        Err(e) => Err(PageError::new(e, Some(p))),
    }
}

const W: f64 = 880.0;
const H: f64 = 300.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 42.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The waterfall as SVG: the open pipeline at the first snapshot, a floating bar per step
/// (green adds, red takes away), and the pipeline at the second snapshot.
fn waterfall_chart(t: &Tr, cur: Currency, w: &Waterfall) -> String {
    let num = |d: Decimal| d.to_f64().unwrap_or(0.0);
    // (label, base, top, kind) with base/top the running totals.
    let mut bars: Vec<(String, f64, f64, &str, Decimal)> =
        vec![(t.t("fc-wf-start"), 0.0, num(w.start), "total", w.start)];
    let mut run = num(w.start);
    for s in w.steps.iter().filter(|s| s.count > 0) {
        let next = run + num(s.amount);
        bars.push((
            step_label(t, s.kind),
            run,
            next,
            if s.amount.is_sign_negative() { "down" } else { "up" },
            s.amount,
        ));
        run = next;
    }
    bars.push((t.t("fc-wf-end"), 0.0, num(w.end), "total", w.end));
    let hi = bars.iter().map(|b| b.1.max(b.2)).fold(1.0_f64, f64::max);
    // The steps are small next to the totals: the axis starts below the lowest running total
    // (the totals' bars are cut there; the gridlines carry the values).
    let low_run = bars.iter().map(|b| if b.3 == "total" { b.2 } else { b.1.min(b.2) }).fold(f64::INFINITY, f64::min);
    let lo = if low_run.is_finite() && low_run > 0.0 {
        (low_run - (hi - low_run).max(hi * 0.05) * 0.8).max(0.0)
    } else {
        bars.iter().map(|b| b.1.min(b.2)).fold(0.0_f64, f64::min)
    };
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let slot = (W - LEFT - RIGHT) / bars.len() as f64;
    let mut svg = format!(
        "<svg class=\"waterfall-chart\" width=\"100%\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.t("fc-wf-chart"))
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * f64::from(k) / 4.0;
        let yy = y(v);
        svg.push_str(&format!(
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e3e6ea\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            escape(&t.int(v.round() as i64))
        ));
    }
    for (i, (label, base, top, kind, amount)) in bars.iter().enumerate() {
        let x = LEFT + slot * i as f64 + slot * 0.15;
        let bw = slot * 0.7;
        let (y1, y2) = (y(base.max(*top)), y(base.min(*top).max(lo)));
        let fill = match *kind {
            "total" => "#1d2733",
            "up" => "#2e8b57",
            _ => "#c0392b",
        };
        svg.push_str(&format!(
            "<rect class=\"bar {kind}\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{fill}\" rx=\"2\"/>",
            (y2 - y1).max(1.0)
        ));
        if i + 1 < bars.len() {
            let yy = y(*top);
            svg.push_str(&format!(
                "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#9aa4ad\" stroke-dasharray=\"2 3\"/>",
                x + bw,
                x + slot
            ));
        }
        let cx = x + bw / 2.0;
        svg.push_str(&format!(
            "<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1d2733\" text-anchor=\"middle\">{}</text>",
            y1 - 5.0,
            escape(&whole(t, cur, *amount))
        ));
        // The label under the bar, on two lines when it has two words or more.
        let words: Vec<&str> = label.split_whitespace().collect();
        let lines = if words.len() > 1 {
            let half = words.len().div_ceil(2);
            vec![words[..half].join(" "), words[half..].join(" ")]
        } else {
            vec![label.clone()]
        };
        for (k, line) in lines.iter().enumerate() {
            svg.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"middle\">{}</text>",
                H - BOTTOM + 16.0 + 13.0 * k as f64,
                escape(line)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
