//! Compact, readable fixtures: transactions written one per line, a statement checked as a table.
//!
//! A transaction line: `KIND ID DATE [opp=N] [cur=USD] [new] [reverses=ID@DATE] split=P:SHARE%,...`
//! then ` | PRODUCT/LINE QTY AMOUNT [COST]` per product line. Example:
//! `invoice 7 2026-03-05 opp=123 split=1:100% | LAPTOP/Hardware 2 1000.00 600.00`

use std::sync::Arc;

use comp::{
    Hierarchy, Payee, PayeeState, Period, Plan, Reversal, Split, Statement, Transaction, TransactionId,
    TransactionKind, TransactionLine, allocate_credits, calculate,
};
use jiff::civil::Date;
use model::{AccountId, Currency, FxRate, FxTable, OpportunityId, UserId};
use rust_decimal::Decimal;

pub fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_else(|_| panic!("bad decimal {s}"))
}

pub fn date(s: &str) -> Date {
    s.parse().unwrap_or_else(|_| panic!("bad date {s}"))
}

pub fn month(s: &str) -> Period {
    let (y, m) = s.split_once('-').unwrap();
    Period::month(y.parse().unwrap(), m.parse().unwrap()).unwrap()
}

pub fn plan(text: &str) -> Plan {
    Plan::parse(text).unwrap_or_else(|e| panic!("plan does not parse: {e}"))
}

pub fn transactions(text: &str) -> Vec<Transaction> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(transaction).collect()
}

fn transaction(line: &str) -> Transaction {
    let mut parts = line.split(" | ");
    let head: Vec<&str> = parts.next().unwrap().split_whitespace().collect();
    let kind = match head[0] {
        "booking" => TransactionKind::Booking,
        "cancellation" => TransactionKind::Cancellation,
        "invoice" => TransactionKind::Invoice,
        "credit_note" => TransactionKind::CreditNote,
        "payment" => TransactionKind::Payment,
        "refund" => TransactionKind::Refund,
        other => panic!("unknown transaction kind {other}"),
    };
    let mut t = Transaction {
        id: TransactionId(head[1].parse().unwrap()),
        kind,
        date: date(head[2]),
        currency: Currency::EUR,
        opportunity: None,
        customer: Some(AccountId(1)),
        new_customer: false,
        reverses: None,
        lines: Vec::new(),
        splits: Vec::new(),
    };
    for token in &head[3..] {
        let (k, v) = token.split_once('=').unwrap_or((token, ""));
        match k {
            "opp" => t.opportunity = Some(OpportunityId(v.parse().unwrap())),
            "cur" => t.currency = Currency::parse(v).unwrap(),
            "new" => t.new_customer = true,
            "reverses" => {
                let (id, day) = v.split_once('@').unwrap();
                t.reverses =
                    Some(Reversal { transaction: TransactionId(id.parse().unwrap()), original_date: date(day) });
            }
            "split" => {
                for s in v.split(',') {
                    let (payee, share) = s.split_once(':').unwrap();
                    t.splits.push(Split {
                        payee: UserId(payee.parse().unwrap()),
                        share: d(share.trim_end_matches('%')) / Decimal::ONE_HUNDRED,
                    });
                }
            }
            other => panic!("unknown token {other}"),
        }
    }
    for l in parts {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (product, product_line) = f[0].split_once('/').unwrap_or((f[0], ""));
        t.lines.push(TransactionLine {
            product: Arc::from(product),
            product_line: Arc::from(product_line),
            quantity: d(f[1]),
            amount: d(f[2]),
            cost: f.get(3).map_or(Decimal::ZERO, |c| d(c)),
        });
    }
    t
}

pub fn eur_usd(rate: &str) -> FxTable {
    FxTable::new([FxRate { from: Currency::EUR, to: Currency::USD, valid_from: date("2020-01-01"), rate: d(rate) }])
}

/// Calculates `payee`'s statement and returns its table followed by any diagnostics.
pub fn run(plan: &Plan, payee: &Payee, txs: &[Transaction], period: &str, prior: &PayeeState) -> (Statement, String) {
    run_with(plan, payee, txs, period, prior, &FxTable::default(), &Hierarchy::default())
}

pub fn run_with(
    plan: &Plan,
    payee: &Payee,
    txs: &[Transaction],
    period: &str,
    prior: &PayeeState,
    fx: &FxTable,
    hierarchy: &Hierarchy,
) -> (Statement, String) {
    let (book, mut diagnostics) = allocate_credits(txs, hierarchy);
    let credits = book.get(&payee.id).cloned().unwrap_or_default();
    let (statement, more) = calculate(plan, payee, &credits, &month(period), prior, fx).expect("calculation runs");
    diagnostics.extend(more);
    let mut text = statement.table();
    for d in diagnostics {
        text.push_str(&format!("\n! {d}"));
    }
    (statement, text)
}

/// Compares a statement table with the expected text, ignoring indentation of the expectation.
#[track_caller]
pub fn check(actual: &str, expected: &str) {
    let expected: Vec<&str> = expected.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let actual_lines: Vec<&str> = actual.lines().map(str::trim).collect();
    assert_eq!(actual_lines, expected, "\nactual statement:\n{actual}\n");
}

pub fn payee(id: i64) -> Payee {
    Payee::new(UserId(id))
}
