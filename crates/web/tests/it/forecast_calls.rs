//! Forecast calls (F3, F4 per submitter) through the API and the page: a rep submits, the
//! manager overrides with a note and the rep's own number stays, calls roll up through two
//! levels, switching the roll-up method keeps overrides, the stale flag follows the clock, the
//! waterfall classifies pushed, won and new deals, and reps neither override nor read others'
//! calls.

use axum::http::StatusCode;
use jiff::civil::Date;
use jiff::{SignedDuration, ToSpan};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{ADMIN, As, HEAD, MANAGER, REP, TestApp, both, html};

const PERIOD: &str = "2026-Q2";

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

fn opt_dec(v: &Value) -> Option<Decimal> {
    v.as_str().map(|s| s.parse().unwrap())
}

async fn submit(t: &TestApp, who: &As, body: Value) -> crate::Resp {
    t.send("POST", "/api/v1/forecasts/calls", who, Some(body)).await
}

async fn rollup(t: &TestApp, who: &As, period: &str) -> Value {
    let r = t.get(&format!("/api/v1/forecasts/calls?period={period}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn node(roll: &Value, user: i64) -> Value {
    roll["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["user_id"] == user)
        .cloned()
        .unwrap_or_else(|| panic!("user {user} is not in the roll-up"))
}

both!(a_rep_submits_the_manager_overrides_with_a_note_and_the_reps_number_stays, |t| {
    let (rep, manager) = (t.session(REP).await, t.session(MANAGER).await);
    let (rep_id, manager_id) = (t.user_id(REP).await, t.user_id(MANAGER).await);

    let r = submit(&t, &rep, json!({"period": PERIOD, "category": "commit", "amount": "120000.00"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.json()["user_id"].as_i64(), r.json()["override_by"].as_i64()), (Some(rep_id), None));
    let r = submit(&t, &rep, json!({"period": PERIOD, "category": "best_case", "amount": "150000"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // An override needs a note; bad input names its field.
    let r = submit(&t, &manager, json!({"period": PERIOD, "category": "commit", "amount": "90000", "user_id": rep_id}))
        .await;
    assert_eq!(
        (r.status, r.code(), r.json()["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid".into(), Some("note"))
    );
    for (body, field) in [
        (json!({"period": "2026-Q7", "category": "commit", "amount": "1"}), "period"),
        (json!({"period": PERIOD, "category": "maybe", "amount": "1"}), "category"),
        (json!({"period": PERIOD, "category": "commit", "amount": "lots"}), "amount"),
        (json!({"period": PERIOD, "category": "commit", "amount": "-5"}), "amount"),
    ] {
        let r = submit(&t, &manager, body).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    let r = submit(
        &t,
        &manager,
        json!({"period": PERIOD, "category": "commit", "amount": "90000", "user_id": rep_id, "note": "Acme slips to July"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["override_by"].as_i64(), Some(manager_id));

    // The rep sees their own number kept, the override next to it, and the override rolls up.
    let roll = rollup(&t, &rep, PERIOD).await;
    let me = node(&roll, rep_id);
    assert_eq!(dec(&me["submitted_commit"]["amount"]), Decimal::from(120_000));
    assert_eq!(dec(&me["override_commit"]["amount"]), Decimal::from(90_000));
    assert_eq!(me["override_commit"]["note"], "Acme slips to July");
    assert_eq!(me["call_commit"]["source"], "override");
    assert_eq!(opt_dec(&me["call_commit"]["amount"]), Some(Decimal::from(90_000)));
    assert_eq!(me["call_best_case"]["source"], "submitted");
    assert_eq!(roll["history"].as_array().unwrap().len(), 3, "append-only history: {}", roll["history"]);

    // The manager's row rolls the override up (no own number given).
    let roll = rollup(&t, &manager, PERIOD).await;
    let m = node(&roll, manager_id);
    assert_eq!(m["call_commit"]["source"], "rolled_up");
    assert!(opt_dec(&m["call_commit"]["amount"]).unwrap() >= Decimal::from(90_000));

    // Both writes are in the audit log.
    let head = t.session(HEAD).await;
    let audit = t.get("/api/v1/audit?entity=forecast_call", &head).await.json();
    assert_eq!(audit["total"], 3, "{audit}");

    // The page shows the override and its note to the rep; the form path works with CSRF.
    let page = t.get(&format!("/forecasts/calls?period={PERIOD}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&html("Acme slips to July")), "the note is on the page");
    let r = t
        .form(
            "/forecasts/calls",
            &manager,
            &[("period", PERIOD), ("user_id", &rep_id.to_string()), ("category", "commit"), ("amount", "95000")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "a missing note re-shows the page");
    assert!(r.body.contains("form-error"), "with the error");
    let r = t
        .form(
            "/forecasts/calls",
            &manager,
            &[
                ("period", PERIOD),
                ("user_id", &rep_id.to_string()),
                ("category", "commit"),
                ("amount", "95000"),
                ("note", "Better news"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let me = node(&rollup(&t, &rep, PERIOD).await, rep_id);
    assert_eq!(opt_dec(&me["call_commit"]["amount"]), Some(Decimal::from(95_000)));
    assert_eq!(dec(&me["submitted_commit"]["amount"]), Decimal::from(120_000), "the rep's own number is still there");
});

/// Every node's team amounts are its own plus its reports' team amounts, and a call without own
/// number or override is the sum of the reports' calls — checked over the whole tree.
fn check_tree(roll: &Value) {
    let nodes = roll["nodes"].as_array().unwrap();
    for n in nodes {
        let children: Vec<&Value> = nodes.iter().filter(|c| c["manager_id"] == n["user_id"]).collect();
        for cat in ["pipeline", "best_case", "commit", "closed"] {
            let sum: Decimal = dec(&n["own"][cat]) + children.iter().map(|c| dec(&c["team"][cat])).sum::<Decimal>();
            assert_eq!(dec(&n["team"][cat]), sum, "{} {cat}", n["name"]);
        }
        if n["call_commit"]["source"] == "rolled_up" {
            let sum: Decimal = children.iter().filter_map(|c| opt_dec(&c["call_commit"]["amount"])).sum();
            assert_eq!(opt_dec(&n["call_commit"]["amount"]), Some(sum), "{}", n["name"]);
        }
    }
}

both!(calls_roll_up_through_two_levels_of_managers, |t| {
    let head = t.session(HEAD).await;
    let manager_id = t.user_id(MANAGER).await;
    let roll = rollup(&t, &head, PERIOD).await;
    let nodes = roll["nodes"].as_array().unwrap().clone();
    let director_id = node(&roll, manager_id)["manager_id"].as_i64().expect("the team manager reports to a director");
    let team: Vec<i64> =
        nodes.iter().filter(|n| n["manager_id"] == manager_id).map(|n| n["user_id"].as_i64().unwrap()).collect();
    assert!(team.len() >= 2, "the manager has reps");
    let managers: Vec<i64> =
        nodes.iter().filter(|n| n["manager_id"] == director_id).map(|n| n["user_id"].as_i64().unwrap()).collect();

    // Every rep of the team calls 10,000 × (position + 1); the head (ops) may enter them all.
    let mut expected = Decimal::ZERO;
    for (i, rep) in team.iter().enumerate() {
        let amount = Decimal::from(10_000 * (i as i64 + 1));
        expected += amount;
        let r = submit(&t, &head, json!({"period": PERIOD, "category": "commit", "amount": amount.to_string(), "user_id": rep, "note": "entered for the rep in the call"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // Another team manager of the same director calls their team's number themselves.
    let other = managers.iter().copied().find(|m| *m != manager_id);
    if let Some(other) = other {
        let r = submit(
            &t,
            &head,
            json!({"period": PERIOD, "category": "commit", "amount": "70000", "user_id": other, "note": "team call"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let roll = rollup(&t, &head, PERIOD).await;
    check_tree(&roll);
    let m = node(&roll, manager_id);
    assert_eq!(
        (m["call_commit"]["source"].as_str(), opt_dec(&m["call_commit"]["amount"])),
        (Some("rolled_up"), Some(expected))
    );
    let director = node(&roll, director_id);
    let want = expected + if other.is_some() { Decimal::from(70_000) } else { Decimal::ZERO };
    assert_eq!(opt_dec(&director["call_commit"]["amount"]), Some(want), "two levels up");
    assert_eq!(director["depth"].as_u64().unwrap() + 1, m["depth"].as_u64().unwrap());

    // The director overrides the team manager: the director's roll-up takes the override.
    let r = submit(
        &t,
        &head,
        json!({"period": PERIOD, "category": "commit", "amount": "1000", "user_id": manager_id, "note": "cut"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let roll = rollup(&t, &head, PERIOD).await;
    check_tree(&roll);
    let want = Decimal::from(1000) + if other.is_some() { Decimal::from(70_000) } else { Decimal::ZERO };
    assert_eq!(opt_dec(&node(&roll, director_id)["call_commit"]["amount"]), Some(want));
});

both!(switching_the_rollup_method_keeps_every_override, |t| {
    let (admin, manager) = (t.session(ADMIN).await, t.session(MANAGER).await);
    let rep_id = t.user_id(REP).await;
    let r = submit(
        &t,
        &manager,
        json!({"period": PERIOD, "category": "commit", "amount": "50000", "user_id": rep_id, "note": "my view"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let before = rollup(&t, &admin, PERIOD).await;
    assert_eq!(before["settings"]["rollup_method"], "cumulative");
    let r = t.send("PUT", "/api/v1/forecasts/calls/settings", &admin, Some(json!({"rollup_method": "single"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = rollup(&t, &admin, PERIOD).await;
    assert_eq!(after["settings"]["rollup_method"], "single");
    assert_eq!(after["history"], before["history"], "no submission or override is touched");
    let (b, a) = (node(&before, rep_id), node(&after, rep_id));
    assert_eq!(a["override_commit"], b["override_commit"]);
    assert_eq!(a["call_commit"], b["call_commit"]);
    // Cumulative commit is single commit + closed.
    for n in after["nodes"].as_array().unwrap() {
        let c = node(&before, n["user_id"].as_i64().unwrap());
        assert_eq!(dec(&c["team"]["commit"]), dec(&n["team"]["commit"]) + dec(&n["team"]["closed"]));
        assert_eq!(dec(&c["team"]["closed"]), dec(&n["team"]["closed"]));
    }
    // And back: still the same override.
    let r =
        t.send("PUT", "/api/v1/forecasts/calls/settings", &admin, Some(json!({"rollup_method": "cumulative"}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(node(&rollup(&t, &admin, PERIOD).await, rep_id)["override_commit"], b["override_commit"]);
    // Bad settings name the field; a manager may not change them.
    let r = t.send("PUT", "/api/v1/forecasts/calls/settings", &admin, Some(json!({"rollup_method": "average"}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("rollup_method")));
    let r = t.send("PUT", "/api/v1/forecasts/calls/settings", &manager, Some(json!({"stale_days": 3}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(a_call_not_updated_for_the_stale_limit_is_flagged, |t| {
    let rep = t.session(REP).await;
    let rep_id = t.user_id(REP).await;
    assert_eq!(node(&rollup(&t, &rep, PERIOD).await, rep_id)["stale"], false, "no call yet is not stale");
    let r = submit(&t, &rep, json!({"period": PERIOD, "category": "commit", "amount": "1000"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    // Sessions expire while the clock moves on: sign in again after each move.
    t.advance(SignedDuration::from_hours(24 * 6));
    let rep = t.session(REP).await;
    assert_eq!(node(&rollup(&t, &rep, PERIOD).await, rep_id)["stale"], false, "6 days: fresh");
    t.advance(SignedDuration::from_hours(24 * 2));
    let (rep, admin) = (t.session(REP).await, t.session(ADMIN).await);
    let me = node(&rollup(&t, &rep, PERIOD).await, rep_id);
    assert_eq!(me["stale"], true, "8 days > 7: stale");
    let page = t.get(&format!("/forecasts/calls?period={PERIOD}"), &rep).await;
    assert!(page.body.contains("badge lost stale"), "the page shows the stale badge");
    // A longer limit, or a fresh number, clears it.
    let r = t.send("PUT", "/api/v1/forecasts/calls/settings", &admin, Some(json!({"stale_days": 14}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(node(&rollup(&t, &rep, PERIOD).await, rep_id)["stale"], false);
    t.advance(SignedDuration::from_hours(24 * 10));
    let rep = t.session(REP).await;
    assert_eq!(node(&rollup(&t, &rep, PERIOD).await, rep_id)["stale"], true);
    let r = submit(&t, &rep, json!({"period": PERIOD, "category": "commit", "amount": "1200"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(node(&rollup(&t, &rep, PERIOD).await, rep_id)["stale"], false);
});

async fn post_csv(t: &TestApp, who: &As, csv: &str) -> crate::Resp {
    use axum::body::Body;
    use axum::http::{Request, header};
    let As::Session { cookie, csrf } = who else { panic!("session") };
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/import/opportunities?create_missing=true")
        .header(header::CONTENT_TYPE, "text/csv")
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .body(Body::from(csv.to_string()))
        .unwrap();
    t.raw(req).await
}

const HEADER: &str = "Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate,Probability (%),CreatedDate,Loss_Reason__c,LeadSource\n";

both!(the_waterfall_classifies_pushed_won_and_new_deals, |t| {
    let (admin, rep) = (t.session(ADMIN).await, t.session(REP).await);
    let rep_id = t.user_id(REP).await;
    let period = "2026-Q3";
    let roll = rollup(&t, &admin, period).await;
    let start: Date = roll["start"].as_str().unwrap().parse().unwrap();
    let end: Date = roll["end"].as_str().unwrap().parse().unwrap();
    let (in1, in2, in3) = (
        start.checked_add(20.days()).unwrap(),
        start.checked_add(40.days()).unwrap(),
        start.checked_add(50.days()).unwrap(),
    );
    let later = end.checked_add(30.days()).unwrap();
    let csv1 = format!(
        "{HEADER}FC-A,Pushed deal,Forecast Test B.V.,rep@demo.salesops.io,Proposal,10000.00,EUR,{in1},60,2026-01-05T10:00:00Z,,\n\
         FC-B,Won deal,Forecast Test B.V.,rep@demo.salesops.io,Proposal,20000.00,EUR,{in2},60,2026-01-05T10:00:00Z,,\n"
    );
    let r = post_csv(&t, &admin, &csv1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A rep cannot take snapshots; an administrator can, and again the same day replaces it.
    let r = t.send("POST", "/api/v1/forecasts/calls/snapshots", &rep, Some(json!({"period": period}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for _ in 0..2 {
        let r = t.send("POST", "/api/v1/forecasts/calls/snapshots", &admin, Some(json!({"period": period}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let day1 = t.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();

    // A week later: A is pushed past the period, B is won, C is new.
    t.advance(SignedDuration::from_hours(24 * 7));
    let (admin, rep) = (t.session(ADMIN).await, t.session(REP).await);
    let created_c = format!("{}T09:00:00Z", day1.checked_add(2.days()).unwrap());
    let csv2 = format!(
        "{HEADER}FC-A,Pushed deal,Forecast Test B.V.,rep@demo.salesops.io,Proposal,10000.00,EUR,{later},60,2026-01-05T10:00:00Z,,\n\
         FC-B,Won deal,Forecast Test B.V.,rep@demo.salesops.io,Closed won,20000.00,EUR,{in2},100,2026-01-05T10:00:00Z,,\n\
         FC-C,New deal,Forecast Test B.V.,rep@demo.salesops.io,Proposal,5000.00,EUR,{in3},60,{created_c},,\n"
    );
    let r = post_csv(&t, &admin, &csv2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.send("POST", "/api/v1/forecasts/calls/snapshots", &admin, Some(json!({"period": period}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let day2 = t.app.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let dates = t.get(&format!("/api/v1/forecasts/calls/snapshots?period={period}"), &rep).await.json();
    assert_eq!(dates["dates"], json!([day1.to_string(), day2.to_string()]));

    let url = format!("/api/v1/forecasts/calls/waterfall?period={period}&from={day1}&to={day2}");
    let w = t.get(&url, &rep).await;
    assert_eq!(w.status, StatusCode::OK, "{}", w.body);
    let w = w.json();
    let step = |kind: &str| w["steps"].as_array().unwrap().iter().find(|s| s["kind"] == kind).unwrap().clone();
    let names = |kind: &str| -> Vec<String> {
        step(kind)["opportunities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("pushed_out"), ["Pushed deal"]);
    assert_eq!(dec(&step("pushed_out")["amount"]), Decimal::from(-10_000));
    assert_eq!(names("won"), ["Won deal"]);
    assert_eq!(dec(&step("won")["amount"]), Decimal::from(-20_000));
    assert_eq!(names("new"), ["New deal"]);
    assert_eq!((dec(&step("new")["amount"]), step("new")["count"].as_u64()), (Decimal::from(5_000), Some(1)));
    let sum: Decimal = w["steps"].as_array().unwrap().iter().map(|s| dec(&s["amount"])).sum();
    assert_eq!(dec(&w["start"]) + sum, dec(&w["end"]), "end = start + steps");
    // The rep's waterfall holds only the rep's deals.
    for s in w["steps"].as_array().unwrap() {
        for o in s["opportunities"].as_array().unwrap() {
            assert_eq!(o["owner_id"].as_i64(), Some(rep_id));
        }
    }
    // A day without a snapshot names the field.
    let r = t.get(&format!("/api/v1/forecasts/calls/waterfall?period={period}&from=2026-01-01&to={day2}"), &rep).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
    let r = t.get(&format!("/api/v1/forecasts/calls/waterfall?period={period}&from=soon&to={day2}"), &rep).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
    // The page draws the chart between the last two snapshots.
    let page = t.get(&format!("/forecasts/calls?period={period}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("waterfall-chart") && page.body.contains("step-pushed_out"), "chart and table");
});

both!(reps_cannot_override_others_nor_read_calls_outside_their_subtree, |t| {
    let (rep, manager, head) = (t.session(REP).await, t.session(MANAGER).await, t.session(HEAD).await);
    let (rep_id, manager_id) = (t.user_id(REP).await, t.user_id(MANAGER).await);
    let r = submit(
        &t,
        &manager,
        json!({"period": PERIOD, "category": "commit", "amount": "300000", "note": "Team secret plan"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // A rep overriding anyone: 403 (their manager, or a colleague).
    let all = rollup(&t, &head, PERIOD).await;
    let colleague = all["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["manager_id"] == manager_id && n["user_id"] != rep_id)
        .map(|n| n["user_id"].as_i64().unwrap())
        .unwrap();
    for other in [manager_id, colleague] {
        let r = submit(
            &t,
            &rep,
            json!({"period": PERIOD, "category": "commit", "amount": "1", "user_id": other, "note": "x"}),
        )
        .await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden".into()));
    }
    // A manager overriding someone outside their subtree: 403.
    let outsider = all["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["role"] == "sales_rep" && n["manager_id"] != manager_id)
        .map(|n| n["user_id"].as_i64().unwrap())
        .unwrap();
    let r = submit(
        &t,
        &manager,
        json!({"period": PERIOD, "category": "commit", "amount": "1", "user_id": outsider, "note": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The rep's roll-up is the rep alone, and no one else's call is in it.
    let roll = rollup(&t, &rep, PERIOD).await;
    let ids: Vec<i64> = roll["nodes"].as_array().unwrap().iter().map(|n| n["user_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [rep_id]);
    assert!(roll["history"].as_array().unwrap().iter().all(|h| h["user_id"] == rep_id));
    assert!(!roll.to_string().contains("Team secret plan"));
    let page = t.get(&format!("/forecasts/calls?period={PERIOD}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Team secret plan"), "the manager's note is not on the rep's page");
    let acc = t.get(&format!("/api/v1/forecasts/calls/accuracy?period={PERIOD}"), &rep).await.json();
    let ids: Vec<i64> = acc["rows"].as_array().unwrap().iter().map(|n| n["user_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [rep_id]);
    // The manager sees their subtree only (no one above or beside them).
    let roll = rollup(&t, &manager, PERIOD).await;
    assert_eq!(roll["nodes"][0]["user_id"].as_i64(), Some(manager_id));
    assert!(roll["nodes"].as_array().unwrap().iter().all(|n| n["user_id"] != outsider));
});

both!(accuracy_compares_the_call_at_the_start_with_what_was_won, |t| {
    let (rep, head) = (t.session(REP).await, t.session(HEAD).await);
    let rep_id = t.user_id(REP).await;
    // The clock stands in Q2 (2026-06-15): a call for Q3 now is the call in force at its start.
    let r = submit(&t, &rep, json!({"period": "2026-Q3", "category": "commit", "amount": "40000"})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let acc = t.get("/api/v1/forecasts/calls/accuracy?period=2026-Q3", &head).await;
    assert_eq!(acc.status, StatusCode::OK, "{}", acc.body);
    let acc = acc.json();
    assert_eq!(acc["complete"], false);
    let row = acc["rows"].as_array().unwrap().iter().find(|r| r["user_id"] == rep_id).unwrap().clone();
    let actual = dec(&row["actual"]);
    assert_eq!(opt_dec(&row["at_start"]["call"]), Some(Decimal::from(40_000)));
    assert_eq!(opt_dec(&row["at_start"]["error"]), Some(Decimal::from(40_000) - actual));
    if !actual.is_zero() {
        let bias = opt_dec(&row["at_start"]["bias_pct"]).unwrap();
        assert_eq!(bias, ((Decimal::from(40_000) - actual) * Decimal::ONE_HUNDRED / actual).round_dp(1));
    }
    // The actual is the won amount of the team (closed) in the roll-up.
    let roll = rollup(&t, &head, "2026-Q3").await;
    assert_eq!(dec(&node(&roll, rep_id)["team"]["closed"]), actual);
});

#[tokio::test]
async fn the_forecast_call_page_in_a_real_browser() {
    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;

    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let period = "2026-Q3";
    let (rep, manager, admin) = (t.session(REP).await, t.session(MANAGER).await, t.session(ADMIN).await);
    let rep_id = t.user_id(REP).await;
    for (who, body) in [
        (&rep, json!({"period": period, "category": "commit", "amount": "120000"})),
        (&rep, json!({"period": period, "category": "best_case", "amount": "160000"})),
        (
            &manager,
            json!({"period": period, "category": "commit", "amount": "95000", "user_id": rep_id, "note": "Acme slips to October"}),
        ),
    ] {
        let r = submit(&t, who, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // A week in the life of the quarter: deals pushed, won, resized and new between snapshots.
    let deal = |id: &str, name: &str, stage: &str, amount: &str, close: &str, created: &str| {
        format!("{id},{name},Forecast Test B.V.,rep@demo.salesops.io,{stage},{amount},EUR,{close},60,{created},,\n")
    };
    let old = "2026-01-05T10:00:00Z";
    let csv1 = format!(
        "{HEADER}{}{}{}",
        deal("FB-1", "Acme rollout", "Proposal", "48000.00", "2026-08-14", old),
        deal("FB-2", "Globex renewal", "Proposal", "36000.00", "2026-07-30", old),
        deal("FB-3", "Initech pilot", "Proposal", "22000.00", "2026-09-10", old),
    );
    assert_eq!(post_csv(&t, &admin, &csv1).await.status, StatusCode::OK);
    let r = t.send("POST", "/api/v1/forecasts/calls/snapshots", &admin, Some(json!({"period": period}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    t.advance(SignedDuration::from_hours(24 * 7));
    let admin = t.session(ADMIN).await;
    let csv2 = format!(
        "{HEADER}{}{}{}{}",
        deal("FB-1", "Acme rollout", "Proposal", "48000.00", "2026-10-20", old),
        deal("FB-2", "Globex renewal", "Closed won", "36000.00", "2026-07-30", old),
        deal("FB-3", "Initech pilot", "Proposal", "30000.00", "2026-09-10", old),
        deal("FB-4", "Umbrella expansion", "Proposal", "27000.00", "2026-09-25", "2026-06-18T09:00:00Z"),
    );
    assert_eq!(post_csv(&t, &admin, &csv2).await.status, StatusCode::OK);
    let r = t.send("POST", "/api/v1/forecasts/calls/snapshots", &admin, Some(json!({"period": period}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let base = serve(&t).await;
    let d = browser(driver_port, 1366, 2600).await;
    sign_in(&d, &base, MANAGER).await;
    d.goto(format!("{base}/forecasts/calls?period={period}")).await.unwrap();
    wait_for(&d, By::Id("rollup")).await;
    let rows = d.find_all(By::Css("#rollup tbody tr")).await.unwrap();
    assert!(rows.len() >= 3, "the manager and their reps");
    let chart = d.find_all(By::Css("svg.waterfall-chart rect.bar")).await.unwrap();
    assert_eq!(chart.len(), 6, "start, new, amount changed, pushed out, won, end");
    // Override a rep inline: open the form, fill it, save.
    let row = d.find(By::Id(format!("node-{rep_id}"))).await.unwrap();
    row.find(By::Css("details summary")).await.unwrap().click().await.unwrap();
    row.find(By::Css("input[name=amount]")).await.unwrap().send_keys("99000").await.unwrap();
    row.find(By::Css("input[name=note]")).await.unwrap().send_keys("Signed PO expected").await.unwrap();
    row.find(By::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Css(".flash.ok")).await;
    let text = d.find(By::Id(format!("node-{rep_id}"))).await.unwrap().text().await.unwrap();
    assert!(text.contains("Signed PO expected"), "{text}");
    shot(&d, "forecast-calls").await;
    d.quit().await.unwrap();
}
