//! Incentive compensation through the API and the pages: plan text with its errors at line and
//! column, assignments and acceptance, a run on the small demo that equals the engine run
//! directly, who sees which statement, approval, locking and delta lines, and all-or-nothing runs.

use std::collections::BTreeMap;

use app::comp_engine as comp;
use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;

use crate::{ADMIN, FINANCE, MANAGER, REP, TestApp, both};

/// A plan for the error checks: 5% up to quota, 8% above, x1.5 above 120%, plus 2% on services.
const PLAN: &str = r#"[plan]
id = "ae-2026"
name = "Account executive 2026"
version = 1
effective_from = 2026-01-01
currency = "EUR"
earning_event = "booking"
quota = "40000"

[[component]]
id = "quota"
kind = "tiered"
tiers = [
  { from = "0%", rate = "5%" },
  { from = "100%", rate = "8%" },
]
accelerator = { above = "120%", factor = "1.5" }

[[component]]
id = "services"
kind = "percentage"
product_lines = ["Services"]
rate = "2%"
"#;

const MAY: &str = "2026-05";

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

/// The demo company's plan (assigned to every sales rep by the demo loader): its text and
/// the reps' ids.
async fn demo_plan(t: &TestApp) -> (String, Vec<i64>) {
    let admin = t.session(ADMIN).await;
    let plans = t.get("/api/v1/comp/plans", &admin).await.json();
    let text = plans["versions"][0]["text"].as_str().unwrap().to_string();
    let users = t.get("/api/v1/users?role=sales_rep&limit=500", &admin).await.json();
    let mut reps: Vec<i64> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] != false)
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    reps.sort_unstable();
    let mut assigned: Vec<i64> =
        plans["assignments"].as_array().unwrap().iter().map(|a| a["payee_id"].as_i64().unwrap()).collect();
    assigned.sort_unstable();
    assert_eq!(assigned, reps, "the demo assigns its plan to every rep");
    assert!(reps.len() >= 2, "the small demo has several reps");
    (text, reps)
}

/// The engine run directly over the stored won opportunities: payable per payee.
async fn engine_payable(t: &TestApp, text: &str, payees: &[i64], period: &str) -> BTreeMap<i64, Decimal> {
    let plan = comp::Plan::parse(text).unwrap();
    let period = app::parse_period(period).unwrap();
    let bookings = t.store.comp_bookings(period.start, period.end).await.unwrap();
    let transactions = app::bookings_to_transactions(&bookings).unwrap();
    let fx = t.store.fx_table().await.unwrap();
    let (book, _) = comp::allocate_credits(&transactions, &comp::Hierarchy::default());
    let payees: Vec<_> =
        payees.iter().map(|id| (comp::Payee::new(model::UserId(*id)), comp::PayeeState::default())).collect();
    let (statements, _) = comp::calculate_period(&plan, &payees, &book, &period, &fx, 1);
    assert_eq!(statements.len(), payees.len());
    statements.iter().map(|s| (s.payee.0, s.payable.amount)).collect()
}

fn payable_by_payee(list: &serde_json::Value) -> BTreeMap<i64, Decimal> {
    list.as_array().unwrap().iter().map(|s| (s["payee_id"].as_i64().unwrap(), dec(&s["payable"]["amount"]))).collect()
}

both!(plan_text_errors_name_line_and_column_in_the_api_and_the_page, |t| {
    let admin = t.session(ADMIN).await;
    // A rate without a percent sign.
    let bad = PLAN.replace("rate = \"2%\"", "rate = \"2\"");
    let line = bad.lines().position(|l| l == "rate = \"2\"").unwrap() + 1;
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": bad }))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::BAD_REQUEST, Some("text")), "{}", r.body);
    let message = r.json()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with(&format!("line {line}, column ")), "{message}");

    // A TOML syntax error: line and column from the parser.
    let broken = PLAN.replace("version = 1", "version = = 1");
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": broken }))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().starts_with("line 4, column "), "{}", r.body);

    // The page shows the error and keeps the text; nothing was stored.
    let page = t.form("/comp/plans", &admin, &[("text", bad.as_str())]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("line {line}, column ")), "{}", page.body);
    assert!(page.body.contains("Account executive 2026"), "the pasted text stays in the form");
    assert_eq!(
        t.get("/api/v1/comp/plans", &admin).await.json()["versions"].as_array().unwrap().len(),
        1,
        "only the demo's"
    );

    // A rep may not add plans; the same version twice is a conflict.
    let rep = t.session(REP).await;
    let r = t.send("POST", "/api/v1/comp/plans", &rep, Some(json!({ "text": PLAN }))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": PLAN }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": PLAN }))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
});

both!(a_run_on_the_demo_equals_the_engine_and_reps_see_only_their_own, |t| {
    let (plan, reps) = demo_plan(&t).await;
    let rep = t.session(REP).await;
    let me = t.user_id(REP).await;
    let other = *reps.iter().find(|id| **id != me).unwrap();

    // The rep reads the plan and accepts it; acceptance is recorded once, and audited.
    let plans = t.get("/api/v1/comp/plans", &rep).await.json();
    let version = plans["versions"][0]["id"].as_i64().unwrap();
    assert_eq!(plans["versions"][0]["text"], plan);
    let r = t.send("POST", &format!("/api/v1/comp/plans/{version}/accept"), &rep, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let page = t.get("/comp/plans", &rep).await;
    assert!(page.body.contains("id=\"plan-text\""), "{}", page.body);
    assert!(!page.body.contains(&format!("id=\"accept-{version}\"")), "accepted once: no button any more");

    // Only Finance and administrators run a period.
    let r = t.send("POST", "/api/v1/comp/runs", &rep, Some(json!({"period": MAY}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let finance = t.session(FINANCE).await;
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({"period": MAY}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let diagnostics = r.json()["diagnostics"].to_string();
    assert!(diagnostics.contains("has not accepted plan 'ae' version 1"), "{diagnostics}");
    assert!(!diagnostics.contains(REP), "the rep accepted: {diagnostics}");

    // Finance sees every statement; totals equal the engine run directly.
    let all = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json();
    let stored = payable_by_payee(&all);
    assert_eq!(stored, engine_payable(&t, &plan, &reps, MAY).await);
    assert!(stored.values().any(|v| *v > Decimal::ZERO), "somebody earned something in May: {stored:?}");
    // Every line explains itself and links to its opportunity; the lines add up to the total.
    for s in all.as_array().unwrap() {
        let sum: Decimal = s["lines"].as_array().unwrap().iter().map(|l| dec(&l["amount"])).sum();
        assert_eq!(sum, dec(&s["payable"]["amount"]));
        for l in s["lines"].as_array().unwrap() {
            assert!(!l["sentence"].as_str().unwrap().is_empty());
            assert_eq!(l["explanation"]["opportunity"], l["opportunity_id"]);
        }
    }

    // A rep sees only their own statement; another rep's is not found, in the API and the page.
    let mine = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &rep).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["payee_id"], me);
    let r = t.get(&format!("/api/v1/comp/statements?period={MAY}&payee={other}"), &rep).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found".to_string()));
    let r = t.get(&format!("/comp/statement?period={MAY}&payee={other}"), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let page = t.get(&format!("/comp/statement?period={MAY}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"what-if\""));
    let opp = mine[0]["lines"].as_array().unwrap().iter().find_map(|l| l["opportunity_id"].as_i64());
    if let Some(o) = opp {
        assert!(page.body.contains(&format!("href=\"/opportunities/{o}\"")), "lines link to their opportunity");
    }

    // A manager sees their team's statements, not everybody's.
    let manager = t.session(MANAGER).await;
    let team = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &manager).await.json();
    let team = team.as_array().unwrap().len();
    assert!(team >= 1 && team < stored.len(), "team {team} of {}", stored.len());

    // What-if: 10,000 EUR more this month earns at least 5% of it.
    let w = t.get(&format!("/api/v1/comp/what-if?period={MAY}&amount=10000"), &rep).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    assert!(dec(&w.json()["difference"]["amount"]) >= Decimal::from(500), "{}", w.body);
    let page = t.get(&format!("/comp/statement?period={MAY}&amount=10000"), &rep).await;
    assert!(page.body.contains("id=\"what-if-result\""), "{}", page.body);

    // The payroll export has one row per payee and currency.
    let run = all[0]["run_id"].as_i64().unwrap();
    let csv = t.get(&format!("/api/v1/comp/runs/{run}/payroll.csv"), &finance).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), stored.len() + 1, "{}", csv.body);
    assert_eq!(t.get(&format!("/api/v1/comp/runs/{run}/payroll.csv"), &rep).await.status, StatusCode::FORBIDDEN);
});

both!(a_locked_period_never_changes_and_late_changes_become_delta_lines, |t| {
    let (plan, reps) = demo_plan(&t).await;
    let finance = t.session(FINANCE).await;
    let post_run = |body| t.send("POST", "/api/v1/comp/runs", &finance, Some(body));
    let r = post_run(json!({"period": MAY})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Recalculating a calculated period makes a new snapshot with the same inputs.
    let r2 = post_run(json!({"period": MAY})).await;
    assert_eq!(r2.status, StatusCode::CREATED, "{}", r2.body);
    assert_ne!(r.json()["runs"], r2.json()["runs"]);

    let path = format!("/api/v1/comp/periods/{MAY}/status");
    let status = |to: &str| t.send("POST", &path, &finance, Some(json!({ "status": to })));
    assert_eq!(status("locked").await.status, StatusCode::CONFLICT, "approve first");
    assert_eq!(status("approved").await.status, StatusCode::NO_CONTENT);
    assert_eq!(post_run(json!({"period": MAY})).await.status, StatusCode::CONFLICT, "approved periods do not run");
    assert_eq!(status("locked").await.status, StatusCode::NO_CONTENT);
    let locked = payable_by_payee(&t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json());

    // A late change: May's exchange rates are corrected (every currency doubles against EUR).
    let admin = t.session(ADMIN).await;
    let rates = t.get("/api/v1/fx-rates", &admin).await.json();
    for r in rates.as_array().unwrap().iter().filter(|r| r["valid_from"] == "2026-05-01") {
        let body = json!({"from": r["from"], "to": r["to"], "valid_from": "2026-05-01",
            "rate": (dec(&r["rate"]) * Decimal::from(2)).to_string()});
        assert_eq!(t.send("POST", "/api/v1/fx-rates", &admin, Some(body)).await.status, StatusCode::NO_CONTENT);
    }
    let r = post_run(json!({"period": MAY})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // May is unchanged; June carries delta lines that say what they correct.
    let may = payable_by_payee(&t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json());
    assert_eq!(may, locked, "a locked period never changes");
    let june = t.get("/api/v1/comp/statements?period=2026-06", &finance).await.json();
    let deltas: Vec<&serde_json::Value> = june.as_array().unwrap().iter().filter(|s| s["kind"] == "delta").collect();
    assert!(!deltas.is_empty(), "the corrected rates change somebody's May: {june}");
    let now = engine_payable(&t, &plan, &reps, MAY).await;
    for s in deltas {
        assert_eq!(s["source_period"], MAY);
        let payee = s["payee_id"].as_i64().unwrap();
        for l in s["lines"].as_array().unwrap() {
            assert_eq!(l["explanation"]["corrects"]["period"], MAY, "{l}");
            assert!(l["sentence"].as_str().unwrap().contains("corrects 2026-05"), "{l}");
        }
        // old + deltas = new, to the cent.
        assert_eq!(locked[&payee] + dec(&s["payable"]["amount"]), now[&payee], "payee {payee}");
    }

    // Runs, statements and explained lines survive a backup and restore on either store unchanged.
    let mut first = Vec::new();
    t.store.backup(&mut first, &|_| {}).await.unwrap();
    for target in [crate::Kind::Sqlite, crate::Kind::Postgres] {
        let Some(target_store) = crate::empty_store(target).await else { continue };
        target_store.store.restore(&mut first.as_slice(), &|_| {}).await.unwrap();
        let mut second = Vec::new();
        target_store.store.backup(&mut second, &|_| {}).await.unwrap();
        assert!(first == second, "{:?} -> {target:?}: backups of compensation data differ", t.kind);
    }
});

both!(a_run_on_bad_input_writes_nothing, |t| {
    // A second version of the demo plan, paid in JPY, for which the store has no exchange rate.
    let (plan, _) = demo_plan(&t).await;
    let jpy = plan
        .replace("version = 1", "version = 2")
        .replace("currency = \"EUR\"", "currency = \"EUR\"\npayout_currency = \"JPY\"");
    let admin = t.session(ADMIN).await;
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": jpy }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let finance = t.session(FINANCE).await;
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({"period": MAY}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "refused".to_string()), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("nothing was written"), "{}", r.body);
    let list = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json();
    assert_eq!(list, json!([]));
    let page = t.get(&format!("/comp/statement?period={MAY}"), &finance).await;
    assert!(page.body.contains("id=\"period-status\">open<"), "{}", page.body);
    // A period that is not a month is a field error.
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({"period": "2026-13"}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("period")));
});

/// Screenshots of the plan and statement pages in a real browser (`target/screenshots/`).
#[tokio::test]
async fn comp_pages_in_a_real_browser() {
    use crate::browser::{browser, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;

    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let rep = t.session(REP).await;
    let version = t.get("/api/v1/comp/plans", &rep).await.json()["versions"][0]["id"].as_i64().unwrap();
    let finance = t.session(FINANCE).await;
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({"period": MAY}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let base = crate::browser::serve(&t).await;

    // The rep reads and accepts the plan, then reads the statement and tries the what-if.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, REP).await;
    d.goto(format!("{base}/comp/plans")).await.unwrap();
    wait_for(&d, By::Id("plan-text")).await;
    shot(&d, "comp-01-plan-rep").await;
    d.find(By::Id(format!("accept-{version}"))).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("plan-text")).await;
    assert!(d.find(By::Id(format!("accept-{version}"))).await.is_err(), "accepted");
    d.goto(format!("{base}/comp/statement?period={MAY}")).await.unwrap();
    wait_for(&d, By::Id("what-if")).await;
    shot(&d, "comp-02-statement-rep").await;
    d.find(By::Id("amount")).await.unwrap().send_keys("25000").await.unwrap();
    d.find(By::Css("#what-if button")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("what-if-result")).await;
    shot(&d, "comp-03-what-if-rep").await;
    d.quit().await.unwrap();

    // Finance sees every payee and the period's actions.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, FINANCE).await;
    d.goto(format!("{base}/comp/statement?period={MAY}")).await.unwrap();
    wait_for(&d, By::Id("period-actions")).await;
    assert!(d.find_all(By::Css("#payees tbody tr")).await.unwrap().len() >= 2);
    shot(&d, "comp-04-statement-finance").await;
    d.find(By::Css("#payees tbody tr a")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Css(".statement")).await;
    shot(&d, "comp-04b-statement-payee-finance").await;
    d.quit().await.unwrap();

    // An administrator pastes a plan with an error: line and column above the kept text.
    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, ADMIN).await;
    d.goto(format!("{base}/comp/plans")).await.unwrap();
    let bad = PLAN.replace("rate = \"2%\"", "rate = \"2\"");
    let area = wait_for(&d, By::Id("text")).await;
    area.clear().await.unwrap();
    area.send_keys(&bad).await.unwrap();
    d.find(By::Id("save-plan")).await.unwrap().click().await.unwrap();
    let err = wait_for(&d, By::Id("form-error")).await.text().await.unwrap();
    let line = bad.lines().position(|l| l == "rate = \"2\"").unwrap() + 1;
    assert!(err.contains(&format!("line {line}, column 8")), "{err}");
    shot(&d, "comp-05-plan-error-admin").await;
    d.quit().await.unwrap();
}
