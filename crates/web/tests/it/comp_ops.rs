//! Compensation operations through the API and the pages: the state carried from one month to
//! the next (a yearly cap, a draw recovered, a held line paid after its release), adjustments
//! approved by a second person and paid as explained lines, the dispute workflow with who sees
//! what, two runs compared line by line, and a calculation that writes all or nothing.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{ADMIN, FINANCE, MANAGER, REP, TestApp, both};

const APRIL: &str = "2026-04";
const MAY: &str = "2026-05";

/// 5% of bookings capped at 1.00 EUR a year, over a recoverable draw of 1,000 EUR a month that
/// is recovered at most 300 EUR a month: small numbers that make the carried state visible.
const OPS_PLAN: &str = r#"[plan]
id = "ops"
name = "Operations check"
version = 1
effective_from = 2026-01-01
currency = "EUR"
earning_event = "booking"
quota = "40000"

[[component]]
id = "quota"
kind = "percentage"
rate = "5%"
cap_per_year = "1"

[draw]
amount = "1000"
recoverable = true
max_recovery_per_period = "300"
"#;

async fn mv(t: &TestApp, path: &str, who: &crate::As, body: Value) -> crate::Resp {
    t.send("POST", path, who, Some(body)).await
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

/// Stores the ops plan and assigns it to every active rep; returns the reps' ids.
async fn ops_plan(t: &TestApp) -> Vec<i64> {
    let admin = t.session(ADMIN).await;
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": OPS_PLAN }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let users = t.get("/api/v1/users?role=sales_rep&limit=500", &admin).await.json();
    let reps: Vec<i64> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["active"] != false)
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    for id in &reps {
        let body = json!({"plan": "ops", "payee_id": id, "starts_on": "2026-01-01"});
        let r = t.send("POST", "/api/v1/comp/assignments", &admin, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    reps
}

async fn run(t: &TestApp, period: &str) -> Value {
    let finance = t.session(FINANCE).await;
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({ "period": period }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// The ops plan's statements of a period (Finance's view), by payee.
async fn ops_statements(t: &TestApp, period: &str) -> BTreeMap<i64, Value> {
    let finance = t.session(FINANCE).await;
    let all = t.get(&format!("/api/v1/comp/statements?period={period}"), &finance).await.json();
    all.as_array()
        .unwrap()
        .iter()
        .filter(|s| s["plan"] == "ops" && s["kind"] == "calculation")
        .map(|s| (s["payee_id"].as_i64().unwrap(), s.clone()))
        .collect()
}

fn lines<'a>(s: &'a Value, pred: impl Fn(&Value) -> bool + 'a) -> impl Iterator<Item = &'a Value> + 'a {
    s["lines"].as_array().unwrap().iter().filter(move |l| pred(l))
}

fn sum<'a>(it: impl Iterator<Item = &'a Value>) -> Decimal {
    it.map(|l| dec(&l["amount"])).sum()
}

both!(the_next_month_carries_caps_draws_and_held_lines_and_runs_compare, |t| {
    ops_plan(&t).await;
    let me = t.user_id(REP).await;
    let finance = t.session(FINANCE).await;
    let admin = t.session(ADMIN).await;

    // April: every payee earns at most the yearly cap and gets the draw.
    run(&t, APRIL).await;
    let april = ops_statements(&t, APRIL).await;
    let (payee, opportunity) = april
        .iter()
        .find_map(|(p, s)| {
            lines(s, |l| l["kind"] == "commission").find_map(|l| l["opportunity_id"].as_i64()).map(|o| (*p, o))
        })
        .expect("somebody won an opportunity in April");

    // Finance holds that opportunity "until the customer pays" and recalculates April.
    let body = json!({"scope": "opportunity", "opportunity_id": opportunity, "reason": "until the customer pays",
        "from_period": APRIL});
    let r = t.send("POST", "/api/v1/comp/holds", &finance, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hold = r.json()["id"].as_i64().unwrap();
    let rep = t.session(REP).await;
    assert_eq!(t.send("POST", "/api/v1/comp/holds", &rep, Some(body)).await.status, StatusCode::FORBIDDEN);
    let r = t
        .send(
            "POST",
            "/api/v1/comp/holds",
            &finance,
            Some(json!({"scope": "moon", "reason": "x", "from_period": APRIL})),
        )
        .await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("scope")));
    run(&t, APRIL).await;
    let april = ops_statements(&t, APRIL).await;
    let held: Vec<&Value> = lines(&april[&payee], |l| l["opportunity_id"] == opportunity).collect();
    assert!(!held.is_empty());
    for l in &held {
        assert_eq!(l["status"], "held", "{l}");
        assert!(l["sentence"].as_str().unwrap().contains("held: until the customer pays"), "{l}");
    }
    let held_total = sum(held.iter().copied());
    assert_eq!(dec(&april[&payee]["held"]["amount"]), held_total);
    assert!(held_total > Decimal::ZERO);
    // The rep's April: the draw tops earnings up (a recoverable draw: the balance is carried).
    let top_up = sum(lines(&april[&me], |l| l["kind"] == "draw"));
    assert!(top_up >= Decimal::from(999), "{}", april[&me]);

    // An adjustment for the rep in May: requested by Finance, approved by somebody else.
    let body = json!({"payee_id": me, "period": MAY, "amount": "5000", "currency": "EUR", "reason_code": "missed_credit",
        "note": "deal 4711 was booked on the wrong rep", "plan": "ops"});
    for (bad, field) in [
        (json!({"reason_code": "because"}), "reason_code"),
        (json!({"currency": "USD"}), "currency"),
        (json!({"amount": "0"}), "amount"),
        (json!({"note": " "}), "note"),
        (json!({"plan": null}), "plan"),
    ] {
        let mut b = body.clone();
        b.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        let r = t.send("POST", "/api/v1/comp/adjustments", &finance, Some(b)).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    let r = t.send("POST", "/api/v1/comp/adjustments", &finance, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let adjustment = r.json()["id"].as_i64().unwrap();

    // May, first run: the adjustment is not approved yet, so it is not paid.
    let first = run(&t, MAY).await;
    let may = ops_statements(&t, MAY).await;
    assert_eq!(lines(&may[&me], |l| l["kind"] == "adjustment").count(), 0, "pending adjustments are not paid");
    // Yearly cap across months: April's earnings count towards May's cap.
    let quota = |s: &Value| sum(lines(s, |l| l["rule"] == "quota" && l["status"] == "payable"));
    for (p, s) in &may {
        assert!(quota(&april[p]) + quota(s) <= Decimal::ONE, "payee {p}: {} + {}", quota(&april[p]), quota(s));
    }
    assert!(
        may.iter().any(|(p, s)| quota(&april[p]) == Decimal::ONE && lines(s, |l| l["kind"] == "year cap").count() > 0),
        "somebody reached the yearly cap in April and earned again in May"
    );

    // The requester cannot approve; the payee neither; an administrator can, once.
    let path = format!("/api/v1/comp/adjustments/{adjustment}/approve");
    let r = t.send("POST", &path, &finance, None).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "refused".to_string()), "{}", r.body);
    assert_eq!(t.send("POST", &path, &rep, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.send("POST", &path, &admin, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.send("POST", &path, &admin, None).await.status, StatusCode::CONFLICT);
    let listed = t.get(&format!("/api/v1/comp/adjustments?period={MAY}"), &finance).await.json();
    assert_eq!(listed[0]["status"], "approved");
    let approver = listed[0]["approved_by"].as_str().expect("the approver's name").to_string();
    let admin_id = t.user_id(ADMIN).await;

    // The hold is released into May; May is calculated again.
    let r = t.send("POST", &format!("/api/v1/comp/holds/{hold}/release"), &finance, Some(json!({"period": MAY}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let again =
        t.send("POST", &format!("/api/v1/comp/holds/{hold}/release"), &finance, Some(json!({"period": MAY}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let second = run(&t, MAY).await;
    let may = ops_statements(&t, MAY).await;

    // The held lines are paid in May as release lines naming April.
    let released: Vec<&Value> = lines(&may[&payee], |l| l["kind"] == "release").collect();
    assert_eq!(released.len(), held.len(), "{}", may[&payee]);
    for l in &released {
        assert_eq!(l["status"], "payable");
        assert_eq!(l["explanation"]["held_in"], APRIL, "{l}");
        assert!(l["sentence"].as_str().unwrap().contains("held in 2026-04"), "{l}");
    }
    let cent = Decimal::new(1, 2) * Decimal::from(released.len());
    assert!((sum(released.iter().copied()) - held_total).abs() <= cent, "released {:?}", released);

    // The approved adjustment is an explained line; with it the rep earns above the draw, so
    // April's draw is recovered at the scheduled 300 EUR.
    let adj: Vec<&Value> = lines(&may[&me], |l| l["kind"] == "adjustment").collect();
    assert_eq!(adj.len(), 1, "{}", may[&me]);
    assert_eq!(dec(&adj[0]["amount"]), Decimal::from(5000));
    let sentence = adj[0]["sentence"].as_str().unwrap();
    // The statement names the approver, never their user id.
    assert!(
        sentence.contains(&format!("manual adjustment, reason missed_credit, approved by {approver}")),
        "{sentence}"
    );
    assert!(!sentence.contains(&format!("approved by {admin_id}")), "{sentence}");
    let page = t.get(&format!("/comp/statement?period={MAY}&payee={me}"), &finance).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("approved by {approver}")), "{}", page.body);
    let recovery: Vec<&Value> = lines(&may[&me], |l| l["kind"] == "draw recovery").collect();
    assert_eq!(recovery.len(), 1, "{}", may[&me]);
    assert_eq!(dec(&recovery[0]["amount"]), Decimal::from(-300));

    // The two May runs of the ops plan compared line by line.
    let ops_run = |outcome: &Value, statements: &BTreeMap<i64, Value>| {
        let ids: Vec<i64> = outcome["runs"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let id = statements.values().next().unwrap()["run_id"].as_i64().unwrap();
        assert!(ids.contains(&id));
        id
    };
    let b = ops_run(&second, &may);
    let a = first["runs"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).find(|id| {
        second["runs"].as_array().unwrap().iter().position(|v| v.as_i64() == Some(b))
            == first["runs"].as_array().unwrap().iter().position(|v| v.as_i64() == Some(*id))
    });
    let a = a.unwrap();
    let c = t.get(&format!("/api/v1/comp/runs/{a}/compare/{b}"), &finance).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.body);
    let c = c.json();
    assert_eq!(c["period"], MAY);
    let added = c["added"].as_array().unwrap();
    assert!(
        added
            .iter()
            .any(|l| l["payee_id"] == me && l["kind"] == "adjustment" && dec(&l["after"]) == Decimal::from(5000)),
        "{c}"
    );
    assert!(added.iter().any(|l| l["payee_id"] == payee && l["kind"] == "release"), "{c}");
    assert!(
        added
            .iter()
            .chain(c["changed"].as_array().unwrap())
            .any(|l| l["payee_id"] == me && l["kind"] == "draw recovery")
    );
    assert!(c["unchanged"].as_u64().unwrap() > 0);
    let same = t.get(&format!("/api/v1/comp/runs/{b}/compare/{b}"), &finance).await.json();
    assert_eq!((same["added"].as_array().unwrap().len(), same["changed"].as_array().unwrap().len()), (0, 0));
    // Runs of different months are not compared; reps do not compare runs.
    let april_run = ops_statements(&t, APRIL).await.values().next().unwrap()["run_id"].as_i64().unwrap();
    let r = t.get(&format!("/api/v1/comp/runs/{april_run}/compare/{b}"), &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/comp/runs/{a}/compare/{b}"), &rep).await.status, StatusCode::FORBIDDEN);
    // The compare page shows the same.
    let page = t.get(&format!("/comp/compare?period={MAY}&a={a}&b={b}"), &finance).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"compare-added\""), "{}", page.body);
    assert!(page.body.contains("missed_credit"), "the added adjustment line is listed");

    // The operations page lists the hold (released) and nothing awaiting approval.
    let page = t.get(&format!("/comp/operations?period={MAY}"), &finance).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"hold-{hold}\"")), "{}", page.body);
    assert!(!page.body.contains(&format!("id=\"release-{hold}\"")), "released holds have no release button");
    assert_eq!(t.get("/comp/operations", &rep).await.status, StatusCode::FORBIDDEN);
});

both!(a_rep_disputes_own_lines_and_finance_settles_them_with_an_adjustment, |t| {
    let reps = ops_plan(&t).await;
    run(&t, MAY).await;
    let me = t.user_id(REP).await;
    let may = ops_statements(&t, MAY).await;
    // Every payee has at least the draw line.
    let mine = may[&me]["lines"][0]["id"].as_i64().unwrap();
    let other_rep = *reps.iter().find(|id| **id != me).unwrap();
    let theirs = may[&other_rep]["lines"][0]["id"].as_i64().unwrap();

    let rep = t.session(REP).await;
    let finance = t.session(FINANCE).await;
    let admin = t.session(ADMIN).await;
    // Somebody else's line is not found; an empty text is a field error.
    let r = t.send("POST", "/api/v1/comp/disputes", &rep, Some(json!({"line_id": theirs, "text": "mine too"}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found".to_string()), "{}", r.body);
    let r = t.send("POST", "/api/v1/comp/disputes", &rep, Some(json!({"line_id": mine, "text": "  "}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("text")));
    let text = "The Acme renewal closed in May but is missing here.";
    let r = t.send("POST", "/api/v1/comp/disputes", &rep, Some(json!({"line_id": mine, "text": text}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let r = t.send("POST", "/api/v1/comp/disputes", &rep, Some(json!({"line_id": mine, "text": "again"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "one open dispute per line");

    // Who sees it: the rep, Finance, the rep's manager if the rep is in the team; another rep not.
    let other_email =
        t.get(&format!("/api/v1/users/{other_rep}"), &admin).await.json()["email"].as_str().unwrap().to_string();
    let other = t.session(&other_email).await;
    assert_eq!(t.get("/api/v1/comp/disputes", &other).await.json(), json!([]));
    assert_eq!(t.get(&format!("/api/v1/comp/disputes/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    let page = t.get(&format!("/comp/statement?period={MAY}"), &other).await;
    assert!(!page.body.contains(text), "another rep's page never shows the dispute");
    assert_eq!(t.get("/api/v1/comp/disputes", &rep).await.json()[0]["id"], id);
    assert_eq!(t.get("/api/v1/comp/disputes?status=open", &finance).await.json()[0]["id"], id);
    let manager = t.session(MANAGER).await;
    let team = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &manager).await.json();
    let in_team = team.as_array().unwrap().iter().any(|s| s["payee_id"] == me);
    let seen = t.get("/api/v1/comp/disputes", &manager).await.json();
    assert_eq!(seen.as_array().unwrap().iter().any(|d| d["id"] == id), in_team, "{seen}");

    // Finance moves it; the rep may not; a rejection needs a reason, an acceptance an amount.
    let path = format!("/api/v1/comp/disputes/{id}/transitions");
    assert_eq!(mv(&t, &path, &rep, json!({"status": "in_review"})).await.status, StatusCode::FORBIDDEN);
    let r = mv(&t, &path, &finance, json!({"status": "rejected", "note": " "})).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    assert_eq!(
        mv(&t, &path, &finance, json!({"status": "in_review", "note": "checking the booking"})).await.status,
        StatusCode::OK
    );
    let r = mv(&t, &path, &finance, json!({"status": "accepted"})).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")));
    let r =
        mv(&t, &path, &finance, json!({"status": "accepted", "note": "booked on the wrong month", "amount": "150"}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let adjustment = r.json()["adjustment_id"].as_i64().unwrap();
    assert_eq!(
        mv(&t, &path, &finance, json!({"status": "rejected", "note": "changed my mind"})).await.status,
        StatusCode::CONFLICT
    );

    // The thread, as the rep reads it.
    let d = t.get(&format!("/api/v1/comp/disputes/{id}"), &rep).await.json();
    let steps: Vec<&str> = d["events"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(steps, ["open", "in_review", "accepted"]);
    assert_eq!(d["events"][0]["note"], text);
    assert_eq!((d["status"].as_str(), d["adjustment_id"].as_i64()), (Some("accepted"), Some(adjustment)));
    let page = t.get(&format!("/comp/statement?period={MAY}"), &rep).await;
    assert!(page.body.contains(&format!("id=\"dispute-{id}\"")) && page.body.contains("booked on the wrong month"));
    // Every step is audited.
    let audit = t.get(&format!("/api/v1/audit?entity=comp_dispute&entity_id={id}"), &admin).await.json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 3, "{audit}");

    // The linked adjustment waits for another person's approval, then is paid in May.
    let a = t.get("/api/v1/comp/adjustments?status=pending", &finance).await.json();
    assert_eq!(
        (a[0]["id"].as_i64(), a[0]["reason_code"].as_str(), a[0]["dispute_id"].as_i64()),
        (Some(adjustment), Some("dispute"), Some(id))
    );
    let approve = format!("/api/v1/comp/adjustments/{adjustment}/approve");
    assert_eq!(t.send("POST", &approve, &finance, None).await.status, StatusCode::CONFLICT);
    assert_eq!(t.send("POST", &approve, &admin, None).await.status, StatusCode::NO_CONTENT);
    run(&t, MAY).await;
    let may = ops_statements(&t, MAY).await;
    let adj: Vec<&Value> = lines(&may[&me], |l| l["kind"] == "adjustment").collect();
    assert_eq!(adj.len(), 1, "{}", may[&me]);
    assert_eq!(dec(&adj[0]["amount"]), Decimal::from(150));
    assert!(adj[0]["sentence"].as_str().unwrap().contains("reason dispute"));
});

both!(a_calculation_writes_all_its_runs_or_nothing, |t| {
    ops_plan(&t).await;
    let finance = t.session(FINANCE).await;
    // A second version of the demo plan paid in JPY, which has no exchange rate: the ops plan
    // alone would calculate, but the calculation as a whole is refused and writes nothing.
    let admin = t.session(ADMIN).await;
    let demo = t.get("/api/v1/comp/plans", &admin).await.json()["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["plan"] == "ae")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    let jpy = demo
        .replace("version = 1", "version = 2")
        .replace("effective_from = 2025-01-01", "effective_from = 2026-05-01")
        .replace("currency = \"EUR\"", "currency = \"EUR\"\npayout_currency = \"JPY\"");
    assert_eq!(
        t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": jpy }))).await.status,
        StatusCode::CREATED
    );
    let r = t.send("POST", "/api/v1/comp/runs", &finance, Some(json!({"period": MAY}))).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "refused".to_string()), "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json(), json!([]));

    // In the store: two runs saved together where the second is refused (its month is locked)
    // leave no trace of the first.
    run(&t, APRIL).await;
    for to in ["approved", "locked"] {
        let r = t
            .send("POST", &format!("/api/v1/comp/periods/{APRIL}/status"), &finance, Some(json!({"status": to})))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    let version = t.get("/api/v1/comp/plans", &admin).await.json()["versions"][0]["id"].as_i64().unwrap();
    let new_run = |period: &str| store::NewRun {
        period: period.into(),
        kind: "calculation".into(),
        source_period: period.into(),
        plan_version_id: version,
        inputs_hash: "x".into(),
        diagnostics: vec![],
        statements: vec![],
    };
    let ctx = store::AuditContext::system(t.app.now());
    let r = t.store.comp_runs_save(&ctx, &[new_run("2026-03"), new_run(APRIL)]).await;
    assert!(matches!(r, Err(store::StoreError::Refused(_))), "{r:?}");
    assert!(t.store.comp_runs("2026-03").await.unwrap().is_empty(), "the first run was rolled back");
    assert_eq!(t.store.comp_period_status("2026-03").await.unwrap(), "open");
});

/// A rep disputes a line on the statement page and Finance accepts it on the operations page,
/// in a real browser (screenshots in `target/screenshots/`).
#[tokio::test]
async fn a_dispute_in_a_real_browser() {
    use crate::browser::{browser, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;

    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    ops_plan(&t).await;
    run(&t, MAY).await;
    let me = t.user_id(REP).await;
    let line = ops_statements(&t, MAY).await[&me]["lines"][0]["id"].as_i64().unwrap();
    let base = crate::browser::serve(&t).await;

    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, REP).await;
    d.goto(format!("{base}/comp/statement?period={MAY}")).await.unwrap();
    wait_for(&d, By::Id(format!("dispute-open-{line}"))).await.click().await.unwrap();
    let area = wait_for(&d, By::Id(format!("dispute-text-{line}"))).await;
    area.send_keys("The draw should include my May booking.").await.unwrap();
    shot(&d, "comp-ops-01-dispute-form-rep").await;
    d.find(By::Id(format!("dispute-submit-{line}"))).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Css("[id^='dispute-status-']")).await;
    let finance = t.session(FINANCE).await;
    let id = t.get("/api/v1/comp/disputes?status=open", &finance).await.json()[0]["id"].as_i64().unwrap();
    shot(&d, "comp-ops-02-dispute-open-rep").await;
    d.quit().await.unwrap();

    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, FINANCE).await;
    d.goto(format!("{base}/comp/operations?period={MAY}")).await.unwrap();
    wait_for(&d, By::Id(format!("review-{id}"))).await.click().await.unwrap();
    // The page comes back with "saved" once the dispute is in review.
    wait_for(&d, By::Id("flash-done")).await;
    d.find(By::Id(format!("accept-amount-{id}"))).await.unwrap().send_keys("120").await.unwrap();
    d.find(By::Id(format!("accept-note-{id}"))).await.unwrap().send_keys("Booking credited late").await.unwrap();
    shot(&d, "comp-ops-03-operations-finance").await;
    d.find(By::Id(format!("accept-{id}"))).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("no-disputes")).await;
    assert!(
        d.find(By::Css("#adjustments tbody tr[id^='adjustment-']")).await.is_ok(),
        "the adjustment awaits approval"
    );
    assert!(d.find(By::Css("[id^='approve-']")).await.is_err(), "not by the person who requested it");
    shot(&d, "comp-ops-04-adjustment-pending-finance").await;
    d.quit().await.unwrap();

    let d = browser(driver_port, 1366, 900).await;
    sign_in(&d, &base, REP).await;
    d.goto(format!("{base}/comp/statement?period={MAY}")).await.unwrap();
    let status = wait_for(&d, By::Id(format!("dispute-status-{id}"))).await.text().await.unwrap();
    assert!(!status.is_empty());
    shot(&d, "comp-ops-05-dispute-accepted-rep").await;
    d.quit().await.unwrap();
}

both!(a_recalculation_that_changes_only_held_lines_is_carried_to_the_next_month, |t| {
    ops_plan(&t).await;
    let me = t.user_id(REP).await;
    let finance = t.session(FINANCE).await;
    let admin = t.session(ADMIN).await;
    // The whole ops plan is held from April: every earned line waits; only the draw is paid.
    let body = json!({"scope": "plan", "plan": "ops", "reason": "until the audit", "from_period": APRIL});
    let r = t.send("POST", "/api/v1/comp/holds", &finance, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hold = r.json()["id"].as_i64().unwrap();
    run(&t, APRIL).await;
    for to in ["approved", "locked"] {
        let path = format!("/api/v1/comp/periods/{APRIL}/status");
        assert_eq!(t.send("POST", &path, &finance, Some(json!({"status": to}))).await.status, StatusCode::NO_CONTENT);
    }
    let locked = ops_statements(&t, APRIL).await;

    // After the lock an adjustment for the rep's April is approved: April is recalculated, and
    // the adjustment is held like every other line, so nobody's pay changes, only what is held.
    let body = json!({"payee_id": me, "period": APRIL, "amount": "250", "currency": "EUR", "reason_code": "missed_credit",
        "note": "a booking credited after the lock", "plan": "ops"});
    let r = t.send("POST", "/api/v1/comp/adjustments", &finance, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let adjustment = r.json()["id"].as_i64().unwrap();
    let path = format!("/api/v1/comp/adjustments/{adjustment}/approve");
    assert_eq!(t.send("POST", &path, &admin, None).await.status, StatusCode::NO_CONTENT);
    let outcome = run(&t, APRIL).await;
    assert_eq!(outcome["statements"], 0, "no delta lines for anybody: {outcome}");
    assert_eq!(ops_statements(&t, APRIL).await, locked, "a locked month never changes");
    // The statements carrying only the recalculated state are not shown as empty corrections.
    let may = t.get(&format!("/api/v1/comp/statements?period={MAY}"), &finance).await.json();
    assert!(may.as_array().unwrap().iter().all(|s| !s["lines"].as_array().unwrap().is_empty()), "{may}");

    // May starts from the recalculated April: releasing the hold into May pays the held
    // adjustment too, next to the lines held in the locked April.
    let r = t.send("POST", &format!("/api/v1/comp/holds/{hold}/release"), &finance, Some(json!({"period": MAY}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    run(&t, MAY).await;
    let may = ops_statements(&t, MAY).await;
    let released: Vec<&Value> = lines(&may[&me], |l| l["kind"] == "release" && l["rule"] == "adjustment").collect();
    assert_eq!(released.len(), 1, "{}", may[&me]);
    assert!((dec(&released[0]["amount"]) - Decimal::from(250)).abs() <= Decimal::new(1, 2), "{}", released[0]);
    assert_eq!(released[0]["explanation"]["held_in"], APRIL);
    // Every payee gets back exactly what April held.
    for (p, april) in &locked {
        let held_before = dec(&april["held"]["amount"]);
        let extra = if *p == me { Decimal::from(250) } else { Decimal::ZERO };
        let releases: Vec<&Value> = lines(&may[p], |l| l["kind"] == "release").collect();
        let cent = Decimal::new(1, 2) * Decimal::from(releases.len());
        let paid = sum(releases.iter().copied());
        assert!(
            (paid - held_before - extra).abs() <= cent,
            "payee {p}: {paid} for {held_before} + {extra}: {}",
            may[p]
        );
    }
});

/// 10% of bookings capped at 100 EUR a year, no draw. Its key sorts before the demo plan's, so
/// it is the plan the what-if of a payee on both uses.
const CAPPED_PLAN: &str = r#"[plan]
id = "acap"
name = "Capped bookings"
version = 1
effective_from = 2026-01-01
currency = "EUR"
earning_event = "booking"
quota = "40000"

[[component]]
id = "bookings"
kind = "percentage"
rate = "10%"
cap_per_year = "100"
"#;

both!(a_yearly_cap_reached_in_april_limits_the_what_if_of_may, |t| {
    let admin = t.session(ADMIN).await;
    let finance = t.session(FINANCE).await;
    let r = t.send("POST", "/api/v1/comp/plans", &admin, Some(json!({ "text": CAPPED_PLAN }))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let users = t.get("/api/v1/users?role=sales_rep&limit=500", &admin).await.json();
    for u in users["items"].as_array().unwrap().iter().filter(|u| u["active"] != false) {
        let body = json!({"plan": "acap", "payee_id": u["id"], "starts_on": "2026-01-01"});
        assert_eq!(t.send("POST", "/api/v1/comp/assignments", &admin, Some(body)).await.status, StatusCode::CREATED);
    }
    run(&t, APRIL).await;
    // Somebody's April bookings reach the yearly cap of 100 EUR.
    let april = t.get(&format!("/api/v1/comp/statements?period={APRIL}"), &finance).await.json();
    let capped = april
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["plan"] == "acap"
                && lines(s, |l| l["kind"] == "year cap").count() > 0
                && dec(&s["payable"]["amount"]) == Decimal::from(100)
        })
        .unwrap_or_else(|| panic!("somebody reached the yearly cap in April: {april}"));
    let id = capped["payee_id"].as_i64().unwrap();
    let email = t.get(&format!("/api/v1/users/{id}"), &admin).await.json()["email"].as_str().unwrap().to_string();
    let payee = t.session(&email).await;

    // In May another 10,000 EUR booking would earn nothing: April already paid the year's cap.
    let w = t.get(&format!("/api/v1/comp/what-if?period={MAY}&amount=10000"), &payee).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    let w = w.json();
    assert_eq!(dec(&w["difference"]["amount"]), Decimal::ZERO, "{w}");
    assert_eq!(dec(&w["before"]["amount"]), Decimal::ZERO, "May's own bookings are capped too: {w}");
    let changes: Vec<&str> = w["changes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert!(changes.iter().any(|c| c.contains("for the year")), "the cap explains it: {changes:?}");
});
