//! Builds [`Facts`] from the model's records: converts amounts into the reporting currency (exact
//! decimals, rounded half away from zero to the currency's minor units), turns timestamps into the
//! company's local days, and maps ids and labels to dense keys ([`DenseKeys`]) that can label the
//! results again. Records that cannot be used become diagnostics.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use model::{
    Activity, ActivityKind, Currency, FxTable, Lead, LeadStatus, LossReasonId, Money, Opportunity, OpportunityId,
    Order, Quote, RegionId, Stage, StageChange, StageId, StageKind, TeamId, User, UserId,
};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::facts::{
    ActivityFact, DenseKeys, Facts, LeadFact, NONE, OpportunityFact, OrderFact, Outcome, QuoteFact, RepFact,
    StageChangeFact, StageFact, VisitOutcome,
};
use crate::{Diagnostic, RecordRef};

/// The labels of an opportunity that the model keeps outside the opportunity record (the
/// territory from planning, the product line from its lines, the segment from its account).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpportunityLabels<'a> {
    pub territory: Option<&'a str>,
    pub product_line: Option<&'a str>,
    pub segment: Option<&'a str>,
}

/// Collects model records into [`Facts`]. Add users first, then opportunities, then the records
/// that point at them.
pub struct FactsBuilder<'a> {
    fx: &'a FxTable,
    time_zone: TimeZone,
    facts: Facts,
    pub reps: DenseKeys<UserId>,
    pub teams: DenseKeys<TeamId>,
    pub regions: DenseKeys<RegionId>,
    pub territories: DenseKeys<String>,
    pub product_lines: DenseKeys<String>,
    pub sources: DenseKeys<String>,
    pub segments: DenseKeys<String>,
    pub loss_reasons: DenseKeys<LossReasonId>,
    pub stages: DenseKeys<StageId>,
    stage_facts: Vec<StageFact>,
    stage_changes: Vec<StageChangeFact>,
    opportunities: HashMap<OpportunityId, u32>,
    first_touch: HashMap<model::LeadId, Timestamp>,
    /// Creation time of each lead fact, in the same order.
    lead_created: Vec<Timestamp>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> FactsBuilder<'a> {
    /// A builder reporting in `currency`, converting with `fx`, counting days in `time_zone`.
    pub fn new(currency: Currency, fx: &'a FxTable, time_zone: TimeZone) -> FactsBuilder<'a> {
        FactsBuilder {
            fx,
            time_zone,
            facts: Facts {
                leads: Some(Vec::new()),
                quotes: Some(Vec::new()),
                orders: Some(Vec::new()),
                ..Facts::empty(currency)
            },
            reps: DenseKeys::new(),
            teams: DenseKeys::new(),
            regions: DenseKeys::new(),
            territories: DenseKeys::new(),
            product_lines: DenseKeys::new(),
            sources: DenseKeys::new(),
            segments: DenseKeys::new(),
            loss_reasons: DenseKeys::new(),
            stages: DenseKeys::new(),
            stage_facts: Vec::new(),
            stage_changes: Vec::new(),
            opportunities: HashMap::new(),
            first_touch: HashMap::new(),
            lead_created: Vec::new(),
            diagnostics: Vec::new(),
        }
    }

    /// A user who can own records (a rep), with the team and region the rep's facts count in.
    pub fn add_user(&mut self, user: &User) {
        let rep = self.reps.key(&user.id);
        if rep as usize == self.facts.reps.len() {
            let team = user.team_id.and_then(|t| self.teams.small_key(&t)).unwrap_or(NONE);
            let region = user.region_id.and_then(|r| self.regions.small_key(&r)).unwrap_or(NONE);
            self.facts.reps.push(RepFact { id: user.id, team, region });
        }
    }

    /// A pipeline stage; `nurture` marks the parking stage outside the forward flow.
    pub fn add_stage(&mut self, stage: &Stage, nurture: bool) {
        let index = self.stages.key(&stage.id);
        if index as usize == self.stage_facts.len() {
            self.stage_facts.push(StageFact {
                id: stage.id,
                name: stage.name.clone(),
                order: stage.position,
                kind: stage.kind,
                nurture,
            });
        }
    }

    /// An opportunity in its current stage, whose kind is `stage_kind`. Won and lost ones close on
    /// their close date; the amount is converted at the rate of that day (the creation day while
    /// open).
    pub fn add_opportunity(&mut self, o: &Opportunity, stage_kind: StageKind, labels: OpportunityLabels<'_>) {
        let Some(rep) = self.rep_of(o.owner_id, RecordRef::Opportunity(o.id)) else { return };
        let created_on = self.day(o.created_at);
        let outcome = match stage_kind {
            StageKind::Open => Outcome::Open,
            StageKind::Won => Outcome::Won,
            StageKind::Lost => Outcome::Lost,
        };
        let closed_on = (outcome != Outcome::Open).then_some(o.close_date);
        let Some(amount) = self.minor_units(o.amount, closed_on.unwrap_or(created_on), RecordRef::Opportunity(o.id))
        else {
            return;
        };
        let small = |keys: &mut DenseKeys<String>, label: Option<&str>| {
            label.and_then(|l| keys.small_key(&l.to_string())).unwrap_or(NONE)
        };
        let fact = OpportunityFact {
            id: o.id,
            rep,
            territory: small(&mut self.territories, labels.territory),
            product_line: small(&mut self.product_lines, labels.product_line),
            source: small(&mut self.sources, o.lead_source.as_deref()),
            segment: small(&mut self.segments, labels.segment),
            created_on,
            cycle_start: o.engaged_on.unwrap_or(created_on),
            outcome,
            closed_on,
            amount,
            loss_reason: o.loss_reason_id.and_then(|r| self.loss_reasons.small_key(&r)).unwrap_or(NONE),
        };
        self.opportunities.insert(o.id, self.facts.opportunities.len() as u32);
        self.facts.opportunities.push(fact);
    }

    /// One stage change of an opportunity added before, between stages added before.
    pub fn add_stage_change(&mut self, change: &StageChange) {
        let record = RecordRef::Opportunity(change.opportunity_id);
        let Some(&opportunity) = self.opportunities.get(&change.opportunity_id) else {
            return self.note(record, "stage change of an opportunity that is not among the facts; left out");
        };
        let (Some(to), from) =
            (self.stages.get(&change.to_stage_id), change.from_stage_id.map(|s| self.stages.get(&s)))
        else {
            return self.note(record, "stage change to a stage that is not among the facts; left out");
        };
        if from == Some(None) {
            return self.note(record, "stage change from a stage that is not among the facts; left out");
        }
        self.stage_changes.push(StageChangeFact {
            opportunity,
            from: from.flatten().map(|f| f as u16),
            to: to as u16,
            at: change.at,
        });
    }

    /// An activity. A field visit's outcome is read from `not_home`, `no_interest`, `callback` or
    /// `sale`; an activity on a lead marks the lead as followed up.
    pub fn add_activity(&mut self, a: &Activity, territory: Option<&str>) {
        if let Some(lead) = a.lead_id {
            let first = self.first_touch.entry(lead).or_insert(a.at);
            *first = (*first).min(a.at);
        }
        let Some(rep) = self.rep_of(a.owner_id, RecordRef::Activity(a.id)) else { return };
        let visit_outcome = match (a.kind, a.outcome.as_deref()) {
            (ActivityKind::Visit, Some("sale")) => Some(VisitOutcome::Sale),
            (ActivityKind::Visit, Some("callback")) => Some(VisitOutcome::Callback),
            (ActivityKind::Visit, Some("no_interest")) => Some(VisitOutcome::NoInterest),
            (ActivityKind::Visit, Some("not_home")) => Some(VisitOutcome::NotHome),
            _ => None,
        };
        let fact = ActivityFact {
            id: a.id,
            rep,
            kind: a.kind,
            on: self.day(a.at),
            duration_seconds: a.duration_seconds.and_then(|s| u32::try_from(s).ok()).unwrap_or(0),
            visit_outcome,
            territory: territory.and_then(|t| self.territories.small_key(&t.to_string())).unwrap_or(NONE),
        };
        self.facts.activities.push(fact);
    }

    /// A lead; `ever_qualified` comes from its status history (qualified or converted at some
    /// point), which the lead record alone does not keep. Follow-up time is filled in by
    /// [`build`](Self::build) from the activities on the lead.
    pub fn add_lead(&mut self, lead: &Lead, ever_qualified: bool, segment: Option<&str>) {
        let Some(rep) = self.rep_of(lead.owner_id, RecordRef::Lead(lead.id)) else { return };
        let qualified = ever_qualified || matches!(lead.status, LeadStatus::Qualified | LeadStatus::Converted);
        let fact = LeadFact {
            id: lead.id,
            rep,
            territory: NONE,
            source: self.sources.small_key(&lead.source).unwrap_or(NONE),
            segment: segment.and_then(|s| self.segments.small_key(&s.to_string())).unwrap_or(NONE),
            created_on: self.day(lead.created_at),
            qualified,
            follow_up_minutes: None,
        };
        self.facts.leads.get_or_insert_with(Vec::new).push(fact);
        self.lead_created.push(lead.created_at);
    }

    /// A quote of an opportunity added before.
    pub fn add_quote(&mut self, quote: &Quote) {
        let Some(&opportunity) = self.opportunities.get(&quote.opportunity_id) else {
            return self
                .note(RecordRef::Quote(quote.id), "quote of an opportunity that is not among the facts; left out");
        };
        let fact = QuoteFact {
            id: quote.id,
            opportunity,
            created_at: quote.created_at,
            sent_at: quote.sent_at,
            sent_on: quote.sent_at.map(|t| self.day(t)),
            status: quote.status,
        };
        self.facts.quotes.get_or_insert_with(Vec::new).push(fact);
    }

    /// An order of an opportunity added before.
    pub fn add_order(&mut self, order: &Order) {
        let Some(&opportunity) = self.opportunities.get(&order.opportunity_id) else {
            return self
                .note(RecordRef::Order(order.id), "order of an opportunity that is not among the facts; left out");
        };
        let installed_on = (order.installation_status == model::InstallationStatus::Installed)
            .then_some(order.installation_date)
            .flatten();
        let fact = OrderFact {
            id: order.id,
            opportunity,
            ordered_on: order.ordered_on,
            installed_on,
            cancelled_on: order.cancelled_at.map(|t| self.day(t)),
            failed_installations: u16::try_from(order.failed_installations).unwrap_or(0),
        };
        self.facts.orders.get_or_insert_with(Vec::new).push(fact);
    }

    /// The facts, the stages and stage changes (for the funnel and the process map), and the
    /// diagnostics. The builder's key maps stay usable to label results.
    pub fn build(&mut self) -> (Facts, Vec<StageFact>, Vec<StageChangeFact>, Vec<Diagnostic>) {
        for (lead, created_at) in self.facts.leads.iter_mut().flatten().zip(&self.lead_created) {
            if let Some(first) = self.first_touch.get(&lead.id) {
                let minutes = (first.as_second() - created_at.as_second()) / 60;
                lead.follow_up_minutes = u32::try_from(minutes).ok();
            }
        }
        let currency = self.facts.currency;
        let facts = std::mem::replace(
            &mut self.facts,
            Facts {
                leads: Some(Vec::new()),
                quotes: Some(Vec::new()),
                orders: Some(Vec::new()),
                ..Facts::empty(currency)
            },
        );
        (
            facts,
            std::mem::take(&mut self.stage_facts),
            std::mem::take(&mut self.stage_changes),
            std::mem::take(&mut self.diagnostics),
        )
    }

    fn rep_of(&mut self, user: UserId, record: RecordRef) -> Option<u32> {
        let rep = self.reps.get(&user);
        if rep.is_none() {
            self.note(record, "owner is not among the users added; left out");
        }
        rep
    }

    fn day(&self, at: Timestamp) -> Date {
        at.to_zoned(self.time_zone.clone()).date()
    }

    fn minor_units(&mut self, money: Money, on: Date, record: RecordRef) -> Option<i64> {
        let currency = self.facts.currency;
        let converted = match self.fx.convert(money, currency, on) {
            Ok(converted) => converted,
            Err(error) => {
                self.diagnostics.push(Diagnostic { record: Some(record), message: format!("{error}; left out") });
                return None;
            }
        };
        let scale = Decimal::from(10i64.pow(currency.minor_units()));
        let minor = (converted.amount * scale).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        let minor = minor.to_i64();
        if minor.is_none() {
            self.note(record, "amount too large; left out");
        }
        minor
    }

    fn note(&mut self, record: RecordRef, message: &str) {
        self.diagnostics.push(Diagnostic { record: Some(record), message: message.to_string() });
    }
}
