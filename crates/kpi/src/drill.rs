//! Drill-down: the records behind one cell of a KPI table. Written independently of the fast
//! counters in `engine` (record by record, with the definitions spelled out), so tests can check
//! one against the other.

use jiff::civil::Date;
use model::{ActivityKind, FiscalCalendar, Period, QuoteStatus};
use serde::{Deserialize, Serialize};

use crate::catalogue::{Kpi, Source};
use crate::engine::Dimension;
use crate::facts::{Facts, NONE, OpportunityFact, Outcome, VisitOutcome};
use crate::{KpiError, RecordRef};

/// The records behind a cell: for a count or an amount, `numerator` holds them all; for a ratio,
/// `numerator` and `denominator` hold the records each side counts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DrillDown {
    pub numerator: Vec<RecordRef>,
    pub denominator: Vec<RecordRef>,
}

/// The records behind `kpi` for the slice `slice` (values of `by`, `None` = not set) in `period`.
pub fn drill_down(
    facts: &Facts,
    calendar: &FiscalCalendar,
    kpi: Kpi,
    by: &[Dimension],
    slice: &[Option<u32>],
    period: Period,
) -> Result<DrillDown, KpiError> {
    if let Some(reason) = kpi.missing_reason() {
        return Err(KpiError::NoData { kpi, reason });
    }
    if kpi != Kpi::ProposalRate
        && let Err(reason) = crate::engine::carries(kpi.source(), by)
    {
        return Err(KpiError::NoData { kpi, reason });
    }
    if by.len() != slice.len() {
        return Err(KpiError::SliceShape { dimensions: by.len(), values: slice.len() });
    }
    let start = calendar.start(period);
    let end = calendar.end(period);
    let within = |day: Date| start <= day && day <= end;
    let matches = |rep: u32, other: [u16; 4]| -> bool {
        let Some(rep_fact) = facts.reps.get(rep as usize) else { return false };
        by.iter().zip(slice).all(|(dimension, wanted)| {
            let value = match dimension {
                Dimension::Rep => rep,
                Dimension::Team => u32::from(rep_fact.team),
                Dimension::Region => u32::from(rep_fact.region),
                Dimension::Territory => u32::from(other[0]),
                Dimension::ProductLine => u32::from(other[1]),
                Dimension::Source => u32::from(other[2]),
                Dimension::Segment => u32::from(other[3]),
            };
            let value = (value != u32::from(NONE)).then_some(value);
            value == *wanted
        })
    };
    let opportunity_matches = |o: &OpportunityFact| matches(o.rep, [o.territory, o.product_line, o.source, o.segment]);
    let closed_on = |o: &OpportunityFact| match (o.outcome, o.closed_on) {
        (Outcome::Open, _) | (_, None) => None,
        (_, Some(day)) => Some(day.max(o.created_on)),
    };
    let mut result = DrillDown::default();
    let DrillDown { numerator, denominator } = &mut result;

    match kpi.source() {
        Source::Opportunities => {
            // The average revenue per rep counts reps: one denominator record per rep.
            let mut reps_seen = std::collections::HashSet::new();
            for o in &facts.opportunities {
                if !opportunity_matches(o) {
                    continue;
                }
                let id = RecordRef::Opportunity(o.id);
                let created = within(o.created_on);
                let closed = closed_on(o).filter(|day| within(*day));
                let won = closed.is_some() && o.outcome == Outcome::Won;
                let (num, den) = match kpi {
                    Kpi::OpportunitiesCreated => (created, false),
                    Kpi::DealsClosed | Kpi::Revenue => (won, false),
                    Kpi::DealsLost => (closed.is_some() && o.outcome == Outcome::Lost, false),
                    Kpi::WinRate => (won, closed.is_some()),
                    Kpi::DealClosingRate => (created && o.outcome == Outcome::Won && o.closed_on.is_some(), created),
                    Kpi::SalesCycleLength => {
                        let counted = won && closed.is_some_and(|day| day >= o.cycle_start);
                        (counted, counted)
                    }
                    Kpi::OpenPipeline => (o.created_on <= end && closed_on(o).is_none_or(|day| day > end), false),
                    Kpi::AverageRevenuePerRep => (won, (created || closed.is_some()) && reps_seen.insert(o.rep)),
                    Kpi::RevenueGrowth => {
                        let previous = calendar.previous(period);
                        let before = closed_on(o).is_some_and(|day| calendar.contains(previous, day));
                        (won, before && o.outcome == Outcome::Won)
                    }
                    _ => (false, false),
                };
                push(numerator, denominator, id, num, den);
            }
        }
        Source::Activities => {
            for a in &facts.activities {
                if !within(a.on) || !matches(a.rep, [a.territory, NONE, NONE, NONE]) {
                    continue;
                }
                let id = RecordRef::Activity(a.id);
                let visit = a.kind == ActivityKind::Visit;
                let sale = visit && a.visit_outcome == Some(VisitOutcome::Sale);
                let (num, den) = match kpi {
                    Kpi::CallsPlaced | Kpi::TalkTime => (a.kind == ActivityKind::Call, false),
                    Kpi::EmailsSent => (a.kind == ActivityKind::Email, false),
                    Kpi::MeetingsHeld => (a.kind == ActivityKind::Meeting, false),
                    Kpi::Visits => (visit, false),
                    Kpi::VisitsPerSale => (visit, sale),
                    Kpi::FieldConversion => (sale, visit),
                    _ => (false, false),
                };
                push(numerator, denominator, id, num, den);
            }
        }
        Source::Leads => {
            for lead in facts.leads.iter().flatten() {
                if !within(lead.created_on) || !matches(lead.rep, [lead.territory, NONE, lead.source, lead.segment]) {
                    continue;
                }
                let (num, den) = match kpi {
                    Kpi::LeadsGenerated => (true, false),
                    Kpi::LeadQualificationRate => (lead.qualified, true),
                    Kpi::LeadFollowUpTime => (lead.follow_up_minutes.is_some(), lead.follow_up_minutes.is_some()),
                    _ => (false, false),
                };
                push(numerator, denominator, RecordRef::Lead(lead.id), num, den);
            }
        }
        Source::Quotes => {
            if kpi == Kpi::ProposalRate {
                let has_quote = quoted_opportunities(facts);
                for (i, o) in facts.opportunities.iter().enumerate() {
                    if within(o.created_on) && opportunity_matches(o) {
                        push(numerator, denominator, RecordRef::Opportunity(o.id), has_quote[i], true);
                    }
                }
            } else {
                for quote in facts.quotes.iter().flatten() {
                    let Some(o) = facts.opportunities.get(quote.opportunity as usize) else { continue };
                    if !quote.sent_on.is_some_and(within) || !opportunity_matches(o) {
                        continue;
                    }
                    let (num, den) = match kpi {
                        Kpi::QuoteResponseTime => {
                            let counted = quote.sent_at.is_some_and(|sent| sent >= quote.created_at);
                            (counted, counted)
                        }
                        _ => (quote.status == QuoteStatus::Accepted, true),
                    };
                    push(numerator, denominator, RecordRef::Quote(quote.id), num, den);
                }
            }
        }
        Source::Orders => {
            for order in facts.orders.iter().flatten() {
                let Some(o) = facts.opportunities.get(order.opportunity as usize) else { continue };
                if !opportunity_matches(o) {
                    continue;
                }
                let (num, den) = match kpi {
                    Kpi::FirstTimeRight => {
                        let installed = order.installed_on.is_some_and(within);
                        (installed && order.failed_installations == 0, installed)
                    }
                    Kpi::CancelRate => {
                        (within(order.ordered_on) && order.cancelled_on.is_some(), within(order.ordered_on))
                    }
                    _ => {
                        let before = order
                            .cancelled_on
                            .is_some_and(|cancelled| order.installed_on.is_none_or(|installed| cancelled < installed));
                        (within(order.ordered_on) && before, within(order.ordered_on))
                    }
                };
                push(numerator, denominator, RecordRef::Order(order.id), num, den);
            }
        }
        Source::Quotas => {
            for o in &facts.opportunities {
                if o.outcome == Outcome::Won && closed_on(o).is_some_and(within) && opportunity_matches(o) {
                    numerator.push(RecordRef::Opportunity(o.id));
                }
            }
            for (i, quota) in facts.quotas.iter().flatten().enumerate() {
                if within(quota.starts_on) && matches(quota.rep, [NONE; 4]) {
                    denominator.push(RecordRef::Quota(i as u32));
                }
            }
        }
        Source::DataEntries => {
            for (i, entry) in facts.data_entries.iter().flatten().enumerate() {
                if within(entry.on) && matches(entry.rep, [NONE; 4]) {
                    numerator.push(RecordRef::DataEntry(i as u32));
                }
            }
        }
        Source::Missing => {}
    }
    Ok(result)
}

fn push(numerator: &mut Vec<RecordRef>, denominator: &mut Vec<RecordRef>, id: RecordRef, num: bool, den: bool) {
    if num {
        numerator.push(id);
    }
    if den {
        denominator.push(id);
    }
}

fn quoted_opportunities(facts: &Facts) -> Vec<bool> {
    let mut flags = vec![false; facts.opportunities.len()];
    for quote in facts.quotes.iter().flatten() {
        if quote.sent_on.is_some()
            && let Some(flag) = flags.get_mut(quote.opportunity as usize)
        {
            *flag = true;
        }
    }
    flags
}
