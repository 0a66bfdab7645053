//! KPI pages: `/kpis` (choose KPIs, slice, period and comparison; every number links to the
//! records behind it), `/kpis/drill`, `/funnel` (stage-to-stage bars drawn as SVG on the server)
//! and `/process-map` (the stage flow as an SVG diagram). Numbers go through the locale's
//! formatters; the diagrams are plain SVG built here.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Query, State};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::i18n::Tr;
use crate::pages::{OrPage, PageResult, render, see_other, shell, url_encode};
use app::kpi_engine::funnel::FunnelStage;
use app::kpi_engine::process_map::{Bottleneck, Move};
use app::kpi_engine::{Baseline, Dimension, Kpi, Unit, Value};
use app::{AppError, FlowReport, KpiCell, KpiRequest, Principal};
use model::{Money, Permission, StageKind};

/// The KPI's name in the viewer's language.
pub fn kpi_label(t: &Tr, k: Kpi) -> String {
    t.t(&format!("kpi-{}", k.name().replace('_', "-")))
}

pub fn dimension_label(t: &Tr, d: Dimension) -> String {
    t.t(&format!("kpi-by-{}", d.name().replace('_', "-")))
}

fn percent(t: &Tr, share: Decimal) -> String {
    format!("{} %", model::format_decimal(t.locale, share * Decimal::ONE_HUNDRED, 1))
}

/// A value in the KPI's unit: counts grouped, money in the reporting currency, shares as percent,
/// times with their unit; `None` for no data.
pub fn format_value(t: &Tr, kpi: Kpi, v: &Value, currency: model::Currency) -> Option<String> {
    let d = v.to_decimal()?;
    Some(match kpi.unit() {
        Unit::Count => model::format_decimal(t.locale, d, 0),
        Unit::Money => t.money(&Money::new(d.round_dp(currency.minor_units()), currency)),
        Unit::Share | Unit::Attainment | Unit::Growth => percent(t, d),
        Unit::Days => t.t1("kpi-unit-days", "n", model::format_decimal(t.locale, d, 1)),
        Unit::Minutes => t.t1("kpi-unit-minutes", "n", model::format_decimal(t.locale, d, 0)),
        Unit::Seconds => t.t1("kpi-unit-hours", "n", model::format_decimal(t.locale, d / Decimal::from(3600), 1)),
        Unit::Average if kpi == Kpi::AverageRevenuePerRep => {
            t.money(&Money::new(d.round_dp(currency.minor_units()), currency))
        }
        Unit::Average => model::format_decimal(t.locale, d, 1),
    })
}

// ---- /kpis ----------------------------------------------------------------------------------

pub struct CellView {
    text: Option<String>,
    no_data: Option<String>,
    link: String,
    /// "▲ +12.0 %" etc.; `up` says whether the change is good (a rise, or a fall of a KPI where
    /// lower is better, such as the sales cycle).
    change: Option<String>,
    up: bool,
    baseline: Option<String>,
}

pub struct RowView {
    labels: Vec<String>,
    cells: Vec<CellView>,
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpisPage {
    shell: crate::pages::Shell,
    /// (name, label, checked)
    kpis: Vec<(&'static str, String, bool)>,
    /// (name, label)
    dimensions: Vec<(&'static str, String)>,
    by: String,
    period: String,
    compare: String,
    error: Option<String>,
    /// Column headers of the slice and of the KPIs.
    slice_headers: Vec<String>,
    kpi_headers: Vec<String>,
    rows: Vec<RowView>,
    total: Option<RowView>,
    range: String,
    baseline_label: Option<String>,
    csv_link: String,
    diagnostics: usize,
    is_admin: bool,
    fiscal_month: i8,
    fiscal_445: bool,
    months: Vec<(i8, String)>,
}

fn cell_view(t: &Tr, c: &KpiCell, currency: model::Currency, link: String) -> CellView {
    let text = format_value(t, c.kpi, &c.value, currency);
    let no_data = match &c.value {
        Value::NoData { reason, .. } => Some(reason.to_string()),
        _ => None,
    };
    let (change, up) = match (c.difference, c.relative) {
        (Some(d), rel) if !d.is_zero() => {
            let arrow = if d > Decimal::ZERO { "▲" } else { "▼" };
            let amount = match (c.kpi.unit(), rel) {
                (Unit::Share, _) => {
                    format!("{} pp", model::format_decimal(t.locale, d * Decimal::ONE_HUNDRED, 1))
                }
                (_, Some(r)) => percent(t, r),
                (_, None) => format_value(t, c.kpi, &Value::Money { amount: d }, currency).unwrap_or_default(),
            };
            let sign = if d > Decimal::ZERO && !amount.starts_with('-') { "+" } else { "" };
            (Some(format!("{arrow} {sign}{amount}")), (d > Decimal::ZERO) != c.kpi.lower_is_better())
        }
        (Some(_), _) => (Some("= 0".into()), true),
        _ => (None, false),
    };
    let baseline = c.baseline.as_ref().map(|b| format_value(t, c.kpi, b, currency).unwrap_or_else(|| "–".into()));
    CellView { text, no_data, link, change, up, baseline }
}

/// The first value of `key` in a query string's pairs.
fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub async fn kpis(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let sh = shell(&p, "kpis");
    let t = sh.t.clone();
    let app = &state.app;
    let calendar = app.fiscal_calendar().await.or_page(&p)?;
    let today = app.now().to_zoned(p.user.time_zone.tz()).date();
    let mut metrics: Vec<String> =
        pairs.iter().filter(|(k, _)| k == "metric").map(|(_, v)| v.clone()).filter(|v| !v.is_empty()).collect();
    if metrics.is_empty() {
        metrics =
            ["revenue", "deals_closed", "win_rate", "open_pipeline", "sales_cycle_length"].map(String::from).to_vec();
    }
    let by = first(&pairs, "by").unwrap_or("rep").to_string();
    let period = first(&pairs, "period")
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| calendar.period_of(today, model::PeriodKind::Quarter).to_string());
    let compare = first(&pairs, "compare").unwrap_or("previous").to_string();
    let request = KpiRequest {
        metrics: metrics.clone(),
        by: vec![by.clone()],
        period: period.clone(),
        compare: Some(compare.clone()),
    };
    let mut view = KpisPage {
        kpis: Kpi::ALL
            .iter()
            .filter(|k| k.missing_reason().is_none())
            .map(|k| (k.name(), kpi_label(&t, *k), metrics.iter().any(|m| m.split(',').any(|m| m.trim() == k.name()))))
            .collect(),
        dimensions: Dimension::ALL.iter().map(|d| (d.name(), dimension_label(&t, *d))).collect(),
        by: Dimension::parse(&by).map(|d| d.name().to_string()).unwrap_or(by.clone()),
        period,
        compare,
        error: None,
        slice_headers: Vec::new(),
        kpi_headers: Vec::new(),
        rows: Vec::new(),
        total: None,
        range: String::new(),
        baseline_label: None,
        csv_link: String::new(),
        diagnostics: 0,
        is_admin: p.can(Permission::AdministerOrganisation),
        fiscal_month: calendar.start_month(),
        fiscal_445: calendar.quarter_scheme() == model::QuarterScheme::Weeks445,
        months: (1..=12).map(|m| (m, t.t(&format!("kpi-month-{m}")))).collect(),
        shell: sh,
    };
    let query = match request.parse() {
        Ok(q) => q,
        Err(e) => {
            view.error = Some(crate::pages_admin::error_text(&e));
            return Ok(render(&view));
        }
    };
    let report = match app.kpi_table(&p, &query).await {
        Ok(r) => r,
        Err(e @ AppError::Invalid { .. }) => {
            view.error = Some(crate::pages_admin::error_text(&e));
            return Ok(render(&view));
        }
        Err(e) => return Err(crate::pages::PageError::new(e, Some(&p))),
    };
    let metric_param = report.kpis.iter().map(|k| k.name()).collect::<Vec<_>>().join(",");
    view.slice_headers = report.by.iter().map(|d| dimension_label(&t, *d)).collect();
    view.kpi_headers = report.kpis.iter().map(|k| kpi_label(&t, *k)).collect();
    let drill = |kpi: Kpi, cell: &str| format!("/kpis/drill?metric={}&cell={}", kpi.name(), url_encode(cell));
    view.rows = report
        .rows
        .iter()
        .map(|r| RowView {
            labels: r
                .slice
                .iter()
                .map(|s| if s.label.is_empty() { t.t("kpi-not-set") } else { s.label.clone() })
                .collect(),
            cells: r.cells.iter().map(|c| cell_view(&t, c, report.currency, drill(c.kpi, &r.cell))).collect(),
        })
        .collect();
    view.total = Some(RowView {
        labels: report
            .by
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { t.t("kpi-total") } else { String::new() })
            .collect(),
        cells: report
            .total
            .cells
            .iter()
            .map(|c| cell_view(&t, c, report.currency, drill(c.kpi, &report.total.cell)))
            .collect(),
    });
    view.range = format!("{} – {}", t.date(report.from), t.date(report.to));
    view.baseline_label = report.baseline_period.map(|b| {
        let key = match report.compare {
            Some(Baseline::SamePeriodLastYear) => "kpi-compare-last-year",
            _ => "kpi-compare-previous",
        };
        format!("{} ({b})", t.t(key))
    });
    view.csv_link = format!(
        "/api/v1/kpis?format=csv&metric={}&by={}&period={}&compare={}",
        url_encode(&metric_param),
        url_encode(&view.by),
        url_encode(&report.period.to_string()),
        url_encode(&view.compare)
    );
    view.diagnostics = report.diagnostics.len();
    Ok(render(&view))
}

pub async fn fiscal_calendar(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = &f.principal;
    match state.app.set_fiscal_calendar(p, f.get("fiscal_year_start_month"), f.get("quarter_scheme")).await {
        Ok(()) => Ok(see_other("/kpis")),
        Err(e) => Err(crate::pages::PageError::new(e, Some(p))),
    }
}

// ---- drill-down -----------------------------------------------------------------------------

#[derive(serde::Deserialize)]
pub struct DrillQuery {
    metric: String,
    cell: String,
}

pub struct RecordView {
    kind: String,
    id: i64,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "kpi_drill.html")]
struct DrillPage {
    shell: crate::pages::Shell,
    kpi: String,
    cell: String,
    value: String,
    numerator: Vec<RecordView>,
    denominator: Vec<RecordView>,
    is_ratio: bool,
}

fn record_views(t: &Tr, records: &[app::DrillRecord]) -> Vec<RecordView> {
    use app::kpi_engine::RecordRef::*;
    records
        .iter()
        .map(|r| {
            let (kind, id) = match r.record {
                Opportunity(i) => ("opportunity", i.0),
                Activity(i) => ("activity", i.0),
                Lead(i) => ("lead", i.0),
                Quote(i) => ("quote", i.0),
                Order(i) => ("order", i.0),
                Quota(i) => ("quota", i64::from(i)),
                DataEntry(i) => ("data-entry", i64::from(i)),
            };
            RecordView { kind: t.t(&format!("kpi-record-{kind}")), id, link: r.link.clone() }
        })
        .collect()
}

pub async fn drill(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<DrillQuery>) -> PageResult {
    let sh = shell(&p, "kpis");
    let t = sh.t.clone();
    let kpi = Kpi::parse(q.metric.trim())
        .ok_or_else(|| AppError::invalid("metric", format!("'{}' is not a KPI", q.metric)))
        .or_page(&p)?;
    let d = state.app.kpi_drill(&p, kpi, &[], &q.cell).await.or_page(&p)?;
    let currency = state.app.store.reporting_currency().await.map_err(AppError::from).or_page(&p)?;
    let value = format_value(&t, kpi, &d.value, currency).unwrap_or_else(|| match &d.value {
        Value::NoData { reason, .. } => format!("{} ({reason})", t.t("kpi-no-data")),
        _ => String::new(),
    });
    let view = DrillPage {
        kpi: kpi_label(&t, kpi),
        cell: d.cell.clone(),
        value,
        is_ratio: !d.denominator.is_empty(),
        numerator: record_views(&t, &d.numerator),
        denominator: record_views(&t, &d.denominator),
        shell: sh,
    };
    Ok(render(&view))
}

// ---- funnel and process map -----------------------------------------------------------------

#[derive(serde::Deserialize, Default)]
pub struct FlowQuery {
    pipeline: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn flow_of(state: &AppState, p: &Principal, q: &FlowQuery) -> Result<FlowReport, AppError> {
    let pipeline = match q.pipeline.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(s.parse::<i64>().map_err(|_| AppError::invalid("pipeline", "must be a number"))?),
        None => None,
    };
    let from = crate::api_kpi::parse_day("from", q.from.as_deref())?;
    let to = crate::api_kpi::parse_day("to", q.to.as_deref())?;
    state.app.kpi_flow(p, pipeline, from, to).await
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn days(t: &Tr, d: Option<f64>) -> String {
    match d.and_then(Decimal::from_f64) {
        Some(d) => t.t1("kpi-unit-days", "n", model::format_decimal(t.locale, d, 1)),
        None => "–".into(),
    }
}

fn share(t: &Tr, v: &Value) -> String {
    v.to_decimal().map(|d| percent(t, d)).unwrap_or_else(|| "–".into())
}

/// The funnel as horizontal bars: one per forward stage, its length the opportunities that entered
/// it, split into advanced (blue), in progress (grey) and lost (red), with conversion and drop-off.
fn funnel_svg(t: &Tr, stages: &[FunnelStage], won: u64) -> String {
    let max = stages.iter().map(|s| s.entered).max().unwrap_or(0).max(1) as f64;
    let (label_w, bar_w, row_h) = (170.0, 560.0, 46.0);
    let height = 10.0 + row_h * stages.len() as f64 + 62.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 {height}" width="100%" role="img" aria-label="{}" font-family="system-ui, sans-serif" font-size="13">"##,
        esc(&t.t("kpi-funnel-title"))
    );
    let scale = |n: u64| n as f64 / max * bar_w;
    for (i, st) in stages.iter().enumerate() {
        let y = 10.0 + i as f64 * row_h;
        let w = scale(st.entered);
        let x0 = label_w + (bar_w - w) / 2.0;
        let (wa, wp, wl) = (scale(st.advanced), scale(st.in_progress), scale(st.lost));
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1c2430" font-weight="600">{}</text>"##,
            label_w - 12.0,
            y + 22.0,
            esc(&st.name)
        );
        let _ = write!(s, r##"<rect x="{x0:.1}" y="{y}" width="{wa:.1}" height="32" rx="3" fill="#1f6feb"/>"##);
        let _ = write!(s, r##"<rect x="{:.1}" y="{y}" width="{wp:.1}" height="32" fill="#b7c4d4"/>"##, x0 + wa);
        let _ =
            write!(s, r##"<rect x="{:.1}" y="{y}" width="{wl:.1}" height="32" rx="3" fill="#e5534b"/>"##, x0 + wa + wp);
        if w > 50.0 {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#fff" font-weight="600">{}</text>"##,
                x0 + w / 2.0,
                y + 21.0,
                t.int(st.entered as i64)
            );
        }
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" fill="#1b7f3b">→ {}</text><text x="{}" y="{}" fill="#c62828">✕ {}</text><text x="{}" y="{}" fill="#5d6b7c">{}: {}</text>"##,
            label_w + bar_w + 16.0,
            y + 14.0,
            esc(&share(t, &st.conversion)),
            label_w + bar_w + 16.0,
            y + 30.0,
            esc(&share(t, &st.drop_off)),
            label_w + bar_w + 100.0,
            y + 22.0,
            esc(&t.t("kpi-median-days")),
            esc(&days(t, st.median_days))
        );
    }
    let y = 10.0 + stages.len() as f64 * row_h;
    let w = scale(won);
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="end" fill="#1b7f3b" font-weight="600">{}</text><rect x="{:.1}" y="{y}" width="{w:.1}" height="32" rx="3" fill="#1b7f3b"/><text x="{}" y="{}" fill="#1b7f3b" font-weight="600">{}</text>"##,
        label_w - 12.0,
        y + 22.0,
        esc(&t.t("kpi-won")),
        label_w + (bar_w - w) / 2.0,
        label_w + bar_w + 16.0,
        y + 22.0,
        t.int(won as i64)
    );
    let ly = y + 52.0;
    for (i, (color, key)) in
        [("#1f6feb", "kpi-advanced"), ("#b7c4d4", "kpi-in-progress"), ("#e5534b", "kpi-lost")].iter().enumerate()
    {
        let x = label_w + i as f64 * 150.0;
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}" fill="#5d6b7c">{}</text>"##,
            ly - 10.0,
            x + 18.0,
            ly,
            esc(&t.t(key))
        );
    }
    s.push_str("</svg>");
    s
}

pub struct FunnelRow {
    name: String,
    entered: String,
    advanced: String,
    lost: String,
    in_progress: String,
    conversion: String,
    drop_off: String,
    median: String,
    p80: String,
    reasons: String,
}

#[derive(Template)]
#[template(path = "kpi_funnel.html")]
struct FunnelPage {
    shell: crate::pages::Shell,
    pipelines: Vec<(i64, String)>,
    pipeline_id: i64,
    from: String,
    to: String,
    svg: String,
    rows: Vec<FunnelRow>,
    opportunities: String,
    won: String,
}

pub async fn funnel(State(state): State<AppState>, PageAuth(p): PageAuth, Query(q): Query<FlowQuery>) -> PageResult {
    let sh = shell(&p, "funnel");
    let t = sh.t.clone();
    let f = flow_of(&state, &p, &q).await.or_page(&p)?;
    let reason = |r: Option<u16>| match r.and_then(|r| f.loss_reasons.get(r as usize)).filter(|n| !n.is_empty()) {
        Some(n) => n.clone(),
        None => t.t("kpi-no-reason"),
    };
    let rows = f
        .funnel
        .stages
        .iter()
        .map(|s| FunnelRow {
            name: s.name.clone(),
            entered: t.int(s.entered as i64),
            advanced: t.int(s.advanced as i64),
            lost: t.int(s.lost as i64),
            in_progress: t.int(s.in_progress as i64),
            conversion: share(&t, &s.conversion),
            drop_off: share(&t, &s.drop_off),
            median: days(&t, s.median_days),
            p80: days(&t, s.p80_days),
            reasons: s
                .loss_reasons
                .iter()
                .take(3)
                .map(|(r, n)| format!("{} ({})", reason(*r), t.int(*n as i64)))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let view = FunnelPage {
        pipelines: f.pipelines.clone(),
        pipeline_id: f.pipeline_id,
        from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        svg: funnel_svg(&t, &f.funnel.stages, f.funnel.won),
        rows,
        opportunities: t.int(f.funnel.opportunities as i64),
        won: t.int(f.funnel.won as i64),
        shell: sh,
    };
    Ok(render(&view))
}

/// Where each stage's box goes: forward stages left to right, won and lost on the right, nurture
/// stages below.
fn layout(f: &FlowReport) -> Vec<(f64, f64)> {
    let mut forward: Vec<usize> =
        (0..f.stages.len()).filter(|&i| f.stages[i].kind == StageKind::Open && !f.stages[i].nurture).collect();
    forward.sort_by_key(|&i| f.stages[i].order);
    let mut pos = vec![(0.0, 0.0); f.stages.len()];
    let (x0, step, row) = (30.0, 240.0, 170.0);
    for (k, &i) in forward.iter().enumerate() {
        pos[i] = (x0 + k as f64 * step, row);
    }
    let right = x0 + forward.len() as f64 * step + 20.0;
    let mut won_y = 60.0;
    let mut lost_y = 290.0;
    let mut nurture_x = x0 + step;
    for (i, s) in f.stages.iter().enumerate() {
        match (s.kind, s.nurture) {
            (StageKind::Won, _) => {
                pos[i] = (right, won_y);
                won_y += 70.0;
            }
            (StageKind::Lost, _) => {
                pos[i] = (right, lost_y);
                lost_y += 70.0;
            }
            (StageKind::Open, true) => {
                pos[i] = (nurture_x, 360.0);
                nurture_x += step;
            }
            _ => {}
        }
    }
    pos
}

/// The process map as SVG: a box per stage (entries, median days; red when a bottleneck), an
/// arrow per transition whose width grows with its count; forward moves straight, skips arching
/// above (dashed blue), loops back below (dashed orange), closes to won (green) or lost (red).
fn process_svg(t: &Tr, f: &FlowReport) -> String {
    let pos = layout(f);
    let (bw, bh) = (150.0, 64.0);
    let width = pos.iter().map(|p| p.0).fold(0.0, f64::max) + bw + 40.0;
    let height = pos.iter().map(|p| p.1).fold(0.0, f64::max) + bh + 50.0;
    let max = f.map.edges.iter().map(|e| e.count).max().unwrap_or(1).max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{}" font-family="system-ui, sans-serif" font-size="12">"##,
        esc(&t.t("kpi-process-title"))
    );
    s.push_str("<defs>");
    for (id, color) in
        [("fw", "#1f6feb"), ("won", "#1b7f3b"), ("lost", "#c62828"), ("loop", "#d97706"), ("skip", "#7c3aed")]
    {
        let _ = write!(
            s,
            r##"<marker id="arrow-{id}" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="12" markerHeight="12" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>"##
        );
    }
    s.push_str("</defs>");
    let kind_of = |i: u16| f.stages.get(i as usize).map(|s| (s.kind, s.nurture));
    let mut labels = String::new();
    for e in &f.map.edges {
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (pos.get(e.from as usize), pos.get(e.to as usize)) else { continue };
        let w = 1.0 + 7.0 * (e.count as f64 / max).sqrt();
        let to_kind = kind_of(e.to);
        let (id, color, dash) = match (e.movement, to_kind) {
            (Move::Close, Some((StageKind::Won, _))) => ("won", "#1b7f3b", ""),
            (Move::Close, _) => ("lost", "#c62828", ""),
            (Move::LoopBack, _) | (Move::Reopen, _) => ("loop", "#d97706", r#" stroke-dasharray="6 4""#),
            (Move::ReEntry, _) => ("fw", "#1f6feb", r#" stroke-dasharray="2 3""#),
            (Move::Skip { .. }, _) => ("skip", "#7c3aed", r#" stroke-dasharray="8 4""#),
            (Move::Forward, _) => ("fw", "#1f6feb", ""),
        };
        let (path, lx, ly) = match e.movement {
            Move::Forward if (fy - ty).abs() < 1.0 => {
                let (x1, x2, y) = (fx + bw, tx, fy + bh / 2.0);
                (format!("M{x1},{y} L{x2},{y}"), (x1 + x2) / 2.0, y - 6.0)
            }
            Move::Skip { .. } if (fy - ty).abs() < 1.0 => {
                let (x1, x2, y) = (fx + bw / 2.0, tx + bw / 2.0, fy);
                let lift = 30.0 + (x2 - x1).abs() / 8.0;
                (format!("M{x1},{y} Q{},{} {x2},{y}", (x1 + x2) / 2.0, y - 2.0 * lift), (x1 + x2) / 2.0, y - lift - 4.0)
            }
            Move::LoopBack if (fy - ty).abs() < 1.0 => {
                let (x1, x2, y) = (fx + bw / 2.0 - 20.0, tx + bw / 2.0 + 20.0, fy + bh);
                let drop = 30.0 + (x1 - x2).abs() / 8.0;
                (
                    format!("M{x1},{y} Q{},{} {x2},{y}", (x1 + x2) / 2.0, y + 2.0 * drop),
                    (x1 + x2) / 2.0,
                    y + drop + 12.0,
                )
            }
            Move::Close => {
                // Down to lost from the box's bottom, up to won from its top, into the target's side.
                let below = ty > fy;
                let (x1, y1) = (fx + bw / 2.0 + 20.0, if below { fy + bh } else { fy });
                let (x2, y2) = (tx, ty + bh / 2.0);
                (
                    format!("M{x1},{y1} L{x2},{y2}"),
                    x1 + (x2 - x1) * 0.12 + 14.0,
                    y1 + (y2 - y1) * 0.12 + if below { 10.0 } else { -2.0 },
                )
            }
            _ => {
                // Between rows: from the nearer edge of each box.
                let (x1, y1) = if tx > fx + bw {
                    (fx + bw, fy + bh / 2.0)
                } else if ty > fy {
                    (fx + bw / 2.0, fy + bh)
                } else {
                    (fx + bw / 2.0, fy)
                };
                let (x2, y2) = if tx > fx + bw {
                    (tx, ty + bh / 2.0)
                } else if ty > fy {
                    (tx + bw / 2.0, ty)
                } else {
                    (tx + bw / 2.0, ty + bh)
                };
                (format!("M{x1},{y1} L{x2},{y2}"), x1 + (x2 - x1) * 0.35, y1 + (y2 - y1) * 0.35 - 4.0)
            }
        };
        let _ = write!(
            s,
            r##"<path d="{path}" fill="none" stroke="{color}" stroke-width="{w:.1}" stroke-opacity="0.7"{dash} marker-end="url(#arrow-{id})"><title>{} → {}: {}</title></path>"##,
            esc(&f.stages.get(e.from as usize).map(|s| s.name.clone()).unwrap_or_default()),
            esc(&f.stages.get(e.to as usize).map(|s| s.name.clone()).unwrap_or_default()),
            t.int(e.count as i64)
        );
        let _ = write!(
            labels,
            r##"<text x="{lx:.1}" y="{ly:.1}" text-anchor="middle" fill="{color}" font-weight="600" stroke="#fff" stroke-width="3" paint-order="stroke">{}</text>"##,
            t.int(e.count as i64)
        );
    }
    for n in &f.map.nodes {
        let Some(&(x, y)) = pos.get(n.stage as usize) else { continue };
        let (fill, stroke) = match (kind_of(n.stage), n.bottleneck) {
            (_, Some(_)) => ("#fdecea", "#c62828"),
            (Some((StageKind::Won, _)), _) => ("#e6f4ea", "#1b7f3b"),
            (Some((StageKind::Lost, _)), _) => ("#fdecea", "#e5534b"),
            (Some((_, true)), _) => ("#fff4e5", "#d97706"),
            _ => ("#e8f0fe", "#1f6feb"),
        };
        let sw = if n.bottleneck.is_some() { 3 } else { 1 };
        let _ = write!(
            s,
            r##"<rect x="{x}" y="{y}" width="{bw}" height="{bh}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/><text x="{}" y="{}" text-anchor="middle" font-weight="700" fill="#1c2430">{}</text><text x="{}" y="{}" text-anchor="middle" fill="#5d6b7c">{}</text><text x="{}" y="{}" text-anchor="middle" fill="#5d6b7c">{}</text>"##,
            x + bw / 2.0,
            y + 19.0,
            esc(&n.name),
            x + bw / 2.0,
            y + 37.0,
            esc(&t.t1("kpi-entries", "n", t.int(n.entries as i64))),
            x + bw / 2.0,
            y + 54.0,
            esc(&match n.median_days {
                Some(_) => format!("{} · {}", days(t, n.median_days), t.t1("kpi-now-in", "n", t.int(n.current as i64))),
                None => t.t1("kpi-now-in", "n", t.int(n.current as i64)),
            })
        );
        if let Some(b) = n.bottleneck {
            let key = match b {
                Bottleneck::Slow => "kpi-bottleneck-slow",
                Bottleneck::Leaky => "kpi-bottleneck-leaky",
                Bottleneck::SlowAndLeaky => "kpi-bottleneck-slow-leaky",
            };
            let _ = write!(
                s,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#c62828" font-weight="700">⚠ {}</text>"##,
                x + bw / 2.0,
                y - 8.0,
                esc(&t.t(key))
            );
        }
    }
    s.push_str(&labels);
    s.push_str("</svg>");
    s
}

pub struct EdgeRow {
    from: String,
    to: String,
    kind: String,
    count: String,
    conversion: String,
    median: String,
}

#[derive(Template)]
#[template(path = "kpi_process.html")]
struct ProcessPage {
    shell: crate::pages::Shell,
    pipelines: Vec<(i64, String)>,
    pipeline_id: i64,
    from: String,
    to: String,
    svg: String,
    edges: Vec<EdgeRow>,
    bottlenecks: Vec<String>,
}

pub async fn process_map(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<FlowQuery>,
) -> PageResult {
    let sh = shell(&p, "process-map");
    let t = sh.t.clone();
    let f = flow_of(&state, &p, &q).await.or_page(&p)?;
    let name = |i: u16| f.stages.get(i as usize).map(|s| s.name.clone()).unwrap_or_default();
    let mut edges: Vec<&app::kpi_engine::process_map::Edge> = f.map.edges.iter().collect();
    edges.sort_by_key(|e| std::cmp::Reverse(e.count));
    let view = ProcessPage {
        pipelines: f.pipelines.clone(),
        pipeline_id: f.pipeline_id,
        from: f.from.map(|d| d.to_string()).unwrap_or_default(),
        to: f.to.map(|d| d.to_string()).unwrap_or_default(),
        svg: process_svg(&t, &f),
        edges: edges
            .iter()
            .map(|e| EdgeRow {
                from: name(e.from),
                to: name(e.to),
                kind: t.t(match e.movement {
                    Move::Forward => "kpi-move-forward",
                    Move::Skip { .. } => "kpi-move-skip",
                    Move::LoopBack => "kpi-move-loop-back",
                    Move::ReEntry => "kpi-move-re-entry",
                    Move::Close => "kpi-move-close",
                    Move::Reopen => "kpi-move-reopen",
                }),
                count: t.int(e.count as i64),
                conversion: share(&t, &e.conversion),
                median: days(&t, e.median_days),
            })
            .collect(),
        bottlenecks: f
            .map
            .nodes
            .iter()
            .filter(|n| n.bottleneck.is_some())
            .map(|n| {
                format!("{}: {} · {} {}", n.name, days(&t, n.median_days), t.t("kpi-lost"), share(&t, &n.loss_share))
            })
            .collect(),
        shell: sh,
    };
    Ok(render(&view))
}
