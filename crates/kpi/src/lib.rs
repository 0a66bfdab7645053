//! The KPI engine of salesops (A1), the funnel (A3), the process map (A5) and trend detection (A4).
//!
//! Pure functions over in-memory [`Facts`]: no I/O, no clock, no randomness. The caller (the app)
//! loads records, converts money to the reporting currency and maps ids to dense small keys; the
//! engines return tables and a list of [`Diagnostic`]s about records they had to leave out.
//!
//! - [`FactsBuilder`] turns the model's records into [`Facts`] (currency conversion, local days,
//!   dense keys); callers with their own fast loading path can fill [`Facts`] directly.
//! - [`compute`] builds a [`KpiTable`]: every requested [`Kpi`] for every slice (by rep, team,
//!   region, territory, product line, source, segment) × period of a [`model::FiscalCalendar`].
//!   Ratios keep numerator and denominator ([`Ratio`]) so slices re-aggregate exactly
//!   ([`KpiTable::totals`]); KPIs without data are [`Value::NoData`] with the reason, never zero.
//!   [`KpiTable::compare`] and [`compare_with_target`] compare with the previous period, the same
//!   period last year or a target; [`drill_down`] lists the records behind a cell;
//!   [`KpiTable::roll_up`] turns a daily table (a stored rollup) into months or quarters.
//! - [`funnel()`] computes stage-to-stage conversion, drop-off, time in stage and loss reasons from
//!   the stage history; [`process_map()`] the transitions between stages with loops, skips and
//!   bottlenecks.
//! - [`trend`] finds significant changes against a baseline with false-discovery control.
//!
//! Definitions of every KPI: `docs/kpis.md`.

pub mod alerts;
pub mod build;
mod catalogue;
pub mod daily;
mod drill;
mod engine;
pub mod facts;
pub mod funnel;
pub mod process_map;
mod rollup;
pub mod trend;
mod value;

pub use build::FactsBuilder;
pub use catalogue::{Kpi, Source, Unit};
pub use drill::{DrillDown, drill_down};
pub use engine::{Baseline, Comparison, Dimension, KpiTable, Query, Row, compare_with_target, compute};
pub use facts::Facts;
pub use funnel::funnel;
pub use process_map::process_map;
pub use value::{Ratio, Value};

use jiff::civil::Date;
use model::{ActivityId, LeadId, OpportunityId, OrderId, QuoteId};
use serde::{Deserialize, Serialize};

/// A record a KPI value or a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum RecordRef {
    Opportunity(OpportunityId),
    Activity(ActivityId),
    Lead(LeadId),
    Quote(QuoteId),
    Order(OrderId),
    /// Position in [`Facts::quotas`].
    Quota(u32),
    /// Position in [`Facts::data_entries`].
    DataEntry(u32),
}

/// A finding about the input that did not stop the computation ("opportunity 42 was won without
/// a close day; counted as open"). `record` is `None` for a summary line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub record: Option<RecordRef>,
    pub message: String,
}

/// A request the engine cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KpiError {
    #[error("the range ends ({to}) before it starts ({from})")]
    EmptyRange { from: Date, to: Date },
    #[error("{kpi} has no data: {reason}")]
    NoData { kpi: Kpi, reason: &'static str },
    #[error("the slice has {values} values for {dimensions} dimensions")]
    SliceShape { dimensions: usize, values: usize },
    #[error("the period {fine} does not lie inside one {kind}")]
    PeriodsDoNotNest { fine: model::Period, kind: model::PeriodKind },
}
