//! Territory balancing through the API and the page: the same optimum as the engine, 422 with
//! the field on bad input, 403 for a rep, and the page with its tables, map and Pareto chart.

use axum::http::StatusCode;
use planning::balance::{BalanceOptions, BalanceProblem, Locations, balance, generate_instance};
use serde_json::{Value, json};

use crate::{OPS, REP, both};

/// A generated instance as the API's JSON body.
fn body(problem: &BalanceProblem, objective: &str) -> Value {
    let Locations::Coordinates(points) = &problem.locations else { panic!("generated instances have coordinates") };
    let units: Vec<Value> = problem
        .units
        .iter()
        .zip(points)
        .map(|(u, (x, y))| json!({"id": u.id, "workload": u.workload, "potential": u.potential, "x": x, "y": y}))
        .collect();
    let reps: Vec<Value> = problem.reps.iter().map(|r| json!({"id": r.id, "home": problem.units[r.home].id})).collect();
    let assignment: Vec<Value> = problem
        .current
        .iter()
        .enumerate()
        .map(|(i, &r)| json!({"unit": problem.units[i].id, "rep": problem.reps[r].id}))
        .collect();
    json!({"units": units, "reps": reps, "assignment": assignment, "bounds": [0.8, 1.2], "objective": objective})
}

both!(the_api_balances_to_the_engines_optimum, |t| {
    let ops = t.session(OPS).await;
    let problem = generate_instance(20, 3, 5);
    let (engine, _) = balance(&problem, &BalanceOptions::default()).expect("engine");
    let r = t.send("POST", "/api/v1/territories/balance", &ops, Some(body(&problem, "distance"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out = r.json();
    assert_eq!(out["proof"], "proven_optimal");
    let value = out["objective_value"].as_f64().unwrap();
    assert!((value - engine.objective_value).abs() < 1e-6, "{value} vs {}", engine.objective_value);
    assert_eq!(out["after"]["per_rep"].as_array().unwrap().len(), 3);
    assert_eq!(out["after"]["within_bounds"], true);
    assert_eq!(out["assignment"].as_array().unwrap().len(), 20);
    assert_eq!(out["after"]["units_moved"].as_u64().unwrap() as usize, engine.after.units_moved);

    // The Pareto front runs from least disruption to least distance.
    let mut pareto_body = body(&problem, "distance");
    pareto_body["steps"] = json!(3);
    let r = t.send("POST", "/api/v1/territories/pareto", &ops, Some(pareto_body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let points = r.json()["points"].as_array().unwrap().clone();
    assert!(!points.is_empty());
    let last = points.last().unwrap();
    assert!((last["distance"].as_f64().unwrap() - engine.after.total_distance).abs() < 1e-6);
});

both!(bad_input_is_422_with_the_field_and_a_rep_gets_403, |t| {
    let ops = t.session(OPS).await;
    let problem = generate_instance(12, 2, 3);
    let mut cases = Vec::new();
    let mut b = body(&problem, "distance");
    b["units"][3]["workload"] = json!(-1.0);
    cases.push((b, "units[3].workload"));
    let mut b = body(&problem, "distance");
    b["reps"][1]["home"] = json!("nowhere");
    cases.push((b, "reps[1].home"));
    let mut b = body(&problem, "distance");
    b["bounds"] = json!([1.3, 0.7]);
    cases.push((b, "bounds"));
    let mut b = body(&problem, "sideways");
    b["objective"] = json!("sideways");
    cases.push((b, "objective"));
    let mut b = body(&problem, "distance");
    b["locks"] = json!([{"unit": "U0001", "rep": "nobody"}]);
    cases.push((b, "locks[0].rep"));
    for (bad, field) in cases {
        let r = t.send("POST", "/api/v1/territories/balance", &ops, Some(bad)).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    // Too many units: refused with the limit in the message.
    let big: Vec<Value> =
        (0..5_001).map(|i| json!({"id": format!("U{i}"), "workload": 1.0, "x": 0.0, "y": 0.0})).collect();
    let r = t
        .send(
            "POST",
            "/api/v1/territories/balance",
            &ops,
            Some(json!({"units": big, "reps": [{"id": "a", "home": "U0"}], "assignment": []})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("5000"), "{}", r.body);

    let rep = t.session(REP).await;
    let r = t.send("POST", "/api/v1/territories/balance", &rep, Some(body(&problem, "distance"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t.get("/territories/balance", &rep).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(the_page_shows_tables_map_and_pareto_chart_for_a_manager, |t| {
    let ops = t.session(OPS).await;
    let r = t.get("/territories/balance", &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("territory-map"));
    let r = t.get("/territories/balance?run=1&units=24&reps=3&seed=2&objective=distance&low=0.8&high=1.2", &ops).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for id in ["id=\"territory-reps\"", "id=\"territory-spread\"", "id=\"territory-map\"", "id=\"pareto-chart\""] {
        assert!(r.body.contains(id), "missing {id}");
    }
    assert_eq!(r.body.matches("class=\"home\"").count(), 3, "one home square per rep");
    // Bad bounds show the error on the page.
    let r = t.get("/territories/balance?run=1&units=24&reps=3&low=1.5&high=1.2", &ops).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("form-error"));

    // The CSV form: a distance matrix and no coordinates gives a derived layout, said on the page.
    let units = "unit,workload,potential\nA,1,1\nB,1,1\nC,1,1\nD,1,1\n";
    let distances = "unit,A,B,C,D\nA,0,1,2,3\nB,1,0,1,2\nC,2,1,0,1\nD,3,2,1,0\n";
    let assignment = "unit,rep,home\nA,anna,yes\nB,anna\nC,anna\nD,ben,yes\n";
    let r = t
        .form(
            "/territories/balance",
            &ops,
            &[
                ("units_csv", units),
                ("distances_csv", distances),
                ("assignment_csv", assignment),
                ("objective", "distance"),
                ("low", "0.8"),
                ("high", "1.2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"layout-note\""));
    assert!(r.body.contains("id=\"territory-map\""));
});

/// The page in a real browser (headless Chromium through chromedriver), for the screenshots in
/// `target/screenshots/planning-*.png`. Skipped when the browser is not installed, unless
/// SALESOPS_TEST_BROWSER_REQUIRED is set.
#[tokio::test]
async fn the_balancing_page_in_a_real_browser() {
    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for_secs};
    use thirtyfour::prelude::*;

    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;
    let d = browser(driver_port, 1366, 2400).await;
    sign_in(&d, &base, OPS).await;
    d.goto(format!("{base}/territories/balance?run=1&units=60&reps=5&seed=3&objective=distance&low=0.8&high=1.2"))
        .await
        .unwrap();
    wait_for_secs(&d, By::Id("territory-map"), 30).await;
    let rows = d.find_all(By::Css("#territory-reps tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 5);
    shot(&d, "planning-balance").await;
    d.quit().await.unwrap();
}

both!(quotas_are_allocated_exactly_and_bad_figures_name_the_field, |t| {
    let ops = t.session(OPS).await;
    let body = json!({
        "target": "1000", "currency": "EUR",
        "recipients": [
            {"id": "anna", "potential": "300"}, {"id": "ben", "potential": "100"}, {"id": "carl", "potential": "0"}
        ],
        "method": [{"basis": "potential", "weight": "0.5"}, {"basis": "even", "weight": "0.5"}]
    });
    let r = t.send("POST", "/api/v1/quotas/allocate", &ops, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let quotas: Vec<(String, String)> = r.json()["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_string(), a["quota"].as_str().unwrap().to_string()))
        .collect();
    let expected = [("anna", "541.67"), ("ben", "291.67"), ("carl", "166.66")];
    assert_eq!(quotas, expected.map(|(a, b)| (a.to_string(), b.to_string())).to_vec());

    let mut bad = body.clone();
    bad["recipients"][1]["potential"] = json!("lots");
    let r = t.send("POST", "/api/v1/quotas/allocate", &ops, Some(bad)).await;
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("recipients[1].potential"))
    );
    let mut bad = body.clone();
    bad["method"][0]["basis"] = json!("luck");
    let r = t.send("POST", "/api/v1/quotas/allocate", &ops, Some(bad)).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("method[0].basis")));

    let rep = t.session(REP).await;
    let r = t.send("POST", "/api/v1/quotas/allocate", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(a_capacity_plan_hires_to_reach_the_target, |t| {
    let ops = t.session(OPS).await;
    // 2 ramped reps × 10,000 × 12 = 240,000; 250,000 needs one hire in the first month.
    let body = json!({"target": "250000", "currency": "EUR", "productivity": "10000", "existing": "2", "ramp": ["1"]});
    let r = t.send("POST", "/api/v1/capacity/plan", &ops, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let plan = r.json();
    assert_eq!(plan["total_hires"], 1);
    assert_eq!(plan["meets_target"], true);
    assert_eq!(plan["hires"][0], 1);
    let mut bad = body.clone();
    bad["attrition"] = json!("1.5");
    let r = t.send("POST", "/api/v1/capacity/plan", &ops, Some(bad)).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("attrition")));
    let rep = t.session(REP).await;
    assert_eq!(t.send("POST", "/api/v1/capacity/plan", &rep, Some(body)).await.status, StatusCode::FORBIDDEN);
    // Reps are not offered the planning page they may not open; planners are.
    assert!(!t.get("/", &rep).await.body.contains("href=\"/territories/balance\""));
    assert!(t.get("/", &ops).await.body.contains("href=\"/territories/balance\""));
});
