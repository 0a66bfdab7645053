//! The territory balancing page (`/territories/balance`, issue 8 P2): build a scenario from a
//! generated sample or from three uploaded CSV texts, choose objective and bounds, and see the
//! before/after tables per rep, the spread, a map of the units and the distance–disruption
//! Pareto chart. Scenarios are not stored yet.

use std::fmt::Write as _;

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{FormAuth, PageAuth};
use crate::pages::{OrPage, PageResult, Shell, render, shell};
use app::planning::{Instance, run_balance, run_pareto};
use app::{AppError, Principal};
use planning::balance::{Assessment, BalanceOutcome, BalanceProblem, Locations, ParetoPoint};

/// Largest generated sample the page offers.
const MAX_SAMPLE_UNITS: usize = 400;
/// The Pareto chart is drawn up to this many unit × rep pairs (each point is a full solve).
const PARETO_PAIRS: usize = 600;

#[derive(Deserialize, Default)]
pub struct BalanceQuery {
    pub units: Option<usize>,
    pub reps: Option<usize>,
    pub seed: Option<u64>,
    pub objective: Option<String>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// Run the optimiser (otherwise only the form is shown).
    pub run: Option<String>,
}

pub struct RepRow {
    rep: String,
    colour: String,
    units_before: usize,
    units_after: usize,
    workload_before: String,
    workload_after: String,
    potential_before: String,
    potential_after: String,
    distance_before: String,
    distance_after: String,
}

pub struct SpreadRow {
    label: String,
    before: String,
    after: String,
}

pub struct ResultView {
    rows: Vec<RepRow>,
    spread: Vec<SpreadRow>,
    proof: String,
    objective_value: String,
    lower_bound: String,
    gap: String,
    map_svg: String,
    pareto_svg: String,
    diagnostics: Vec<String>,
}

#[derive(Template)]
#[template(path = "territories_balance.html")]
struct BalancePage {
    shell: Shell,
    units: usize,
    reps: usize,
    seed: u64,
    objective: String,
    low: String,
    high: String,
    units_csv: String,
    distances_csv: String,
    assignment_csv: String,
    error: Option<String>,
    layout_note: bool,
    result: Option<ResultView>,
}

const PALETTE: [&str; 10] =
    ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

fn colour(rep: usize) -> String {
    PALETTE[rep % PALETTE.len()].to_string()
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Unit positions for the map: coordinates as given, or (with a distance matrix) a deterministic
/// layout on a circle ordered by distance to the first home unit. Returns whether it is derived.
fn layout(problem: &BalanceProblem) -> (Vec<(f64, f64)>, bool) {
    match &problem.locations {
        Locations::Coordinates(points) => (points.clone(), false),
        Locations::Matrix(matrix) => {
            let n = problem.units.len();
            let anchor = problem.reps.first().map_or(0, |r| r.home);
            let far = matrix[anchor].iter().copied().fold(0.0_f64, f64::max).max(1e-9);
            let points = (0..n)
                .map(|i| {
                    let r = matrix[anchor][i] / far;
                    let angle = i as f64 * 2.399_963; // golden angle: spreads the units evenly
                    (0.5 + 0.5 * r * angle.cos(), 0.5 + 0.5 * r * angle.sin())
                })
                .collect();
            (points, true)
        }
    }
}

/// The map: units as dots coloured by their new rep, home units as squares, moved units outlined.
fn map_svg(problem: &BalanceProblem, outcome: &BalanceOutcome) -> String {
    let (points, _) = layout(problem);
    let (min_x, max_x) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (min_y, max_y) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let (w, h, pad) = (480.0, 480.0, 16.0);
    let sx = |x: f64| pad + (x - min_x) / (max_x - min_x).max(1e-9) * (w - 2.0 * pad);
    let sy = |y: f64| h - pad - (y - min_y) / (max_y - min_y).max(1e-9) * (h - 2.0 * pad);
    let mut svg = format!(
        "<svg id=\"territory-map\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\"><rect width=\"{w}\" height=\"{h}\" fill=\"#fafafa\" stroke=\"#ddd\"/>"
    );
    let homes: Vec<usize> = problem.reps.iter().map(|r| r.home).collect();
    for (i, &(x, y)) in points.iter().enumerate() {
        let rep = outcome.assignment[i];
        let moved = rep != problem.current[i];
        let stroke = if moved { " stroke=\"#000\" stroke-width=\"2\"" } else { "" };
        let title = format!(
            "{} → {}{}",
            esc(&problem.units[i].id),
            esc(&problem.reps[rep].id),
            if moved { format!(" ({})", esc(&problem.reps[problem.current[i]].id)) } else { String::new() }
        );
        let (cx, cy) = (sx(x), sy(y));
        if homes.contains(&i) {
            let _ = write!(
                svg,
                "<rect class=\"home\" x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\" stroke=\"#000\" stroke-width=\"2\"><title>{title}</title></rect>",
                cx - 6.0,
                cy - 6.0,
                colour(rep)
            );
        } else {
            let class = if moved { "unit moved" } else { "unit" };
            let _ = write!(
                svg,
                "<circle class=\"{class}\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"5\" fill=\"{}\"{stroke}><title>{title}</title></circle>",
                colour(rep)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The Pareto chart: distance (x) against disruption (y), the chosen outcome marked.
fn pareto_svg(points: &[ParetoPoint], chosen: (f64, f64), x_label: &str, y_label: &str) -> String {
    let (w, h, left, bottom, pad) = (480.0, 320.0, 60.0, 40.0, 16.0);
    let all: Vec<(f64, f64)> = points.iter().map(|p| (p.distance, p.disruption)).chain([chosen]).collect();
    let (min_x, max_x) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (min_y, max_y) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let span_x = (max_x - min_x).max(1e-9);
    let span_y = (max_y - min_y).max(1e-9);
    let sx = |x: f64| left + (x - min_x) / span_x * (w - left - pad);
    let sy = |y: f64| h - bottom - (y - min_y) / span_y * (h - bottom - pad);
    let mut svg = format!(
        "<svg id=\"pareto-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\">"
    );
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#999\"/><line x1=\"{left}\" y1=\"{pad}\" x2=\"{left}\" y2=\"{y0}\" stroke=\"#999\"/>",
        y0 = h - bottom,
        x1 = w - pad
    );
    let _ = write!(
        svg,
        "<text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\" font-size=\"12\">{}</text><text x=\"14\" y=\"{:.0}\" font-size=\"12\" transform=\"rotate(-90 14 {:.0})\" text-anchor=\"middle\">{}</text>",
        (left + w - pad) / 2.0,
        h - 8.0,
        esc(x_label),
        (h - bottom) / 2.0,
        (h - bottom) / 2.0,
        esc(y_label)
    );
    let _ = write!(
        svg,
        "<text x=\"{left}\" y=\"{:.0}\" font-size=\"10\">{min_x:.3}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"end\">{max_x:.3}</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"end\">{:.1}%</text><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"10\" text-anchor=\"end\">{:.1}%</text>",
        h - bottom + 14.0,
        w - pad,
        h - bottom + 14.0,
        left - 4.0,
        h - bottom,
        min_y * 100.0,
        left - 4.0,
        pad + 8.0,
        max_y * 100.0
    );
    let line: Vec<String> = points.iter().map(|p| format!("{:.1},{:.1}", sx(p.distance), sy(p.disruption))).collect();
    let _ = write!(svg, "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f77b4\"/>", line.join(" "));
    for p in points {
        let _ = write!(
            svg,
            "<circle class=\"pareto-point\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"#1f77b4\"><title>{:.4} / {:.1}%</title></circle>",
            sx(p.distance),
            sy(p.disruption),
            p.distance,
            p.disruption * 100.0
        );
    }
    let _ = write!(
        svg,
        "<circle class=\"chosen\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\"/>",
        sx(chosen.0),
        sy(chosen.1)
    );
    svg.push_str("</svg>");
    svg
}

fn spread_rows(sh: &Shell, before: &Assessment, after: &Assessment) -> Vec<SpreadRow> {
    let t = &sh.t;
    let row = |label: String, b: String, a: String| SpreadRow { label, before: b, after: a };
    vec![
        row(
            t.t("territory-workload-min-max"),
            format!("{:.3} – {:.3}", before.workload.min, before.workload.max),
            format!("{:.3} – {:.3}", after.workload.min, after.workload.max),
        ),
        row(
            t.t("territory-workload-cv"),
            format!("{:.3}", before.workload.coefficient_of_variation),
            format!("{:.3}", after.workload.coefficient_of_variation),
        ),
        row(
            t.t("territory-workload-gini"),
            format!("{:.3}", before.workload.gini),
            format!("{:.3}", after.workload.gini),
        ),
        row(
            t.t("territory-potential-cv"),
            format!("{:.3}", before.potential.coefficient_of_variation),
            format!("{:.3}", after.potential.coefficient_of_variation),
        ),
        row(t.t("territory-distance"), format!("{:.4}", before.total_distance), format!("{:.4}", after.total_distance)),
        row(
            t.t("territory-disruption"),
            format!("{:.1}%", before.disruption * 100.0),
            format!("{:.1}%", after.disruption * 100.0),
        ),
        row(t.t("territory-units-moved"), before.units_moved.to_string(), after.units_moved.to_string()),
        row(
            t.t("territory-within-bounds"),
            t.t(if before.within_bounds { "territory-yes" } else { "territory-no" }),
            t.t(if after.within_bounds { "territory-yes" } else { "territory-no" }),
        ),
    ]
}

fn solve(sh: &Shell, instance: &Instance) -> Result<ResultView, AppError> {
    let (outcome, diagnostics) = run_balance(instance)?;
    let problem = &instance.problem;
    let pairs = problem.units.len() * problem.reps.len();
    let mut notes: Vec<String> = diagnostics.iter().map(|d| d.message.clone()).collect();
    let pareto = if pairs <= PARETO_PAIRS {
        let (points, more) = run_pareto(instance, 4)?;
        for d in more {
            if !notes.contains(&d.message) {
                notes.push(d.message);
            }
        }
        pareto_svg(
            &points,
            (outcome.after.total_distance, outcome.after.disruption),
            &sh.t.t("territory-distance"),
            &sh.t.t("territory-disruption"),
        )
    } else {
        String::new()
    };
    let rows = outcome
        .before
        .per_rep
        .iter()
        .zip(&outcome.after.per_rep)
        .enumerate()
        .map(|(j, (b, a))| RepRow {
            rep: b.rep.clone(),
            colour: colour(j),
            units_before: b.units,
            units_after: a.units,
            workload_before: format!("{:.3}", b.workload),
            workload_after: format!("{:.3}", a.workload),
            potential_before: format!("{:.3}", b.potential),
            potential_after: format!("{:.3}", a.potential),
            distance_before: format!("{:.4}", b.distance),
            distance_after: format!("{:.4}", a.distance),
        })
        .collect();
    Ok(ResultView {
        spread: spread_rows(sh, &outcome.before, &outcome.after),
        rows,
        proof: sh.t.t(match outcome.proof {
            planning::balance::Proof::ProvenOptimal => "territory-proof-optimal",
            planning::balance::Proof::Bounded => "territory-proof-bounded",
        }),
        objective_value: format!("{:.6}", outcome.objective_value),
        lower_bound: format!("{:.6}", outcome.lower_bound),
        gap: format!("{:.3}%", outcome.gap * 100.0),
        map_svg: map_svg(problem, &outcome),
        pareto_svg: pareto,
        diagnostics: notes,
    })
}

fn parse_bounds(low: Option<f64>, high: Option<f64>) -> (f64, f64) {
    (low.unwrap_or(0.8), high.unwrap_or(1.2))
}

fn check_bounds((low, high): (f64, f64)) -> Result<(), AppError> {
    if low.is_finite() && high.is_finite() && (0.0..=1.0).contains(&low) && high >= 1.0 {
        Ok(())
    } else {
        Err(AppError::invalid("bounds", "need 0 <= low <= 1 <= high, e.g. 0.8 and 1.2"))
    }
}

fn empty_page(p: &Principal, q: &BalanceQuery) -> BalancePage {
    let (low, high) = parse_bounds(q.low, q.high);
    BalancePage {
        shell: shell(p, "territories"),
        units: q.units.unwrap_or(40),
        reps: q.reps.unwrap_or(5),
        seed: q.seed.unwrap_or(1),
        objective: q.objective.clone().unwrap_or_else(|| "distance".into()),
        low: low.to_string(),
        high: high.to_string(),
        units_csv: String::new(),
        distances_csv: String::new(),
        assignment_csv: String::new(),
        error: None,
        layout_note: false,
        result: None,
    }
}

/// `GET /territories/balance`: the form, and with `run` the result for a generated sample.
pub async fn balance_page(
    State(state): State<AppState>,
    PageAuth(p): PageAuth,
    Query(q): Query<BalanceQuery>,
) -> PageResult {
    state.app.require_planner(&p).or_page(&p)?;
    let mut view = empty_page(&p, &q);
    if q.run.is_some() {
        let outcome = (|| {
            let objective = app::planning::parse_objective(q.objective.as_deref())?;
            if !(2..=MAX_SAMPLE_UNITS).contains(&view.units) {
                return Err(AppError::invalid("units", format!("between 2 and {MAX_SAMPLE_UNITS}")));
            }
            if view.reps == 0 || view.reps > view.units / 2 {
                return Err(AppError::invalid("reps", "between 1 and half the number of units"));
            }
            let bounds = parse_bounds(q.low, q.high);
            check_bounds(bounds)?;
            let mut problem = planning::balance::generate_instance(view.units, view.reps, view.seed);
            problem.bounds = bounds;
            Ok(Instance { problem, objective })
        })();
        match outcome {
            Ok(instance) => {
                let sh = shell(&p, "territories");
                let result = tokio::task::spawn_blocking(move || solve(&sh, &instance))
                    .await
                    .map_err(|e| AppError::Internal(e.to_string()))
                    .and_then(|r| r);
                match result {
                    Ok(r) => view.result = Some(r),
                    Err(AppError::Invalid { field, message }) => view.error = Some(format!("{field}: {message}")),
                    Err(e) => return Err(e).or_page(&p),
                }
            }
            Err(AppError::Invalid { field, message }) => view.error = Some(format!("{field}: {message}")),
            Err(e) => return Err(e).or_page(&p),
        }
    }
    Ok(render(&view))
}

/// `POST /territories/balance`: the three CSV texts (units, optional distances, assignment).
pub async fn balance_csv(State(state): State<AppState>, f: FormAuth) -> PageResult {
    let p = f.principal.clone();
    state.app.require_planner(&p).or_page(&p)?;
    let q = BalanceQuery {
        objective: Some(f.get("objective").to_string()),
        low: f.get("low").trim().parse().ok(),
        high: f.get("high").trim().parse().ok(),
        ..BalanceQuery::default()
    };
    let mut view = empty_page(&p, &q);
    view.units_csv = f.get("units_csv").to_string();
    view.distances_csv = f.get("distances_csv").to_string();
    view.assignment_csv = f.get("assignment_csv").to_string();
    let parsed = (|| {
        let objective = app::planning::parse_objective(q.objective.as_deref())?;
        let bounds = parse_bounds(q.low, q.high);
        check_bounds(bounds)?;
        let distances = view.distances_csv.trim();
        let mut reader = distances.as_bytes();
        let (problem, diagnostics) = planning::balance::read_instance(
            view.units_csv.as_bytes(),
            if distances.is_empty() { None } else { Some(&mut reader as &mut dyn std::io::Read) },
            view.assignment_csv.as_bytes(),
            bounds,
        )
        .map_err(|e| AppError::invalid(e.file, format!("line {}: {}", e.line, e.message)))?;
        if problem.units.len() > app::planning::MAX_UNITS {
            return Err(AppError::invalid("units", format!("at most {} units", app::planning::MAX_UNITS)));
        }
        Ok((Instance { problem, objective }, diagnostics))
    })();
    match parsed {
        Ok((instance, read_notes)) => {
            view.layout_note = matches!(instance.problem.locations, Locations::Matrix(_));
            let sh = shell(&p, "territories");
            let result = tokio::task::spawn_blocking(move || solve(&sh, &instance))
                .await
                .map_err(|e| AppError::Internal(e.to_string()))
                .and_then(|r| r);
            match result {
                Ok(mut r) => {
                    r.diagnostics.extend(read_notes.iter().map(|d| d.message.clone()));
                    view.result = Some(r);
                }
                Err(AppError::Invalid { field, message }) => view.error = Some(format!("{field}: {message}")),
                Err(e) => return Err(e).or_page(&p),
            }
        }
        Err(AppError::Invalid { field, message }) => view.error = Some(format!("{field}: {message}")),
        Err(e) => return Err(e).or_page(&p),
    }
    Ok(render(&view))
}
