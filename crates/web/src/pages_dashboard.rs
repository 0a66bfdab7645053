//! The daily dashboard (`/dashboard`, issue 5 A2), read from the KPI rollups. The same URL shows
//! what the viewer may see: a rep their own numbers, a manager their team (one row per rep), ops
//! and finance the company (one row per region, and the teams). Today's and this month's figures,
//! a 12-month revenue trend (line), revenue per rep or region (bars) and this month's funnel of
//! opportunities created, closed and won; each chart downloads as SVG and CSV
//! (`/dashboard/chart/{trend|bars|funnel}?format=svg|csv`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::AppState;
use crate::auth::PageAuth;
use crate::i18n::Tr;
use crate::pages::{OrPage, PageError, PageResult, Shell, render, shell};
use crate::pages_kpi::{format_value, kpi_label};
use app::kpi_engine::{Dimension, Kpi, Value};
use app::{AppError, KpiReport, KpiRequest, Principal};
use model::{Period, PeriodKind, Visibility};

const METRICS: [Kpi; 6] =
    [Kpi::Revenue, Kpi::DealsClosed, Kpi::WinRate, Kpi::OpenPipeline, Kpi::CallsPlaced, Kpi::MeetingsHeld];
/// The KPIs of the month's report: the tiles, then the funnel's steps.
const MONTH_METRICS: [Kpi; 8] = [
    Kpi::Revenue,
    Kpi::DealsClosed,
    Kpi::WinRate,
    Kpi::OpenPipeline,
    Kpi::CallsPlaced,
    Kpi::MeetingsHeld,
    Kpi::OpportunitiesCreated,
    Kpi::DealsLost,
];

/// Everything the page and its chart downloads show.
struct Dashboard {
    scope: Visibility,
    currency: model::Currency,
    today: Period,
    month: Period,
    today_report: KpiReport,
    month_report: KpiReport,
    teams: Option<KpiReport>,
    /// (month, revenue, deals closed) for the last 12 months.
    trend: Vec<(Period, Value, Value)>,
}

fn names(kpis: &[Kpi]) -> Vec<String> {
    vec![kpis.iter().map(|k| k.name()).collect::<Vec<_>>().join(",")]
}

fn request(kpis: &[Kpi], by: Option<Dimension>, period: Period, compare: bool) -> Result<app::KpiQuery, AppError> {
    KpiRequest {
        metrics: names(kpis),
        by: by.map(|d| vec![d.name().to_string()]).unwrap_or_default(),
        period: period.to_string(),
        compare: compare.then(|| "previous".to_string()),
    }
    .parse()
}

async fn load(state: &AppState, p: &Principal) -> Result<Dashboard, AppError> {
    let app = &state.app;
    let calendar = app.fiscal_calendar().await?;
    let day = app.now().to_zoned(p.user.time_zone.tz()).date();
    let scope = p.user.role.visibility();
    let today = calendar.period_of(day, PeriodKind::Day);
    let month = calendar.period_of(day, PeriodKind::Month);
    let by = match scope {
        Visibility::All => Dimension::Region,
        _ => Dimension::Rep,
    };
    let mut first = month;
    for _ in 0..11 {
        first = calendar.previous(first);
    }
    let mut tables = vec![request(&METRICS, None, today, false)?, request(&MONTH_METRICS, Some(by), month, true)?];
    if scope == Visibility::All {
        tables.push(request(&METRICS, Some(Dimension::Team), month, false)?);
    }
    let series = app::kpi_engine::Query {
        kpis: vec![Kpi::Revenue, Kpi::DealsClosed],
        by: Vec::new(),
        period: PeriodKind::Month,
        from: calendar.start(first),
        to: calendar.end(month),
    };
    // One refresh and one load of users, FX and settings for all the page's tables.
    let (reports, series) = app.kpi_tables(p, &tables, Some(&series)).await?;
    let series = series.ok_or_else(|| AppError::Internal("the dashboard's trend was not computed".into()))?;
    let mut reports = reports.into_iter();
    let (Some(today_report), Some(month_report)) = (reports.next(), reports.next()) else {
        return Err(AppError::Internal("the dashboard's tables were not computed".into()));
    };
    let teams = reports.next();
    let trend = series
        .totals()
        .into_iter()
        .map(|row| {
            let mut values = row.values.into_iter();
            let revenue = values.next().unwrap_or_else(|| Value::no_data("no records"));
            let deals = values.next().unwrap_or_else(|| Value::no_data("no records"));
            (row.period, revenue, deals)
        })
        .collect();
    Ok(Dashboard { scope, currency: month_report.currency, today, month, today_report, month_report, teams, trend })
}

fn cell_text(t: &Tr, d: &Dashboard, kpi: Kpi, v: &Value) -> String {
    format_value(t, kpi, v, d.currency).unwrap_or_else(|| "–".into())
}

fn number(v: &Value) -> f64 {
    v.to_decimal().and_then(|d| d.to_f64()).unwrap_or(0.0)
}

fn total_of(r: &KpiReport, kpi: Kpi) -> Option<&app::KpiCell> {
    r.total.cells.iter().find(|c| c.kpi == kpi)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const W: f64 = 880.0;
/// The narrowest room for the bars' labels; longer labels widen it (up to [`LEFT_MAX`]).
const LEFT: f64 = 150.0;
const LEFT_MAX: f64 = 320.0;
const RIGHT: f64 = 130.0;

fn svg_open(id: &str, h: f64, label: &str) -> String {
    format!(
        "<svg id=\"{id}\" class=\"dash-chart\" width=\"100%\" viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, sans-serif\">",
        esc(label)
    )
}

/// Revenue per month: a line with its points and value gridlines.
fn trend_svg(t: &Tr, d: &Dashboard) -> String {
    const H: f64 = 270.0;
    const TOP: f64 = 26.0;
    const BOTTOM: f64 = 30.0;
    const L: f64 = 80.0;
    let values: Vec<f64> = d.trend.iter().map(|(_, r, _)| number(r)).collect();
    let step = nice_step(values.iter().copied().fold(0.0_f64, f64::max) / 4.0);
    let hi = step * 4.0;
    let n = values.len().max(2);
    // Room on the right so the last month's label is not cut off.
    let x = |i: usize| L + (W - L - 40.0) * i as f64 / (n - 1) as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / hi);
    let mut svg = svg_open("chart-trend", H, &t.t("dash-trend"));
    // The axis's unit: the reporting currency.
    svg.push_str(&format!(
        "<text x=\"{}\" y=\"12\" font-size=\"11\" font-weight=\"600\" fill=\"#5b6570\" text-anchor=\"end\">{}</text>",
        L - 6.0,
        esc(d.currency.code())
    ));
    if values.iter().all(|v| *v == 0.0) {
        svg.push_str(&no_data(&t.t("kpi-no-data"), W / 2.0, (TOP + H - BOTTOM) / 2.0));
    }
    for k in 0..=4 {
        let v = step * f64::from(k);
        let yy = y(v);
        svg.push_str(&format!(
            "<line x1=\"{L}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e3e6ea\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"end\">{}</text>",
            W - 20.0,
            L - 6.0,
            yy + 4.0,
            esc(&t.int(v.round() as i64))
        ));
    }
    let points: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
    svg.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#2f6fb3\" stroke-width=\"2.5\" points=\"{}\"/>",
        points.join(" ")
    ));
    for (i, ((period, revenue, _), v)) in d.trend.iter().zip(&values).enumerate() {
        svg.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#2f6fb3\"><title>{} · {}</title></circle>",
            x(i),
            y(*v),
            esc(&period.to_string()),
            esc(&cell_text(t, d, Kpi::Revenue, revenue))
        ));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"middle\">{}</text>",
            x(i),
            H - 8.0,
            esc(&period.to_string())
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A 1, 2, 2.5 or 5 × 10^k step at least `raw` (gridlines at round values), at least 1.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().find(|n| norm <= *n).unwrap_or(10.0);
    nice * magnitude
}

/// A centred grey "no data" note inside a chart.
fn no_data(text: &str, x: f64, y: f64) -> String {
    format!(
        "<text class=\"chart-no-data\" x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"14\" fill=\"#8a949e\" text-anchor=\"middle\">{}</text>",
        esc(text)
    )
}

/// Horizontal bars with a label on the left and the formatted value on the right; `empty` is
/// shown when there are no bars or all are zero.
fn bars_svg(id: &str, label: &str, bars: &[(String, f64, String)], color: &str, empty: &str) -> String {
    const ROW: f64 = 26.0;
    let h = 16.0 + ROW * bars.len().max(1) as f64;
    let hi = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1.0);
    // About 7 px per character at 12 px, so long (translated) labels are not cut off on the left.
    let longest = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0) as f64;
    let left = (longest * 7.0 + 16.0).clamp(LEFT, LEFT_MAX);
    let mut svg = svg_open(id, h, label);
    if bars.iter().all(|b| b.1 == 0.0) {
        svg.push_str(&no_data(empty, W / 2.0, h / 2.0 + 5.0));
        svg.push_str("</svg>");
        return svg;
    }
    for (i, (name, v, text)) in bars.iter().enumerate() {
        let y = 8.0 + ROW * i as f64;
        let w = ((W - left - RIGHT) * v.max(0.0) / hi).max(1.0);
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d2733\" text-anchor=\"end\">{}</text>\
             <rect x=\"{left}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\" rx=\"3\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d2733\">{}</text>",
            left - 8.0,
            y + 14.0,
            esc(name),
            ROW - 8.0,
            left + w + 6.0,
            y + 14.0,
            esc(text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn bar_rows(t: &Tr, d: &Dashboard) -> Vec<(String, f64, String)> {
    let revenue = d.month_report.kpis.iter().position(|k| *k == Kpi::Revenue).unwrap_or(0);
    let mut rows: Vec<(String, f64, String)> = d
        .month_report
        .rows
        .iter()
        .map(|r| {
            let v = &r.cells[revenue].value;
            let name = r.slice.first().map(|s| s.label.clone()).filter(|l| !l.is_empty());
            (name.unwrap_or_else(|| t.t("kpi-not-set")), number(v), cell_text(t, d, Kpi::Revenue, v))
        })
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(25);
    rows
}

fn funnel_rows(t: &Tr, d: &Dashboard) -> Vec<(String, f64, String)> {
    let count = |k: Kpi| total_of(&d.month_report, k).map(|c| number(&c.value)).unwrap_or(0.0);
    let created = count(Kpi::OpportunitiesCreated);
    let won = count(Kpi::DealsClosed);
    let closed = won + count(Kpi::DealsLost);
    [("dash-funnel-created", created), ("dash-funnel-closed", closed), ("dash-funnel-won", won)]
        .into_iter()
        .map(|(key, n)| (t.t(key), n, t.int(n as i64)))
        .collect()
}

pub struct TileView {
    label: String,
    today: String,
    month: String,
    change: String,
}

pub struct RowView {
    name: String,
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    heading: String,
    scope_note: String,
    month: String,
    today: String,
    tiles: Vec<TileView>,
    trend: String,
    bars: String,
    bars_title: String,
    funnel: String,
    headers: Vec<String>,
    rows_title: String,
    rows: Vec<RowView>,
    team_rows: Vec<RowView>,
}

fn row_views(t: &Tr, d: &Dashboard, r: &KpiReport) -> Vec<RowView> {
    r.rows
        .iter()
        .map(|row| RowView {
            name: row
                .slice
                .first()
                .map(|s| s.label.clone())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| t.t("kpi-not-set")),
            cells: METRICS
                .iter()
                .map(|k| {
                    row.cells.iter().find(|c| c.kpi == *k).map(|c| cell_text(t, d, *k, &c.value)).unwrap_or_default()
                })
                .collect(),
        })
        .collect()
}

pub async fn page(State(state): State<AppState>, PageAuth(p): PageAuth) -> PageResult {
    let sh = shell(&p, "dashboard");
    let t = sh.t.clone();
    let d = load(&state, &p).await.or_page(&p)?;
    let (heading, rows_title, bars_title) = match d.scope {
        Visibility::Own => ("dash-mine", "dash-by-rep", "dash-revenue-by-rep"),
        Visibility::Subtree => ("dash-team", "dash-by-rep", "dash-revenue-by-rep"),
        Visibility::All => ("dash-company", "dash-by-region", "dash-revenue-by-region"),
    };
    let tiles = METRICS
        .iter()
        .map(|k| {
            let today = total_of(&d.today_report, *k).map(|c| cell_text(&t, &d, *k, &c.value)).unwrap_or_default();
            let month = total_of(&d.month_report, *k);
            let change = month
                .and_then(|c| c.relative)
                .map(|r| {
                    let pct = model::format_decimal(t.locale, r * Decimal::ONE_HUNDRED, 1);
                    t.t1("dash-vs-previous", "change", format!("{}{pct} %", if r >= Decimal::ZERO { "+" } else { "" }))
                })
                .unwrap_or_default();
            TileView {
                label: kpi_label(&t, *k),
                today: if *k == Kpi::OpenPipeline { String::new() } else { today },
                month: month.map(|c| cell_text(&t, &d, *k, &c.value)).unwrap_or_default(),
                change,
            }
        })
        .collect();
    let view = DashboardPage {
        heading: t.t(heading),
        scope_note: t.t(match d.scope {
            Visibility::Own => "scope-own",
            Visibility::Subtree => "scope-team",
            Visibility::All => "scope-all",
        }),
        month: d.month.to_string(),
        today: t.date(d.today_report.from),
        tiles,
        trend: trend_svg(&t, &d),
        bars: bars_svg("chart-bars", &t.t(bars_title), &bar_rows(&t, &d), "#2f6fb3", &t.t("kpi-no-data")),
        bars_title: t.t(bars_title),
        funnel: bars_svg("chart-funnel", &t.t("dash-funnel"), &funnel_rows(&t, &d), "#3d8b5f", &t.t("kpi-no-data")),
        headers: METRICS.iter().map(|k| kpi_label(&t, *k)).collect(),
        rows_title: t.t(rows_title),
        rows: row_views(&t, &d, &d.month_report),
        team_rows: d.teams.as_ref().map(|r| row_views(&t, &d, r)).unwrap_or_default(),
        shell: sh,
    };
    Ok(render(&view))
}

#[derive(serde::Deserialize)]
pub struct ChartQuery {
    pub format: Option<String>,
}

fn csv_cell(s: &str) -> String {
    // Labels are names: quote them, and keep a leading formula character from being run.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One chart of the dashboard as SVG or CSV (plain numbers, the reporting currency's code).
pub async fn chart(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Path(name): Path<String>,
    Query(q): Query<ChartQuery>,
) -> Result<Response, PageError> {
    let t = crate::pages::tr_of(&p);
    let format = q.format.unwrap_or_else(|| "svg".into());
    if !matches!(format.as_str(), "svg" | "csv") || !matches!(name.as_str(), "trend" | "bars" | "funnel") {
        return Err(AppError::NotFound).or_page(&p);
    }
    let d = load(&state, &p).await.or_page(&p)?;
    let body = match (name.as_str(), format.as_str()) {
        ("trend", "svg") => trend_svg(&t, &d),
        ("bars", "svg") => {
            let title = if d.scope == Visibility::All { "dash-revenue-by-region" } else { "dash-revenue-by-rep" };
            bars_svg("chart-bars", &t.t(title), &bar_rows(&t, &d), "#2f6fb3", &t.t("kpi-no-data"))
        }
        ("funnel", "svg") => {
            bars_svg("chart-funnel", &t.t("dash-funnel"), &funnel_rows(&t, &d), "#3d8b5f", &t.t("kpi-no-data"))
        }
        ("trend", _) => {
            let mut out = String::from("month,revenue,currency,deals_closed\n");
            for (period, revenue, deals) in &d.trend {
                out.push_str(&format!(
                    "{period},{},{},{}\n",
                    revenue.to_decimal().map(|v| v.normalize().to_string()).unwrap_or_default(),
                    d.currency.code(),
                    deals.to_decimal().map(|v| v.normalize().to_string()).unwrap_or_default()
                ));
            }
            out
        }
        ("bars", _) => {
            let dim = if d.scope == Visibility::All { "region" } else { "rep" };
            let mut out = format!("{dim},month,revenue,currency,deals_closed,win_rate\n");
            for r in &d.month_report.rows {
                let value = |k: Kpi| {
                    r.cells.iter().find(|c| c.kpi == k).map(|c| app::plain_value(&c.value)).unwrap_or_default()
                };
                out.push_str(&format!(
                    "{},{},{},{},{},{}\n",
                    csv_cell(&r.slice.first().map(|s| s.label.clone()).unwrap_or_default()),
                    d.month,
                    value(Kpi::Revenue),
                    d.currency.code(),
                    value(Kpi::DealsClosed),
                    value(Kpi::WinRate)
                ));
            }
            out
        }
        _ => {
            let mut out = String::from("step,month,opportunities\n");
            for ((_, n, _), step) in funnel_rows(&t, &d).iter().zip(["created", "closed", "won"]) {
                out.push_str(&format!("{step},{},{}\n", d.month, *n as i64));
            }
            out
        }
    };
    let (mime, ext) = if format == "svg" { ("image/svg+xml", "svg") } else { ("text/csv; charset=utf-8", "csv") };
    let body = if format == "svg" { format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}") } else { body };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"dashboard-{name}-{}.{ext}\"", d.today)),
        ],
        body,
    )
        .into_response())
}
