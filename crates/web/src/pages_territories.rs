//! Territory and quota pages (issue 8): `/territories` (the design in force on a date, its
//! history, the rules as text, the accounts with the reason, gaps and overlaps, coin sort of last
//! year's won revenue live vs. a draft, balancing scenarios from the company's accounts),
//! `/territories/scenarios/{id}` (before/after, drafts side by side, accept from a date) and
//! `/quotas` (quotas of a period with attainment; allocate a target top down, review, save).

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Path, Query, State};
use model::{Currency, Money};
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::pages::{OrPage, PageResult, Shell, render, see_other, shell, shell_flash, url_encode};
use app::planning::{AssessmentDto, UnitRep, may_plan};
use app::territories::{AcceptInput, NewVersionInput, QuotaInput, QuotasInput, ScenarioInput};
use app::{AppError, Principal};

const PAGE: usize = 50;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn form_error(e: AppError, p: &Principal) -> Result<String, crate::pages::PageError> {
    match e {
        AppError::Invalid { field, message } => Ok(format!("{field}: {message}")),
        AppError::Refused(m) | AppError::Conflict(m) => Ok(m),
        e => Err(e).or_page(p),
    }
}

fn money_text(p: &Principal, amount: &str, currency: &str) -> String {
    match Money::parse(amount, currency) {
        Ok(m) => model::format_money(p.user.locale, m),
        Err(_) => amount.to_string(),
    }
}

fn percent(p: &Principal, share: Option<&str>) -> String {
    share
        .and_then(|s| s.parse::<Decimal>().ok())
        .map(|d| format!("{} %", model::format_decimal(p.user.locale, (d * Decimal::from(100)).round_dp(1), 1)))
        .unwrap_or_else(|| "–".into())
}

/// Horizontal bars: one row per label with up to two values (live, draft).
fn bars_svg(id: &str, rows: &[(String, f64, f64)], legend: (&str, &str)) -> String {
    let max = rows.iter().map(|r| r.1.max(r.2)).fold(0.0_f64, f64::max).max(1e-9);
    let (label_w, bar_w, row_h) = (150.0, 420.0, 30.0);
    let h = 30.0 + rows.len() as f64 * row_h;
    let w = label_w + bar_w + 20.0;
    let mut svg = format!(
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">"
    );
    let _ = write!(
        svg,
        "<rect x=\"{label_w}\" y=\"6\" width=\"12\" height=\"10\" fill=\"#1f77b4\"/><text x=\"{}\" y=\"15\" font-size=\"11\">{}</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"10\" fill=\"#ff7f0e\"/><text x=\"{}\" y=\"15\" font-size=\"11\">{}</text>",
        label_w + 16.0,
        esc(legend.0),
        label_w + 120.0,
        label_w + 136.0,
        esc(legend.1)
    );
    for (k, (label, a, b)) in rows.iter().enumerate() {
        let y = 26.0 + k as f64 * row_h;
        let _ = write!(
            svg,
            "<text x=\"{:.0}\" y=\"{:.0}\" font-size=\"11\" text-anchor=\"end\">{}</text>\
             <rect class=\"bar-live\" x=\"{label_w}\" y=\"{y:.0}\" width=\"{:.1}\" height=\"11\" fill=\"#1f77b4\"/>\
             <rect class=\"bar-draft\" x=\"{label_w}\" y=\"{:.0}\" width=\"{:.1}\" height=\"11\" fill=\"#ff7f0e\"/>",
            label_w - 6.0,
            y + 14.0,
            esc(label),
            a / max * bar_w,
            y + 12.0,
            b / max * bar_w
        );
    }
    svg.push_str("</svg>");
    svg
}

// ---------------------------------------------------------------------------------------------
// /territories

#[derive(Deserialize, Default)]
pub struct TerritoriesQuery {
    pub on: Option<String>,
    pub draft: Option<i64>,
    pub q: Option<String>,
    pub territory: Option<String>,
    pub offset: Option<usize>,
    pub done: Option<String>,
    pub error: Option<String>,
}

pub struct VersionLine {
    id: i64,
    valid_from: String,
    status: String,
    note: String,
    by: String,
    rules: usize,
    in_force: bool,
}

pub struct AccountLine {
    id: i64,
    account: String,
    place: String,
    owner: String,
    territory: String,
    reason: String,
    overlap: String,
}

pub struct CoinLine {
    territory: String,
    live: String,
    draft: String,
}

pub struct ScenarioLine {
    id: i64,
    name: String,
    status: String,
    units: usize,
    reps: usize,
    cv: String,
    moved: usize,
}

#[derive(Template)]
#[template(path = "territories.html")]
struct TerritoriesPage {
    shell: Shell,
    planner: bool,
    on: String,
    in_force: Option<VersionLine>,
    versions: Vec<VersionLine>,
    body: String,
    error: Option<String>,
    accounts: Vec<AccountLine>,
    shown: String,
    prev: Option<String>,
    next: Option<String>,
    q: String,
    territory: String,
    territories: Vec<(String, String, bool)>,
    gaps: Vec<String>,
    overlaps: Vec<AccountLine>,
    drafts: Vec<(i64, String, bool)>,
    coin: Vec<CoinLine>,
    coin_svg: String,
    coin_note: String,
    notes: Vec<String>,
    scenarios: Vec<ScenarioLine>,
    regions: Vec<String>,
}

fn version_line(p: &Principal, v: &app::territories::TerritoryVersionDto, in_force: Option<i64>) -> VersionLine {
    let t = crate::pages::tr_of(p);
    VersionLine {
        id: v.id,
        valid_from: v.valid_from.parse().map(|d| t.date(d)).unwrap_or_else(|_| v.valid_from.clone()),
        status: t.t(&format!("territory-status-{}", v.status)),
        note: v.note.clone(),
        by: v.created_by.clone().unwrap_or_default(),
        rules: v.rules,
        in_force: Some(v.id) == in_force,
    }
}

fn account_line(a: &app::territories::AccountAssignmentDto, gap: &str) -> AccountLine {
    AccountLine {
        id: a.account_id,
        account: a.account.clone(),
        place: format!("{} {}", a.country, a.postal_code),
        owner: a.owner.clone(),
        territory: if a.path.is_empty() { gap.to_string() } else { a.path.clone() },
        reason: a.reason.clone(),
        overlap: a.tied_with.join(", "),
    }
}

async fn territories_page(
    state: &AppState,
    p: &Principal,
    q: &TerritoriesQuery,
    body: Option<String>,
    error: Option<String>,
) -> PageResult {
    let on = match q.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(d.parse().map_err(|_| AppError::invalid("on", format!("'{d}' is not a date"))).or_page(p)?),
        None => None,
    };
    let view = state.app.territory_view(p, on, q.draft).await.or_page(p)?;
    let sh = shell_flash(p, "territories", q.done.as_deref());
    let planner = may_plan(p.user.role);
    let in_force_id = view.in_force.as_ref().map(|v| v.id);
    let gap = sh.t.t("territory-coverage-gap");
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let wanted = q.territory.as_deref().unwrap_or("").trim().to_string();
    let filtered: Vec<&app::territories::AccountAssignmentDto> = view
        .assignments
        .iter()
        .filter(|a| {
            needle.is_empty()
                || a.account.to_lowercase().contains(&needle)
                || a.postal_code.to_lowercase().contains(&needle)
        })
        .filter(|a| match wanted.as_str() {
            "" => true,
            "-" => a.territory.is_none(),
            t => a.territory.as_deref() == Some(t),
        })
        .collect();
    let offset = q.offset.unwrap_or(0).min(filtered.len());
    let page: Vec<AccountLine> = filtered.iter().skip(offset).take(PAGE).map(|a| account_line(a, &gap)).collect();
    let link = |off: usize| {
        format!(
            "/territories?on={}&q={}&territory={}&offset={off}{}",
            url_encode(&view.on),
            url_encode(&needle),
            url_encode(&wanted),
            q.draft.map(|d| format!("&draft={d}")).unwrap_or_default()
        )
    };
    let shown = sh.t.targs(
        "territory-accounts-shown",
        &[
            ("from", (offset + usize::from(!page.is_empty())).to_string()),
            ("to", (offset + page.len()).to_string()),
            ("total", filtered.len().to_string()),
        ],
    );
    let currency = Currency::parse(&view.currency).ok();
    let fmt = |v: &str| match (currency, v.is_empty()) {
        (_, true) => "–".to_string(),
        (Some(c), false) => money_text(p, v, c.code()),
        (None, false) => v.to_string(),
    };
    let coin: Vec<CoinLine> = view
        .coin_sort
        .iter()
        .map(|c| CoinLine {
            territory: if c.territory == "-" { gap.clone() } else { c.territory.clone() },
            live: fmt(&c.live),
            draft: fmt(&c.draft),
        })
        .collect();
    let bars: Vec<(String, f64, f64)> = view
        .coin_sort
        .iter()
        .map(|c| {
            let n = |s: &str| s.parse::<f64>().unwrap_or(0.0);
            (if c.territory == "-" { gap.clone() } else { c.territory.clone() }, n(&c.live), n(&c.draft))
        })
        .collect();
    let coin_svg = if bars.is_empty() {
        String::new()
    } else {
        bars_svg("coin-sort-chart", &bars, (&sh.t.t("territory-live"), &sh.t.t("territory-draft")))
    };
    let coin_note = sh.t.targs(
        "territory-coin-intro",
        &[("from", view.coin_from.clone()), ("to", view.coin_to.clone()), ("currency", view.currency.clone())],
    );
    let scenarios = if planner {
        state
            .app
            .territory_scenarios(p)
            .await
            .or_page(p)?
            .iter()
            .map(|s| ScenarioLine {
                id: s.id,
                name: s.name.clone(),
                status: sh.t.t(&format!("territory-status-{}", s.status)),
                units: s.instance.units.len(),
                reps: s.instance.reps.len(),
                cv: format!(
                    "{:.3} → {:.3}",
                    s.result.before.workload.coefficient_of_variation, s.result.after.workload.coefficient_of_variation
                ),
                moved: s.result.after.units_moved,
            })
            .collect()
    } else {
        Vec::new()
    };
    let regions = if planner {
        state.app.store.region_list().await.map_err(AppError::from).or_page(p)?.into_iter().map(|r| r.code).collect()
    } else {
        Vec::new()
    };
    let default_body = view.in_force.as_ref().map(|v| v.body.clone()).unwrap_or_else(|| {
        "version 2027-01-01\nterritory EMEA\nrule all -> EMEA priority 100 country NL,DE,DK,PL\n".into()
    });
    let page = TerritoriesPage {
        planner,
        on: view.on.clone(),
        in_force: view.in_force.as_ref().map(|v| version_line(p, v, in_force_id)),
        versions: view.versions.iter().rev().map(|v| version_line(p, v, in_force_id)).collect(),
        body: body.unwrap_or(default_body),
        error: error.or_else(|| q.error.clone()),
        accounts: page,
        shown,
        prev: (offset > 0).then(|| link(offset.saturating_sub(PAGE))),
        next: (offset + PAGE < filtered.len()).then(|| link(offset + PAGE)),
        q: needle.clone(),
        territory: wanted.clone(),
        territories: view.counts.iter().map(|(t, n)| (t.clone(), format!("{t} ({n})"), *t == wanted)).collect(),
        gaps: view.gaps.clone(),
        overlaps: view.overlaps.iter().map(|a| account_line(a, &gap)).collect(),
        drafts: view
            .versions
            .iter()
            .filter(|v| v.status == "draft")
            .map(|v| (v.id, format!("#{} {} {}", v.id, v.valid_from, v.note), q.draft == Some(v.id)))
            .collect(),
        coin,
        coin_svg,
        coin_note,
        notes: view.notes.clone(),
        scenarios,
        regions,
        shell: sh,
    };
    Ok(render(&page))
}

/// `GET /territories`
pub async fn territories(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<TerritoriesQuery>,
) -> PageResult {
    territories_page(&state, &p, &q, None, None).await
}

/// `POST /territories/versions`: save the rule text as a draft or live version.
pub async fn version_save(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    let input = NewVersionInput {
        body: f.get("body").replace("\r\n", "\n"),
        status: Some(f.get("status").to_string()),
        note: Some(f.get("note").to_string()),
    };
    let body = input.body.clone();
    match state.app.territory_version_create(&p, input).await {
        Ok((v, _)) => Ok(see_other(&format!("/territories?done=saved&on={}", url_encode(&v.valid_from)))),
        Err(e) => {
            let msg = form_error(e, &p)?;
            let mut page = territories_page(&state, &p, &TerritoriesQuery::default(), Some(body), Some(msg)).await?;
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}

/// `POST /territories/scenarios`: build a scenario from the accounts and balance it.
pub async fn scenario_create(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    let parse = || -> Result<ScenarioInput, AppError> {
        let number = |name: &str, default: f64| -> Result<f64, AppError> {
            match f.get(name).trim() {
                "" => Ok(default),
                t => t.parse().map_err(|_| AppError::invalid(name, format!("'{t}' is not a number"))),
            }
        };
        let mut locks = Vec::new();
        for (k, line) in f.get("locks").lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
            let (unit, rep) = line.split_once('=').ok_or_else(|| {
                AppError::invalid(format!("locks[{k}]"), "write unit=rep e-mail, e.g. DE-10=rep@x.io")
            })?;
            locks.push(UnitRep { unit: unit.trim().to_string(), rep: rep.trim().to_string() });
        }
        Ok(ScenarioInput {
            name: f.get("name").to_string(),
            postal_digits: f.get("postal_digits").trim().parse().ok(),
            region: Some(f.get("region").to_string()),
            bounds: Some((number("low", 0.8)?, number("high", 1.2)?)),
            objective: Some(f.get("objective").to_string()),
            locks,
        })
    };
    let result = match parse() {
        Ok(input) => state.app.territory_scenario_create(&p, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(s) => Ok(see_other(&format!("/territories/scenarios/{}", s.id))),
        Err(e) => {
            let msg = form_error(e, &p)?;
            Ok(see_other(&format!("/territories?error={}#scenarios", url_encode(&msg))))
        }
    }
}

pub struct CompareLine {
    name: String,
    cv: String,
    gini: String,
    min_max: String,
    distance: String,
    disruption: String,
    moved: usize,
    within: String,
}

pub struct RepLine {
    rep: String,
    units: String,
    workload: String,
    potential: String,
}

#[derive(Template)]
#[template(path = "territory_scenario.html")]
struct ScenarioPage {
    shell: Shell,
    id: i64,
    name: String,
    status: String,
    draft: bool,
    summary: String,
    current_from: String,
    proof: String,
    reps: Vec<RepLine>,
    compare: Vec<CompareLine>,
    left_out: Vec<String>,
    units: Vec<(String, String, String)>,
    notes: Vec<String>,
    accept_date: String,
    accepted_version: Option<i64>,
    error: Option<String>,
}

fn compare_line(p: &Principal, t: &crate::i18n::Tr, name: &str, a: &AssessmentDto) -> CompareLine {
    let d = |v: f64, n: u32| {
        model::format_decimal(p.user.locale, Decimal::from_f64_retain(v).unwrap_or_default().round_dp(n), n)
    };
    CompareLine {
        name: name.to_string(),
        cv: d(a.workload.coefficient_of_variation, 3),
        gini: d(a.workload.gini, 3),
        min_max: format!("{} – {}", d(a.workload.min, 1), d(a.workload.max, 1)),
        distance: d(a.total_distance, 1),
        disruption: format!("{} %", d(a.disruption * 100.0, 1)),
        moved: a.units_moved,
        within: t.t(if a.within_bounds { "territory-yes" } else { "territory-no" }),
    }
}

#[derive(Deserialize, Default)]
pub struct ErrorQuery {
    pub error: Option<String>,
}

/// `GET /territories/scenarios/{id}`
pub async fn scenario(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> PageResult {
    let s = state.app.territory_scenario(&p, id).await.or_page(&p)?;
    let cmp = state.app.territory_scenario_compare(&p, id).await.or_page(&p)?;
    let sh = shell(&p, "territories");
    let d = |v: f64, n: u32| {
        model::format_decimal(p.user.locale, Decimal::from_f64_retain(v).unwrap_or_default().round_dp(n), n)
    };
    let reps = s
        .result
        .before
        .per_rep
        .iter()
        .zip(&s.result.after.per_rep)
        .map(|(b, a)| RepLine {
            rep: s.build.rep_names.get(&b.rep).cloned().unwrap_or_else(|| b.rep.clone()),
            units: format!("{} → {}", b.units, a.units),
            workload: format!("{} → {}", d(b.workload, 1), d(a.workload, 1)),
            potential: format!("{} → {}", d(b.potential, 0), d(a.potential, 0)),
        })
        .collect();
    let before: std::collections::HashMap<&str, &str> =
        s.instance.assignment.iter().map(|u| (u.unit.as_str(), u.rep.as_str())).collect();
    let units = s
        .result
        .assignment
        .iter()
        .filter(|u| before.get(u.unit.as_str()) != Some(&u.rep.as_str()))
        .map(|u| {
            let name = |e: &str| s.build.rep_names.get(e).cloned().unwrap_or_else(|| e.to_string());
            (u.unit.clone(), name(before.get(u.unit.as_str()).copied().unwrap_or("")), name(&u.rep))
        })
        .collect();
    let summary = sh.t.targs(
        "territory-scenario-summary",
        &[
            ("units", s.instance.units.len().to_string()),
            ("reps", s.instance.reps.len().to_string()),
            ("accounts", s.build.accounts_per_unit.iter().sum::<usize>().to_string()),
            ("digits", s.build.postal_digits.to_string()),
        ],
    );
    let today = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let accept_date = today
        .checked_add(jiff::Span::new().months(1))
        .ok()
        .and_then(|d| d.first_of_month().into())
        .unwrap_or(today)
        .to_string();
    let mut notes = s.build.notes.clone();
    notes.extend(s.result.diagnostics.iter().cloned());
    let page = ScenarioPage {
        id: s.id,
        name: s.name.clone(),
        status: sh.t.t(&format!("territory-status-{}", s.status)),
        draft: s.status == "draft" && may_plan(p.user.role),
        summary,
        current_from: s.build.current_from.clone(),
        proof: sh.t.t(if s.result.proof == "proven_optimal" {
            "territory-proof-optimal"
        } else {
            "territory-proof-bounded"
        }),
        reps,
        compare: cmp.scenarios.iter().map(|(n, a)| compare_line(&p, &sh.t, n, a)).collect(),
        left_out: cmp.left_out.clone(),
        units,
        notes,
        accept_date,
        accepted_version: s.accepted_version_id,
        error: q.error,
        shell: sh,
    };
    Ok(render(&page))
}

/// `POST /territories/scenarios/{id}/accept`
pub async fn scenario_accept(State(state): State<AppState>, Path(id): Path<i64>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    let input = AcceptInput {
        valid_from: f.get("valid_from").to_string(),
        note: Some(f.get("note").to_string()).filter(|n| !n.trim().is_empty()),
    };
    match state.app.territory_scenario_accept(&p, id, input).await {
        Ok(v) => Ok(see_other(&format!("/territories?done=saved&on={}", url_encode(&v.valid_from)))),
        Err(e) => {
            let msg = form_error(e, &p)?;
            Ok(see_other(&format!("/territories/scenarios/{id}?error={}", url_encode(&msg))))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// /quotas

#[derive(Deserialize, Default)]
pub struct QuotasQuery {
    pub period: Option<String>,
    pub done: Option<String>,
    pub error: Option<String>,
}

pub struct QuotaLine {
    user: String,
    quota: String,
    won: String,
    attainment: String,
    ramp: String,
    method: String,
    set: String,
}

pub struct ProposalLine {
    user_id: i64,
    name: String,
    prior: String,
    ttm: String,
    tenure: i64,
    ramp: String,
    quota: String,
}

#[derive(Template)]
#[template(path = "quotas.html")]
struct QuotasPage {
    shell: Shell,
    planner: bool,
    period: String,
    range: String,
    quotas: Vec<QuotaLine>,
    chart: String,
    notes: Vec<String>,
    error: Option<String>,
    target: String,
    currency: String,
    method: String,
    proposals: Vec<ProposalLine>,
    proposal_total: String,
    user_ids: String,
}

fn default_period(state: &AppState) -> String {
    let today = state.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    format!("{}-Q{}", today.year(), (today.month() - 1) / 3 + 1)
}

/// A proposal under review: target, currency, method, the proposals and the engine's notes.
type Allocation = (String, String, String, Vec<app::territories::QuotaProposal>, Vec<String>);

async fn quotas_page(
    state: &AppState,
    p: &Principal,
    period: &str,
    flash: Option<&str>,
    error: Option<String>,
    allocation: Option<Allocation>,
) -> PageResult {
    let sh = shell_flash(p, "quotas", flash);
    let (view, error) = match state.app.quotas(p, period).await {
        Ok(v) => (Some(v), error),
        Err(e) => (None, Some(form_error(e, p)?)),
    };
    let mut notes = Vec::new();
    let mut quotas = Vec::new();
    let mut bars = Vec::new();
    let mut range = String::new();
    if let Some(v) = &view {
        notes.extend(v.notes.iter().cloned());
        range = format!(
            "{} – {}",
            v.from.parse().map(|d| sh.t.date(d)).unwrap_or_default(),
            v.to.parse().map(|d| sh.t.date(d)).unwrap_or_default()
        );
        for q in &v.quotas {
            let (quota, won) = if q.kind == "revenue" {
                (money_text(p, &q.amount, &q.currency), money_text(p, &q.won, &q.currency))
            } else {
                (format!("{} #", q.amount), format!("{} #", q.won))
            };
            bars.push((q.user.clone(), q.amount.parse::<f64>().unwrap_or(0.0), q.won.parse::<f64>().unwrap_or(0.0)));
            quotas.push(QuotaLine {
                user: q.user.clone(),
                quota,
                won,
                attainment: percent(p, q.attainment.as_deref()),
                ramp: percent(p, Some(&q.ramp)),
                method: q.method.clone(),
                set: format!(
                    "{} {}",
                    q.set_by.clone().unwrap_or_default(),
                    q.set_at.parse().map(|t| sh.t.ts(t)).unwrap_or_default()
                ),
            });
        }
    }
    let chart = if bars.is_empty() {
        String::new()
    } else {
        bars_svg("attainment-chart", &bars, (&sh.t.t("quota-quota"), &sh.t.t("quota-won")))
    };
    let (target, currency, method, proposals, total, ids) = match allocation {
        Some((target, currency, method, props, more)) => {
            notes.extend(more);
            let total: Decimal = props.iter().map(|q| q.quota).sum();
            let cur = currency.clone();
            let m = |d: Decimal| Money::parse(&d.to_string(), &cur).map(|m| sh.t.money(&m)).unwrap_or_default();
            let lines = props
                .iter()
                .map(|q| ProposalLine {
                    user_id: q.user_id,
                    name: q.name.clone(),
                    prior: m(q.prior_year),
                    ttm: m(q.trailing_twelve_months),
                    tenure: q.tenure_months,
                    ramp: q.ramp.normalize().to_string(),
                    quota: q.quota.to_string(),
                })
                .collect::<Vec<_>>();
            let ids = props.iter().map(|q| q.user_id.to_string()).collect::<Vec<_>>().join(",");
            (target, currency.clone(), method, lines, m(total), ids)
        }
        None => (String::new(), "EUR".to_string(), "ttm".to_string(), Vec::new(), String::new(), String::new()),
    };
    let page = QuotasPage {
        planner: may_plan(p.user.role),
        period: view.as_ref().map(|v| v.period.clone()).unwrap_or_else(|| period.to_string()),
        range,
        quotas,
        chart,
        notes,
        error,
        target,
        currency,
        method,
        proposals,
        proposal_total: total,
        user_ids: ids,
        shell: sh,
    };
    Ok(render(&page))
}

/// `GET /quotas?period=2026-Q3`
pub async fn quotas(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<QuotasQuery>) -> PageResult {
    let period = q.period.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| default_period(&state));
    quotas_page(&state, &p, &period, q.done.as_deref(), q.error.clone(), None).await
}

/// `POST /quotas/allocate`: the review step (nothing stored).
pub async fn quotas_allocate(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    let period = f.get("period").trim().to_string();
    let (target, currency, method) = (
        f.get("target").trim().to_string(),
        f.get("currency").trim().to_uppercase(),
        f.get("method").trim().to_string(),
    );
    match state.app.quota_proposal(&p, &period, &target, &currency, &method).await {
        Ok((props, notes)) => {
            quotas_page(&state, &p, &period, None, None, Some((target, currency, method, props, notes))).await
        }
        Err(e) => {
            let msg = form_error(e, &p)?;
            quotas_page(&state, &p, &period, None, Some(msg), None).await
        }
    }
}

/// `POST /quotas`: save the reviewed quotas of a period.
pub async fn quotas_save(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    let period = f.get("period").trim().to_string();
    let mut quotas = Vec::new();
    for id in f.get("users").split(',').filter_map(|s| s.trim().parse::<i64>().ok()) {
        quotas.push(QuotaInput {
            user_id: id,
            kind: Some("revenue".into()),
            amount: f.get(&format!("amount_{id}")).trim().to_string(),
            currency: Some(f.get("currency").trim().to_string()),
            ramp: Some(f.get(&format!("ramp_{id}")).trim().to_string()),
            method: Some(f.get("method").trim().to_string()),
        });
    }
    match state.app.quotas_set(&p, &period, QuotasInput { quotas }).await {
        Ok(_) => Ok(see_other(&format!("/quotas?period={}&done=saved", url_encode(&period)))),
        Err(e) => {
            let msg = form_error(e, &p)?;
            Ok(see_other(&format!("/quotas?period={}&error={}", url_encode(&period), url_encode(&msg))))
        }
    }
}
