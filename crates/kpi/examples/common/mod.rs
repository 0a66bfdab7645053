//! A seeded, deterministic generator of KPI facts for the examples (benchmark and the independent
//! SQL check). Not realistic sales data: uniform random facts over 2015–2017.

use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};
use kpi::Facts;
use kpi::facts::{
    ActivityFact, LeadFact, NONE, OpportunityFact, OrderFact, Outcome, QuotaFact, QuoteFact, RepFact, VisitOutcome,
};
use model::period::{epoch_day, from_epoch_day};
use model::{ActivityId, ActivityKind, Currency, LeadId, OpportunityId, OrderId, QuoteId, QuoteStatus, UserId};

/// How many records of each kind to generate.
pub struct Scale {
    pub reps: u32,
    pub opportunities: usize,
    pub activities: usize,
    pub quotes: usize,
    pub orders: usize,
    pub leads: usize,
}

/// SplitMix64: a tiny deterministic generator, enough for benchmark data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn generate(seed: u64, scale: &Scale) -> Facts {
    let mut rng = Rng(seed);
    let first = epoch_day(date(2015, 1, 1));
    let days = epoch_day(date(2017, 12, 31)) - first + 1;
    let day = |rng: &mut Rng| -> Date { from_epoch_day(first + rng.below(days as u64) as i32) };
    let after = |d: Date, max: u64, rng: &mut Rng| -> Date { from_epoch_day(epoch_day(d) + rng.below(max) as i32) };
    let reps = (0..scale.reps)
        .map(|i| RepFact { id: UserId(i64::from(i) + 1), team: (i / 40) as u16, region: (i % 8) as u16 })
        .collect();
    let opportunities: Vec<OpportunityFact> = (0..scale.opportunities)
        .map(|i| {
            let created_on = day(&mut rng);
            let roll = rng.below(100);
            let outcome = if roll < 25 {
                Outcome::Won
            } else if roll < 75 {
                Outcome::Lost
            } else {
                Outcome::Open
            };
            let closed_on = (outcome != Outcome::Open).then(|| after(created_on, 120, &mut rng));
            OpportunityFact {
                id: OpportunityId(i as i64 + 1),
                rep: rng.below(u64::from(scale.reps)) as u32,
                territory: rng.below(200) as u16,
                product_line: rng.below(12) as u16,
                source: rng.below(8) as u16,
                segment: rng.below(4) as u16,
                created_on,
                cycle_start: from_epoch_day(epoch_day(created_on) - rng.below(10) as i32),
                outcome,
                closed_on,
                amount: 100_000 + rng.below(5_000_000) as i64,
                loss_reason: if outcome == Outcome::Lost { rng.below(6) as u16 } else { NONE },
            }
        })
        .collect();
    let kinds =
        [ActivityKind::Call, ActivityKind::Email, ActivityKind::Meeting, ActivityKind::Visit, ActivityKind::Task];
    let activities = (0..scale.activities)
        .map(|i| {
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            ActivityFact {
                id: ActivityId(i as i64 + 1),
                rep: rng.below(u64::from(scale.reps)) as u32,
                kind,
                on: day(&mut rng),
                duration_seconds: if kind == ActivityKind::Call { rng.below(1_800) as u32 } else { 0 },
                visit_outcome: (kind == ActivityKind::Visit).then(|| match rng.below(10) {
                    0 => VisitOutcome::Sale,
                    1..=2 => VisitOutcome::Callback,
                    3..=5 => VisitOutcome::NoInterest,
                    _ => VisitOutcome::NotHome,
                }),
                territory: rng.below(200) as u16,
            }
        })
        .collect();
    let midnight = |d: Date| -> Timestamp { Timestamp::UNIX_EPOCH + (i64::from(epoch_day(d)) * 24).hours() };
    let quotes = (0..scale.quotes)
        .map(|i| {
            let opportunity = rng.below(scale.opportunities as u64) as u32;
            let created_on = after(opportunities[opportunity as usize].created_on, 20, &mut rng);
            let created_at = midnight(created_on) + (rng.below(24 * 60) as i64).minutes();
            let sent = rng.below(10) != 0;
            let sent_at = created_at + (rng.below(72 * 60) as i64).minutes();
            QuoteFact {
                id: QuoteId(i as i64 + 1),
                opportunity,
                created_at,
                sent_at: sent.then_some(sent_at),
                // The local day is the UTC day here: the example's company sits in UTC.
                sent_on: sent.then(|| from_epoch_day((sent_at.as_second().div_euclid(86_400)) as i32)),
                status: match rng.below(4) {
                    0 => QuoteStatus::Accepted,
                    1 => QuoteStatus::Rejected,
                    _ => QuoteStatus::Sent,
                },
            }
        })
        .collect();
    let orders = (0..scale.orders)
        .map(|i| {
            let opportunity = rng.below(scale.opportunities as u64) as u32;
            let ordered_on = after(opportunities[opportunity as usize].created_on, 60, &mut rng);
            let installed_on = (rng.below(3) != 0).then(|| after(ordered_on, 45, &mut rng));
            let cancelled_on = (rng.below(6) == 0).then(|| after(ordered_on, 90, &mut rng));
            OrderFact {
                id: OrderId(i as i64 + 1),
                opportunity,
                ordered_on,
                installed_on,
                cancelled_on,
                failed_installations: if rng.below(5) == 0 { 1 } else { 0 },
            }
        })
        .collect();
    let leads = (0..scale.leads)
        .map(|i| LeadFact {
            id: LeadId(i as i64 + 1),
            rep: rng.below(u64::from(scale.reps)) as u32,
            territory: rng.below(200) as u16,
            source: rng.below(8) as u16,
            segment: rng.below(4) as u16,
            created_on: day(&mut rng),
            qualified: rng.below(3) == 0,
            follow_up_minutes: (rng.below(5) != 0).then(|| rng.below(3 * 24 * 60) as u32),
        })
        .collect();
    let quotas = (0..scale.reps)
        .flat_map(|rep| {
            (0..36).map(move |m| QuotaFact {
                rep,
                starts_on: date(2015 + (m / 12) as i16, (m % 12 + 1) as i8, 1),
                amount: 20_000_000,
            })
        })
        .collect();
    Facts {
        currency: Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}")),
        reps,
        opportunities,
        activities,
        leads: Some(leads),
        quotes: Some(quotes),
        orders: Some(orders),
        quotas: Some(quotas),
        data_entries: None,
    }
}

/// A pipeline of four forward stages, nurture, won and lost.
pub fn stages() -> Vec<kpi::facts::StageFact> {
    use model::{StageId, StageKind};
    [
        ("Lead", StageKind::Open, false),
        ("Qualify", StageKind::Open, false),
        ("Proposal", StageKind::Open, false),
        ("Negotiate", StageKind::Open, false),
        ("Nurture", StageKind::Open, true),
        ("Won", StageKind::Won, false),
        ("Lost", StageKind::Lost, false),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, kind, nurture))| kpi::facts::StageFact {
        id: StageId(i as i64 + 1),
        name: name.to_string(),
        order: i as i32,
        kind,
        nurture,
    })
    .collect()
}

/// A stage history for every opportunity, consistent with its outcome: forward through the
/// stages (sometimes via nurture), ending in won or lost when closed. Shuffled by time, as a
/// store would return them.
pub fn stage_history(facts: &Facts, seed: u64) -> Vec<kpi::facts::StageChangeFact> {
    use kpi::facts::StageChangeFact;
    let mut rng = Rng(seed);
    let mut changes = Vec::with_capacity(facts.opportunities.len() * 4);
    for (i, o) in facts.opportunities.iter().enumerate() {
        let mut at = Timestamp::UNIX_EPOCH + (i64::from(epoch_day(o.created_on)) * 24).hours();
        let furthest = rng.below(4) as u16;
        let mut from = None;
        for stage in 0..=furthest {
            changes.push(StageChangeFact { opportunity: i as u32, from, to: stage, at });
            from = Some(stage);
            at += (rng.below(20 * 24) as i64 + 1).hours();
            if stage == 1 && rng.below(10) == 0 {
                changes.push(StageChangeFact { opportunity: i as u32, from, to: 4, at });
                at += (rng.below(60 * 24) as i64 + 1).hours();
                changes.push(StageChangeFact { opportunity: i as u32, from: Some(4), to: stage, at });
                at += (rng.below(10 * 24) as i64 + 1).hours();
            }
        }
        let end = match o.outcome {
            Outcome::Won => Some(5),
            Outcome::Lost => Some(6),
            Outcome::Open => None,
        };
        if let Some(end) = end {
            changes.push(StageChangeFact { opportunity: i as u32, from, to: end, at });
        }
    }
    changes
}
