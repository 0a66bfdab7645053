//! Benchmark: 20 KPIs by rep × month over 2,000 reps × 36 months, 1M opportunities, 5M activities
//! (plus 300k quotes and 72k quotas), generated in memory from a fixed seed. Prints the time of
//! the engine alone (`kpi::compute`), best and median of several runs, on one thread.
//!
//! Run: `cargo run --release -p kpi --example bench_kpi`

mod common;

use std::time::Instant;

use jiff::civil::date;
use kpi::{Dimension, Kpi, Query};
use model::{FiscalCalendar, PeriodKind};

const RUNS: usize = 7;

fn main() {
    let started = Instant::now();
    let scale = common::Scale {
        reps: 2_000,
        opportunities: 1_000_000,
        activities: 5_000_000,
        quotes: 300_000,
        orders: 0,
        leads: 0,
    };
    let facts = common::generate(20_171_231, &scale);
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
    let mut cpu_times = Vec::new();
    let mut rows = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let cpu_started = thread_cpu_seconds();
        let (table, diagnostics) = kpi::compute(&facts, &calendar, &query).unwrap_or_else(|e| panic!("{e}"));
        times.push(started.elapsed().as_secs_f64());
        if let (Some(end), Some(start)) = (thread_cpu_seconds(), cpu_started) {
            cpu_times.push(end - start);
        }
        rows = table.rows.len();
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        std::hint::black_box(&table);
    }
    times.sort_by(f64::total_cmp);
    cpu_times.sort_by(f64::total_cmp);
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
    if let (Some(best), Some(median)) = (cpu_times.first(), cpu_times.get(cpu_times.len() / 2)) {
        println!(
            "engine on-CPU time of the thread (less sensitive to a busy machine): best {best:.3} s, median {median:.3} s"
        );
    }
    // The funnel and the process map over the stage history of all opportunities.
    let stages = common::stages();
    let changes = common::stage_history(&facts, 5);
    let cohort = kpi::funnel::Cohort::default();
    let started = Instant::now();
    let (funnel, _) = kpi::funnel(&stages, &facts.opportunities, &changes, &cohort);
    let funnel_time = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (map, _) = kpi::process_map(&stages, &facts.opportunities, &changes, &cohort, &Default::default());
    let map_time = started.elapsed().as_secs_f64();
    println!(
        "funnel over {} stage changes of {} opportunities: {funnel_time:.3} s; process map ({} edges): {map_time:.3} s",
        changes.len(),
        funnel.opportunities,
        map.edges.len()
    );
}

/// Time this thread has spent on a CPU, from Linux's scheduler statistics (`None` elsewhere).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}
