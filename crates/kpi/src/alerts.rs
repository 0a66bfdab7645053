//! The daily trend scan (A4): compares the last days (the recent window, by default the last 7
//! days before the as-of date) with the weeks before (the baseline, by default 8 weeks) for the
//! watched KPIs, company-wide, per region and per rep, tests every series at once with the false
//! discovery rate controlled ([`trend::detect_changes`]), and for every significant change of a
//! share KPI names the reps that drove it (mix versus rate, [`trend::attribute_change`]).
//!
//! Pure: the facts, the calendar and the as-of date come in; alerts come out.

use jiff::ToSpan;
use jiff::civil::Date;
use model::{FiscalCalendar, PeriodKind};
use serde::{Deserialize, Serialize};

use crate::engine::{Dimension, KpiTable, Query, compute};
use crate::trend::{self, Series, SliceWindows};
use crate::{Diagnostic, Facts, Kpi, KpiError, Unit, Value};

/// What the scan watches and how strict it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScanOptions {
    /// Length of the recent window in days (ending the day before the as-of date).
    pub recent_days: i32,
    /// Length of the baseline window in days (ending the day before the recent window).
    pub baseline_days: i32,
    /// False discovery rate over all series tested in one scan (e.g. 0.05).
    pub fdr: f64,
    /// Share KPIs (tested as proportions) and count KPIs (tested as rates per day).
    pub kpis: Vec<Kpi>,
    /// How many drivers to name per alert.
    pub drivers: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions { recent_days: 7, baseline_days: 56, fdr: 0.05, kpis: DEFAULT_KPIS.to_vec(), drivers: 3 }
    }
}

/// The KPIs watched by default: win rate, lead conversion, quote conversion, cancellations and
/// first-time-right installations (shares); opportunities, leads, calls, e-mails, meetings and
/// visits (activity volume).
pub const DEFAULT_KPIS: [Kpi; 11] = [
    Kpi::WinRate,
    Kpi::LeadQualificationRate,
    Kpi::ConversionOnQuotes,
    Kpi::CancelRate,
    Kpi::FirstTimeRight,
    Kpi::OpportunitiesCreated,
    Kpi::LeadsGenerated,
    Kpi::CallsPlaced,
    Kpi::EmailsSent,
    Kpi::MeetingsHeld,
    Kpi::Visits,
];

/// Where a change was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", content = "key", rename_all = "snake_case")]
pub enum Scope {
    Company,
    /// A region's dense key (as in [`Facts`]).
    Region(u32),
    /// A rep's position in [`Facts::reps`].
    Rep(u32),
}

/// A slice that drove a change of a share KPI: its mix and rate effects add up (over all slices)
/// to the change of the overall rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// A rep's position in [`Facts::reps`].
    pub rep: u32,
    pub mix: f64,
    pub rate: f64,
}

/// A significant change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kpi: Kpi,
    pub scope: Scope,
    /// Share (0..1) for share KPIs, events per day for counts.
    pub baseline_rate: f64,
    pub recent_rate: f64,
    pub z: f64,
    pub p_value: f64,
    /// The recent rate is worse than the baseline (lower, or higher for KPIs where lower is better).
    pub worse: bool,
    /// For share KPIs at company or region level: the reps that explain most of the change.
    pub drivers: Vec<Driver>,
}

/// The outcome of a scan: the windows, how many series were tested and the alerts, most
/// significant first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scan {
    pub baseline_from: Date,
    pub baseline_to: Date,
    pub recent_from: Date,
    pub recent_to: Date,
    /// Series with enough data for a test.
    pub tested: usize,
    /// Series left out for too little data.
    pub untested: usize,
    pub alerts: Vec<Alert>,
}

/// Why a scan cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScanError {
    #[error("the windows must be at least one day long (recent {recent}, baseline {baseline})")]
    Windows { recent: i32, baseline: i32 },
    #[error("{0} cannot be watched for trends: it is neither a share nor a count")]
    NotWatchable(&'static str),
    #[error("false discovery rate must be in (0, 1), not {0}")]
    Fdr(f64),
    #[error(transparent)]
    Kpi(#[from] KpiError),
}

/// Sums of the cells of one slice in the two windows.
#[derive(Default, Clone)]
struct Windows {
    baseline: Option<Value>,
    recent: Option<Value>,
}

fn add(slot: &mut Option<Value>, value: &Value) {
    *slot = Some(match slot.take() {
        Some(v) => v.combine(value),
        None => value.clone(),
    });
}

/// Per slice key: the summed windows of every KPI.
fn windows(table: &KpiTable, recent_from: Date, kpis: usize) -> Vec<(Vec<Option<u32>>, Vec<Windows>)> {
    let mut out: Vec<(Vec<Option<u32>>, Vec<Windows>)> = Vec::new();
    for row in &table.rows {
        if out.last().is_none_or(|(slice, _)| *slice != row.slice) {
            out.push((row.slice.clone(), vec![Windows::default(); kpis]));
        }
        let Some((_, w)) = out.last_mut() else { continue };
        let day = match row.period {
            model::Period::Day(d) => d,
            _ => continue,
        };
        for (i, v) in row.values.iter().enumerate() {
            if day < recent_from { add(&mut w[i].baseline, v) } else { add(&mut w[i].recent, v) }
        }
    }
    out
}

fn series_of(kpi: Kpi, w: &Windows, baseline_days: f64, recent_days: f64) -> Option<Series> {
    let empty = Value::Count { count: 0 };
    let (b, r) = (w.baseline.as_ref(), w.recent.as_ref());
    match kpi.unit() {
        Unit::Count => Series::from_counts(b.unwrap_or(&empty), baseline_days, r.unwrap_or(&empty), recent_days),
        _ => Series::from_ratios(b?, r?),
    }
}

fn check(options: &ScanOptions) -> Result<(), ScanError> {
    if options.recent_days < 1 || options.baseline_days < 1 {
        return Err(ScanError::Windows { recent: options.recent_days, baseline: options.baseline_days });
    }
    if !(options.fdr > 0.0 && options.fdr < 1.0) {
        return Err(ScanError::Fdr(options.fdr));
    }
    for kpi in &options.kpis {
        if !matches!(kpi.unit(), Unit::Count | Unit::Share) {
            return Err(ScanError::NotWatchable(kpi.name()));
        }
    }
    Ok(())
}

/// Scans the windows before `as_of` (the as-of day itself is not included: it is not over yet).
pub fn scan(
    facts: &Facts,
    calendar: &FiscalCalendar,
    as_of: Date,
    options: &ScanOptions,
) -> Result<(Scan, Vec<Diagnostic>), ScanError> {
    check(options)?;
    let recent_to = as_of.checked_sub(1.day()).map_err(|_| ScanError::Windows { recent: 0, baseline: 0 })?;
    let recent_from = as_of
        .checked_sub(options.recent_days.days())
        .map_err(|_| ScanError::Windows { recent: options.recent_days, baseline: options.baseline_days })?;
    let baseline_to = recent_from.checked_sub(1.day()).unwrap_or(recent_from);
    let baseline_from = recent_from
        .checked_sub(options.baseline_days.days())
        .map_err(|_| ScanError::Windows { recent: options.recent_days, baseline: options.baseline_days })?;
    let (bd, rd) = (f64::from(options.baseline_days), f64::from(options.recent_days));
    let nk = options.kpis.len();
    let mut diagnostics = Vec::new();
    let mut series: Vec<(Kpi, Scope, Series)> = Vec::new();
    let mut untested = 0;
    let mut rep_windows: Vec<(Vec<Option<u32>>, Vec<Windows>)> = Vec::new();
    for by in [vec![], vec![Dimension::Region], vec![Dimension::Rep]] {
        let query = Query {
            kpis: options.kpis.clone(),
            by: by.clone(),
            period: PeriodKind::Day,
            from: baseline_from,
            to: recent_to,
        };
        let (table, notes) = compute(facts, calendar, &query)?;
        if by.is_empty() {
            diagnostics.extend(notes);
        }
        let table = if by.is_empty() { KpiTable { rows: table.totals(), ..table } } else { table };
        let per_slice = windows(&table, recent_from, nk);
        for (slice, w) in &per_slice {
            let scope = match (by.first(), slice.first().copied().flatten()) {
                (None, _) => Scope::Company,
                (Some(Dimension::Region), Some(k)) => Scope::Region(k),
                (Some(Dimension::Rep), Some(k)) => Scope::Rep(k),
                _ => continue,
            };
            for (i, kpi) in options.kpis.iter().enumerate() {
                match series_of(*kpi, &w[i], bd, rd) {
                    Some(s) => series.push((*kpi, scope, s)),
                    None => untested += 1,
                }
            }
        }
        if by.first() == Some(&Dimension::Rep) {
            rep_windows = per_slice;
        }
    }
    let findings = trend::detect_changes(&series.iter().map(|(_, _, s)| *s).collect::<Vec<_>>(), options.fdr);
    let tested = findings.iter().filter(|f| f.p_value.is_some()).count();
    untested += findings.len() - tested;
    let mut alerts: Vec<Alert> = findings
        .iter()
        .filter(|f| f.significant)
        .filter_map(|f| {
            let (kpi, scope, _) = series[f.series];
            let (z, p_value) = (f.z?, f.p_value?);
            let down = f.recent_rate < f.baseline_rate;
            let worse = down != kpi.lower_is_better();
            let drivers = if kpi.unit() == Unit::Share && !matches!(scope, Scope::Rep(_)) {
                drivers(
                    facts,
                    kpi,
                    &options.kpis,
                    scope,
                    &rep_windows,
                    options.drivers,
                    f.recent_rate - f.baseline_rate,
                )
            } else {
                Vec::new()
            };
            Some(Alert {
                kpi,
                scope,
                baseline_rate: f.baseline_rate,
                recent_rate: f.recent_rate,
                z,
                p_value,
                worse,
                drivers,
            })
        })
        .collect();
    alerts.sort_by(|a, b| a.p_value.total_cmp(&b.p_value).then(a.scope.cmp(&b.scope)));
    let scan = Scan { baseline_from, baseline_to, recent_from, recent_to, tested, untested, alerts };
    Ok((scan, diagnostics))
}

/// The reps whose mix and rate effects explain most of the change, in the direction of the change.
fn drivers(
    facts: &Facts,
    kpi: Kpi,
    kpis: &[Kpi],
    scope: Scope,
    rep_windows: &[(Vec<Option<u32>>, Vec<Windows>)],
    keep: usize,
    change: f64,
) -> Vec<Driver> {
    let Some(column) = kpis.iter().position(|k| *k == kpi) else { return Vec::new() };
    let in_scope: Vec<(u32, SliceWindows)> = rep_windows
        .iter()
        .filter_map(|(slice, w)| {
            let rep = slice.first().copied().flatten()?;
            if let Scope::Region(region) = scope {
                let fact = facts.reps.get(rep as usize)?;
                if u32::from(fact.region) != region {
                    return None;
                }
            }
            let empty = Value::no_data("");
            let b = w[column].baseline.as_ref().unwrap_or(&empty);
            let r = w[column].recent.as_ref().unwrap_or(&empty);
            Some((rep, SliceWindows::from_values(b, r)))
        })
        .collect();
    let parts = trend::attribute_change(&in_scope.iter().map(|(_, s)| *s).collect::<Vec<_>>());
    let mut out: Vec<Driver> = parts
        .iter()
        .map(|a| Driver { rep: in_scope[a.slice].0, mix: a.mix, rate: a.rate })
        .filter(|d| (d.mix + d.rate) * change > 0.0)
        .collect();
    out.sort_by(|a, b| (b.mix + b.rate).abs().total_cmp(&(a.mix + a.rate).abs()).then(a.rep.cmp(&b.rep)));
    out.truncate(keep);
    out
}
