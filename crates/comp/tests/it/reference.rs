//! Behaviour documented by Odoo OCA `commission`, Tryton `commission` and ERPNext, reproduced
//! as salesops plans. Where salesops differs on purpose, `docs/comp-plans.md` says so.

use comp::PayeeState;

use crate::fixture::{check, payee, plan, run, transactions};

const HEADER: &str = r#"
[plan]
id = "reference"
name = "Reference"
version = 1
effective_from = 2026-01-01
currency = "EUR"
"#;

fn plan_with(body: &str) -> comp::Plan {
    plan(&format!("{HEADER}{body}"))
}

/// OCA: a fixed-percentage commission on invoice lines; a refund (credit note) gives a
/// negative commission in the settlement of the period it is booked in.
#[test]
fn oca_percentage_commission_and_refund() {
    let plan = plan_with(
        r#"
        earning_event = "invoice"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"
        "#,
    );
    let txs = transactions(
        "
        invoice 1 2026-03-02 opp=11 split=7:100% | DESK/Furniture 2 1000.00
        invoice 2 2026-03-10 opp=12 split=7:100% | CHAIR/Furniture 4 400.00
        credit_note 3 2026-03-20 opp=11 reverses=1@2026-03-02 split=7:100% | DESK/Furniture 1 500.00
        ",
    );
    let (_, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        100.00 EUR commission | 10% of 1,000.00 EUR amount on invoice 1 (opportunity 11)
        40.00 EUR commission | 10% of 400.00 EUR amount on invoice 2 (opportunity 12)
        -50.00 EUR commission | 10% of -500.00 EUR amount on credit note 3 reversing 1 (opportunity 11)
        90.00 EUR total payable
        ",
    );
}

/// OCA "section" commission: the rate depends on which section the line amount falls in, and
/// applies to the whole line amount.
#[test]
fn oca_sections_on_the_line_amount() {
    let plan = plan_with(
        r#"
        earning_event = "invoice"
        [[component]]
        id = "sections"
        kind = "tiered"
        tier_measure = "transaction_amount"
        tier_method = "retroactive"
        tiers = [
          { from = "0", rate = "5%" },
          { from = "1000", rate = "7.5%" },
          { from = "5000", rate = "10%" },
        ]
        "#,
    );
    let txs = transactions(
        "
        invoice 1 2026-03-02 split=7:100% | A 1 800.00
        invoice 2 2026-03-03 split=7:100% | A 1 3000.00
        invoice 3 2026-03-04 split=7:100% | A 1 6000.00
        credit_note 4 2026-03-05 reverses=2@2026-03-03 split=7:100% | A 1 3000.00
        ",
    );
    let (_, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        40.00 EUR sections | 5% of 800.00 EUR amount on invoice 1, tier 1
        225.00 EUR sections | 7.5% of 3,000.00 EUR amount on invoice 2, tier 2
        600.00 EUR sections | 10% of 6,000.00 EUR amount on invoice 3, tier 3
        -225.00 EUR sections | 7.5% of -3,000.00 EUR amount on credit note 4 reversing 2, tier 2
        640.00 EUR total payable
        ",
    );
}

/// OCA margin-based commission paid on payment: the base is amount minus cost, and only paid
/// amounts earn (a partial payment earns on the paid part, as the ERP reports it).
#[test]
fn oca_margin_commission_paid_on_payment() {
    let plan = plan_with(
        r#"
        earning_event = "payment"
        [[component]]
        id = "margin"
        kind = "percentage"
        base = "margin"
        rate = "20%"
        "#,
    );
    let txs = transactions(
        "
        invoice 1 2026-03-02 opp=5 split=7:100% | SERVER/Hardware 1 10000.00 7000.00
        payment 2 2026-03-15 opp=5 split=7:100% | SERVER/Hardware 0.5 5000.00 3500.00
        payment 3 2026-04-15 opp=5 split=7:100% | SERVER/Hardware 0.5 5000.00 3500.00
        ",
    );
    let (_, march) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &march,
        "
        300.00 EUR margin | 20% of 1,500.00 EUR margin on payment 2 (opportunity 5)
        300.00 EUR total payable
        ",
    );
    let (_, april) = run(&plan, &payee(7), &txs, "2026-04", &PayeeState::default());
    check(
        &april,
        "
        300.00 EUR margin | 20% of 1,500.00 EUR margin on payment 3 (opportunity 5)
        300.00 EUR total payable
        ",
    );
}

/// Tryton: plan lines per product (the first matching line's formula wins), commission either
/// when the invoice is posted or when it is paid.
#[test]
fn tryton_per_product_rates_invoiced_versus_paid() {
    let body = r#"
        [[component]]
        id = "products"
        kind = "percentage"
        rate = "5%"
        rates = [
          { product = "LICENSE", rate = "10%" },
          { product_line = "Services", rate = "3%" },
        ]
        "#;
    let invoiced = plan_with(&format!("earning_event = \"invoice\"\n{body}"));
    let paid = plan_with(&format!("earning_event = \"payment\"\n{body}"));
    let txs = transactions(
        "
        invoice 1 2026-03-10 split=7:100% | LICENSE/Software 10 2000.00 | TRAINING/Services 1 1000.00 | CABLE/Hardware 5 100.00
        payment 2 2026-04-02 split=7:100% | LICENSE/Software 10 2000.00 | TRAINING/Services 1 1000.00 | CABLE/Hardware 5 100.00
        ",
    );
    let (_, march_invoiced) = run(&invoiced, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &march_invoiced,
        "
        200.00 EUR products | 10% of 2,000.00 EUR amount on invoice 1
        30.00 EUR products | 3% of 1,000.00 EUR amount on invoice 1
        5.00 EUR products | 5% of 100.00 EUR amount on invoice 1
        235.00 EUR total payable
        ",
    );
    let (_, march_paid) = run(&paid, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(&march_paid, "0.00 EUR total payable");
    let (_, april_paid) = run(&paid, &payee(7), &txs, "2026-04", &PayeeState::default());
    assert!(april_paid.ends_with("235.00 EUR total payable"), "{april_paid}");
}

/// ERPNext: a sales team shares an order by allocated percentage (which must total 100%);
/// each sales person's incentive is their allocated amount times the commission rate.
#[test]
fn erpnext_sales_team_split() {
    let plan = plan_with(
        r#"
        earning_event = "booking"
        [[component]]
        id = "incentive"
        kind = "percentage"
        rate = "5%"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 opp=9 split=7:60%,8:40% | ERP/Software 1 12345.67
        booking 2 2026-03-03 opp=10 split=7:50%,8:40% | ERP/Software 1 1000.00
        ",
    );
    let (_, seven) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &seven,
        "
        370.37 EUR incentive | 5% of 7,407.40 EUR amount on booking 1 (opportunity 9), 60% split
        370.37 EUR total payable
        ! transaction 2: splits total 90%, not 100%
        ",
    );
    let (_, eight) = run(&plan, &payee(8), &txs, "2026-03", &PayeeState::default());
    check(
        &eight,
        "
        246.91 EUR incentive | 5% of 4,938.27 EUR amount on booking 1 (opportunity 9), 40% split
        246.91 EUR total payable
        ! transaction 2: splits total 90%, not 100%
        ",
    );
}
