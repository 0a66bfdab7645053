//! Exports a seeded book of business and the engine's KPI table (by rep × month, 2015–2017) as
//! CSV, for the independent SQL check in `tests/independent/check_kpis.py`:
//!
//! ```text
//! cargo run --release -p kpi --example export_check -- /tmp/kpi-check
//! python3 crates/kpi/tests/independent/check_kpis.py /tmp/kpi-check
//! ```

#[allow(dead_code, reason = "the check uses only the book generator, not the stage history")]
mod common;

use std::fmt::Write as _;
use std::path::Path;

use jiff::civil::date;
use kpi::facts::Outcome;
use kpi::{Dimension, Kpi, Query, Source, Value};
use model::{FiscalCalendar, PeriodKind};

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/tmp/kpi-check".to_string());
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let scale = common::Scale {
        reps: 60,
        opportunities: 30_000,
        activities: 150_000,
        quotes: 12_000,
        orders: 6_000,
        leads: 12_000,
    };
    let facts = common::generate(7, &scale);
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    };
    let opt = |d: Option<jiff::civil::Date>| d.map_or(String::new(), |d| d.to_string());

    let mut csv = String::from("position,outcome,rep,created_on,cycle_start,closed_on,amount\n");
    for (i, o) in facts.opportunities.iter().enumerate() {
        let outcome = match o.outcome {
            Outcome::Open => "open",
            Outcome::Won => "won",
            Outcome::Lost => "lost",
        };
        let _ = writeln!(
            csv,
            "{i},{outcome},{},{},{},{},{}",
            o.rep,
            o.created_on,
            o.cycle_start,
            opt(o.closed_on),
            o.amount
        );
    }
    write("opportunities.csv", csv);

    let mut csv = String::from("rep,kind,on_day,duration_seconds,sale\n");
    for a in &facts.activities {
        let sale = u8::from(a.visit_outcome == Some(kpi::facts::VisitOutcome::Sale));
        let _ = writeln!(csv, "{},{},{},{},{sale}", a.rep, a.kind.as_str(), a.on, a.duration_seconds);
    }
    write("activities.csv", csv);

    let mut csv = String::from("opportunity,created_at,sent_at,sent_on,status\n");
    for q in facts.quotes.iter().flatten() {
        let sent_at = q.sent_at.map_or(String::new(), |t| t.as_second().to_string());
        let _ = writeln!(
            csv,
            "{},{},{sent_at},{},{}",
            q.opportunity,
            q.created_at.as_second(),
            opt(q.sent_on),
            q.status.as_str()
        );
    }
    write("quotes.csv", csv);

    let mut csv = String::from("opportunity,ordered_on,installed_on,cancelled_on,failed\n");
    for o in facts.orders.iter().flatten() {
        let _ = writeln!(
            csv,
            "{},{},{},{},{}",
            o.opportunity,
            o.ordered_on,
            opt(o.installed_on),
            opt(o.cancelled_on),
            o.failed_installations
        );
    }
    write("orders.csv", csv);

    let mut csv = String::from("rep,created_on,qualified,follow_up_minutes\n");
    for l in facts.leads.iter().flatten() {
        let minutes = l.follow_up_minutes.map_or(String::new(), |m| m.to_string());
        let _ = writeln!(csv, "{},{},{},{minutes}", l.rep, l.created_on, u8::from(l.qualified));
    }
    write("leads.csv", csv);

    let mut csv = String::from("rep,starts_on,amount\n");
    for q in facts.quotas.iter().flatten() {
        let _ = writeln!(csv, "{},{},{}", q.rep, q.starts_on, q.amount);
    }
    write("quotas.csv", csv);

    let kpis: Vec<Kpi> =
        Kpi::ALL.into_iter().filter(|k| !matches!(k.source(), Source::Missing | Source::DataEntries)).collect();
    let query = Query {
        kpis,
        by: vec![Dimension::Rep],
        period: PeriodKind::Month,
        from: date(2015, 1, 1),
        to: date(2017, 12, 31),
    };
    let (table, diagnostics) =
        kpi::compute(&facts, &FiscalCalendar::default(), &query).unwrap_or_else(|e| panic!("{e}"));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut csv = String::from("rep,month,kpi,kind,numerator,denominator\n");
    for row in &table.rows {
        let rep = row.slice[0].map_or(String::new(), |r| r.to_string());
        for (kpi, value) in table.kpis.iter().zip(&row.values) {
            let (kind, n, d) = match value {
                Value::Count { count } => ("count", count.to_string(), String::new()),
                Value::Money { amount } => ("money", amount.to_string(), String::new()),
                Value::Ratio { ratio } => ("ratio", ratio.numerator.to_string(), ratio.denominator.to_string()),
                Value::NoData { ratio: Some(r), .. } => ("no_data", r.numerator.to_string(), r.denominator.to_string()),
                Value::NoData { ratio: None, .. } => ("no_data", String::new(), String::new()),
            };
            let _ = writeln!(csv, "{rep},{},{kpi},{kind},{n},{d}", row.period);
        }
    }
    write("engine.csv", csv);
    println!("wrote {} engine rows and the facts to {}", table.rows.len(), dir.display());
}
