//! The pipeline forecast page (`/forecasts/pipeline`): choose an as-of date, a period, a seed and
//! a method; headline tiles (closed so far, stage-weighted, learned, P10/P50/P90), a range chart,
//! the reliability diagram of the learned win probability against the stage weights with Brier
//! scores, the biggest opportunities, and a back-test of the twelve months before the as-of date
//! with its coverage. Every figure is formatted here; the template only places strings.

use askama::Template;
use axum::extract::{Query, State};
use jiff::ToSpan;
use model::{Currency, Money, format_decimal};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use crate::AppState;
use crate::api_forecast::{backtest_args, pipeline_args};
use crate::auth::PageAuth;
use crate::i18n::Tr;
use crate::pages::{PageResult, render, shell};
use app::{AppError, BacktestView, PipelineForecastView, ScoreView};

#[derive(serde::Deserialize, Default)]
pub struct PipelinePageQuery {
    pub as_of: Option<String>,
    pub period: Option<String>,
    pub seed: Option<String>,
    pub method: Option<String>,
}

pub struct Tile {
    id: &'static str,
    label: String,
    value: String,
    note: String,
}

pub struct OpportunityRow {
    id: i64,
    name: String,
    owner: String,
    stage: String,
    close: String,
    amount: String,
    stage_probability: String,
    win_probability: String,
    expected_value: String,
}

pub struct BacktestRow {
    period: String,
    as_of: String,
    range: String,
    p50: String,
    actual: String,
    inside: bool,
    training: bool,
}

#[derive(Template)]
#[template(path = "forecast_pipeline.html")]
struct PipelinePage {
    shell: crate::pages::Shell,
    as_of: String,
    period: String,
    seed: String,
    method: String,
    error: Option<String>,
    heading: String,
    tiles: Vec<Tile>,
    range_chart: String,
    method_note: String,
    brier: Vec<String>,
    reliability_chart: String,
    opportunities: Vec<OpportunityRow>,
    diagnostics: Vec<String>,
    backtest_heading: String,
    backtest_summary: Vec<String>,
    backtest_chart: String,
    backtest_rows: Vec<BacktestRow>,
}

fn money(t: &Tr, c: Currency, v: Decimal) -> String {
    t.money(&Money::new(v, c))
}

fn percent(t: &Tr, share: f64, dp: u32) -> String {
    let v = Decimal::from_f64(share * 100.0).unwrap_or_default().round_dp(dp);
    format!("{} %", format_decimal(t.locale, v, dp))
}

fn number(t: &Tr, v: f64, dp: u32) -> String {
    format_decimal(t.locale, Decimal::from_f64(v).unwrap_or_default().round_dp(dp), dp)
}

pub async fn pipeline(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<PipelinePageQuery>,
) -> PageResult {
    let sh = shell(&p, "pipeline-forecast");
    let mut view = PipelinePage {
        as_of: q.as_of.clone().unwrap_or_default(),
        period: q.period.clone().unwrap_or_default(),
        seed: q.seed.clone().unwrap_or_else(|| "0".into()),
        method: q.method.clone().unwrap_or_else(|| "learned".into()),
        error: None,
        heading: String::new(),
        tiles: Vec::new(),
        range_chart: String::new(),
        method_note: String::new(),
        brier: Vec::new(),
        reliability_chart: String::new(),
        opportunities: Vec::new(),
        diagnostics: Vec::new(),
        backtest_heading: String::new(),
        backtest_summary: Vec::new(),
        backtest_chart: String::new(),
        backtest_rows: Vec::new(),
        shell: sh,
    };
    let args =
        pipeline_args(&state, &p, q.as_of.as_deref(), q.period.as_deref(), q.seed.as_deref(), q.method.as_deref())
            .await;
    let result = match args {
        Ok(a) => {
            view.as_of = a.as_of.to_string();
            view.period = a.period.to_string();
            match state.app.pipeline_forecast(&p, a.as_of, a.period, a.seed, a.method).await {
                Ok(f) => {
                    let from = a.as_of.checked_sub(12.months()).unwrap_or(a.as_of).to_string();
                    let to = a.as_of.to_string();
                    let b = match backtest_args(&state, &p, Some(&from), Some(&to), None, None, Some(&view.seed)) {
                        Ok(b) => state.app.pipeline_backtest(&p, b.from, b.to, b.grain, b.by, b.seed).await,
                        Err(e) => Err(e),
                    };
                    b.map(|b| (f, b))
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((f, b)) => fill(&mut view, &f, &b),
        Err(e @ AppError::Invalid { .. }) => view.error = Some(crate::pages_admin::error_text(&e)),
        Err(e) => return Err(crate::pages::PageError::new(e, Some(&p))),
    }
    Ok(render(&view))
}

fn fill(view: &mut PipelinePage, f: &PipelineForecastView, b: &BacktestView) {
    let t = &view.shell.t;
    let c = Currency::parse(&f.currency).unwrap_or(Currency::parse("EUR").expect("EUR is a currency"));
    view.heading = t.targs(
        "pipeline-heading",
        &[("period", f.period.clone()), ("from", t.date(f.from)), ("to", t.date(f.to)), ("as_of", t.date(f.as_of))],
    );
    let outlook = |v: Decimal| t.t1("pipeline-tile-with-closed", "total", money(t, c, f.closed_won + v));
    view.tiles = vec![
        Tile {
            id: "tile-closed",
            label: t.t("pipeline-tile-closed"),
            value: money(t, c, f.closed_won),
            note: t.t1("pipeline-tile-closed-note", "date", t.date(f.as_of)),
        },
        Tile {
            id: "tile-stage-weighted",
            label: t.t("pipeline-tile-stage-weighted"),
            value: money(t, c, f.stage_weighted),
            note: t.targs(
                "pipeline-tile-open-note",
                &[("count", f.open_in_period.to_string()), ("amount", money(t, c, f.unweighted))],
            ),
        },
        Tile {
            id: "tile-learned",
            label: t.t("pipeline-tile-learned"),
            value: money(t, c, f.learned_weighted),
            note: if f.method == "learned" { t.t("pipeline-tile-learned-note") } else { t.t("pipeline-thin-history") },
        },
        Tile { id: "tile-p10", label: "P10".into(), value: money(t, c, f.p10), note: outlook(f.p10) },
        Tile { id: "tile-p50", label: "P50".into(), value: money(t, c, f.p50), note: outlook(f.p50) },
        Tile { id: "tile-p90", label: "P90".into(), value: money(t, c, f.p90), note: outlook(f.p90) },
    ];
    view.method_note = t.targs(
        "pipeline-method-note",
        &[
            ("method", t.t(if f.method == "learned" { "pipeline-method-learned" } else { "pipeline-method-stage" })),
            ("simulations", t.int(f.simulations as i64)),
            ("seed", f.seed.to_string()),
            ("open", t.int(f.open_count as i64)),
            ("history", t.int(f.history_rows as i64)),
        ],
    );
    view.range_chart = range_chart(t, c, f);
    let cal = &f.calibration;
    view.brier.push(t.targs(
        "pipeline-brier-stage",
        &[
            ("brier", number(t, cal.stage_weights.brier, 3)),
            ("logloss", number(t, cal.stage_weights.log_loss, 3)),
            ("rows", t.int(cal.rows as i64)),
        ],
    ));
    match &cal.learned {
        Some(l) => view.brier.push(t.targs(
            "pipeline-brier-learned",
            &[("brier", number(t, l.brier, 3)), ("logloss", number(t, l.log_loss, 3))],
        )),
        None => view.brier.push(t.t("pipeline-thin-history")),
    }
    view.reliability_chart = reliability_chart(t, &cal.stage_weights, cal.learned.as_ref());
    view.opportunities = f
        .opportunities
        .iter()
        .map(|o| OpportunityRow {
            id: o.id,
            name: o.name.clone(),
            owner: o.owner.clone(),
            stage: o.stage.clone(),
            close: t.date(o.expected_close),
            amount: money(t, c, o.amount),
            stage_probability: percent(t, o.stage_probability, 0),
            win_probability: percent(t, o.win_probability, 0),
            expected_value: money(t, c, o.expected_value),
        })
        .collect();
    view.diagnostics = f.diagnostics.clone();

    view.backtest_heading = t.targs("pipeline-backtest-heading", &[("from", t.date(b.from)), ("to", t.date(b.to))]);
    if b.rows.is_empty() {
        view.backtest_summary.push(t.t("pipeline-backtest-empty"));
    } else {
        let s = &b.overall;
        view.backtest_summary.push(t.targs(
            "pipeline-backtest-coverage",
            &[
                ("inside", t.int(s.count as i64 - ((1.0 - s.coverage) * s.count as f64).round() as i64)),
                ("count", t.int(s.count as i64)),
                ("share", percent(t, s.coverage, 0)),
            ],
        ));
        view.backtest_summary.push(t.targs(
            "pipeline-backtest-error",
            &[
                ("mae", money(t, c, s.mae)),
                ("mape", s.mape.map(|m| percent(t, m, 1)).unwrap_or_else(|| "–".into())),
                ("bias", money(t, c, s.bias)),
            ],
        ));
        for seg in &b.segments {
            view.backtest_summary.push(t.targs(
                "pipeline-backtest-choice",
                &[
                    (
                        "method",
                        t.t(if seg.method == "learned" { "pipeline-method-learned" } else { "pipeline-method-stage" }),
                    ),
                    ("spread", number(t, seg.spread, 2)),
                    ("stage", money(t, c, seg.training_mae_stage_weighted)),
                    ("learned", money(t, c, seg.training_mae_learned)),
                ],
            ));
        }
    }
    view.backtest_chart = backtest_chart(t, b);
    view.backtest_rows = b
        .rows
        .iter()
        .map(|r| BacktestRow {
            period: r.period.clone(),
            as_of: t.date(r.as_of),
            range: format!("{} – {}", money(t, c, r.p10), money(t, c, r.p90)),
            p50: money(t, c, r.p50),
            actual: money(t, c, r.actual),
            inside: r.inside,
            training: r.training,
        })
        .collect();
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn num(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Horizontal range chart: what is already won, then the P10–P90 band of closed + pipeline with
/// its P50, and markers for the stage-weighted and learned expectations on top of what is won.
fn range_chart(t: &Tr, c: Currency, f: &PipelineForecastView) -> String {
    const W: f64 = 880.0;
    const H: f64 = 150.0;
    const L: f64 = 20.0;
    const R: f64 = 20.0;
    let closed = num(f.closed_won);
    let values = [closed + num(f.p90), closed + num(f.stage_weighted), closed + num(f.learned_weighted), 1.0];
    let hi = values.iter().copied().fold(0.0_f64, f64::max) * 1.08;
    let x = |v: f64| L + (W - L - R) * v / hi;
    let mut svg = format!(
        "<svg class=\"pipeline-range\" width=\"100%\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.t("pipeline-range-chart"))
    );
    for k in 0..=4 {
        let v = hi * f64::from(k) / 4.0;
        let xx = x(v);
        svg.push_str(&format!(
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"20\" y2=\"110\" stroke=\"#e3e6ea\"/><text x=\"{xx:.1}\" y=\"128\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"{}\">{}</text>",
            if k == 0 { "start" } else if k == 4 { "end" } else { "middle" },
            escape(&money(t, c, Decimal::from_f64(v.round()).unwrap_or_default()))
        ));
    }
    // Won so far.
    svg.push_str(&format!(
        "<rect class=\"closed\" x=\"{L}\" y=\"45\" width=\"{:.1}\" height=\"40\" fill=\"#1d2733\" rx=\"3\"/>",
        (x(closed) - L).max(0.0)
    ));
    // P10–P90 of the total.
    let (a, b) = (x(closed + num(f.p10)), x(closed + num(f.p90)));
    svg.push_str(&format!(
        "<rect class=\"band\" x=\"{a:.1}\" y=\"45\" width=\"{:.1}\" height=\"40\" fill=\"#2f6fb3\" fill-opacity=\"0.3\" rx=\"3\"/>",
        (b - a).max(1.0)
    ));
    let m = x(closed + num(f.p50));
    svg.push_str(&format!(
        "<line class=\"p50\" x1=\"{m:.1}\" x2=\"{m:.1}\" y1=\"38\" y2=\"92\" stroke=\"#2f6fb3\" stroke-width=\"3\"/><text x=\"{m:.1}\" y=\"32\" font-size=\"12\" font-weight=\"600\" fill=\"#2f6fb3\" text-anchor=\"middle\">P50</text>"
    ));
    for (v, colour, label) in [
        (num(f.stage_weighted), "#c9731d", t.t("pipeline-legend-stage")),
        (num(f.learned_weighted), "#3b8f4f", t.t("pipeline-legend-learned")),
    ] {
        let xx = x(closed + v);
        svg.push_str(&format!(
            "<path d=\"M{xx:.1} 95 l6 8 l-6 8 l-6 -8 z\" fill=\"{colour}\"><title>{}</title></path>",
            escape(&label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Reliability diagram: mean predicted probability against the share won per bin, for the stage
/// weights and the learned model; the diagonal is perfect calibration; dot area ~ rows.
fn reliability_chart(t: &Tr, stage: &ScoreView, learned: Option<&ScoreView>) -> String {
    const S: f64 = 300.0;
    const M: f64 = 50.0;
    let x = |v: f64| M + (S - M - 20.0) * v;
    let y = |v: f64| S - M + 20.0 - (S - M - 20.0) * v;
    let mut svg = format!(
        "<svg class=\"reliability\" width=\"320\" height=\"320\" viewBox=\"0 0 {S} {S}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.t("pipeline-reliability-chart"))
    );
    for k in 0..=4 {
        let v = f64::from(k) / 4.0;
        svg.push_str(&format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e3e6ea\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#5b6570\" text-anchor=\"end\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#5b6570\" text-anchor=\"{}\">{}</text>",
            x(0.0), x(1.0), y(v), y(v), x(0.0) - 4.0, y(v) + 3.0, escape(&percent(t, v, 0)), x(v), y(0.0) + 14.0, if k == 4 { "end" } else { "middle" }, escape(&percent(t, v, 0))
        ));
    }
    svg.push_str(&format!(
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#9aa4ad\" stroke-dasharray=\"4 3\"/>",
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0)
    ));
    svg.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1d2733\" text-anchor=\"middle\">{}</text>",
        x(0.5),
        S - 4.0,
        escape(&t.t("pipeline-reliability-predicted"))
    ));
    svg.push_str(&format!(
        "<text x=\"10\" y=\"{:.1}\" font-size=\"11\" fill=\"#1d2733\" text-anchor=\"middle\" transform=\"rotate(-90 10 {:.1})\">{}</text>",
        y(0.5),
        y(0.5),
        escape(&t.t("pipeline-reliability-observed"))
    ));
    let total: usize = stage.reliability.iter().map(|b| b.count).sum::<usize>().max(1);
    let mut series = vec![(stage, "#c9731d", "stage")];
    if let Some(l) = learned {
        series.push((l, "#3b8f4f", "learned"));
    }
    for (scores, colour, class) in series {
        let points: Vec<(f64, f64, usize)> = scores
            .reliability
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| (b.mean_predicted, b.observed, b.count))
            .collect();
        let line: Vec<String> = points.iter().map(|(p, o, _)| format!("{:.1},{:.1}", x(*p), y(*o))).collect();
        svg.push_str(&format!(
            "<polyline class=\"{class}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            line.join(" ")
        ));
        for (p, o, n) in points {
            let r = 3.0 + 9.0 * (n as f64 / total as f64).sqrt();
            svg.push_str(&format!(
                "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r:.1}\" fill=\"{colour}\" fill-opacity=\"0.55\"><title>{}</title></circle>",
                x(p),
                y(o),
                escape(&format!("{} → {} ({})", percent(t, p, 0), percent(t, o, 0), t.int(n as i64)))
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Back-test chart: per as-of period the P10–P90 bar with its P50 tick and the actual as a dot
/// (green inside the range, red outside); test periods after the dashed line.
fn backtest_chart(t: &Tr, b: &BacktestView) -> String {
    const W: f64 = 880.0;
    const H: f64 = 240.0;
    const L: f64 = 70.0;
    const TOP: f64 = 10.0;
    const BOTTOM: f64 = 30.0;
    let rows: Vec<&app::BacktestRowView> = b.rows.iter().filter(|r| r.segment == "total").collect();
    if rows.is_empty() {
        return String::new();
    }
    let hi = rows.iter().map(|r| num(r.p90).max(num(r.actual))).fold(1.0_f64, f64::max) * 1.05;
    let n = rows.len();
    let step = (W - L - 10.0) / n as f64;
    let x = |i: usize| L + step * (i as f64 + 0.5);
    let y = |v: f64| TOP + (H - TOP - BOTTOM) * (1.0 - v / hi);
    let mut svg = format!(
        "<svg class=\"backtest-chart\" width=\"100%\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">",
        escape(&t.t("pipeline-backtest-chart"))
    );
    for k in 0..=4 {
        let v = hi * f64::from(k) / 4.0;
        let yy = y(v);
        svg.push_str(&format!(
            "<line x1=\"{L}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e3e6ea\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" fill=\"#5b6570\" text-anchor=\"end\">{}</text>",
            W - 10.0,
            L - 6.0,
            yy + 4.0,
            escape(&t.int(v.round() as i64))
        ));
    }
    if let Some(first_test) = rows.iter().position(|r| !r.training) {
        let xx = L + step * first_test as f64;
        svg.push_str(&format!(
            "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"#9aa4ad\" stroke-dasharray=\"2 3\"/>",
            H - BOTTOM
        ));
    }
    let width = (step * 0.5).min(28.0);
    for (i, r) in rows.iter().enumerate() {
        let xx = x(i);
        let (top, bottom) = (y(num(r.p90)), y(num(r.p10)));
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"#2f6fb3\" fill-opacity=\"0.3\" rx=\"2\"/>",
            xx - width / 2.0,
            (bottom - top).max(1.0)
        ));
        let m = y(num(r.p50));
        svg.push_str(&format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{m:.1}\" y2=\"{m:.1}\" stroke=\"#2f6fb3\" stroke-width=\"2\"/>",
            xx - width / 2.0,
            xx + width / 2.0
        ));
        svg.push_str(&format!(
            "<circle class=\"actual {}\" cx=\"{xx:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{}\"/>",
            if r.inside { "inside" } else { "outside" },
            y(num(r.actual)),
            if r.inside { "#3b8f4f" } else { "#c0392b" }
        ));
        if n <= 16 || i % 2 == 0 {
            svg.push_str(&format!(
                "<text x=\"{xx:.1}\" y=\"{}\" font-size=\"10\" fill=\"#5b6570\" text-anchor=\"middle\">{}</text>",
                H - 10.0,
                escape(&r.period)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
