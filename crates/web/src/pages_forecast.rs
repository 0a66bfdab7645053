//! The series forecast page (`/forecasts/series`): choose a slice, grain and horizon; a
//! server-rendered SVG chart (history, forecast, shaded 80% and 95% bands), the forecast table
//! in the reporting currency, the method chosen and a CSV download.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::AppState;
use crate::auth::PageAuth;
use crate::i18n::Tr;
use crate::pages::{OrPage, PageResult, render, shell};
use app::{AppError, Grain, Principal, SeriesForecast, parse_slice};
use model::{Currency, Money};
use store::RevenueSlice;

#[derive(serde::Deserialize, Default)]
pub struct SeriesPageQuery {
    /// `total`, `product_line:<line>` or `region:<code>`.
    pub slice: Option<String>,
    pub grain: Option<String>,
    pub horizon: Option<String>,
}

pub struct RowView {
    period: String,
    point: String,
    band80: String,
    band95: String,
}

#[derive(Template)]
#[template(path = "forecast_series.html")]
struct SeriesPage {
    shell: crate::pages::Shell,
    slices: Vec<(String, String)>,
    slice: String,
    grain: String,
    horizon: String,
    error: Option<String>,
    chart: String,
    method: String,
    diagnostics: Vec<String>,
    currency: String,
    rows: Vec<RowView>,
    csv_query: String,
}

struct Request {
    by: RevenueSlice,
    key: Option<String>,
    grain: Grain,
    horizon: usize,
}

fn request(q: &SeriesPageQuery) -> Result<Request, AppError> {
    let slice = q.slice.as_deref().unwrap_or("total");
    let (by, key) = match slice.split_once(':') {
        Some((by, key)) => (parse_slice(by)?, Some(key.to_string())),
        None => (parse_slice(slice)?, None),
    };
    let grain = Grain::parse(q.grain.as_deref().unwrap_or("month"))?;
    let horizon = match q.horizon.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        None => 12,
        Some(h) => h.parse().map_err(|_| AppError::invalid("horizon", "must be a whole number"))?,
    };
    Ok(Request { by, key, grain, horizon })
}

async fn run(state: &AppState, p: &Principal, r: &Request) -> Result<SeriesForecast, AppError> {
    state.app.series_forecast(p, r.by, r.key.as_deref(), r.grain, r.horizon).await
}

/// A period label in the user's locale: "Mar 2026" for a month, the Monday's date for a week.
fn period_label(t: &Tr, grain: Grain, period: &str) -> String {
    match grain {
        Grain::Month => match period.split_once('-') {
            Some((y, m)) => format!("{} {y}", t.t(&format!("series-month-{}", m.trim_start_matches('0')))),
            None => period.to_string(),
        },
        Grain::Week => period.parse().map(|d| t.date(d)).unwrap_or_else(|_| period.to_string()),
    }
}

fn money(t: &Tr, currency: Option<Currency>, v: Decimal) -> String {
    match currency {
        Some(c) => t.money(&Money::new(v, c)),
        None => v.to_string(),
    }
}

pub async fn series(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<SeriesPageQuery>,
) -> PageResult {
    let sh = shell(&p, "forecasts");
    let mut slices = vec![("total".to_string(), sh.t.t("series-slice-total"))];
    for k in state.app.series_slice_keys(&p, RevenueSlice::ProductLine).await.or_page(&p)? {
        slices.push((format!("product_line:{k}"), sh.t.t1("series-slice-product-line", "name", &k)));
    }
    for k in state.app.series_slice_keys(&p, RevenueSlice::Region).await.or_page(&p)? {
        slices.push((format!("region:{k}"), sh.t.t1("series-slice-region", "name", &k)));
    }
    let slice = q.slice.clone().unwrap_or_else(|| "total".into());
    let grain = q.grain.clone().unwrap_or_else(|| "month".into());
    let horizon = q.horizon.clone().unwrap_or_else(|| "12".into());
    let csv_query = format!(
        "slice={}&grain={}&horizon={}",
        crate::pages::url_encode(&slice),
        crate::pages::url_encode(&grain),
        crate::pages::url_encode(&horizon)
    );
    let result = match request(&q) {
        Ok(r) => run(&state, &p, &r).await.map(|f| (r.grain, f)),
        Err(e) => Err(e),
    };
    let mut view = SeriesPage {
        slices,
        slice,
        grain,
        horizon,
        error: None,
        chart: String::new(),
        method: String::new(),
        diagnostics: Vec::new(),
        currency: String::new(),
        rows: Vec::new(),
        csv_query,
        shell: sh,
    };
    match result {
        Ok((grain, f)) => {
            let t = &view.shell.t;
            let currency = f.currency.as_deref().and_then(|c| Currency::parse(c).ok());
            view.chart = chart(t, grain, &f);
            view.rows = f
                .forecast
                .iter()
                .map(|r| RowView {
                    period: period_label(t, grain, &r.period),
                    point: money(t, currency, r.point),
                    band80: format!("{} – {}", money(t, currency, r.lower_80), money(t, currency, r.upper_80)),
                    band95: format!("{} – {}", money(t, currency, r.lower_95), money(t, currency, r.upper_95)),
                })
                .collect();
            view.method = t.t1("series-method", "method", &f.method);
            view.currency = f.currency.clone().unwrap_or_default();
            view.diagnostics = f.diagnostics.clone();
        }
        Err(e @ AppError::Invalid { .. }) => view.error = Some(crate::pages_admin::error_text(&e)),
        Err(e) => return Err(crate::pages::PageError::new(e, Some(&p))),
    }
    Ok(render(&view))
}

/// The forecast table as CSV (period, point, 80% and 95% bounds) for download.
pub async fn series_csv(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<SeriesPageQuery>,
) -> Result<Response, crate::pages::PageError> {
    let r = request(&q).or_page(&p)?;
    let f = run(&state, &p, &r).await.or_page(&p)?;
    let currency = f.currency.clone().unwrap_or_default();
    let mut out = String::from("period,currency,point,lower_80,upper_80,lower_95,upper_95\n");
    for h in &f.forecast {
        out.push_str(&format!(
            "{},{currency},{},{},{},{},{}\n",
            h.period, h.point, h.lower_80, h.upper_80, h.lower_95, h.upper_95
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"series-forecast.csv\"".to_string()),
        ],
        out,
    )
        .into_response())
}

const W: f64 = 880.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;

/// The chart as SVG markup: history line, forecast line, 95% and 80% bands, period labels in
/// the user's locale and a few value gridlines. Only numbers and escaped labels go in.
fn chart(t: &Tr, grain: Grain, f: &SeriesForecast) -> String {
    let num = |d: Decimal| d.to_f64().unwrap_or(0.0);
    let hist: Vec<f64> = f.history.iter().map(|h| num(h.value)).collect();
    let n = hist.len() + f.forecast.len();
    if n < 2 {
        return String::new();
    }
    let mut lo = hist.iter().copied().fold(0.0_f64, f64::min);
    let mut hi = hist.iter().copied().fold(0.0_f64, f64::max);
    for r in &f.forecast {
        lo = lo.min(num(r.lower_95));
        hi = hi.max(num(r.upper_95));
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64;
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - (v - lo) / (hi - lo));
    let mut svg = format!(
        "<svg class=\"series-chart\" width=\"100%\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.t("series-chart"))
    );
    // Value gridlines.
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
    let start = hist.len().saturating_sub(1);
    let band = |lower: &dyn Fn(usize) -> f64, upper: &dyn Fn(usize) -> f64, class: &str, opacity: f64| {
        let mut pts: Vec<String> = Vec::new();
        if let Some(last) = hist.last() {
            pts.push(format!("{:.1},{:.1}", x(start), y(*last)));
        }
        for i in 0..f.forecast.len() {
            pts.push(format!("{:.1},{:.1}", x(hist.len() + i), y(upper(i))));
        }
        for i in (0..f.forecast.len()).rev() {
            pts.push(format!("{:.1},{:.1}", x(hist.len() + i), y(lower(i))));
        }
        format!("<polygon class=\"{class}\" fill=\"#2f6fb3\" fill-opacity=\"{opacity}\" points=\"{}\"/>", pts.join(" "))
    };
    svg.push_str(&band(&|i| num(f.forecast[i].lower_95), &|i| num(f.forecast[i].upper_95), "band95", 0.15));
    svg.push_str(&band(&|i| num(f.forecast[i].lower_80), &|i| num(f.forecast[i].upper_80), "band80", 0.3));
    let history: Vec<String> = hist.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
    svg.push_str(&format!(
        "<polyline class=\"history\" fill=\"none\" stroke=\"#1d2733\" stroke-width=\"2\" points=\"{}\"/>",
        history.join(" ")
    ));
    let mut fc: Vec<String> = hist.last().map(|v| vec![format!("{:.1},{:.1}", x(start), y(*v))]).unwrap_or_default();
    fc.extend(f.forecast.iter().enumerate().map(|(i, r)| format!("{:.1},{:.1}", x(hist.len() + i), y(num(r.point)))));
    svg.push_str(&format!("<polyline class=\"forecast\" fill=\"none\" stroke=\"#2f6fb3\" stroke-width=\"2\" stroke-dasharray=\"6 4\" points=\"{}\"/>", fc.join(" ")));
    // Period labels: at most about ten.
    let periods: Vec<&str> =
        f.history.iter().map(|h| h.period.as_str()).chain(f.forecast.iter().map(|r| r.period.as_str())).collect();
    let step = n.div_ceil(10).max(1);
    for (i, period) in periods.iter().enumerate().filter(|(i, _)| (n - 1 - i).is_multiple_of(step)) {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"{}\">{}</text>",
            x(i),
            H - 8.0,
            if i + 1 == n { "end" } else { "middle" },
            escape(&period_label(t, grain, period))
        ));
    }
    if !hist.is_empty() {
        let xx = x(start);
        svg.push_str(&format!(
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#9aa4ad\" stroke-dasharray=\"2 3\"/>",
            H - BOTTOM
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
