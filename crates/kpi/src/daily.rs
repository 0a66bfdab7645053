//! Stored rollups: the additive daily parts of the opportunity and activity KPIs, per local day ×
//! rep × product line × lead source × segment ([`daily_cells`]), and the KPI table computed back
//! from such cells once they are summed per period ([`compute_from_cells`]).
//!
//! Both halves follow [`compute`](crate::compute) rule for rule (the same close-day clamping,
//! the same cycle-length exclusions, the same slots and the same row builder), so a table from
//! cells equals the table from the records; `web/tests/it/kpi_rollups.rs` checks it after random
//! writes. Medians, percentiles and lead, quote, order and quota KPIs are not in the cells:
//! [`supports`] says which queries the cells can answer.

use std::collections::{BTreeMap, HashSet};

use jiff::civil::Date;
use model::period::epoch_day;
use model::{ActivityKind, Currency, FiscalCalendar};
use serde::{Deserialize, Serialize};

use crate::KpiError;
use crate::catalogue::{Kpi, Source};
use crate::engine::{Cells, Column, Dimension, KpiTable, Query, Slicer, build_table, carries, ensure};
use crate::facts::{Facts, NONE, Outcome, RepFact, VisitOutcome};

/// The additive parts of one cell. Amounts are minor units of the reporting currency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    /// Opportunities created on the day.
    pub created: u64,
    /// Of those, the ones won now.
    pub created_won: u64,
    /// Won on the day (its close day).
    pub won: u64,
    pub lost: u64,
    pub won_amount: i64,
    /// Days from cycle start to close over the won ones with a cycle that starts before the close.
    pub cycle_days: i64,
    pub cycle_count: u64,
    /// Amounts entering the open pipeline (created on the day).
    pub pipeline_in: i64,
    /// Amounts leaving it (won or lost on the day).
    pub pipeline_out: i64,
    /// Activities of any kind on the day.
    pub activities: u64,
    pub calls: u64,
    pub talk_seconds: u64,
    pub emails: u64,
    pub meetings: u64,
    pub visits: u64,
    pub visit_sales: u64,
}

impl DailyCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &DailyCounts) {
        self.created += other.created;
        self.created_won += other.created_won;
        self.won += other.won;
        self.lost += other.lost;
        self.won_amount += other.won_amount;
        self.cycle_days += other.cycle_days;
        self.cycle_count += other.cycle_count;
        self.pipeline_in += other.pipeline_in;
        self.pipeline_out += other.pipeline_out;
        self.activities += other.activities;
        self.calls += other.calls;
        self.talk_seconds += other.talk_seconds;
        self.emails += other.emails;
        self.meetings += other.meetings;
        self.visits += other.visits;
        self.visit_sales += other.visit_sales;
    }

    /// Whether opportunities contributed to the cell (such a cell's slice always has a row).
    pub fn has_opportunities(&self) -> bool {
        self.created > 0 || self.won > 0 || self.lost > 0 || self.pipeline_in != 0 || self.pipeline_out != 0
    }
}

/// The key of a daily cell: dense keys as in [`Facts`] ([`NONE`] = not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DailyKey {
    pub day: Date,
    /// Index into [`Facts::reps`].
    pub rep: u32,
    pub product_line: u16,
    pub source: u16,
    pub segment: u16,
}

/// The daily cells of `facts`' opportunities and activities (territories are not kept), in key
/// order. Records with an unknown rep are left out, as [`compute`](crate::compute) leaves them out.
pub fn daily_cells(facts: &Facts) -> Vec<(DailyKey, DailyCounts)> {
    let n_reps = facts.reps.len() as u32;
    let mut cells: BTreeMap<DailyKey, DailyCounts> = BTreeMap::new();
    for o in &facts.opportunities {
        if o.rep >= n_reps {
            continue;
        }
        let closed_on = match (o.outcome, o.closed_on) {
            (Outcome::Open, _) | (_, None) => None,
            (_, Some(day)) if day < o.created_on => Some(o.created_on),
            (_, Some(day)) => Some(day),
        };
        let key = |day: Date| DailyKey {
            day,
            rep: o.rep,
            product_line: o.product_line,
            source: o.source,
            segment: o.segment,
        };
        let created = cells.entry(key(o.created_on)).or_default();
        created.created += 1;
        created.created_won += u64::from(o.outcome == Outcome::Won && closed_on.is_some());
        created.pipeline_in += o.amount;
        if let Some(day) = closed_on {
            let closed = cells.entry(key(day)).or_default();
            closed.pipeline_out += o.amount;
            if o.outcome == Outcome::Won {
                closed.won += 1;
                closed.won_amount += o.amount;
                let days = epoch_day(day) - epoch_day(o.cycle_start);
                if days >= 0 {
                    closed.cycle_days += i64::from(days);
                    closed.cycle_count += 1;
                }
            } else {
                closed.lost += 1;
            }
        }
    }
    for a in &facts.activities {
        if a.rep >= n_reps {
            continue;
        }
        let cell = cells
            .entry(DailyKey { day: a.on, rep: a.rep, product_line: NONE, source: NONE, segment: NONE })
            .or_default();
        cell.activities += 1;
        match a.kind {
            ActivityKind::Call => {
                cell.calls += 1;
                cell.talk_seconds += u64::from(a.duration_seconds);
            }
            ActivityKind::Email => cell.emails += 1,
            ActivityKind::Meeting => cell.meetings += 1,
            ActivityKind::Visit => {
                cell.visits += 1;
                cell.visit_sales += u64::from(a.visit_outcome == Some(VisitOutcome::Sale));
            }
            ActivityKind::Task | ActivityKind::Note => {}
        }
    }
    cells.into_iter().collect()
}

/// Where a summed cell lies relative to the computed periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bucket {
    /// Before the first period (counts only for the open pipeline and for which slices exist).
    Before,
    /// Inside the period with this position in `calendar.periods_between(query.from, query.to, ..)`.
    Period(u32),
    /// After the last period (counts only for which slices exist).
    After,
}

/// Daily cells of one rep and slice summed over a [`Bucket`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketCell {
    pub bucket: Bucket,
    pub rep: u32,
    pub product_line: u16,
    pub source: u16,
    pub segment: u16,
    pub counts: DailyCounts,
}

/// Whether a query for `kpis` by `by` can be answered from cells: opportunity KPIs (except the
/// proposal rate, which needs quotes) and activity KPIs, sliced by rep, team, region, product
/// line, source or segment. Everything else is computed from the records.
pub fn supports(kpis: &[Kpi], by: &[Dimension]) -> bool {
    !kpis.is_empty()
        && kpis.iter().all(|k| {
            k.missing_reason().is_some()
                || (matches!(k.source(), Source::Opportunities | Source::Activities) && *k != Kpi::ProposalRate)
        })
        && !by.contains(&Dimension::Territory)
}

/// The table of `query` from summed cells. `reps` are the facts' reps (team and region of each);
/// `counts` the number of product lines, sources and segments the cells' dense keys range over.
/// Equal to [`compute`](crate::compute) on the records the cells were made from.
pub fn compute_from_cells(
    reps: &[RepFact],
    counts: [u64; 3],
    currency: Currency,
    calendar: &FiscalCalendar,
    query: &Query,
    cells: &[BucketCell],
) -> Result<KpiTable, KpiError> {
    if query.to < query.from {
        return Err(KpiError::EmptyRange { from: query.from, to: query.to });
    }
    if !supports(&query.kpis, &query.by) {
        return Err(KpiError::NoData {
            kpi: query.kpis.first().copied().unwrap_or(Kpi::Revenue),
            reason: "not kept in the rollups; compute from the records",
        });
    }
    let periods = calendar.periods_between(query.from, query.to, query.period);
    let np = periods.len();
    let mut slicer = Slicer::for_cells(reps, &query.by, counts);
    let mut acc = Cells::default();
    let rep_sliced = query.by.contains(&Dimension::Rep);
    let n_reps = reps.len() as u32;
    let activities_wanted =
        query.kpis.iter().any(|k| k.source() == Source::Activities) && carries(Source::Activities, &query.by).is_ok();
    let mut active: HashSet<(u32, u32)> = HashSet::new();
    for c in cells {
        if c.rep >= n_reps {
            continue;
        }
        let n = &c.counts;
        let period = match c.bucket {
            Bucket::Period(p) if (p as usize) < np => Some(p),
            Bucket::Period(_) => continue,
            _ => None,
        };
        if n.has_opportunities() {
            let slot = slicer.slot_of(c.rep, [NONE, c.product_line, c.source, c.segment]);
            let base = slot as usize * np;
            let cells = ensure(&mut acc.opportunities, slot, np);
            let clamped = match c.bucket {
                Bucket::Before => Some(0),
                Bucket::Period(p) => Some(p),
                Bucket::After => None,
            };
            if let Some(p) = clamped {
                cells[base + p as usize].pipeline_delta += n.pipeline_in - n.pipeline_out;
            }
            if let Some(p) = period {
                let cell = &mut cells[base + p as usize];
                cell.created += n.created as u32;
                cell.created_won += n.created_won as u32;
                cell.won += n.won as u32;
                cell.lost += n.lost as u32;
                cell.won_amount += n.won_amount;
                cell.cycle_days += n.cycle_days;
                cell.cycle_count += n.cycle_count as u32;
                if n.created > 0 || n.won + n.lost > 0 {
                    let at = base + p as usize;
                    if rep_sliced {
                        cell.active_reps = 1;
                    } else if active.insert((at as u32, c.rep)) {
                        cell.active_reps += 1;
                    }
                }
            }
        }
        if let Some(p) = period
            && activities_wanted
            && n.activities > 0
        {
            let slot = slicer.slot_of(c.rep, [NONE; 4]);
            let cell = &mut ensure(&mut acc.activities, slot, np)[slot as usize * np + p as usize];
            cell.calls += n.calls as u32;
            cell.talk_seconds += n.talk_seconds;
            cell.emails += n.emails as u32;
            cell.meetings += n.meetings as u32;
            cell.visits += n.visits as u32;
            cell.visit_sales += n.visit_sales as u32;
        }
    }
    let columns: Vec<Column> = query
        .kpis
        .iter()
        .map(|&kpi| match kpi.missing_reason() {
            Some(reason) => Column::Missing(reason),
            None => match carries(kpi.source(), &query.by) {
                Ok(()) => Column::Kpi(kpi),
                Err(reason) => Column::Missing(reason),
            },
        })
        .collect();
    Ok(build_table(currency, query, periods, &slicer, &acc, &columns))
}
