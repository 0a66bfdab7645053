//! Time-series forecasts of won revenue (F2): the API on the small demo company, its history
//! checked against the opportunity list's own totals, visibility, bad input and the page.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use rust_decimal::Decimal;
use serde_json::json;

use crate::{As, HEAD, REP, TestApp, both};

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("decimal text, got {v}")).parse().unwrap()
}

/// Every forecast row has as many points as asked and 95% low <= 80% low <= point <= 80% high <= 95% high.
fn assert_ordered(f: &serde_json::Value, horizon: usize) {
    let rows = f["forecast"].as_array().unwrap();
    assert_eq!(rows.len(), horizon, "{f}");
    for r in rows {
        let [l95, l80, p, u80, u95] = ["lower_95", "lower_80", "point", "upper_80", "upper_95"].map(|k| dec(&r[k]));
        assert!(l95 <= l80 && l80 <= p && p <= u80 && u80 <= u95, "{r}");
    }
    assert!(!f["method"].as_str().unwrap().is_empty());
}

/// The sum of won opportunities closing in `month` (YYYY-MM), by the list's total endpoint.
async fn won_total(t: &TestApp, who: &As, month: &str, owner: Option<i64>) -> Decimal {
    let first: jiff::civil::Date = format!("{month}-01").parse().unwrap();
    let last = first.last_of_month();
    let owner = owner.map(|o| format!("&owner_id={o}")).unwrap_or_default();
    let r =
        t.get(&format!("/api/v1/opportunities/total?status=won&close_from={first}&close_to={last}{owner}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let j = r.json();
    j["total"]["amount"].as_str().map(|a| a.parse().unwrap()).unwrap_or_default()
}

both!(series_api_forecasts_the_horizon_with_ordered_intervals, |t| {
    let head = t.session(HEAD).await;
    let r = t.get("/api/v1/forecasts/series?by=total&grain=month&horizon=12", &head).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    assert_ordered(&f, 12);
    assert!(f["history"].as_array().unwrap().len() >= 12, "a year of history in the demo: {f}");
    assert_eq!(f["forecast"][0]["period"], "2026-06", "forecasts start at the current month");

    let family = t.get("/api/v1/products", &head).await.json()["products"][0]["family"].as_str().unwrap().to_string();
    let r = t
        .get(&format!("/api/v1/forecasts/series?by=product_line&key={}&horizon=6", crate::web_encode(&family)), &head)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ordered(&r.json(), 6);
    let region = t.get("/api/v1/regions", &head).await.json()[0]["code"].as_str().unwrap().to_string();
    let r = t.get(&format!("/api/v1/forecasts/series?by=region&key={region}&grain=week&horizon=8"), &head).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ordered(&r.json(), 8);
});

both!(series_history_equals_the_won_total_of_each_month, |t| {
    let head = t.session(HEAD).await;
    let f = t.get("/api/v1/forecasts/series?horizon=3", &head).await.json();
    let history = f["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["period"], "2026-05", "the history ends with the last complete month");
    for h in history.iter().rev().take(12) {
        let month = h["period"].as_str().unwrap();
        assert_eq!(dec(&h["value"]), won_total(&t, &head, month, None).await, "{month}");
    }
});

both!(a_reps_series_covers_only_their_own_book, |t| {
    let (head, rep) = (t.session(HEAD).await, t.session(REP).await);
    let rep_id = t.user_id(REP).await;
    let mine = t.get("/api/v1/forecasts/series?horizon=3", &rep).await.json();
    let all = t.get("/api/v1/forecasts/series?horizon=3", &head).await.json();
    let sum =
        |f: &serde_json::Value| f["history"].as_array().unwrap().iter().map(|h| dec(&h["value"])).sum::<Decimal>();
    assert!(sum(&mine) > Decimal::ZERO && sum(&mine) < sum(&all), "rep {} of {}", sum(&mine), sum(&all));
    for h in mine["history"].as_array().unwrap().iter().rev().take(6) {
        let month = h["period"].as_str().unwrap();
        assert_eq!(dec(&h["value"]), won_total(&t, &head, month, Some(rep_id)).await, "{month}");
    }
});

both!(bad_series_input_is_422_with_the_field, |t| {
    let head = t.session(HEAD).await;
    for (query, field) in [
        ("by=colour", "by"),
        ("grain=day", "grain"),
        ("horizon=0", "horizon"),
        ("horizon=1000", "horizon"),
        ("by=region", "key"),
    ] {
        let r = t.get(&format!("/api/v1/forecasts/series?{query}"), &head).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.body);
        assert_eq!(r.json()["field"], field, "{query}: {}", r.body);
    }
    let r = t.send("POST", "/api/v1/forecasts/series", &head, Some(json!({"values": [1.0, 2.0, 3.0]}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "horizon");
    let r = t.send("POST", "/api/v1/forecasts/series", &head, Some(json!({"values": [], "horizon": 3}))).await;
    assert_eq!(r.json()["field"], "values", "{}", r.body);
});

/// A CSV body to the POST endpoint, as the CLI reads it.
async fn post_csv(t: &TestApp, who: &As, query: &str, csv: &str) -> crate::Resp {
    let As::Session { cookie, csrf } = who else { panic!("session") };
    let req = Request::builder()
        .method("POST")
        .uri(format!("/api/v1/forecasts/series?{query}"))
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.to_string()))
        .unwrap();
    t.raw(req).await
}

both!(a_series_sent_as_csv_or_json_is_forecast, |t| {
    let head = t.session(HEAD).await;
    let mut csv = String::from("period,value\n");
    for i in 0..36 {
        csv.push_str(&format!("{}-{:02},{}\n", 2023 + i / 12, i % 12 + 1, 100 + (i % 12) * 4 + i));
    }
    let r = post_csv(&t, &head, "horizon=6&season=12", &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    assert_ordered(&f, 6);
    assert_eq!(f["forecast"][0]["period"], "2026-01");

    let r = post_csv(&t, &head, "horizon=6", "value\n1\n2\nabc\n").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("line 4"), "{}", r.body);

    let values: Vec<f64> = (0..24).map(|i| 50.0 + f64::from(i % 12) * 3.0).collect();
    let r = t
        .send("POST", "/api/v1/forecasts/series", &head, Some(json!({"values": values, "horizon": 4, "season": 12})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_ordered(&r.json(), 4);
});

both!(the_series_page_renders_a_chart_table_and_download, |t| {
    let rep = t.session(REP).await;
    let r = t.get("/forecasts/series?slice=total&grain=month&horizon=6", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<svg class=\"series-chart\""), "{}", r.body);
    assert_eq!(r.body.matches("<polygon").count(), 2, "80% and 95% bands");
    assert_eq!(r.body.matches("<tr><td>").count(), 6, "one row per forecast month");
    assert!(r.body.contains("id=\"series-method\""));
    // The rep's locale is Dutch: month labels and the method sentence in Dutch.
    assert!(r.body.contains("Automatisch gekozen methode") || r.body.contains("Method chosen automatically"));

    let r = t.get("/forecasts/series?slice=total&horizon=abc", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "bad input shows the form with the error");
    assert!(r.body.contains("id=\"form-error\""), "{}", r.body);

    let r = t.get("/forecasts/series.csv?slice=total&grain=month&horizon=6", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body.lines().count(), 7, "{}", r.body);
    assert!(r.body.starts_with("period,currency,point,lower_80,upper_80,lower_95,upper_95\n2026-06,"), "{}", r.body);
});

/// Headless Chromium screenshot of the page (saved to target/screenshots/series-forecast.png).
#[tokio::test]
async fn the_series_page_in_a_real_browser() {
    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use thirtyfour::prelude::*;
    let Some((_driver, driver_port)) = start_driver().await else { return };
    let t = crate::spawn_app(crate::Kind::Sqlite).await.unwrap();
    let base = serve(&t).await;
    let d = browser(driver_port, 1366, 1400).await;
    sign_in(&d, &base, HEAD).await;
    d.goto(format!("{base}/forecasts/series?slice=total&grain=month&horizon=12")).await.unwrap();
    wait_for(&d, By::Css("svg.series-chart")).await;
    let rows = d.find_all(By::Css("#series-forecast tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 12);
    shot(&d, "series-forecast").await;
    d.quit().await.unwrap();
}
