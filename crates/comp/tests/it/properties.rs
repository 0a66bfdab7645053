//! Invariants: splits total 100%, old total + deltas = new total, marginal tiers are monotone,
//! rounding neither creates nor loses a cent.

use std::sync::Arc;

use comp::{
    Credit, CreditRole, Hierarchy, Payee, PayeeState, Plan, Split, Transaction, TransactionId, TransactionKind,
    TransactionLine, allocate_credits, allocate_credits_on, calculate, deltas, round, round_lines,
};
use model::{Currency, FxTable, UserId};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::fixture::{date, month, plan};

fn tx(id: i64, kind: TransactionKind, day: u8, cents: i64, splits: Vec<Split>) -> Transaction {
    Transaction {
        id: TransactionId(id),
        kind,
        date: date(&format!("2026-03-{day:02}")),
        currency: Currency::EUR,
        opportunity: None,
        customer: None,
        new_customer: false,
        reverses: None,
        lines: vec![TransactionLine {
            product: Arc::from("A"),
            product_line: Arc::from(""),
            quantity: Decimal::ONE,
            amount: Decimal::new(cents, 2),
            cost: Decimal::new(cents / 3, 2),
        }],
        splits,
    }
}

fn solo(payee: i64) -> Vec<Split> {
    vec![Split { payee: UserId(payee), share: Decimal::ONE }]
}

/// A tiered plan with rates from the generator (basis points), marginal or retroactive.
fn tiered_plan(rates_bp: &[u32], method: &str, base: &str) -> Plan {
    let tiers: Vec<String> = rates_bp
        .iter()
        .enumerate()
        .map(|(i, bp)| format!(r#"{{ from = "{}%", rate = "{}%" }}"#, i * 50, Decimal::new(i64::from(*bp), 2)))
        .collect();
    plan(&format!(
        r#"
        [plan]
        id = "p"
        name = "P"
        version = 1
        effective_from = 2026-01-01
        currency = "EUR"
        earning_event = "invoice"
        quota = "10000"
        [[component]]
        id = "t"
        kind = "tiered"
        base = "{base}"
        tier_method = "{method}"
        tiers = [{}]
        "#,
        tiers.join(", ")
    ))
}

fn statement(plan: &Plan, txs: &[Transaction]) -> comp::Statement {
    let credits: Vec<Credit> =
        txs.iter().map(|t| Credit { transaction: t, share: Decimal::ONE, role: CreditRole::Direct }).collect();
    calculate(plan, &Payee::new(UserId(1)), &credits, &month("2026-03"), &PayeeState::default(), &FxTable::default())
        .unwrap()
        .0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn splits_that_total_100_percent_credit_exactly_the_amount(
        weights in proptest::collection::vec(1u32..10_000, 1..6),
        cents in 1i64..100_000_000,
    ) {
        // Shares in basis points, the last taking the remainder so they total exactly 100%.
        let total: u32 = weights.iter().sum();
        let mut shares: Vec<Decimal> = weights.iter().map(|w| Decimal::new(i64::from(w * 10_000 / total), 4)).collect();
        let assigned: Decimal = shares[..shares.len() - 1].iter().sum();
        let last = shares.len() - 1;
        shares[last] = Decimal::ONE - assigned;
        prop_assume!(shares.iter().all(|s| *s > Decimal::ZERO));
        let splits: Vec<Split> = shares.iter().enumerate().map(|(i, s)| Split { payee: UserId(i as i64 + 1), share: *s }).collect();
        let good = tx(1, TransactionKind::Invoice, 5, cents, splits.clone());
        let txs = vec![good];
        let (book, diagnostics) = allocate_credits(&txs, &Hierarchy::default());
        prop_assert!(diagnostics.is_empty());
        let credited: Decimal = book.values().flatten().map(|c| c.share * c.transaction.signed_amount()).sum();
        prop_assert_eq!(credited, Decimal::new(cents, 2));

        // One basis point too many and nobody is credited.
        let mut off = splits;
        off[0].share += Decimal::new(1, 4);
        let bad = vec![tx(2, TransactionKind::Invoice, 5, cents, off)];
        let (book, diagnostics) = allocate_credits(&bad, &Hierarchy::default());
        prop_assert!(book.is_empty());
        prop_assert_eq!(diagnostics.len(), 1);
    }

    #[test]
    fn allocation_on_threads_gives_the_same_book(
        payees in proptest::collection::vec((1i64..8, 1i64..8, any::<bool>()), 1..40),
        threads in 2usize..5,
    ) {
        let txs: Vec<Transaction> = payees
            .iter()
            .enumerate()
            .map(|(i, (a, b, split))| {
                let splits = if *split && a != b {
                    vec![Split { payee: UserId(*a), share: Decimal::new(5, 1) }, Split { payee: UserId(*b), share: Decimal::new(5, 1) }]
                } else {
                    solo(*a)
                };
                tx(i as i64, TransactionKind::Invoice, 3, 1000, splits)
            })
            .collect();
        let hierarchy = Hierarchy { managers: (1..8).map(|i| (UserId(i), UserId(100 + i % 2))).collect(), overlay_levels: 1 };
        let one = allocate_credits(&txs, &hierarchy);
        let many = allocate_credits_on(&txs, &hierarchy, threads);
        prop_assert_eq!(one, many);
    }

    #[test]
    fn old_total_plus_deltas_is_the_new_total(
        rates in proptest::collection::vec(0u32..2_000, 1..4),
        retroactive in any::<bool>(),
        amounts in proptest::collection::vec((1u8..29, 1i64..1_000_000), 1..12),
        late in proptest::collection::vec((1u8..29, 1i64..1_000_000, any::<bool>()), 1..4),
    ) {
        let plan = tiered_plan(&rates, if retroactive { "retroactive" } else { "marginal" }, "margin");
        let locked_txs: Vec<Transaction> = amounts
            .iter()
            .enumerate()
            .map(|(i, (day, cents))| tx(i as i64, TransactionKind::Invoice, *day, *cents, solo(1)))
            .collect();
        let mut all = locked_txs.clone();
        for (i, (day, cents, refund)) in late.iter().enumerate() {
            let kind = if *refund { TransactionKind::CreditNote } else { TransactionKind::Invoice };
            all.push(tx(1000 + i as i64, kind, *day, *cents, solo(1)));
        }
        let locked = statement(&plan, &locked_txs);
        let recalculated = statement(&plan, &all);
        let lines = deltas(&locked, &recalculated).unwrap();
        let delta_total: Decimal = lines.iter().map(|l| l.amount.amount).sum();
        prop_assert_eq!(locked.payable.amount + delta_total, recalculated.payable.amount);
        for l in &lines {
            let c = l.corrects.as_ref().unwrap();
            prop_assert_eq!(c.old + l.amount.amount, c.new);
        }
    }

    #[test]
    fn marginal_tiers_never_pay_less_for_more(
        rates in proptest::collection::vec(1u32..2_000, 1..5),
        amounts in proptest::collection::vec(1i64..2_000_000, 1..10),
        extra in 1i64..2_000_000,
    ) {
        let plan = tiered_plan(&rates, "marginal", "amount");
        let txs: Vec<Transaction> =
            amounts.iter().enumerate().map(|(i, c)| tx(i as i64, TransactionKind::Invoice, 10, *c, solo(1))).collect();
        let before = statement(&plan, &txs);
        let mut more = txs.clone();
        more.push(tx(999, TransactionKind::Invoice, 20, extra, solo(1)));
        let after = statement(&plan, &more);
        let exact = |s: &comp::Statement| s.lines.iter().map(|l| l.exact).sum::<Decimal>();
        prop_assert!(exact(&after) > exact(&before));
        prop_assert!(after.payable.amount >= before.payable.amount);
    }

    #[test]
    fn rounding_neither_creates_nor_loses_a_cent(
        lines in proptest::collection::vec((-10_000_000i64..10_000_000, 0u32..7), 0..40),
    ) {
        let exact: Vec<Decimal> = lines.iter().map(|(units, scale)| Decimal::new(*units, *scale)).collect();
        let rounded = round_lines(&exact, Currency::EUR);
        let total: Decimal = exact.iter().sum();
        prop_assert_eq!(rounded.iter().sum::<Decimal>(), round(total, Currency::EUR));
        for (r, e) in rounded.iter().zip(&exact) {
            prop_assert!((*r - *e).abs() <= Decimal::new(1, 2));
            prop_assert!(r.scale() <= 2);
        }
    }

    #[test]
    fn a_statement_pays_exactly_its_rounded_exact_total(
        rates in proptest::collection::vec(1u32..2_000, 1..4),
        amounts in proptest::collection::vec((1u8..29, 1i64..10_000_000), 1..15),
    ) {
        let plan = tiered_plan(&rates, "marginal", "margin");
        let txs: Vec<Transaction> =
            amounts.iter().enumerate().map(|(i, (day, c))| tx(i as i64, TransactionKind::Invoice, *day, *c, solo(1))).collect();
        let s = statement(&plan, &txs);
        let exact: Decimal = s.lines.iter().map(|l| l.exact).sum();
        prop_assert_eq!(s.payable.amount, round(exact, Currency::EUR));
        prop_assert_eq!(s.payable.amount, s.lines.iter().map(|l| l.amount.amount).sum::<Decimal>());
    }
}
