//! Benchmark: 20 KPIs by rep × month over 2,000 reps × 36 months, 1M opportunities, 5M activities
//! (plus 300k quotes and 72k quotas), generated in memory from a fixed seed. Prints the time of
//! the engine alone (`kpi::compute`), best and median of several runs, on one thread.
//!
//! Run: `cargo run --release -p kpi --example bench_kpi`

use std::time::Instant;

use jiff::civil::{Date, date};
use jiff::{Timestamp, ToSpan};
use kpi::facts::{ActivityFact, OpportunityFact, Outcome, QuotaFact, QuoteFact, RepFact, VisitOutcome};
use kpi::{Dimension, Facts, Kpi, Query};
use model::period::{epoch_day, from_epoch_day};
use model::{
    ActivityId, ActivityKind, Currency, FiscalCalendar, OpportunityId, PeriodKind, QuoteId, QuoteStatus, UserId,
};

const REPS: u32 = 2_000;
const OPPORTUNITIES: usize = 1_000_000;
const ACTIVITIES: usize = 5_000_000;
const QUOTES: usize = 300_000;
const RUNS: usize = 7;

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

fn generate(seed: u64) -> Facts {
    let mut rng = Rng(seed);
    let first = epoch_day(date(2015, 1, 1));
    let days = epoch_day(date(2017, 12, 31)) - first + 1;
    let day = |rng: &mut Rng| -> Date { from_epoch_day(first + rng.below(days as u64) as i32) };
    let reps = (0..REPS)
        .map(|i| RepFact { id: UserId(i64::from(i) + 1), team: (i / 40) as u16, region: (i % 8) as u16 })
        .collect();
    let opportunities: Vec<OpportunityFact> = (0..OPPORTUNITIES)
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
            let closed_on =
                (outcome != Outcome::Open).then(|| from_epoch_day(epoch_day(created_on) + rng.below(120) as i32));
            OpportunityFact {
                id: OpportunityId(i as i64 + 1),
                rep: rng.below(u64::from(REPS)) as u32,
                territory: rng.below(200) as u16,
                product_line: rng.below(12) as u16,
                source: rng.below(8) as u16,
                segment: rng.below(4) as u16,
                created_on,
                cycle_start: from_epoch_day(epoch_day(created_on) - rng.below(10) as i32),
                outcome,
                closed_on,
                amount: 100_000 + rng.below(5_000_000) as i64,
                loss_reason: if outcome == Outcome::Lost { rng.below(6) as u16 } else { kpi::facts::NONE },
            }
        })
        .collect();
    let kinds =
        [ActivityKind::Call, ActivityKind::Email, ActivityKind::Meeting, ActivityKind::Visit, ActivityKind::Task];
    let activities = (0..ACTIVITIES)
        .map(|i| {
            let kind = kinds[rng.below(kinds.len() as u64) as usize];
            ActivityFact {
                id: ActivityId(i as i64 + 1),
                rep: rng.below(u64::from(REPS)) as u32,
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
    let base = Timestamp::from_second(1_420_070_400).unwrap_or(Timestamp::UNIX_EPOCH);
    let quotes = (0..QUOTES)
        .map(|i| {
            let opportunity = rng.below(OPPORTUNITIES as u64) as u32;
            let o: &OpportunityFact = &opportunities[opportunity as usize];
            let created_at = base + (i64::from(epoch_day(o.created_on) - first) * 24).hours();
            let sent_at = created_at + (rng.below(72 * 60) as i64).minutes();
            QuoteFact {
                id: QuoteId(i as i64 + 1),
                opportunity,
                created_at,
                sent_at: Some(sent_at),
                sent_on: Some(from_epoch_day(epoch_day(o.created_on) + rng.below(3) as i32)),
                status: if rng.below(3) == 0 { QuoteStatus::Accepted } else { QuoteStatus::Sent },
            }
        })
        .collect();
    let quotas = (0..REPS)
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
        leads: None,
        quotes: Some(quotes),
        orders: None,
        quotas: Some(quotas),
        data_entries: None,
    }
}

fn main() {
    let started = Instant::now();
    let facts = generate(20_171_231);
    println!(
        "generated {} reps, {} opportunities, {} activities, {} quotes in {:.1} s",
        facts.reps.len(),
        facts.opportunities.len(),
        facts.activities.len(),
        facts.quotes.as_ref().map_or(0, Vec::len),
        started.elapsed().as_secs_f64()
    );
    let kpis = vec![
        Kpi::OpportunitiesCreated,
        Kpi::DealsClosed,
        Kpi::DealsLost,
        Kpi::Revenue,
        Kpi::WinRate,
        Kpi::DealClosingRate,
        Kpi::SalesCycleLength,
        Kpi::OpenPipeline,
        Kpi::AverageRevenuePerRep,
        Kpi::RevenueGrowth,
        Kpi::CallsPlaced,
        Kpi::TalkTime,
        Kpi::EmailsSent,
        Kpi::MeetingsHeld,
        Kpi::Visits,
        Kpi::VisitsPerSale,
        Kpi::FieldConversion,
        Kpi::ProposalRate,
        Kpi::ConversionOnQuotes,
        Kpi::QuotaAttainment,
    ];
    let query = Query {
        kpis,
        by: vec![Dimension::Rep],
        period: PeriodKind::Month,
        from: date(2015, 1, 1),
        to: date(2017, 12, 31),
    };
    let calendar = FiscalCalendar::default();
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let (table, diagnostics) = kpi::compute(&facts, &calendar, &query).unwrap_or_else(|e| panic!("{e}"));
        times.push(started.elapsed().as_secs_f64());
        rows = table.rows.len();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        std::hint::black_box(&table);
    }
    times.sort_by(f64::total_cmp);
    for (label, kpis) in [("opportunity KPIs only", vec![Kpi::Revenue]), ("activity KPIs only", vec![Kpi::CallsPlaced])]
    {
        let query = Query { kpis, ..query.clone() };
        let started = Instant::now();
        let (table, _) = kpi::compute(&facts, &calendar, &query).unwrap_or_else(|e| panic!("{e}"));
        std::hint::black_box(&table);
        println!("{label}: {:.3} s", started.elapsed().as_secs_f64());
    }
    println!(
        "engine: 20 KPIs x {rows} rows (rep x month), one thread: best {:.3} s, median {:.3} s over {RUNS} runs",
        times[0],
        times[RUNS / 2]
    );
}
