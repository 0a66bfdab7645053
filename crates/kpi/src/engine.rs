//! The KPI table: every requested KPI for every slice × period, computed in one pass over each
//! fact list into dense per-cell counters.

use std::collections::{HashMap, HashSet};

use jiff::civil::Date;
use model::period::epoch_day;
use model::{ActivityKind, Currency, FiscalCalendar, Period, PeriodKind, QuoteStatus};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalogue::{Kpi, Source};
use crate::facts::{Facts, NONE, OpportunityFact, Outcome, VisitOutcome};
use crate::value::{Ratio, Value};
use crate::{Diagnostic, KpiError, RecordRef};

/// What a KPI can be sliced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Rep,
    Team,
    Region,
    Territory,
    ProductLine,
    Source,
    Segment,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Rep,
        Dimension::Team,
        Dimension::Region,
        Dimension::Territory,
        Dimension::ProductLine,
        Dimension::Source,
        Dimension::Segment,
    ];

    /// The stable snake_case name (`--by rep`).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Rep => "rep",
            Dimension::Team => "team",
            Dimension::Region => "region",
            Dimension::Territory => "territory",
            Dimension::ProductLine => "product_line",
            Dimension::Source => "source",
            Dimension::Segment => "segment",
        }
    }

    /// Parses a name, also accepting the CRM's words for it: `owner` for the rep, `product` for
    /// the product line, `lead_source` for the source.
    pub fn parse(name: &str) -> Option<Dimension> {
        match name {
            "owner" => Some(Dimension::Rep),
            "product" => Some(Dimension::ProductLine),
            "lead_source" => Some(Dimension::Source),
            _ => Dimension::ALL.into_iter().find(|d| d.name() == name),
        }
    }
}

/// Which KPIs, sliced how, for which dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    pub kpis: Vec<Kpi>,
    /// Slicing dimensions; empty for company totals.
    pub by: Vec<Dimension>,
    pub period: PeriodKind,
    /// Every period overlapping `from ..= to` is computed whole.
    pub from: Date,
    pub to: Date,
}

/// One slice × period and its KPI values, in the order of [`KpiTable::kpis`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// One value per [`KpiTable::by`] dimension; `None` for "not set".
    pub slice: Vec<Option<u32>>,
    pub period: Period,
    pub values: Vec<Value>,
}

/// The result of [`compute`]: rows for every slice that has a record (of a source the requested
/// KPIs read) in the range, times every period (a slice with no activity in a month still gets its
/// zero counts for that month).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KpiTable {
    pub currency: Currency,
    pub kpis: Vec<Kpi>,
    pub by: Vec<Dimension>,
    pub periods: Vec<Period>,
    /// Sorted by slice, then period.
    pub rows: Vec<Row>,
}

/// How a value compares with a baseline (previous period, same period last year, or a target).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub current: Value,
    pub baseline: Value,
    /// `current - baseline`, when both have a value.
    pub difference: Option<Decimal>,
    /// `difference / baseline`, when the baseline is not zero.
    pub relative: Option<Decimal>,
}

/// The baseline a value is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    PreviousPeriod,
    SamePeriodLastYear,
}

/// Computes `query` over `facts`. Records the engine cannot use (a rep index out of range, a won
/// opportunity without a close day, a close before creation) are reported as diagnostics and left
/// out of the KPIs they would distort.
pub fn compute(
    facts: &Facts,
    calendar: &FiscalCalendar,
    query: &Query,
) -> Result<(KpiTable, Vec<Diagnostic>), KpiError> {
    if query.to < query.from {
        return Err(KpiError::EmptyRange { from: query.from, to: query.to });
    }
    let periods = calendar.periods_between(query.from, query.to, query.period);
    let index = PeriodIndex::new(calendar, &periods);
    let mut diagnostics = Diagnostics::default();
    let mut slicer = Slicer::new(facts, &query.by);
    let np = periods.len();
    let mut cells = Cells::default();
    let rep_sliced = query.by.contains(&Dimension::Rep);
    let mut active: HashSet<(u32, u32)> = HashSet::new();
    let n_reps = facts.reps.len() as u32;

    let wanted = |source: Source| query.kpis.iter().any(|k| k.source() == source);
    let mut has_sent_quote = vec![false; facts.opportunities.len()];
    let quotes_wanted = wanted(Source::Quotes);
    for quote in facts.quotes.iter().flatten().filter(|_| quotes_wanted) {
        if quote.sent_on.is_some()
            && let Some(flag) = has_sent_quote.get_mut(quote.opportunity as usize)
        {
            *flag = true;
        }
    }

    // Opportunities. `opportunity_slot` is reused by quotes and orders.
    let mut opportunity_slot = vec![u32::MAX; facts.opportunities.len()];
    for (i, o) in facts.opportunities.iter().enumerate() {
        if o.rep >= n_reps {
            diagnostics.push(RecordRef::Opportunity(o.id), "owner is not a known rep; left out");
            continue;
        }
        let closed_on = match (o.outcome, o.closed_on) {
            (Outcome::Open, _) => None,
            (_, None) => {
                diagnostics.push(RecordRef::Opportunity(o.id), "won or lost without a close day; counted as open");
                None
            }
            (_, Some(day)) if day < o.created_on => {
                diagnostics.push(
                    RecordRef::Opportunity(o.id),
                    "closed before it was created; close day taken as the creation day",
                );
                Some(o.created_on)
            }
            (_, Some(day)) => Some(day),
        };
        let slot = slicer.slot_of_opportunity(o);
        let cells = ensure(&mut cells.opportunities, slot, np);
        opportunity_slot[i] = slot;
        let base = slot as usize * np;
        let mut mark_active = |cells: &mut [OpportunityCell], p: u32| {
            let cell = base + p as usize;
            if rep_sliced {
                cells[cell].active_reps = 1;
            } else if active.insert((cell as u32, o.rep)) {
                cells[cell].active_reps += 1;
            }
        };
        if let Some(p) = index.of(o.created_on) {
            let cell = &mut cells[base + p as usize];
            cell.created += 1;
            cell.created_won += u32::from(o.outcome == Outcome::Won && closed_on.is_some());
            cell.created_with_quote += u32::from(has_sent_quote[i]);
            mark_active(cells, p);
        }
        if let Some(open_from) = index.clamped(o.created_on) {
            cells[base + open_from as usize].pipeline_delta += o.amount;
            if let Some(open_to) = closed_on.and_then(|day| index.clamped(day)) {
                cells[base + open_to as usize].pipeline_delta -= o.amount;
            }
        }
        if let Some(day) = closed_on
            && let Some(p) = index.of(day)
        {
            let cell = &mut cells[base + p as usize];
            if o.outcome == Outcome::Won {
                cell.won += 1;
                cell.won_amount += o.amount;
                let days = epoch_day(day) - epoch_day(o.cycle_start);
                if days >= 0 {
                    cell.cycle_days += i64::from(days);
                    cell.cycle_count += 1;
                } else {
                    diagnostics.push(
                        RecordRef::Opportunity(o.id),
                        "sales cycle starts after the close day; left out of the cycle length",
                    );
                }
            } else {
                cell.lost += 1;
            }
            mark_active(cells, p);
        }
    }

    // Activities.
    if wanted(Source::Activities) && slicer.supports(Source::Activities).is_ok() {
        for a in &facts.activities {
            if a.rep >= n_reps {
                diagnostics.push(RecordRef::Activity(a.id), "owner is not a known rep; left out");
                continue;
            }
            let Some(p) = index.of(a.on) else { continue };
            let slot = slicer.slot_of(a.rep, [a.territory, NONE, NONE, NONE]);
            let cell = &mut ensure(&mut cells.activities, slot, np)[slot as usize * np + p as usize];
            match a.kind {
                ActivityKind::Call => {
                    cell.calls += 1;
                    cell.talk_seconds += u64::from(a.duration_seconds);
                }
                ActivityKind::Email => cell.emails += 1,
                ActivityKind::Meeting => cell.meetings += 1,
                ActivityKind::Visit => {
                    cell.visits += 1;
                    cell.visit_sales += u32::from(a.visit_outcome == Some(VisitOutcome::Sale));
                }
                ActivityKind::Task | ActivityKind::Note => {}
            }
        }
    }

    if wanted(Source::Leads) && slicer.supports(Source::Leads).is_ok() {
        for lead in facts.leads.iter().flatten() {
            if lead.rep >= n_reps {
                diagnostics.push(RecordRef::Lead(lead.id), "owner is not a known rep; left out");
                continue;
            }
            let Some(p) = index.of(lead.created_on) else { continue };
            let slot = slicer.slot_of(lead.rep, [lead.territory, NONE, lead.source, lead.segment]);
            let cell = &mut ensure(&mut cells.other, slot, np)[slot as usize * np + p as usize];
            cell.leads += 1;
            cell.leads_qualified += u32::from(lead.qualified);
            if let Some(minutes) = lead.follow_up_minutes {
                cell.follow_up_minutes += u64::from(minutes);
                cell.follow_up_count += 1;
            }
        }
    }

    for quote in facts.quotes.iter().flatten().filter(|_| quotes_wanted) {
        let Some(&slot) = opportunity_slot.get(quote.opportunity as usize).filter(|s| **s != u32::MAX) else {
            diagnostics.push(RecordRef::Quote(quote.id), "opportunity is not among the facts; left out");
            continue;
        };
        let Some(p) = quote.sent_on.and_then(|day| index.of(day)) else { continue };
        let cell = &mut ensure(&mut cells.other, slot, np)[slot as usize * np + p as usize];
        cell.quotes_sent += 1;
        cell.quotes_accepted += u32::from(quote.status == QuoteStatus::Accepted);
        if let Some(sent_at) = quote.sent_at {
            let seconds = sent_at.as_second() - quote.created_at.as_second();
            if seconds >= 0 {
                cell.response_minutes += seconds as u64 / 60;
                cell.response_count += 1;
            } else {
                diagnostics
                    .push(RecordRef::Quote(quote.id), "sent before it was created; left out of the response time");
            }
        }
    }

    let orders_wanted = wanted(Source::Orders);
    for order in facts.orders.iter().flatten().filter(|_| orders_wanted) {
        let Some(&slot) = opportunity_slot.get(order.opportunity as usize).filter(|s| **s != u32::MAX) else {
            diagnostics.push(RecordRef::Order(order.id), "opportunity is not among the facts; left out");
            continue;
        };
        let base = slot as usize * np;
        let cells = ensure(&mut cells.other, slot, np);
        if let Some(p) = index.of(order.ordered_on) {
            let cell = &mut cells[base + p as usize];
            cell.orders += 1;
            if let Some(cancelled) = order.cancelled_on {
                cell.orders_cancelled += 1;
                cell.orders_cancelled_before_installation +=
                    u32::from(order.installed_on.is_none_or(|installed| cancelled < installed));
            }
        }
        if let Some(p) = order.installed_on.and_then(|day| index.of(day)) {
            let cell = &mut cells[base + p as usize];
            cell.installed += 1;
            cell.installed_first_time += u32::from(order.failed_installations == 0);
        }
    }

    if slicer.supports(Source::Quotas).is_ok() {
        let quotas = facts.quotas.iter().flatten().filter(|_| wanted(Source::Quotas));
        for (i, quota) in quotas.enumerate() {
            if quota.rep >= n_reps {
                diagnostics.push(RecordRef::Quota(i as u32), "rep is not a known rep; left out");
                continue;
            }
            let Some(p) = index.of(quota.starts_on) else { continue };
            let slot = slicer.slot_of(quota.rep, [NONE; 4]);
            ensure(&mut cells.other, slot, np)[slot as usize * np + p as usize].quota += quota.amount;
        }
        let entries = facts.data_entries.iter().flatten().filter(|_| wanted(Source::DataEntries));
        for (i, entry) in entries.enumerate() {
            if entry.rep >= n_reps {
                diagnostics.push(RecordRef::DataEntry(i as u32), "rep is not a known rep; left out");
                continue;
            }
            let Some(p) = index.of(entry.on) else { continue };
            let slot = slicer.slot_of(entry.rep, [NONE; 4]);
            ensure(&mut cells.other, slot, np)[slot as usize * np + p as usize].data_entries += 1;
        }
    }

    let columns: Vec<Column> = query.kpis.iter().map(|&kpi| Column::new(kpi, facts, &slicer)).collect();
    let table = build_table(facts.currency, query, periods, &slicer, &cells, &columns);
    Ok((table, diagnostics.finish()))
}

/// The rows of a table from per-slot, per-period counters (shared by [`compute`] on records and
/// by the rollup path on stored daily cells, so both give the same values by construction).
pub(crate) fn build_table(
    currency: Currency,
    query: &Query,
    periods: Vec<Period>,
    slicer: &Slicer,
    cells: &Cells,
    columns: &[Column],
) -> KpiTable {
    let np = periods.len();
    let scale = currency.minor_units();
    let money = |minor: i64| Decimal::new(minor, scale);
    let mut order: Vec<u32> = (0..slicer.slots()).collect();
    let keys: Vec<Vec<Option<u32>>> = (0..slicer.slots()).map(|s| slicer.decode(s)).collect();
    order.sort_by(|a, b| keys[*a as usize].cmp(&keys[*b as usize]));

    let mut rows = Vec::with_capacity(order.len() * np);
    for &slot in &order {
        let range = slot as usize * np..(slot as usize + 1) * np;
        let opportunity_cells = cells.opportunities.get(range.clone()).unwrap_or(&EMPTY_OPPORTUNITIES[..]);
        let activity_cells = cells.activities.get(range.clone()).unwrap_or(&EMPTY_ACTIVITIES[..]);
        let other_cells = cells.other.get(range).unwrap_or(&EMPTY_OTHER[..]);
        let mut pipeline = 0i64;
        for (p, &period) in periods.iter().enumerate() {
            let o = opportunity_cells.get(p).unwrap_or(&OpportunityCell::EMPTY);
            let a = activity_cells.get(p).unwrap_or(&ActivityCell::EMPTY);
            let x = other_cells.get(p).unwrap_or(&OtherCell::EMPTY);
            pipeline += o.pipeline_delta;
            let previous = p.checked_sub(1).map(|q| opportunity_cells.get(q).unwrap_or(&OpportunityCell::EMPTY));
            let values = columns
                .iter()
                .map(|column| match column {
                    Column::Missing(reason) => Value::no_data(reason),
                    Column::Kpi(kpi) => cell_value(*kpi, (o, a, x), previous, pipeline, &money),
                })
                .collect();
            rows.push(Row { slice: keys[slot as usize].clone(), period, values });
        }
    }
    KpiTable { currency, kpis: query.kpis.clone(), by: query.by.clone(), periods, rows }
}

impl KpiTable {
    /// The value of `kpi` in one cell, if the table has that KPI and cell.
    pub fn value(&self, kpi: Kpi, slice: &[Option<u32>], period: Period) -> Option<&Value> {
        let column = self.kpis.iter().position(|k| *k == kpi)?;
        let row = self.rows.binary_search_by(|row| (row.slice.as_slice(), row.period).cmp(&(slice, period))).ok()?;
        self.rows[row].values.get(column)
    }

    /// Totals over all slices, one row per period (slice `[]`). Counts, money and ratios add
    /// exactly. The average revenue per rep counts distinct reps, which only add up over slices that
    /// split reps (rep, team, region); over other slices its total is `NoData`.
    pub fn totals(&self) -> Vec<Row> {
        let splits_reps = self.by.iter().all(|d| matches!(d, Dimension::Rep | Dimension::Team | Dimension::Region));
        let mut totals: Vec<Row> =
            self.periods.iter().map(|&period| Row { slice: Vec::new(), period, values: Vec::new() }).collect();
        let position: HashMap<Period, usize> = self.periods.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        for row in &self.rows {
            let total = &mut totals[position[&row.period]];
            if total.values.is_empty() {
                total.values = row.values.clone();
            } else {
                for (sum, value) in total.values.iter_mut().zip(&row.values) {
                    *sum = sum.combine(value);
                }
            }
        }
        for total in &mut totals {
            if total.values.is_empty() {
                total.values = self.kpis.iter().map(|_| Value::no_data("no records in this period")).collect();
            }
            for (kpi, value) in self.kpis.iter().zip(total.values.iter_mut()) {
                if *kpi == Kpi::AverageRevenuePerRep && !splits_reps {
                    *value = Value::no_data("distinct reps do not add up over these slices; query without them");
                }
            }
        }
        totals
    }

    /// Compares a cell with the previous period or the same period last year. The baseline must be
    /// inside the table's range; otherwise the baseline is `NoData`.
    pub fn compare(
        &self,
        calendar: &FiscalCalendar,
        kpi: Kpi,
        slice: &[Option<u32>],
        period: Period,
        baseline: Baseline,
    ) -> Option<Comparison> {
        let current = self.value(kpi, slice, period)?.clone();
        let base_period = match baseline {
            Baseline::PreviousPeriod => calendar.previous(period),
            Baseline::SamePeriodLastYear => calendar.same_period_last_year(period),
        };
        let base = self
            .value(kpi, slice, base_period)
            .cloned()
            .unwrap_or_else(|| Value::no_data("the baseline period is outside the computed range"));
        Some(compare_values(current, base))
    }

    /// [`compare`](Self::compare) for every row of the table: one comparison per slice × period,
    /// in row order (the earliest periods have their baseline outside the range: `NoData`).
    pub fn compare_all(&self, calendar: &FiscalCalendar, kpi: Kpi, baseline: Baseline) -> Vec<Comparison> {
        self.rows.iter().filter_map(|row| self.compare(calendar, kpi, &row.slice, row.period, baseline)).collect()
    }
}

/// Compares a value with a target (a number in the KPI's unit: a share, money, a count).
pub fn compare_with_target(current: &Value, target: Decimal) -> Comparison {
    let baseline = Value::Ratio { ratio: Ratio::new(target, Decimal::ONE) };
    compare_values(current.clone(), baseline)
}

fn compare_values(current: Value, baseline: Value) -> Comparison {
    let difference = match (current.to_decimal(), baseline.to_decimal()) {
        (Some(a), Some(b)) => a.checked_sub(b),
        _ => None,
    };
    let relative = difference.zip(baseline.to_decimal()).and_then(|(d, b)| d.checked_div(b));
    Comparison { current, baseline, difference, relative }
}

/// Per-cell counters, one struct per fact source so the hot loops touch little memory.
/// Amounts are minor units of the reporting currency.
#[derive(Default)]
pub(crate) struct Cells {
    pub(crate) opportunities: Vec<OpportunityCell>,
    pub(crate) activities: Vec<ActivityCell>,
    pub(crate) other: Vec<OtherCell>,
}

/// Makes room for `slot`'s periods and returns the cells.
#[inline]
pub(crate) fn ensure<T: Clone + Default>(cells: &mut Vec<T>, slot: u32, np: usize) -> &mut [T] {
    let needed = (slot as usize + 1) * np;
    if cells.len() < needed {
        cells.resize(needed, T::default());
    }
    cells
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OpportunityCell {
    pub(crate) created: u32,
    pub(crate) created_won: u32,
    pub(crate) created_with_quote: u32,
    pub(crate) won: u32,
    pub(crate) lost: u32,
    pub(crate) cycle_count: u32,
    pub(crate) active_reps: u32,
    pub(crate) won_amount: i64,
    pub(crate) cycle_days: i64,
    pub(crate) pipeline_delta: i64,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ActivityCell {
    pub(crate) calls: u32,
    pub(crate) emails: u32,
    pub(crate) meetings: u32,
    pub(crate) visits: u32,
    pub(crate) visit_sales: u32,
    pub(crate) talk_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OtherCell {
    leads: u32,
    leads_qualified: u32,
    follow_up_minutes: u64,
    follow_up_count: u32,
    quotes_sent: u32,
    quotes_accepted: u32,
    response_minutes: u64,
    response_count: u32,
    orders: u32,
    orders_cancelled: u32,
    orders_cancelled_before_installation: u32,
    installed: u32,
    installed_first_time: u32,
    quota: i64,
    data_entries: u32,
}

impl OpportunityCell {
    const EMPTY: OpportunityCell = OpportunityCell {
        created: 0,
        created_won: 0,
        created_with_quote: 0,
        won: 0,
        lost: 0,
        cycle_count: 0,
        active_reps: 0,
        won_amount: 0,
        cycle_days: 0,
        pipeline_delta: 0,
    };
}

impl ActivityCell {
    const EMPTY: ActivityCell =
        ActivityCell { calls: 0, emails: 0, meetings: 0, visits: 0, visit_sales: 0, talk_seconds: 0 };
}

impl OtherCell {
    const EMPTY: OtherCell = OtherCell {
        leads: 0,
        leads_qualified: 0,
        follow_up_minutes: 0,
        follow_up_count: 0,
        quotes_sent: 0,
        quotes_accepted: 0,
        response_minutes: 0,
        response_count: 0,
        orders: 0,
        orders_cancelled: 0,
        orders_cancelled_before_installation: 0,
        installed: 0,
        installed_first_time: 0,
        quota: 0,
        data_entries: 0,
    };
}

const EMPTY_OPPORTUNITIES: [OpportunityCell; 0] = [];
const EMPTY_ACTIVITIES: [ActivityCell; 0] = [];
const EMPTY_OTHER: [OtherCell; 0] = [];

fn cell_value(
    kpi: Kpi,
    (c, a, x): (&OpportunityCell, &ActivityCell, &OtherCell),
    previous: Option<&OpportunityCell>,
    pipeline: i64,
    money: &dyn Fn(i64) -> Decimal,
) -> Value {
    let count = |n: u64| Value::Count { count: n };
    let d = |n: u64| Decimal::from(n);
    match kpi {
        Kpi::OpportunitiesCreated => count(c.created.into()),
        Kpi::DealsClosed => count(c.won.into()),
        Kpi::DealsLost => count(c.lost.into()),
        Kpi::Revenue => Value::Money { amount: money(c.won_amount) },
        Kpi::WinRate => {
            Value::ratio(d(c.won.into()), d(u64::from(c.won) + u64::from(c.lost)), "no opportunity was won or lost")
        }
        Kpi::DealClosingRate => {
            Value::ratio(d(c.created_won.into()), d(c.created.into()), "no opportunity was created")
        }
        Kpi::SalesCycleLength => {
            Value::ratio(Decimal::from(c.cycle_days), d(c.cycle_count.into()), "no opportunity was won")
        }
        Kpi::OpenPipeline => Value::Money { amount: money(pipeline) },
        Kpi::AverageRevenuePerRep => {
            Value::ratio(money(c.won_amount), d(c.active_reps.into()), "no rep created or closed an opportunity")
        }
        Kpi::RevenueGrowth => match previous {
            None => Value::no_data("the previous period is outside the computed range"),
            Some(p) => Value::ratio(
                money(c.won_amount - p.won_amount),
                money(p.won_amount),
                "no revenue in the previous period",
            ),
        },
        Kpi::LeadsGenerated => count(x.leads.into()),
        Kpi::LeadQualificationRate => {
            Value::ratio(d(x.leads_qualified.into()), d(x.leads.into()), "no lead was created")
        }
        Kpi::LeadFollowUpTime => {
            Value::ratio(d(x.follow_up_minutes), d(x.follow_up_count.into()), "no lead was followed up")
        }
        Kpi::CallsPlaced => count(u64::from(a.calls)),
        Kpi::TalkTime => count(a.talk_seconds),
        Kpi::EmailsSent => count(u64::from(a.emails)),
        Kpi::MeetingsHeld => count(u64::from(a.meetings)),
        Kpi::Visits => count(u64::from(a.visits)),
        Kpi::VisitsPerSale => {
            Value::ratio(d(u64::from(a.visits)), d(u64::from(a.visit_sales)), "no visit ended in a sale")
        }
        Kpi::FieldConversion => Value::ratio(d(u64::from(a.visit_sales)), d(u64::from(a.visits)), "no visit was made"),
        Kpi::DataEntries => count(x.data_entries.into()),
        Kpi::ProposalRate => {
            Value::ratio(d(c.created_with_quote.into()), d(c.created.into()), "no opportunity was created")
        }
        Kpi::QuoteResponseTime => Value::ratio(d(x.response_minutes), d(x.response_count.into()), "no quote was sent"),
        Kpi::ConversionOnQuotes => {
            Value::ratio(d(x.quotes_accepted.into()), d(x.quotes_sent.into()), "no quote was sent")
        }
        Kpi::CancelRate => Value::ratio(d(x.orders_cancelled.into()), d(x.orders.into()), "no order was placed"),
        Kpi::PreInstallationCancellation => {
            Value::ratio(d(x.orders_cancelled_before_installation.into()), d(x.orders.into()), "no order was placed")
        }
        Kpi::FirstTimeRight => {
            Value::ratio(d(x.installed_first_time.into()), d(x.installed.into()), "nothing was installed")
        }
        Kpi::QuotaAttainment => Value::ratio(money(c.won_amount), money(x.quota), "no quota was set"),
        Kpi::ForecastAccuracy
        | Kpi::SellingTimeShare
        | Kpi::MarketingRoi
        | Kpi::NetPromoterScore
        | Kpi::Churn
        | Kpi::OnboardingTime
        | Kpi::TicketResolutionTime => Value::no_data(kpi.missing_reason().unwrap_or("no data")),
    }
}

/// A requested KPI after checking that its source exists and can be sliced as asked.
pub(crate) enum Column {
    Kpi(Kpi),
    Missing(&'static str),
}

impl Column {
    fn new(kpi: Kpi, facts: &Facts, slicer: &Slicer) -> Column {
        if let Some(reason) = kpi.missing_reason() {
            return Column::Missing(reason);
        }
        let source = kpi.source();
        let present = match source {
            Source::Leads => facts.leads.is_some(),
            Source::Quotes => facts.quotes.is_some(),
            Source::Orders => facts.orders.is_some(),
            Source::Quotas => facts.quotas.is_some(),
            Source::DataEntries => facts.data_entries.is_some(),
            Source::Opportunities | Source::Activities | Source::Missing => true,
        };
        if !present {
            return Column::Missing(match source {
                Source::Leads => "no lead data was supplied",
                Source::Quotes => "no quote data was supplied",
                Source::Orders => "no order data was supplied",
                Source::Quotas => "no quotas were supplied",
                _ => "no data-entry counts were supplied",
            });
        }
        // Proposal rate counts opportunities, but needs the quotes to know which got a proposal.
        if kpi == Kpi::ProposalRate {
            return Column::Kpi(kpi);
        }
        match slicer.supports(source) {
            Ok(()) => Column::Kpi(kpi),
            Err(reason) => Column::Missing(reason),
        }
    }
}

/// Maps the days of the computed periods to period positions.
pub(crate) struct PeriodIndex {
    first_day: i32,
    positions: Vec<u32>,
    /// Epoch day of the 1st of every month from January of `first_year` on, so a date's day
    /// number is one lookup and an add instead of the full civil-to-days arithmetic.
    first_year: i32,
    month_starts: Vec<i32>,
}

impl PeriodIndex {
    pub(crate) fn new(calendar: &FiscalCalendar, periods: &[Period]) -> PeriodIndex {
        let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
            return PeriodIndex { first_day: 0, positions: Vec::new(), first_year: 0, month_starts: Vec::new() };
        };
        let first_date = calendar.start(*first);
        let last_date = calendar.end(*last);
        let first_day = epoch_day(first_date);
        let mut positions = Vec::with_capacity((epoch_day(last_date) - first_day + 1) as usize);
        for (i, period) in periods.iter().enumerate() {
            let days = epoch_day(calendar.end(*period)) - epoch_day(calendar.start(*period)) + 1;
            positions.extend(std::iter::repeat_n(i as u32, days as usize));
        }
        let first_year = i32::from(first_date.year());
        let month_starts = (first_year..=i32::from(last_date.year()))
            .flat_map(|year| (1..=12).map(move |month| (year, month)))
            .map(|(year, month)| Date::new(year as i16, month, 1).map_or(0, epoch_day))
            .collect();
        PeriodIndex { first_day, positions, first_year, month_starts }
    }

    #[inline]
    fn offset(&self, day: Date) -> i32 {
        let month = (i32::from(day.year()) - self.first_year) * 12 + i32::from(day.month()) - 1;
        match usize::try_from(month).ok().and_then(|m| self.month_starts.get(m)) {
            Some(start) => start + i32::from(day.day()) - 1 - self.first_day,
            None => epoch_day(day) - self.first_day,
        }
    }

    /// The position of the period containing `day`, if computed.
    #[inline]
    pub(crate) fn of(&self, day: Date) -> Option<u32> {
        let offset = self.offset(day);
        if offset < 0 { None } else { self.positions.get(offset as usize).copied() }
    }

    /// Like [`of`](Self::of), but days before the range map to the first period (for stocks such
    /// as the open pipeline).
    #[inline]
    pub(crate) fn clamped(&self, day: Date) -> Option<u32> {
        let offset = self.offset(day);
        if self.positions.is_empty() {
            None
        } else if offset < 0 {
            Some(0)
        } else {
            self.positions.get(offset as usize).copied()
        }
    }
}

/// Turns a fact's dimension values into a dense slot number (one slot per slice seen).
pub(crate) struct Slicer {
    by: Vec<Dimension>,
    reps: Vec<(u16, u16)>,
    cardinality: Vec<u64>,
    /// Raw key -> slot, as a table when the key space is small, else a hash map.
    table: Vec<u32>,
    map: HashMap<u64, u32>,
    raw_keys: Vec<u64>,
    /// The slot of every rep when all dimensions are rep dimensions (the fast path for activities).
    rep_slot: Vec<u32>,
}

const TABLE_LIMIT: u64 = 1 << 22;

impl Slicer {
    fn new(facts: &Facts, by: &[Dimension]) -> Slicer {
        let max = |values: &mut dyn Iterator<Item = u16>| -> u64 {
            values.filter(|v| *v != NONE).map(u64::from).max().map_or(0, |m| m + 1) + 1
        };
        let opportunities = &facts.opportunities;
        let leads = facts.leads.as_deref().unwrap_or(&[]);
        let cardinality: Vec<u64> = by
            .iter()
            .map(|dimension| match dimension {
                Dimension::Rep => facts.reps.len() as u64 + 1,
                Dimension::Team => max(&mut facts.reps.iter().map(|r| r.team)),
                Dimension::Region => max(&mut facts.reps.iter().map(|r| r.region)),
                Dimension::Territory => max(&mut opportunities
                    .iter()
                    .map(|o| o.territory)
                    .chain(facts.activities.iter().map(|a| a.territory))
                    .chain(leads.iter().map(|l| l.territory))),
                Dimension::ProductLine => max(&mut opportunities.iter().map(|o| o.product_line)),
                Dimension::Source => {
                    max(&mut opportunities.iter().map(|o| o.source).chain(leads.iter().map(|l| l.source)))
                }
                Dimension::Segment => {
                    max(&mut opportunities.iter().map(|o| o.segment).chain(leads.iter().map(|l| l.segment)))
                }
            })
            .collect();
        let space = cardinality.iter().try_fold(1u64, |acc, c| acc.checked_mul(*c)).unwrap_or(u64::MAX);
        let table = if space <= TABLE_LIMIT { vec![u32::MAX; space as usize] } else { Vec::new() };
        let mut slicer = Slicer {
            by: by.to_vec(),
            reps: facts.reps.iter().map(|r| (r.team, r.region)).collect(),
            cardinality,
            table,
            map: HashMap::new(),
            raw_keys: Vec::new(),
            rep_slot: Vec::new(),
        };
        if by.iter().all(|d| matches!(d, Dimension::Rep | Dimension::Team | Dimension::Region)) {
            slicer.rep_slot = vec![u32::MAX; facts.reps.len()];
        }
        slicer
    }

    /// A slicer for stored cells: reps with their team and region, and the number of product
    /// lines, sources and segments (dense keys `0..n`, [`NONE`] for "not set"); no territories.
    pub(crate) fn for_cells(reps: &[crate::facts::RepFact], by: &[Dimension], counts: [u64; 3]) -> Slicer {
        let max = |values: &mut dyn Iterator<Item = u16>| -> u64 {
            values.filter(|v| *v != NONE).map(u64::from).max().map_or(0, |m| m + 1) + 1
        };
        let cardinality: Vec<u64> = by
            .iter()
            .map(|dimension| match dimension {
                Dimension::Rep => reps.len() as u64 + 1,
                Dimension::Team => max(&mut reps.iter().map(|r| r.team)),
                Dimension::Region => max(&mut reps.iter().map(|r| r.region)),
                Dimension::Territory => 1,
                Dimension::ProductLine => counts[0] + 1,
                Dimension::Source => counts[1] + 1,
                Dimension::Segment => counts[2] + 1,
            })
            .collect();
        let space = cardinality.iter().try_fold(1u64, |acc, c| acc.checked_mul(*c)).unwrap_or(u64::MAX);
        let table = if space <= TABLE_LIMIT { vec![u32::MAX; space as usize] } else { Vec::new() };
        let mut slicer = Slicer {
            by: by.to_vec(),
            reps: reps.iter().map(|r| (r.team, r.region)).collect(),
            cardinality,
            table,
            map: HashMap::new(),
            raw_keys: Vec::new(),
            rep_slot: Vec::new(),
        };
        if by.iter().all(|d| matches!(d, Dimension::Rep | Dimension::Team | Dimension::Region)) {
            slicer.rep_slot = vec![u32::MAX; reps.len()];
        }
        slicer
    }

    fn slots(&self) -> u32 {
        self.raw_keys.len() as u32
    }

    pub(crate) fn supports(&self, source: Source) -> Result<(), &'static str> {
        carries(source, &self.by)
    }

    fn slot_of_opportunity(&mut self, o: &OpportunityFact) -> u32 {
        self.slot_of(o.rep, [o.territory, o.product_line, o.source, o.segment])
    }

    /// `other` = territory, product line, source, segment.
    #[inline]
    pub(crate) fn slot_of(&mut self, rep: u32, other: [u16; 4]) -> u32 {
        if let Some(&slot) = self.rep_slot.get(rep as usize)
            && slot != u32::MAX
        {
            return slot;
        }
        self.slot_of_new(rep, other)
    }

    /// The slow path of [`slot_of`](Self::slot_of): combine the dimension values, look the slot
    /// up or create it.
    #[inline(never)]
    fn slot_of_new(&mut self, rep: u32, other: [u16; 4]) -> u32 {
        let mut raw = 0u64;
        for (dimension, &cardinality) in self.by.iter().zip(&self.cardinality) {
            let value = match dimension {
                Dimension::Rep => rep as u64,
                Dimension::Team => self.reps[rep as usize].0 as u64,
                Dimension::Region => self.reps[rep as usize].1 as u64,
                Dimension::Territory => other[0] as u64,
                Dimension::ProductLine => other[1] as u64,
                Dimension::Source => other[2] as u64,
                Dimension::Segment => other[3] as u64,
            };
            raw = raw * cardinality + value.min(cardinality - 1);
        }
        let next = self.raw_keys.len() as u32;
        let slot = if self.table.is_empty() {
            *self.map.entry(raw).or_insert(next)
        } else {
            let entry = &mut self.table[raw as usize];
            if *entry == u32::MAX {
                *entry = next;
            }
            *entry
        };
        if slot == next {
            self.raw_keys.push(raw);
        }
        if let Some(entry) = self.rep_slot.get_mut(rep as usize) {
            *entry = slot;
        }
        slot
    }

    /// The dimension values of a slot; the last value of each dimension means "not set".
    fn decode(&self, slot: u32) -> Vec<Option<u32>> {
        let mut raw = self.raw_keys[slot as usize];
        let mut key = vec![None; self.by.len()];
        for (i, &cardinality) in self.cardinality.iter().enumerate().rev() {
            let value = raw % cardinality;
            raw /= cardinality;
            key[i] = (value != cardinality - 1).then_some(value as u32);
        }
        key
    }
}

/// Collects diagnostics, keeping the first ones of each message and counting the rest.
#[derive(Default)]
struct Diagnostics {
    kept: Vec<Diagnostic>,
    dropped: HashMap<&'static str, usize>,
}

const KEPT_PER_MESSAGE: usize = 100;

impl Diagnostics {
    fn push(&mut self, record: RecordRef, message: &'static str) {
        if self.kept.iter().filter(|d| d.message == message).count() < KEPT_PER_MESSAGE {
            self.kept.push(Diagnostic { record: Some(record), message: message.to_string() });
        } else {
            *self.dropped.entry(message).or_default() += 1;
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        let mut dropped: Vec<_> = self.dropped.into_iter().collect();
        dropped.sort();
        for (message, count) in dropped {
            self.kept.push(Diagnostic { record: None, message: format!("{count} more records: {message}") });
        }
        self.kept
    }
}

/// Whether facts of `source` carry every dimension in `by` (activities have no product line,
/// quotas are per rep, ...), with the reason when they do not.
pub(crate) fn carries(source: Source, by: &[Dimension]) -> Result<(), &'static str> {
    for dimension in by {
        let carried = match source {
            Source::Opportunities | Source::Quotes | Source::Orders | Source::Missing => true,
            Source::Activities => {
                matches!(dimension, Dimension::Rep | Dimension::Team | Dimension::Region | Dimension::Territory)
            }
            Source::Leads => !matches!(dimension, Dimension::ProductLine),
            Source::Quotas | Source::DataEntries => {
                matches!(dimension, Dimension::Rep | Dimension::Team | Dimension::Region)
            }
        };
        if !carried {
            return Err(match (source, dimension) {
                (Source::Activities, Dimension::ProductLine) => "activities carry no product line",
                (Source::Activities, Dimension::Source) => "activities carry no lead source",
                (Source::Activities, _) => "activities carry no segment",
                (Source::Leads, _) => "leads carry no product line",
                (Source::Quotas, _) => "quotas are set per rep only",
                _ => "data entries are counted per rep only",
            });
        }
    }
    Ok(())
}
