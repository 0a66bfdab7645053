//! Benchmark of the engine alone: 10,000 payees, 1,000,000 credited transactions in one month,
//! every payout line explained. Run with
//! `cargo run --release -p comp --example bench_comp [payees] [transactions] [threads]`.
//! Prints the time of each step and the peak memory (Linux `VmHWM`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use comp::{
    Hierarchy, Payee, PayeeState, Period, Plan, Reversal, Split, Transaction, TransactionId, TransactionKind,
    TransactionLine, allocate_credits_on, calculate, calculate_period, deltas,
};
use jiff::civil::Date;
use model::{Currency, FxTable, OpportunityId, UserId};
use rust_decimal::Decimal;

const PLAN: &str = r#"
[plan]
id = "ae-2026"
name = "Account executive 2026"
version = 1
effective_from = 2026-01-01
currency = "EUR"
earning_event = "invoice"
quota = "400000"

[[component]]
id = "quota"
kind = "tiered"
credit = "direct"
base = "margin"
tiers = [{ from = "0%", rate = "6%" }, { from = "100%", rate = "9%" }]
accelerator = { above = "150%", factor = "1.5" }
cap_per_line = "5000"

[[component]]
id = "team"
kind = "percentage"
credit = "overlay"
rate = "1%"

[[component]]
id = "cloud-spif"
kind = "spif"
products = ["P3"]
amount = "25"
credit = "direct"
"#;

/// splitmix64: a tiny deterministic generator (the engine itself takes no randomness).
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

fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU time of the whole process so far (user + system), from `/proc/self/stat` (Linux), so
/// that steps can be judged on a shared machine where wall time depends on the load.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn cpu_since(start: Option<f64>) -> String {
    match (start, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.2}s CPU", b - a),
        _ => "CPU time not available".to_string(),
    }
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let payee_count = args.first().copied().unwrap_or(10_000).max(10);
    let transaction_count = args.get(1).copied().unwrap_or(1_000_000);
    let threads = args.get(2).copied().unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let plan = Plan::parse(PLAN).expect("bench plan parses");
    let period = Period::month(2026, 3).expect("valid month");
    // One manager per ten payees; managers get overlay credit one level up.
    let managers: HashMap<UserId, UserId> =
        (0..payee_count as i64).filter(|i| i % 10 != 0).map(|i| (UserId(i), UserId(i - i % 10))).collect();
    let reps: Vec<UserId> = (0..payee_count as i64).filter(|i| i % 10 != 0).map(UserId).collect();
    let hierarchy = Hierarchy { managers, overlay_levels: 1 };

    let products: Vec<Arc<str>> = (0..20).map(|i| Arc::from(format!("P{i}"))).collect();
    let product_lines: Vec<Arc<str>> = (0..4).map(|i| Arc::from(format!("L{i}"))).collect();
    let mut rng = Rng(20260302);
    let generated = Instant::now();
    let transactions: Vec<Transaction> = (0..transaction_count as i64)
        .map(|id| {
            let day = 1 + rng.below(31) as i8;
            let refund = rng.below(50) == 0;
            let line_count = 1 + rng.below(2) as usize;
            let lines = (0..line_count)
                .map(|_| {
                    let p = rng.below(20) as usize;
                    let cents = 10_000 + rng.below(1_000_000) as i64;
                    TransactionLine {
                        product: products[p].clone(),
                        product_line: product_lines[p % 4].clone(),
                        quantity: Decimal::from(1 + rng.below(5)),
                        amount: Decimal::new(cents, 2),
                        cost: Decimal::new(cents * (30 + rng.below(40) as i64) / 100, 2),
                    }
                })
                .collect();
            let first = reps[rng.below(reps.len() as u64) as usize];
            let splits = if rng.below(10) == 0 {
                let second = reps[rng.below(reps.len() as u64) as usize];
                if second == first {
                    vec![Split { payee: first, share: Decimal::ONE }]
                } else {
                    vec![
                        Split { payee: first, share: Decimal::new(6, 1) },
                        Split { payee: second, share: Decimal::new(4, 1) },
                    ]
                }
            } else {
                vec![Split { payee: first, share: Decimal::ONE }]
            };
            let date = Date::new(2026, 3, day.min(31)).expect("March day");
            Transaction {
                id: TransactionId(id),
                kind: if refund { TransactionKind::CreditNote } else { TransactionKind::Invoice },
                date,
                currency: Currency::EUR,
                opportunity: Some(OpportunityId(id / 2)),
                customer: None,
                new_customer: false,
                reverses: refund
                    .then_some(Reversal { transaction: TransactionId(id.saturating_sub(1)), original_date: date }),
                lines,
                splits,
            }
        })
        .collect();
    println!(
        "generated {} transactions for {} payees in {:.2?} (not part of the engine time)",
        transactions.len(),
        payee_count,
        generated.elapsed()
    );

    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let (book, allocation_diagnostics) = allocate_credits_on(&transactions, &hierarchy, threads);
    let allocated = start.elapsed();
    let allocated_cpu = cpu_since(cpu_start);
    let cpu_calc_start = cpu_seconds();
    let credit_count: usize = book.values().map(Vec::len).sum();

    let payees: Vec<(Payee, PayeeState)> =
        (0..payee_count as i64).map(|i| (Payee::new(UserId(i)), PayeeState::default())).collect();
    let calc_start = Instant::now();
    let (statements, diagnostics) = calculate_period(&plan, &payees, &book, &period, &FxTable::default(), threads);
    let calculated = calc_start.elapsed();
    let calculated_cpu = cpu_since(cpu_calc_start);
    let engine = start.elapsed();
    let engine_cpu = cpu_since(cpu_start);
    let line_count: usize = statements.iter().map(|s| s.lines.len()).sum();
    let total: Decimal = statements.iter().map(|s| s.payable.amount).sum();

    let render_start = Instant::now();
    let rendered: usize = statements.iter().flat_map(|s| &s.lines).map(|l| l.sentence().len()).sum();
    let rendering = render_start.elapsed();

    // A late refund for one payee: recalculate that payee only and produce the delta lines.
    let late_start = Instant::now();
    let target = statements.iter().max_by_key(|s| s.lines.len()).expect("statements");
    let mut credits = book.get(&target.payee).cloned().unwrap_or_default();
    let original = credits[0].transaction.clone();
    let refund = Transaction {
        id: TransactionId(i64::MAX),
        kind: TransactionKind::CreditNote,
        reverses: Some(Reversal { transaction: original.id, original_date: original.date }),
        ..original
    };
    credits.push(comp::Credit { transaction: &refund, share: Decimal::ONE, role: comp::CreditRole::Direct });
    let (recalculated, _) =
        calculate(&plan, &Payee::new(target.payee), &credits, &period, &PayeeState::default(), &FxTable::default())
            .expect("recalculation");
    let delta_lines = deltas(target, &recalculated).expect("same currency");
    let late = late_start.elapsed();

    println!("credits allocated:   {credit_count} (splits + overlays) in {allocated:.2?} ({allocated_cpu})");
    println!(
        "calculated:          {} statements, {line_count} explained lines, total payable {total} EUR in {calculated:.2?} ({calculated_cpu}) on {threads} threads",
        statements.len()
    );
    println!("engine total:        {engine:.2?} wall, {engine_cpu} (allocation + calculation)");
    println!("rendered sentences:  {rendered} bytes of English in {rendering:.2?}");
    println!(
        "late refund:         payee {} recalculated ({} credits) with {} delta lines in {late:.2?}",
        target.payee,
        credits.len(),
        delta_lines.len()
    );
    println!("diagnostics:         {}", allocation_diagnostics.len() + diagnostics.len());
    println!("sample lines:");
    let all_lines = statements.iter().flat_map(|s| s.lines.iter().map(move |l| (s.payee, l)));
    let tiered = all_lines.clone().filter(|(_, l)| l.explanation.tier > 1).take(2);
    let overlay = all_lines.filter(|(_, l)| l.key.overlay_of.is_some()).take(1);
    for (payee, line) in tiered.chain(overlay) {
        println!(
            "  payee {payee}: {} {} {} | {}",
            line.amount.amount,
            line.amount.currency,
            line.key.rule,
            line.sentence()
        );
    }

    // Plan modelling (I4): a draft with a lower base rate and a steeper accelerator, against the
    // current plan, over the same credits.
    let draft =
        Plan::parse(&PLAN.replace(r#"rate = "6%""#, r#"rate = "5%""#).replace(r#"factor = "1.5""#, r#"factor = "2""#))
            .expect("draft plan parses");
    drop(statements);
    let model_start = Instant::now();
    let payee_inputs: Vec<Payee> = payees.iter().map(|(p, _)| p.clone()).collect();
    let (model, _) = comp::model_plan(
        &draft,
        &plan,
        &payee_inputs,
        &book,
        std::slice::from_ref(&period),
        &FxTable::default(),
        threads,
    );
    println!(
        "plan modelling:      cost {} -> {} EUR ({:.2}% -> {:.2}% of revenue), {} earn more, {} less, in {:.2?}",
        model.cost_current.round_dp(2),
        model.cost_draft.round_dp(2),
        model.cost_ratio_current.unwrap_or_default() * Decimal::ONE_HUNDRED,
        model.cost_ratio_draft.unwrap_or_default() * Decimal::ONE_HUNDRED,
        model.earn_more,
        model.earn_less,
        model_start.elapsed()
    );
    match peak_memory_mib() {
        Some(mib) => println!("peak memory:         {mib:.0} MiB (VmHWM, including the generated input)"),
        None => println!("peak memory:         not available on this platform"),
    }
}
