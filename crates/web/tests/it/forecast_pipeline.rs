//! Pipeline forecast (F1) and its back-test (F4) on the small demo company: the API's figures
//! equal the pure engine on the same reconstructed records, the same seed gives the same result,
//! a rep forecasts only their own pipeline, bad input is 422 with the field, and the page.

use axum::http::StatusCode;
use rust_decimal::Decimal;

use crate::{HEAD, MANAGER, REP, TestApp, both};
use app::pipeline_engine::{self as engine, Method};

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

fn day(v: &serde_json::Value) -> jiff::civil::Date {
    v.as_str().unwrap().parse().unwrap()
}

/// The engine run directly on what the app reconstructs for `email` on `as_of`.
async fn engine_forecast(t: &TestApp, email: &str, f: &serde_json::Value, seed: u64) -> engine::PipelineForecast {
    let p = t.app.cli_principal(Some(email)).await.unwrap();
    let as_of = day(&f["as_of"]);
    let (open, history) = t.app.pipeline_inputs(&p, as_of).await.unwrap();
    assert_eq!(open.len() as u64, f["open_count"].as_u64().unwrap());
    assert_eq!(history.len() as u64, f["history_rows"].as_u64().unwrap());
    let period = engine::Period::new(day(&f["from"]), day(&f["to"])).unwrap();
    engine::forecast(&open, &history, as_of, period, &app::forecast_options(Method::Learned, seed)).0
}

both!(pipeline_api_equals_the_engine_and_the_same_seed_gives_the_same_result, |t| {
    let head = t.session(HEAD).await;
    let url = "/api/v1/forecasts/pipeline?as_of=2026-03-31&period=2026-Q2&seed=7";
    let r = t.get(url, &head).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    assert_eq!(
        (f["period"].as_str(), f["from"].as_str(), f["to"].as_str()),
        (Some("2026-Q2"), Some("2026-04-01"), Some("2026-06-30"))
    );
    assert_eq!(f["method"], "learned", "three years of demo history are enough to learn: {}", f["diagnostics"]);
    let e = engine_forecast(&t, HEAD, &f, 7).await;
    assert_eq!(dec(&f["stage_weighted"]), e.stage_weighted.round_dp(2));
    assert_eq!(dec(&f["learned_weighted"]), e.learned_weighted.round_dp(2));
    assert_eq!(dec(&f["unweighted"]), e.unweighted.round_dp(2));
    assert_eq!(f["open_in_period"].as_u64().unwrap() as usize, e.open_in_period);
    assert_eq!(
        [dec(&f["p10"]), dec(&f["p50"]), dec(&f["p90"])],
        [e.range.p10, e.range.p50, e.range.p90].map(|d| d.round_dp(2))
    );
    assert!(dec(&f["p10"]) <= dec(&f["p50"]) && dec(&f["p50"]) <= dec(&f["p90"]) && dec(&f["p10"]) < dec(&f["p90"]));
    assert_eq!(dec(&f["closed_won"]), Decimal::ZERO, "nothing of Q2 is won by 31 March");

    let again = t.get(url, &head).await.json();
    assert_eq!(again, f, "same seed, same result");

    // The opportunities behind it: the biggest expected values, in order, inside the period.
    let rows = f["opportunities"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.len() <= 20);
    let values: Vec<Decimal> = rows.iter().map(|o| dec(&o["expected_value"])).collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    for o in rows {
        let close = day(&o["expected_close"]);
        assert!(close >= day(&f["from"]) && close <= day(&f["to"]), "{o}");
        let p = o["win_probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
    }
    // Calibration: both scores, ten bins each, learned at least as good as the stage weights
    // out of fold on the demo history.
    let c = &f["calibration"];
    assert_eq!(c["stage_weights"]["reliability"].as_array().unwrap().len(), 10);
    let (stage, learned) = (c["stage_weights"]["brier"].as_f64().unwrap(), c["learned"]["brier"].as_f64().unwrap());
    assert!(learned > 0.0 && learned < 0.25 && stage > 0.0, "{c}");
    let counted: u64 =
        c["learned"]["reliability"].as_array().unwrap().iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, c["rows"].as_u64().unwrap());

    // Stage weights only: the simulation uses the stage probabilities.
    let s = t
        .get("/api/v1/forecasts/pipeline?as_of=2026-03-31&period=2026-Q2&seed=7&method=stage_weighted", &head)
        .await
        .json();
    assert_eq!(s["method"], "stage_weighted");
    assert_eq!(s["stage_weighted"], f["stage_weighted"]);
});

both!(a_won_opportunity_was_open_then_and_counts_as_won_so_far_later, |t| {
    let head = t.session(HEAD).await;
    let p = t.app.cli_principal(Some(HEAD)).await.unwrap();
    // An opportunity won in May 2026, created before March: open on 31 March, won by 15 June.
    let won = t
        .get("/api/v1/opportunities?status=won&close_from=2026-05-01&close_to=2026-05-31&limit=100", &head)
        .await
        .json();
    let items = won["items"].as_array().or_else(|| won["opportunities"].as_array()).unwrap_or_else(|| panic!("{won}"));
    let before: jiff::Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
    let old = items
        .iter()
        .find(|o| o["created_at"].as_str().and_then(|c| c.parse::<jiff::Timestamp>().ok()).is_some_and(|c| c < before))
        .unwrap_or_else(|| panic!("a won deal created before March: {won}"));
    let id = old["id"].as_i64().unwrap().to_string();
    let (open, _) = t.app.pipeline_inputs(&p, "2026-03-31".parse().unwrap()).await.unwrap();
    assert!(open.iter().any(|o| o.id == id), "won in May, open on 31 March");
    let (now_open, history) = t.app.pipeline_inputs(&p, "2026-06-14".parse().unwrap()).await.unwrap();
    assert!(!now_open.iter().any(|o| o.id == id), "closed by June");
    assert!(history.iter().any(|h| h.as_seen.id == id && h.won), "its outcome is history in June");
    let f = t.get("/api/v1/forecasts/pipeline?as_of=2026-06-14&period=2026-Q2", &head).await.json();
    assert!(dec(&f["closed_won"]) > Decimal::ZERO, "{f}");
});

both!(a_rep_forecasts_only_their_own_pipeline, |t| {
    let (head, manager, rep) = (t.session(HEAD).await, t.session(MANAGER).await, t.session(REP).await);
    let rep_id = t.user_id(REP).await;
    let url = "/api/v1/forecasts/pipeline?as_of=2026-06-14&period=2026-Q3&seed=3";
    let all = t.get(url, &head).await.json();
    let team = t.get(url, &manager).await.json();
    let mine = t.get(url, &rep).await.json();
    let open = |f: &serde_json::Value| f["open_count"].as_u64().unwrap();
    assert!(
        open(&mine) > 0 && open(&mine) < open(&team) && open(&team) < open(&all),
        "{} {} {}",
        open(&mine),
        open(&team),
        open(&all)
    );
    assert!(dec(&mine["stage_weighted"]) < dec(&all["stage_weighted"]));
    let e = engine_forecast(&t, REP, &mine, 3).await;
    assert_eq!(dec(&mine["p50"]), e.range.p50.round_dp(2));
    for o in mine["opportunities"].as_array().unwrap() {
        let r = t.get(&format!("/api/v1/opportunities/{}", o["id"]), &rep).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.json()["owner_id"].as_i64(), Some(rep_id), "{o}");
    }
    let b = t.get("/api/v1/forecasts/pipeline/backtest?from=2025-12-01&to=2026-05-31", &rep).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.body);
    let b_all = t.get("/api/v1/forecasts/pipeline/backtest?from=2025-12-01&to=2026-05-31", &head).await.json();
    let won = |b: &serde_json::Value| b["rows"].as_array().unwrap().iter().map(|r| dec(&r["actual"])).sum::<Decimal>();
    assert!(won(&b.json()) < won(&b_all), "the rep's back-test counts only their own wins");
});

both!(the_backtest_reports_every_month_with_coverage_and_the_choice, |t| {
    let head = t.session(HEAD).await;
    let r = t.get("/api/v1/forecasts/pipeline/backtest?from=2025-06-01&to=2026-06-30&grain=month&seed=1", &head).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = r.json();
    let rows = b["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12, "June 2025 to May 2026; June 2026 has not ended on 15 June");
    assert!(b["diagnostics"].as_array().unwrap().iter().any(|d| d.as_str().unwrap().contains("not ended")));
    assert_eq!(rows[0]["period"], "2025-06");
    assert_eq!(rows[0]["as_of"], "2025-05-31", "forecast from the day before the month starts");
    assert_eq!(rows.iter().filter(|r| r["training"] == true).count(), 6);
    let mut inside = 0;
    for r in rows {
        let (p10, p50, p90, actual) = (dec(&r["p10"]), dec(&r["p50"]), dec(&r["p90"]), dec(&r["actual"]));
        assert!(p10 <= p50 && p50 <= p90, "{r}");
        assert_eq!(r["inside"], p10 <= actual && actual <= p90, "{r}");
        inside += usize::from(r["inside"] == true);
    }
    let coverage = b["overall"]["coverage"].as_f64().unwrap();
    assert!((coverage - inside as f64 / 12.0).abs() < 1e-9);
    let seg = &b["segments"][0];
    assert_eq!(seg["segment"], "total");
    assert!(seg["method"] == "learned" || seg["method"] == "stage_weighted");
    assert_eq!(b["test"]["count"], 6);
    let again = t
        .get("/api/v1/forecasts/pipeline/backtest?from=2025-06-01&to=2026-06-30&grain=month&seed=1", &head)
        .await
        .json();
    assert_eq!(again, b, "same seed, same back-test");

    let q = t
        .get("/api/v1/forecasts/pipeline/backtest?from=2025-01-01&to=2026-06-30&grain=quarter&by=product_line", &head)
        .await;
    assert_eq!(q.status, StatusCode::OK, "{}", q.body);
    let q = q.json();
    assert!(q["segments"].as_array().unwrap().len() > 1, "one choice per product line: {}", q["segments"]);
    assert!(q["rows"].as_array().unwrap().iter().any(|r| r["period"] == "2025-Q1"));
});

both!(bad_pipeline_input_is_422_with_the_field, |t| {
    let head = t.session(HEAD).await;
    for (query, field) in [
        ("as_of=2026-13-01", "as_of"),
        ("as_of=yesterday", "as_of"),
        ("period=2026-W09", "period"),
        ("period=2026-Q5", "period"),
        ("period=soon", "period"),
        ("seed=-1", "seed"),
        ("seed=abc", "seed"),
        ("method=magic", "method"),
    ] {
        let r = t.get(&format!("/api/v1/forecasts/pipeline?{query}"), &head).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.body);
        assert_eq!(r.json()["field"], field, "{query}: {}", r.body);
    }
    for (query, field) in [
        ("from=2026-02-30", "from"),
        ("to=x", "to"),
        ("from=2026-05-01&to=2026-01-01", "to"),
        ("grain=week", "grain"),
        ("by=colour", "by"),
        ("from=2010-01-01&to=2026-01-01", "from"),
    ] {
        let r = t.get(&format!("/api/v1/forecasts/pipeline/backtest?{query}"), &head).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.body);
        assert_eq!(r.json()["field"], field, "{query}: {}", r.body);
    }
    let r = t.get("/api/v1/forecasts/pipeline?colour=red", &head).await;
    assert!(r.status.is_client_error(), "unknown parameters are refused: {}", r.body);
    let r = t.get("/api/v1/forecasts/pipeline", &crate::As::Anonymous).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});

both!(the_pipeline_page_shows_tiles_charts_calibration_and_backtest, |t| {
    let rep = t.session(REP).await;
    let r = t.get("/forecasts/pipeline?as_of=2026-06-14&period=2026-Q3&seed=0", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for needle in [
        "id=\"tile-closed\"",
        "id=\"tile-stage-weighted\"",
        "id=\"tile-p50\"",
        "<svg class=\"pipeline-range\"",
        "<svg class=\"reliability\"",
        "<svg class=\"backtest-chart\"",
        "id=\"backtest-rows\"",
        "id=\"pipeline-opportunities\"",
        "href=\"/forecasts/pipeline\"",
    ] {
        assert!(r.body.contains(needle), "{needle} missing");
    }
    // The rep's locale is Dutch: the page speaks it.
    assert!(r.body.contains("Pijplijnprognose") || r.body.contains("Pipeline forecast"), "{}", r.body);
    let api = t.get("/api/v1/forecasts/pipeline?as_of=2026-06-14&period=2026-Q3&seed=0", &rep).await.json();
    for o in api["opportunities"].as_array().unwrap() {
        assert!(r.body.contains(&format!("href=\"/opportunities/{}\"", o["id"])), "{o}");
    }
    let r = t.get("/forecasts/pipeline?period=next-year", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "bad input shows the form with the error");
    assert!(r.body.contains("id=\"form-error\""), "{}", r.body);
});

/// Headless Chromium screenshot of the page (target/screenshots/pipeline-forecast.png).
#[tokio::test]
async fn the_pipeline_page_in_a_real_browser() {
    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;
    let d = browser(driver_port, 1366, 2400).await;
    sign_in(&d, &base, HEAD).await;
    d.goto(format!("{base}/forecasts/pipeline")).await.unwrap();
    wait_for(&d, By::Css("svg.pipeline-range")).await;
    d.find(By::Id("period")).await.unwrap().clear().await.unwrap();
    d.find(By::Id("period")).await.unwrap().send_keys("2026-Q3").await.unwrap();
    d.find(By::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for(&d, By::Css("svg.reliability")).await;
    let heading = d.find(By::Id("pipeline-heading")).await.unwrap().text().await.unwrap();
    assert!(heading.contains("2026-Q3"), "{heading}");
    // As of today (15 June 2026): the months July 2025 to May 2026 have ended.
    assert_eq!(d.find_all(By::Css("#backtest-rows tbody tr")).await.unwrap().len(), 11);
    assert!(!d.find_all(By::Css("#pipeline-opportunities tbody tr")).await.unwrap().is_empty());
    shot(&d, "pipeline-forecast").await;
    d.quit().await.unwrap();
}
