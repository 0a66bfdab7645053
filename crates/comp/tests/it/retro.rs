//! Retro deltas for locked periods, the what-if estimator and plan modelling.

use comp::{
    Hierarchy, Payee, PayeeState, Plan, Split, allocate_credits, append_deltas, calculate, deltas, model_plan, payroll,
    what_if,
};
use model::{FxTable, UserId};

use crate::fixture::{check, d, month, plan, run, transactions};

fn tiered() -> Plan {
    plan(
        r#"
        [plan]
        id = "ae"
        name = "AE"
        version = 1
        effective_from = 2026-01-01
        currency = "EUR"
        earning_event = "invoice"
        quota = "10000"

        [[component]]
        id = "quota"
        kind = "tiered"
        tiers = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "10%" }]
        "#,
    )
}

#[test]
fn a_late_credit_note_becomes_delta_lines_in_the_next_open_period() {
    let plan = tiered();
    let march = transactions(
        "
        invoice 1 2026-03-02 opp=5 split=7:100% | A 1 8000.00
        invoice 2 2026-03-10 opp=6 split=7:100% | A 1 4000.00
        ",
    );
    let (locked, text) = run(&plan, &Payee::new(UserId(7)), &march, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        400.00 EUR quota | 5% of 8,000.00 EUR amount on invoice 1 (opportunity 5), tier 1 for attainment 0% to 80%
        100.00 EUR quota | 5% of 2,000.00 EUR amount on invoice 2 (opportunity 6), tier 1 for attainment 80% to 100%
        200.00 EUR quota | 10% of 2,000.00 EUR amount on invoice 2 (opportunity 6), tier 2 for attainment 100% to 120%
        700.00 EUR total payable
        ",
    );
    // March is locked; a credit note dated in March arrives in April.
    let mut late = march.clone();
    late.extend(transactions("credit_note 3 2026-03-28 opp=6 reverses=2@2026-03-10 split=7:100% | A 1 3000.00"));
    let (recalculated, _) = run(&plan, &Payee::new(UserId(7)), &late, "2026-03", &PayeeState::default());
    let delta_lines = deltas(&locked, &recalculated).unwrap();

    let april_txs = transactions("invoice 4 2026-04-03 split=7:100% | A 1 1000.00");
    let (mut april, _) = run(&plan, &Payee::new(UserId(7)), &april_txs, "2026-04", &recalculated.closing);
    append_deltas(&mut april, delta_lines).unwrap();
    check(
        &april.table(),
        "
        50.00 EUR quota | 5% of 1,000.00 EUR amount on invoice 4, tier 1 for attainment 0% to 10%
        -50.00 EUR quota | 5% of -1,000.00 EUR amount on credit note 3 reversing 2 (opportunity 6), tier 1 for attainment 90% to 100%; corrects 2026-03: was 0.00 EUR, now -50.00 EUR
        -200.00 EUR quota | 10% of -2,000.00 EUR amount on credit note 3 reversing 2 (opportunity 6), tier 2 for attainment 100% to 120%; corrects 2026-03: was 0.00 EUR, now -200.00 EUR
        -200.00 EUR total payable
        ",
    );
    assert_eq!(locked.payable.amount + d("-250.00"), recalculated.payable.amount);
}

#[test]
fn a_re_split_corrects_both_payees() {
    let plan = tiered();
    let before = transactions("invoice 1 2026-03-02 opp=5 split=7:100% | A 1 12000.00");
    let mut after = before.clone();
    after[0].splits = vec![Split { payee: UserId(7), share: d("0.5") }, Split { payee: UserId(8), share: d("0.5") }];
    let (locked7, _) = run(&plan, &Payee::new(UserId(7)), &before, "2026-03", &PayeeState::default());
    let (new7, _) = run(&plan, &Payee::new(UserId(7)), &after, "2026-03", &PayeeState::default());
    let (locked8, _) = run(&plan, &Payee::new(UserId(8)), &before, "2026-03", &PayeeState::default());
    let (new8, _) = run(&plan, &Payee::new(UserId(8)), &after, "2026-03", &PayeeState::default());
    let d7 = deltas(&locked7, &new7).unwrap();
    let d8 = deltas(&locked8, &new8).unwrap();
    let text: Vec<String> = d7.iter().chain(&d8).map(|l| format!("{} {}", l.amount.amount, l.sentence())).collect();
    assert_eq!(
        text,
        [
            "-200.00 5% of 6,000.00 EUR amount on invoice 1 (opportunity 5), 50% split, tier 1 for attainment 0% to 60%; corrects 2026-03: was 500.00 EUR, now 300.00 EUR",
            "-200.00 10% of 2,000.00 EUR amount on invoice 1 (opportunity 5), tier 2 for attainment 100% to 120%; corrects 2026-03: was 200.00 EUR, now 0.00 EUR",
            "300.00 5% of 6,000.00 EUR amount on invoice 1 (opportunity 5), 50% split, tier 1 for attainment 0% to 60%; corrects 2026-03: was 0.00 EUR, now 300.00 EUR",
        ]
    );
}

#[test]
fn what_if_is_the_difference_of_two_calculations() {
    let plan = tiered();
    let txs = transactions("invoice 1 2026-03-02 split=7:100% | A 1 8000.00");
    let hypothetical = transactions("invoice 99 2026-03-30 opp=77 split=7:100% | A 1 4000.00").remove(0);
    let (book, _) = allocate_credits(&txs, &Hierarchy::default());
    let payee = Payee::new(UserId(7));
    let estimate = what_if(
        &plan,
        &payee,
        &book[&UserId(7)],
        &month("2026-03"),
        &PayeeState::default(),
        &FxTable::default(),
        &hypothetical,
    )
    .unwrap();
    assert_eq!(
        (estimate.before.amount, estimate.after.amount, estimate.difference.amount),
        (d("400.00"), d("700.00"), d("300.00"))
    );
    assert_eq!((estimate.attainment_before, estimate.attainment_after), (Some(d("0.8")), Some(d("1.2"))));
    let sentences: Vec<String> = estimate.changes.iter().map(|l| l.sentence()).collect();
    assert_eq!(sentences.len(), 2, "{sentences:?}");
    assert!(
        sentences[1].starts_with("10% of 2,000.00 EUR amount on invoice 99 (opportunity 77), tier 2"),
        "{sentences:?}"
    );
}

#[test]
fn plan_modelling_compares_a_draft_with_the_current_plan() {
    let current = plan(
        r#"
        [plan]
        id = "flat"
        name = "Flat 5%"
        version = 1
        effective_from = 2026-01-01
        currency = "EUR"
        earning_event = "invoice"
        [[component]]
        id = "base"
        kind = "percentage"
        rate = "5%"
        "#,
    );
    let draft = plan(
        r#"
        [plan]
        id = "tiered"
        name = "Draft with accelerator"
        version = 1
        effective_from = 2026-01-01
        currency = "EUR"
        earning_event = "invoice"
        [[component]]
        id = "quota"
        kind = "tiered"
        tiers = [{ from = "0%", rate = "3%" }, { from = "100%", rate = "10%" }]
        "#,
    );
    let txs = transactions(
        "
        invoice 1 2026-01-10 split=7:100% | A 1 12000.00
        invoice 2 2026-01-12 split=8:100% | A 1 20000.00
        ",
    );
    let (book, _) = allocate_credits(&txs, &Hierarchy::default());
    let payees: Vec<Payee> =
        [7, 8].into_iter().map(|id| Payee { quota: Some(d("10000")), ..Payee::new(UserId(id)) }).collect();
    let periods = [month("2026-01"), month("2026-02"), month("2026-03")];
    let (model, diagnostics) = model_plan(&draft, &current, &payees, &book, &periods, &FxTable::default(), 2);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!((model.revenue, model.cost_current, model.cost_draft), (d("32000.00"), d("1600.00"), d("1800.00")));
    assert_eq!(model.cost_ratio_current, Some(d("0.05")));
    assert_eq!(model.cost_ratio_draft, Some(d("0.05625")));
    let who: Vec<(i64, String)> = model.payees.iter().map(|p| (p.payee.0, p.difference.to_string())).collect();
    assert_eq!(who, [(8, "300.00".to_string()), (7, "-100.00".to_string())]);
    assert_eq!((model.earn_more, model.earn_less), (1, 1));
    assert_eq!((model.payouts_draft.min, model.payouts_draft.max), (d("500.00"), d("1300.00")));
    assert_eq!(model.attainment.count, 2);
    assert_eq!(model.attainment.max.round_dp(4), d("0.6667"));
    // The same run with payees' own calculations gives the same figures.
    let (jan7, _) =
        calculate(&draft, &payees[0], &book[&UserId(7)], &periods[0], &PayeeState::default(), &FxTable::default())
            .unwrap();
    assert_eq!(jan7.payable.amount, d("500.00"));
}

#[test]
fn payroll_sums_payable_amounts_per_payee_and_currency() {
    let plan = tiered();
    let txs = transactions(
        "
        invoice 1 2026-03-02 split=7:100% | A 1 8000.00
        invoice 2 2026-04-02 split=7:100% | A 1 4000.00
        ",
    );
    let (march, _) = run(&plan, &Payee::new(UserId(7)), &txs, "2026-03", &PayeeState::default());
    let (april, _) = run(&plan, &Payee::new(UserId(7)), &txs, "2026-04", &march.closing);
    let rows = payroll(&[march, april]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].amount.amount, d("600.00"));
    assert_eq!(rows[0].statements.len(), 2);
}

#[test]
fn a_plan_out_of_force_is_reported() {
    let plan = tiered();
    let (_, text) = run(&plan, &Payee::new(UserId(7)), &[], "2025-12", &PayeeState::default());
    check(&text, "0.00 EUR total payable\n! payee 7: plan 'ae' version 1 is not in force in period 2025-12");
}
