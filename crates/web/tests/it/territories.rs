//! Stored territories and quotas (issue 8): rule versions with errors naming the line, coverage
//! gaps and overlaps, effective dating, scenarios built from the demo company's accounts, stored,
//! compared and accepted, and quotas saved and read back exactly with attainment; reps read their
//! own and cannot write.

use axum::http::StatusCode;
use serde_json::json;

use crate::{MANAGER, OPS, REP, both, html};

/// Two territories by country, and one deliberately overlapping rule for Dutch accounts.
const RULES: &str = "version 2026-01-01\n\
territory EMEA\n\
territory North parent EMEA\n\
territory South parent EMEA\n\
rule nl -> North priority 10 country NL\n\
rule dk -> North priority 10 country DK\n\
rule de -> South priority 10 country DE\n\
rule nl-too -> South priority 10 country NL\n";

both!(rule_versions_check_the_text_and_answer_by_date, |t| {
    let ops = t.session(OPS).await;
    // A bad criterion on line 3: 422 on `body`, naming the line.
    let bad = "version 2026-01-01\nterritory EMEA\nrule x -> EMEA priority 1 colour blue\n";
    let r = t.send("POST", "/api/v1/territories/versions", &ops, Some(json!({"body": bad, "status": "live"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "body");
    assert!(r.json()["message"].as_str().unwrap().contains("line 3"), "{}", r.body);
    let r = t.send("POST", "/api/v1/territories/versions", &ops, Some(json!({"body": "territory X\n"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("version"), "{}", r.body);
    // The page keeps the text and names the line too.
    let r = t.form("/territories/versions", &ops, &[("body", bad), ("status", "live"), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("line 3"), "{}", r.body);

    let r = t
        .send(
            "POST",
            "/api/v1/territories/versions",
            &ops,
            Some(json!({"body": RULES, "status": "live", "note": "by country"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.json()["version"]["id"].as_i64().unwrap();

    // Coverage: Polish accounts fall in a gap, Dutch ones are an overlap (North wins, South tied).
    let view = t.get("/api/v1/territories?on=2026-06-15", &ops).await.json();
    assert_eq!(view["in_force"]["id"].as_i64(), Some(first));
    let assignments = view["assignments"].as_array().unwrap();
    assert!(!assignments.is_empty());
    let gaps = view["gaps"].as_array().unwrap().len();
    let covered = ["NL", "DK", "DE"];
    let uncovered = assignments.iter().filter(|a| !covered.contains(&a["country"].as_str().unwrap())).count();
    let polish = assignments.iter().filter(|a| a["country"] == "PL").count();
    assert!(polish > 0);
    assert_eq!(gaps, uncovered, "every account outside NL, DK and DE is a gap and nothing else");
    let dutch = assignments.iter().filter(|a| a["country"] == "NL").count();
    assert!(dutch > 0);
    assert_eq!(view["overlaps"].as_array().unwrap().len(), dutch);
    for a in assignments.iter().filter(|a| a["country"] == "NL") {
        assert_eq!(a["territory"], "North");
        assert_eq!(a["path"], "EMEA > North");
        assert_eq!(a["tied_with"], json!(["South"]));
        assert!(a["reason"].as_str().unwrap().starts_with("rule nl (priority 10): country NL"), "{a}");
    }
    // Coin sort of the last twelve months: the totals of the live design.
    assert!(
        view["coin_sort"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["territory"] == "North" && !c["live"].as_str().unwrap().is_empty())
    );

    // A later version from 2027-01-01 covers Poland; the old one still answers before that date.
    let later = RULES
        .replace("version 2026-01-01", "version 2027-01-01")
        .replace("nl-too -> South", "pl -> South")
        .replace("South priority 10 country NL", "South priority 10 country PL");
    let r = t.send("POST", "/api/v1/territories/versions", &ops, Some(json!({"body": later, "status": "live"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.json()["version"]["id"].as_i64().unwrap();
    let before = t.get("/api/v1/territories?on=2026-12-31", &ops).await.json();
    assert_eq!(before["in_force"]["id"].as_i64(), Some(first));
    assert_eq!(before["gaps"].as_array().unwrap().len(), uncovered);
    let after = t.get("/api/v1/territories?on=2027-01-01", &ops).await.json();
    assert_eq!(after["in_force"]["id"].as_i64(), Some(second));
    assert_eq!(after["gaps"].as_array().unwrap().len(), uncovered - polish, "Poland is covered from 2027");
    assert_eq!(after["overlaps"].as_array().unwrap().len(), 0);

    // The page shows the version in force, the history, gaps and overlaps.
    let r = t.get("/territories?on=2026-06-15", &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    for id in ["id=\"versions\"", "id=\"account-assignments\"", "id=\"coin-sort-chart\"", "id=\"overlaps\""] {
        assert!(r.body.contains(id), "missing {id}");
    }
    assert!(r.body.contains(&format!("<strong id=\"gap-count\">{uncovered}</strong>")));

    // A rep reads only their own accounts and cannot write.
    let rep = t.session(REP).await;
    let mine = t.get("/api/v1/territories?on=2026-06-15", &rep).await.json();
    let rep_name = t.app.store.user_get(model::UserId(t.user_id(REP).await)).await.unwrap().user.name;
    assert!(mine["assignments"].as_array().unwrap().iter().all(|a| a["owner"] == rep_name.as_str()));
    assert!(mine["assignments"].as_array().unwrap().len() < assignments.len());
    let r = t.send("POST", "/api/v1/territories/versions", &rep, Some(json!({"body": RULES}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.get("/territories", &rep).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("id=\"rules\""), "no rule editor for a rep");
});

both!(a_scenario_from_the_demo_accounts_is_stored_compared_and_accepted, |t| {
    let ops = t.session(OPS).await;
    let r = t
        .send("POST", "/api/v1/territories/scenarios", &ops, Some(json!({"name": "Distance", "postal_digits": 1})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s = r.json();
    let id = s["id"].as_i64().unwrap();
    assert_eq!(s["status"], "draft");
    let units = s["instance"]["units"].as_array().unwrap().len();
    let reps = s["instance"]["reps"].as_array().unwrap().len();
    assert!(units >= reps && reps >= 2, "{units} units, {reps} reps");
    // Every account with a postal code is in exactly one unit.
    let accounts: usize =
        s["build"]["accounts_per_unit"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap() as usize).sum();
    let all = t.get("/api/v1/territories", &ops).await.json();
    let _ = all;
    assert!(accounts > 100, "{accounts}");
    assert_eq!(s["result"]["assignment"].as_array().unwrap().len(), units);
    assert_eq!(s["result"]["after"]["within_bounds"], true, "{}", s["result"]);
    // Stored: read back the same.
    let back = t.get(&format!("/api/v1/territories/scenarios/{id}"), &ops).await.json();
    assert_eq!(back["result"]["assignment"], s["result"]["assignment"]);
    assert_eq!(t.get("/api/v1/territories/scenarios", &ops).await.json().as_array().unwrap().len(), 1);

    // A second draft on the same units with the other objective, locked unit, compared side by side.
    // Lock a unit that is nobody's home to a rep other than the one the first draft gave it.
    let homes: Vec<&str> =
        s["instance"]["reps"].as_array().unwrap().iter().map(|r| r["home"].as_str().unwrap()).collect();
    let free = s["result"]["assignment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| !homes.contains(&u["unit"].as_str().unwrap()))
        .unwrap();
    let unit = free["unit"].as_str().unwrap().to_string();
    let other_rep = s["instance"]["reps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .find(|r| *r != free["rep"].as_str().unwrap())
        .unwrap()
        .to_string();
    let r = t
        .send(
            "POST",
            "/api/v1/territories/scenarios",
            &ops,
            Some(json!({"name": "Least change", "postal_digits": 1, "objective": "disruption",
                "locks": [{"unit": unit, "rep": other_rep}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.json();
    let locked =
        second["result"]["assignment"].as_array().unwrap().iter().find(|u| u["unit"] == unit.as_str()).unwrap().clone();
    assert_eq!(locked["rep"], other_rep.as_str());
    let cmp = t.get(&format!("/api/v1/territories/scenarios/{id}/compare"), &ops).await.json();
    let names: Vec<&str> = cmp["scenarios"].as_array().unwrap().iter().map(|s| s[0].as_str().unwrap()).collect();
    assert_eq!(names, vec!["live", "Distance", "Least change"]);
    let r = t.get(&format!("/territories/scenarios/{id}"), &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"scenario-compare\"") && r.body.contains("id=\"accept-scenario\""));

    // Bad input names the field; a rep cannot build or read scenarios.
    let r = t.send("POST", "/api/v1/territories/scenarios", &ops, Some(json!({"name": "x", "postal_digits": 9}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("postal_digits")));
    let r = t
        .send(
            "POST",
            "/api/v1/territories/scenarios",
            &ops,
            Some(json!({"name": "x", "locks": [{"unit": "ZZ-9", "rep": other_rep}]})),
        )
        .await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("locks[0].unit")));
    let rep = t.session(REP).await;
    assert_eq!(
        t.send("POST", "/api/v1/territories/scenarios", &rep, Some(json!({"name": "x"}))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(t.get(&format!("/api/v1/territories/scenarios/{id}"), &rep).await.status, StatusCode::FORBIDDEN);

    // Accept from 2026-07-01: a new live version; before that date nothing (no earlier version).
    let r = t
        .send(
            "POST",
            &format!("/api/v1/territories/scenarios/{id}/accept"),
            &ops,
            Some(json!({"valid_from": "2026-07-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let version = r.json();
    assert_eq!(version["status"], "live");
    assert_eq!(version["scenario_id"].as_i64(), Some(id));
    assert_eq!(version["territories"].as_u64().unwrap() as usize, reps);
    let on = t.get("/api/v1/territories?on=2026-07-01", &ops).await.json();
    assert_eq!(on["in_force"]["id"], version["id"]);
    assert!(on["overlaps"].as_array().unwrap().is_empty());
    // Every account in a unit is in the territory of the rep the scenario gave the unit.
    let unit_rep: std::collections::HashMap<String, String> = s["result"]["assignment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["unit"].as_str().unwrap().to_string(), u["rep"].as_str().unwrap().to_string()))
        .collect();
    for a in on["assignments"].as_array().unwrap() {
        let postal: String =
            a["postal_code"].as_str().unwrap().chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        let key = format!("{}-{}", a["country"].as_str().unwrap(), &postal[..1]);
        let rep = &unit_rep[&key];
        let local = rep.split('@').next().unwrap();
        assert_eq!(a["territory"].as_str().unwrap(), format!("T-{local}"), "{a}");
    }
    let earlier = t.get("/api/v1/territories?on=2026-06-30", &ops).await.json();
    assert!(earlier["in_force"].is_null());
    // Accepting again is refused; the scenario says it was accepted.
    let r = t
        .send(
            "POST",
            &format!("/api/v1/territories/scenarios/{id}/accept"),
            &ops,
            Some(json!({"valid_from": "2026-08-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let back = t.get(&format!("/api/v1/territories/scenarios/{id}"), &ops).await.json();
    assert_eq!(back["status"], "accepted");

    // Accepting the second draft later keeps history: July answers with the first, September the second.
    let sid = second["id"].as_i64().unwrap();
    let r = t
        .send(
            "POST",
            &format!("/api/v1/territories/scenarios/{sid}/accept"),
            &ops,
            Some(json!({"valid_from": "2026-09-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v2 = r.json();
    assert_eq!(t.get("/api/v1/territories?on=2026-08-31", &ops).await.json()["in_force"]["id"], version["id"]);
    assert_eq!(t.get("/api/v1/territories?on=2026-09-01", &ops).await.json()["in_force"]["id"], v2["id"]);
    // Writes are audited.
    let audit = t.get("/api/v1/audit?entity=territory_scenario", &ops).await;
    assert!(audit.body.contains("accepted"), "{}", audit.body);
});

both!(quotas_are_saved_exactly_kept_with_history_and_reps_see_their_own, |t| {
    let ops = t.session(OPS).await;
    let rep_id = t.user_id(REP).await;
    let manager_id = t.user_id(MANAGER).await;
    let body = json!({"quotas": [
        {"user_id": rep_id, "amount": "123456.78", "currency": "EUR", "ramp": "0.5", "method": "ttm"},
        {"user_id": rep_id, "kind": "count", "amount": "12"},
        {"user_id": manager_id, "amount": "0.10", "currency": "EUR"}
    ]});
    let r = t.send("PUT", "/api/v1/quotas?period=2026-Q2", &ops, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["written"], 3);
    // The same again writes nothing.
    assert_eq!(t.send("PUT", "/api/v1/quotas?period=2026-Q2", &ops, Some(body)).await.json()["written"], 0);

    let q = t.get("/api/v1/quotas?period=2026-Q2", &ops).await.json();
    assert_eq!(q["from"], "2026-04-01");
    assert_eq!(q["to"], "2026-06-30");
    let line = q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["user_id"] == rep_id && l["kind"] == "revenue")
        .unwrap()
        .clone();
    assert_eq!(line["amount"], "123456.78");
    assert_eq!(line["ramp"], "0.5");
    let manager_line = q["quotas"].as_array().unwrap().iter().find(|l| l["user_id"] == manager_id).unwrap().clone();
    assert_eq!(manager_line["amount"], "0.10", "exact decimal text kept");
    // Attainment = won in the period / quota.
    let won: rust_decimal::Decimal = line["won"].as_str().unwrap().parse().unwrap();
    let expected = (won / rust_decimal::Decimal::new(12345678, 2)).round_dp(4).to_string();
    assert_eq!(line["attainment"], expected.as_str());

    // A change replaces the quota; the old row is kept (history) and the change audited.
    let r = t
        .send(
            "PUT",
            "/api/v1/quotas?period=2026-Q2",
            &ops,
            Some(json!({"quotas": [{"user_id": rep_id, "amount": "130000", "currency": "EUR"}]})),
        )
        .await;
    assert_eq!(r.json()["written"], 1);
    let now = t.app.quota_for(rep_id, "2026-Q2").await.unwrap().unwrap();
    assert_eq!(now.amount, "130000");
    let viewer = t.app.store.viewer(model::UserId(rep_id), model::Visibility::All).await.unwrap();
    let history = t.app.store.quotas_of_period(&viewer, "2026-Q2", true).await.unwrap();
    let revenue: Vec<_> = history.iter().filter(|h| h.user_id == rep_id && h.kind == "revenue").collect();
    assert_eq!(revenue.len(), 2);
    assert!(revenue[0].replaced_at.is_some() && revenue[1].replaced_at.is_none());
    assert_eq!(revenue[0].amount, "123456.78");

    // Bad input: the field is named.
    for (bad, field) in [
        (json!({"quotas": [{"user_id": rep_id, "amount": "1.234", "currency": "EUR"}]}), "quotas[0].amount"),
        (json!({"quotas": [{"user_id": rep_id, "amount": "1", "currency": "EURO"}]}), "quotas[0].currency"),
        (json!({"quotas": [{"user_id": 999999, "amount": "1", "currency": "EUR"}]}), "quotas[0].user_id"),
        (json!({"quotas": [{"user_id": rep_id, "amount": "1", "currency": "EUR", "ramp": "2"}]}), "quotas[0].ramp"),
    ] {
        let r = t.send("PUT", "/api/v1/quotas?period=2026-Q2", &ops, Some(bad)).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    let r = t.get("/api/v1/quotas?period=2026-Q9", &ops).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("period")));

    // A rep sees only their own quota and cannot write (403).
    let rep = t.session(REP).await;
    let mine = t.get("/api/v1/quotas?period=2026-Q2", &rep).await.json();
    assert!(mine["quotas"].as_array().unwrap().iter().all(|l| l["user_id"] == rep_id));
    assert_eq!(mine["quotas"].as_array().unwrap().len(), 2);
    let r = t
        .send(
            "PUT",
            "/api/v1/quotas?period=2026-Q2",
            &rep,
            Some(json!({"quotas": [{"user_id": rep_id, "amount": "1", "currency": "EUR"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let page = t.get("/quotas?period=2026-Q2", &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"quota-table\"") && !page.body.contains("id=\"allocate\""));
    assert!(!page.body.contains(&html(&t.app.store.user_get(model::UserId(manager_id)).await.unwrap().user.name)));
});

both!(the_quota_page_allocates_a_target_exactly_and_saves_it, |t| {
    let ops = t.session(OPS).await;
    let r = t
        .form(
            "/quotas/allocate",
            &ops,
            &[("period", "2026-Q3"), ("target", "1000000.01"), ("currency", "EUR"), ("method", "ttm")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"proposal\""));
    // Read the proposal's fields back and post them as the reviewed quotas.
    let users: String = r.body.split("name=\"users\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let ids: Vec<&str> = users.split(',').collect();
    assert!(ids.len() >= 10, "{users}");
    let mut fields: Vec<(String, String)> = vec![
        ("period".into(), "2026-Q3".into()),
        ("currency".into(), "EUR".into()),
        ("method".into(), "ttm".into()),
        ("users".into(), users.clone()),
    ];
    let mut total = rust_decimal::Decimal::ZERO;
    for id in &ids {
        let amount = r
            .body
            .split(&format!("name=\"amount_{id}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let ramp = r
            .body
            .split(&format!("name=\"ramp_{id}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        total += amount.parse::<rust_decimal::Decimal>().unwrap();
        fields.push((format!("amount_{id}"), amount));
        fields.push((format!("ramp_{id}"), ramp));
    }
    assert_eq!(total.to_string(), "1000000.01", "the quotas add up exactly to the target");
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = t.form("/quotas", &ops, &borrowed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let q = t.get("/api/v1/quotas?period=2026-Q3", &ops).await.json();
    let sum: rust_decimal::Decimal = q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_str().unwrap().parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(sum.to_string(), "1000000.01");
    let page = t.get("/quotas?period=2026-Q3", &ops).await;
    assert!(page.body.contains("id=\"attainment-chart\""));
    // A bad target is shown on the page.
    let r = t
        .form(
            "/quotas/allocate",
            &ops,
            &[("period", "2026-Q3"), ("target", "lots"), ("currency", "EUR"), ("method", "ttm")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("id=\"form-error\""));
});

/// Headless Chromium: the territories page with a live version and a scenario, and the quota
/// page (screenshots territories.png, territory-scenario.png, quotas.png).
#[tokio::test]
async fn territories_and_quotas_in_a_real_browser() {
    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let ops = t.session(OPS).await;
    let r = t
        .send(
            "POST",
            "/api/v1/territories/versions",
            &ops,
            Some(json!({"body": RULES, "status": "live", "note": "by country"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let base = serve(&t).await;
    let d = browser(driver_port, 1366, 1800).await;
    sign_in(&d, &base, OPS).await;
    d.goto(format!("{base}/territories?on=2026-06-15")).await.unwrap();
    wait_for(&d, By::Css("#coin-sort-chart")).await;
    // Build a scenario through the form.
    d.find(By::Id("sname")).await.unwrap().send_keys("Browser draft").await.unwrap();
    d.find(By::Id("build-scenario")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("scenario-compare")).await;
    shot(&d, "territory-scenario").await;
    d.find(By::Id("accept-scenario")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("account-assignments")).await;
    assert!(d.source().await.unwrap().contains("T-"));
    d.goto(format!("{base}/territories?on=2026-06-15&draft=1")).await.unwrap();
    wait_for(&d, By::Id("coin-sort-chart")).await;
    shot(&d, "territories").await;
    d.goto(format!("{base}/quotas?period=2026-Q2")).await.unwrap();
    d.find(By::Id("target")).await.unwrap().send_keys("900000").await.unwrap();
    d.find(By::Id("allocate-button")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("save-quotas")).await;
    d.find(By::Id("save-quotas")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Id("attainment-chart")).await;
    shot(&d, "quotas").await;
    d.quit().await.unwrap();
}
