//! Plan components one by one: tiers, accelerators, decelerators, caps and floors, fixed
//! amounts, scores, draws, clawbacks, holds, adjustments, payout currency and overlays.

use std::collections::{BTreeMap, HashMap};

use comp::{Adjustment, Hierarchy, Hold, HoldScope, Payee, PayeeState, Plan, RuleId};
use model::{OpportunityId, UserId};

use crate::fixture::{check, d, eur_usd, payee, plan, run, run_with, transactions};

fn plan_with(extra_plan_fields: &str, body: &str) -> Plan {
    let event = if extra_plan_fields.contains("earning_event") { "" } else { r#"earning_event = "booking""# };
    plan(&format!(
        r#"
        [plan]
        id = "ae"
        name = "Account executive"
        version = 1
        effective_from = 2026-01-01
        currency = "EUR"
        {event}
        {extra_plan_fields}
        {body}
        "#
    ))
}

#[test]
fn marginal_tiers_on_attainment_with_an_accelerator() {
    let plan = plan_with(
        r#"quota = "10000""#,
        r#"
        [[component]]
        id = "quota"
        kind = "tiered"
        tiers = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "8%" }]
        accelerator = { above = "120%", factor = "1.5" }
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 split=7:100% | A 1 8000.00
        booking 2 2026-03-20 split=7:100% | A 1 4400.00
        ",
    );
    let (_, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        400.00 EUR quota | 5% of 8,000.00 EUR amount on booking 1, tier 1 for attainment 0% to 80%
        100.00 EUR quota | 5% of 2,000.00 EUR amount on booking 2, tier 1 for attainment 80% to 100%
        160.00 EUR quota | 8% of 2,000.00 EUR amount on booking 2, tier 2 for attainment 100% to 120%
        48.00 EUR quota | 8% of 400.00 EUR amount on booking 2, tier 2 for attainment 120% to 124%, accelerator x1.5
        708.00 EUR total payable
        ",
    );
}

#[test]
fn retroactive_tiers_explain_the_attainment_that_chose_them() {
    let plan = plan_with(
        r#"quota = "100000""#,
        r#"
        [[component]]
        id = "quota"
        kind = "tiered"
        tier_method = "retroactive"
        tiers = [{ from = "0%", rate = "5%" }, { from = "100%", rate = "8%" }]
        "#,
    );
    let txs = transactions(
        "
        booking 122 2026-03-05 opp=122 split=7:100% | A 1 91600.00
        booking 123 2026-03-25 opp=123 split=7:100% | A 1 12400.00
        ",
    );
    let (statement, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        7,328.00 EUR quota | 8% of 91,600.00 EUR amount on booking 122 (opportunity 122), tier 2 because attainment 104%
        992.00 EUR quota | 8% of 12,400.00 EUR amount on booking 123 (opportunity 123), tier 2 because attainment 104%
        8,320.00 EUR total payable
        ",
    );
    let e = &statement.lines[1].explanation;
    assert_eq!((e.rate, e.tier, e.base), (Some(d("0.08")), 2, Some(d("12400.00"))));
}

#[test]
fn decelerator_below_threshold() {
    let plan = plan_with(
        r#"quota = "10000""#,
        r#"
        [[component]]
        id = "base"
        kind = "percentage"
        rate = "10%"
        decelerator = { below = "50%", factor = "0.5" }
        "#,
    );
    let txs = transactions("booking 1 2026-03-02 split=7:100% | A 1 4000.00");
    let (_, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        200.00 EUR base | 10% of 4,000.00 EUR amount on booking 1, decelerator x0.5 because attainment 40%
        200.00 EUR total payable
        ",
    );
}

#[test]
fn caps_per_line_period_and_year_and_a_floor() {
    let plan = plan_with(
        "",
        r#"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"
        products = ["A"]
        cap_per_line = "300"
        cap_per_period = "500"
        cap_per_year = "1200"

        [[component]]
        id = "services"
        kind = "percentage"
        rate = "5%"
        products = ["S"]
        floor_per_period = "250"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 split=7:100% | A 1 4000.00
        booking 2 2026-03-03 split=7:100% | A 1 5000.00
        booking 3 2026-03-04 split=7:100% | A 1 1000.00 | S 1 1000.00
        ",
    );
    let prior = PayeeState {
        year: 2026,
        year_to_date: BTreeMap::from([(RuleId::named("commission"), d("900"))]),
        ..PayeeState::default()
    };
    let (statement, text) = run(&plan, &payee(7), &txs, "2026-03", &prior);
    check(
        &text,
        "
        300.00 EUR commission | 10% of 4,000.00 EUR amount on booking 1, capped per line from 400.00 EUR
        300.00 EUR commission | 10% of 5,000.00 EUR amount on booking 2, capped per line from 500.00 EUR
        100.00 EUR commission | 10% of 1,000.00 EUR amount on booking 3
        -200.00 EUR commission | capped at 500.00 EUR for the period
        -200.00 EUR commission | capped at 1,200.00 EUR for the year
        50.00 EUR services | 5% of 1,000.00 EUR amount on booking 3
        200.00 EUR services | raised to the floor of 250.00 EUR for the period
        550.00 EUR total payable
        ",
    );
    assert_eq!(statement.closing.year_to_date["commission"], d("1200"));
    // A new year starts the yearly cap again.
    let (_, next_year) = run(&plan, &payee(7), &[], "2027-01", &statement.closing);
    check(
        &next_year,
        "250.00 EUR services | raised to the floor of 250.00 EUR for the period\n250.00 EUR total payable",
    );
}

#[test]
fn spif_new_customer_per_unit_and_scores() {
    let plan = plan_with(
        "",
        r#"
        [[component]]
        id = "cloud-spif"
        kind = "spif"
        products = ["CLOUD"]
        amount = "50"
        from = 2026-03-01
        to = 2026-03-15

        [[component]]
        id = "new-logo"
        kind = "new_customer"
        amount = "500"

        [[component]]
        id = "units"
        kind = "per_unit"
        amount = "2"
        rates = [{ product = "CLOUD", amount = "5" }]

        [[component]]
        id = "objectives"
        kind = "mbo"
        metric = "mbo_q1"
        target = "1000"
        max_score = "120%"

        [[component]]
        id = "retention"
        kind = "retention"
        metric = "retention"
        target = "400"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-05 new split=7:100% | CLOUD/Software 10 5000.00 | SUPPORT/Services 4 800.00
        booking 2 2026-03-20 split=7:100% | CLOUD/Software 2 1000.00
        ",
    );
    let mut p = payee(7);
    p.scores.insert("mbo_q1".into(), d("1.5"));
    let (_, text) = run(&plan, &p, &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        500.00 EUR cloud-spif | 50.00 EUR per unit x 10 (SPIF) on booking 1
        500.00 EUR new-logo | 500.00 EUR per transaction for a new customer on booking 1
        50.00 EUR units | 5.00 EUR per unit x 10 on booking 1
        8.00 EUR units | 2.00 EUR per unit x 4 on booking 1
        10.00 EUR units | 5.00 EUR per unit x 2 on booking 2
        1,200.00 EUR objectives | mbo_q1 score 150% of target 1,000.00 EUR
        2,268.00 EUR total payable
        ! payee 7: no 'retention' score for component 'retention'; not paid
        ",
    );
}

#[test]
fn recoverable_draw_is_carried_forward_and_recovered_on_a_schedule() {
    let plan = plan_with(
        "",
        r#"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"

        [draw]
        amount = "2000"
        recoverable = true
        max_recovery_per_period = "500"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 split=7:100% | A 1 5000.00
        booking 2 2026-04-02 split=7:100% | A 1 30000.00
        ",
    );
    let (march, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        500.00 EUR commission | 10% of 5,000.00 EUR amount on booking 1
        1,500.00 EUR draw | draw tops earnings up to 2,000.00 EUR
        2,000.00 EUR total payable
        ",
    );
    assert_eq!(march.closing.draw_balance, d("1500"));
    let (april, text) = run(&plan, &payee(7), &txs, "2026-04", &march.closing);
    check(
        &text,
        "
        3,000.00 EUR commission | 10% of 30,000.00 EUR amount on booking 2
        -500.00 EUR draw | recovery of an earlier draw (draw 2,000.00 EUR)
        2,500.00 EUR total payable
        ",
    );
    assert_eq!(april.closing.draw_balance, d("1000"));

    let non_recoverable = Plan {
        draw: plan.draw.clone().map(|mut dr| {
            dr.recoverable = false;
            dr
        }),
        ..plan.clone()
    };
    let (march, _) = run(&non_recoverable, &payee(7), &txs, "2026-03", &PayeeState::default());
    assert_eq!((march.payable.amount, march.closing.draw_balance), (d("2000.00"), d("0")));
}

#[test]
fn clawback_only_within_the_window_but_attainment_always_falls() {
    let plan = plan_with(
        r#"quota = "10000"
        earning_event = "invoice""#,
        r#"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"

        [clawback]
        window_days = 90
        "#,
    );
    let txs = transactions(
        "
        credit_note 2 2026-03-05 reverses=1@2026-01-10 split=7:100% | A 1 1000.00
        credit_note 3 2026-03-20 reverses=9@2025-11-01 split=7:100% | A 1 500.00
        ",
    );
    let (statement, text) = run(&plan, &payee(7), &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        -100.00 EUR commission | 10% of -1,000.00 EUR amount on credit note 2 reversing 1
        -100.00 EUR total payable
        ! payee 7: credit note 3 reverses 9 of 2025-11-01, outside the 90-day clawback window: not clawed back
        ",
    );
    assert_eq!(statement.credited, d("-1500.00"));
}

#[test]
fn holds_releases_and_adjustments_flow_through_the_calculation() {
    let plan = plan_with(
        "",
        r#"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 opp=5 split=7:100% | A 1 3000.00
        booking 2 2026-03-03 opp=6 split=7:100% | A 1 1000.00
        ",
    );
    let mut march_inputs = payee(7);
    march_inputs
        .holds
        .push(Hold { scope: HoldScope::Opportunity(OpportunityId(5)), reason: "until the customer pays".into() });
    march_inputs.adjustments = vec![
        Adjustment {
            id: 1,
            amount: d("150"),
            reason_code: "SPLIT-FIX".into(),
            approver: Some(UserId(2)),
            approver_name: Some("Ada Finance".into()),
            opportunity: None,
        },
        Adjustment {
            id: 2,
            amount: d("99"),
            reason_code: "SELF".into(),
            approver: Some(UserId(7)),
            approver_name: None,
            opportunity: None,
        },
    ];
    let (march, text) = run(&plan, &march_inputs, &txs, "2026-03", &PayeeState::default());
    check(
        &text,
        "
        300.00 EUR commission [held] | 10% of 3,000.00 EUR amount on booking 1 (opportunity 5), held: until the customer pays
        100.00 EUR commission | 10% of 1,000.00 EUR amount on booking 2 (opportunity 6)
        150.00 EUR adjustment | manual adjustment, reason SPLIT-FIX, approved by Ada Finance
        250.00 EUR total payable, 300.00 EUR held
        ! payee 7: adjustment 2 (SELF) has no approver other than the payee; not applied
        ",
    );
    let mut april_inputs = payee(7);
    april_inputs.releases.push(HoldScope::Opportunity(OpportunityId(5)));
    let (april, text) = run(&plan, &april_inputs, &txs, "2026-04", &march.closing);
    check(
        &text,
        "
        300.00 EUR commission | release of commission held in 2026-03 on opportunity 5
        300.00 EUR total payable
        ",
    );
    assert!(april.closing.held.is_empty());
}

#[test]
fn payout_in_the_payees_currency_at_the_dated_rate() {
    let plan = plan_with(
        r#"payout_currency = "USD""#,
        r#"
        [[component]]
        id = "commission"
        kind = "percentage"
        rate = "10%"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 cur=USD split=7:100% | A 1 1100.00
        booking 2 2026-03-03 split=7:100% | A 1 1000.00
        ",
    );
    let (statement, text) =
        run_with(&plan, &payee(7), &txs, "2026-03", &PayeeState::default(), &eur_usd("1.10"), &Hierarchy::default());
    check(
        &text,
        "
        110.00 USD commission | 10% of 1,000.00 EUR amount on booking 1
        110.00 USD commission | 10% of 1,000.00 EUR amount on booking 2
        220.00 USD total payable, converted at 1.1 on 2026-03-31
        ",
    );
    assert_eq!(statement.credited.round_dp(2), d("2000.00"));
}

#[test]
fn manager_overlay_credit_up_the_hierarchy() {
    let plan = plan_with(
        "",
        r#"
        [[component]]
        id = "team"
        kind = "percentage"
        rate = "2%"
        credit = "overlay"

        [[component]]
        id = "own"
        kind = "percentage"
        rate = "10%"
        credit = "direct"
        "#,
    );
    let txs = transactions(
        "
        booking 1 2026-03-02 split=7:100% | A 1 10000.00
        booking 2 2026-03-03 split=8:50%,1:50% | A 1 4000.00
        ",
    );
    let hierarchy = Hierarchy {
        managers: HashMap::from([(UserId(7), UserId(1)), (UserId(8), UserId(1)), (UserId(1), UserId(100))]),
        overlay_levels: 1,
    };
    let (statement, text) =
        run_with(&plan, &payee(1), &txs, "2026-03", &PayeeState::default(), &Default::default(), &hierarchy);
    check(
        &text,
        "
        200.00 EUR team | 2% of 10,000.00 EUR amount on booking 1, overlay credit from 7
        40.00 EUR team | 2% of 2,000.00 EUR amount on booking 2, 50% split, overlay credit from 8
        200.00 EUR own | 10% of 2,000.00 EUR amount on booking 2, 50% split
        440.00 EUR total payable
        ",
    );
    // Overlay credit counts towards the manager's attainment.
    assert_eq!(statement.credited, d("14000.00"));
    let (top, _) = run_with(
        &plan,
        &Payee::new(UserId(100)),
        &txs,
        "2026-03",
        &PayeeState::default(),
        &Default::default(),
        &hierarchy,
    );
    // One level up from payee 1 only: their own half of booking 2, not 7's or 8's credit.
    assert_eq!(top.lines.len(), 1);
    assert_eq!(top.lines[0].key.overlay_of, Some(UserId(1)));
    assert_eq!(top.payable.amount, d("40.00"));
}
