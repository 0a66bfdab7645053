//! KPI rollups (issue 5, "Scale"): after a seeded random sequence of writes through the real
//! paths (activities logged, stage moves to open, won and lost stages and back, product lines
//! changed, leads converted into opportunities), plus owner changes and deletes no use case offers
//! (made in SQL, which the change-log triggers see like any other write), every supported KPI by
//! rep × month — and by team, region, product line, source and segment per quarter — read from
//! the rollups equals the pure engine on the raw records. Reads happen in between, so refreshes
//! are incremental (a few dirty owners) as well as complete.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Value as Json, json};

use crate::{HEAD, MANAGER, REP, TestApp, both};

/// Every KPI the rollups answer.
const SUPPORTED: &str = "opportunities_created,deals_closed,deals_lost,revenue,win_rate,deal_closing_rate,\
sales_cycle_length,open_pipeline,average_revenue_per_rep,revenue_growth,calls_placed,talk_time,emails_sent,\
meetings_held,visits,visits_per_sale,field_conversion";

/// A small deterministic generator (xorshift64*), so the sequence is the same on both stores.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The report's rows by slice key, each with its cells as JSON (value and baseline).
fn rows_of(report: &app::KpiReport) -> BTreeMap<String, Json> {
    let mut out: BTreeMap<String, Json> = report
        .rows
        .iter()
        .map(|r| {
            let key = r.slice.iter().map(|s| format!("{}={}", s.dimension.name(), s.key)).collect::<Vec<_>>().join(";");
            (key, serde_json::to_value(&r.cells).unwrap())
        })
        .collect();
    out.insert("total".into(), serde_json::to_value(&report.total.cells).unwrap());
    out
}

/// Rollups and records agree on every row and cell of `metrics` by `by` in `period`.
async fn agree(t: &TestApp, who: &str, by: &str, period: &str, compare: Option<&str>) -> usize {
    let p = t.app.cli_principal(Some(who)).await.unwrap();
    let q = app::KpiRequest {
        metrics: vec![SUPPORTED.into()],
        by: if by.is_empty() { vec![] } else { vec![by.into()] },
        period: period.into(),
        compare: compare.map(str::to_string),
    }
    .parse()
    .unwrap();
    let from_rollups = rows_of(&t.app.kpi_table(&p, &q).await.unwrap());
    let from_records = rows_of(&t.app.kpi_table_from_records(&p, &q).await.unwrap());
    assert_eq!(
        from_rollups.keys().collect::<Vec<_>>(),
        from_records.keys().collect::<Vec<_>>(),
        "the same rows for {who} by {by} in {period}"
    );
    for (key, cells) in &from_records {
        assert_eq!(&from_rollups[key], cells, "{who} by {by} in {period}, row {key}");
    }
    from_records.len()
}

async fn ids(t: &TestApp, s: &crate::As, path: &str) -> Vec<Json> {
    let r = t.get(path, s).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

both!(rollups_equal_the_engine_on_raw_records_after_random_writes, |t| {
    let mut rng = Rng(0x5EED_2026);
    let sessions = [t.session(REP).await, t.session(MANAGER).await];
    let head = t.session(HEAD).await;
    let pipelines = t.get("/api/v1/pipelines", &sessions[0]).await.json();
    let stages: Vec<i64> =
        pipelines[0]["stages"].as_array().unwrap().iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let reasons = t.get("/api/v1/loss-reasons", &sessions[0]).await.json();
    let reason = reasons[0]["id"].as_i64().unwrap();
    let products = t.get("/api/v1/products", &head).await.json();
    let products: Vec<i64> = products["products"].as_array().unwrap().iter().filter_map(|p| p["id"].as_i64()).collect();
    assert!(!products.is_empty() && stages.len() >= 4);
    let head_id = t.user_id(HEAD).await;
    let rep_id = t.user_id(REP).await;
    let manager_id = t.user_id(MANAGER).await;
    // The first read builds the rollups of every owner the demo load marked dirty.
    assert!(agree(&t, HEAD, "rep", "2026-Q2", None).await > 5);

    let mut writes = [0usize; 6];
    for step in 0..60 {
        let s = &sessions[rng.below(2)];
        let opportunities = ids(&t, s, "/api/v1/opportunities?limit=200").await;
        let pick = &opportunities[rng.below(opportunities.len())];
        let id = pick["id"].as_i64().unwrap();
        match rng.below(7) {
            0 | 1 => {
                let kind = ["call", "email", "meeting", "visit", "task"][rng.below(5)];
                let day = 1 + rng.below(28);
                let month = 1 + rng.below(6);
                let body = json!({
                    "kind": kind,
                    "subject": format!("step {step}"),
                    "at": format!("2026-{month:02}-{day:02}T09:30:00Z"),
                    "duration_minutes": (kind == "call").then(|| 1 + rng.below(40) as i64),
                    "outcome": (kind == "visit").then(|| ["sale", "not_home", "callback"][rng.below(3)]),
                    "address": (kind == "visit").then_some("Dorpsstraat 1"),
                    "opportunity_id": id,
                });
                let r = t.send("POST", "/api/v1/activities", s, Some(body)).await;
                assert!(r.status.is_success(), "{}", r.body);
                writes[0] += 1;
            }
            2 | 3 => {
                let stage = stages[rng.below(stages.len())];
                let body = json!({"stage_id": stage, "loss_reason_id": reason, "next_step": "Call back",
                    "close_date": format!("2026-0{}-1{}", 1 + rng.below(6), rng.below(9))});
                let r = t.send("POST", &format!("/api/v1/opportunities/{id}/move"), s, Some(body)).await;
                assert!(r.status.is_success() || r.status.is_client_error(), "{}", r.body);
                writes[1] += usize::from(r.status.is_success());
            }
            4 => {
                let body = json!([{"product_id": products[rng.below(products.len())],
                    "quantity": format!("{}", 1 + rng.below(5))}]);
                let r = t.send("PUT", &format!("/api/v1/opportunities/{id}/lines"), s, Some(body)).await;
                assert!(r.status.is_success() || r.status.is_client_error(), "{}", r.body);
                writes[2] += usize::from(r.status.is_success());
            }
            5 => {
                let leads = ids(&t, s, "/api/v1/leads?limit=100").await;
                let open: Vec<&Json> =
                    leads.iter().filter(|l| !matches!(l["status"].as_str(), Some("converted"))).collect();
                if let Some(lead) = open.get(rng.below(open.len().max(1))) {
                    let lead = lead["id"].as_i64().unwrap();
                    let body = json!({"create_opportunity": true, "opportunity_name": format!("Converted {step}"),
                        "amount": format!("{}.50", 1000 + rng.below(9000)), "close_date": "2026-07-31"});
                    let r = t.send("POST", &format!("/api/v1/leads/{lead}/convert"), s, Some(body)).await;
                    assert!(r.status.is_success() || r.status.is_client_error(), "{}", r.body);
                    writes[3] += usize::from(r.status.is_success());
                }
            }
            _ => {
                // No use case deletes or reassigns records; the triggers see SQL writes the same.
                let other = [head_id, rep_id, manager_id][rng.below(3)];
                let statements = if rng.below(2) == 0 {
                    writes[4] += 1;
                    vec![format!("UPDATE opportunities SET owner_id = {other} WHERE id = {id}")]
                } else {
                    writes[5] += 1;
                    let activity = format!("(SELECT MIN(id) FROM activities WHERE opportunity_id = {id})");
                    let mut v = vec![format!("DELETE FROM activities WHERE id = {activity}")];
                    if pick["stage_kind"] != "won" {
                        for table in ["opportunity_lines", "opportunity_scores", "stage_history", "activities"] {
                            v.push(format!(
                                "DELETE FROM {table} WHERE opportunity_id = {id} AND NOT EXISTS \
                                 (SELECT 1 FROM quotes WHERE opportunity_id = {id}) AND NOT EXISTS \
                                 (SELECT 1 FROM orders WHERE opportunity_id = {id})"
                            ));
                        }
                        v.push(format!(
                            "UPDATE leads SET opportunity_id = NULL WHERE opportunity_id = {id} AND NOT EXISTS \
                             (SELECT 1 FROM stage_history WHERE opportunity_id = {id})"
                        ));
                        v.push(format!(
                            "DELETE FROM opportunities WHERE id = {id} AND NOT EXISTS \
                             (SELECT 1 FROM stage_history WHERE opportunity_id = {id})"
                        ));
                    }
                    v
                };
                t.raw_sql(&statements).await;
            }
        }
        if step % 9 == 8 {
            agree(&t, HEAD, "rep", "2026-Q2", Some("previous")).await;
        }
    }
    assert!(writes.iter().all(|n| *n > 0), "every kind of write happened: {writes:?}");

    // Every supported KPI by rep × month, for the company, a manager's team and a rep.
    for month in ["2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06", "2026-07"] {
        assert!(agree(&t, HEAD, "rep", month, Some("previous")).await > 5);
        agree(&t, MANAGER, "rep", month, None).await;
        agree(&t, REP, "rep", month, None).await;
    }
    for by in ["team", "region", "product_line", "source", "segment", ""] {
        agree(&t, HEAD, by, "2026-Q1", Some("last_year")).await;
        agree(&t, HEAD, by, "2026-Q2", None).await;
    }
    agree(&t, HEAD, "rep", "2026-W10", Some("previous")).await;
    agree(&t, HEAD, "region", "FY2026", None).await;
    // A single period (no revenue growth, no comparison) is one bucket.
    let p = t.app.cli_principal(Some(HEAD)).await.unwrap();
    let q = app::KpiRequest {
        metrics: vec!["revenue,calls_placed".into()],
        by: vec!["team".into()],
        period: "2026-06-15".into(),
        compare: None,
    }
    .parse()
    .unwrap();
    assert_eq!(
        rows_of(&t.app.kpi_table(&p, &q).await.unwrap()),
        rows_of(&t.app.kpi_table_from_records(&p, &q).await.unwrap())
    );
    // Nothing left dirty after a read.
    assert!(t.store.kpi_rollup_dirty().await.unwrap().is_empty());
});

both!(the_dashboard_shows_each_viewer_only_what_they_may_see, |t| {
    let rep = t.session(REP).await;
    let manager = t.session(MANAGER).await;
    let head = t.session(HEAD).await;
    let me = t.get("/api/v1/me", &rep).await.json();
    let rep_name = me["name"].as_str().unwrap_or_default().to_string();

    for who in [&rep, &manager, &head] {
        let page = t.get("/dashboard", who).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for id in ["chart-trend", "chart-bars", "chart-funnel", "dash-rows", "trend-csv", "bars-svg", "funnel-csv"] {
            assert!(page.body.contains(id), "the dashboard has {id}");
        }
    }
    // A rep's bars are their own numbers only.
    let csv = t.get("/dashboard/chart/bars?format=csv", &rep).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "rep,month,revenue,currency,deals_closed,win_rate");
    assert!(lines.len() <= 2, "one row at most for a rep: {}", csv.body);
    if lines.len() == 2 && !rep_name.is_empty() {
        assert!(lines[1].contains(&rep_name), "{}", csv.body);
    }
    // A manager sees the team per rep; the head of ops the company per region, and the teams.
    let team = t.get("/dashboard/chart/bars?format=csv", &manager).await.body;
    assert!(team.lines().count() > 2, "a row per rep of the team: {team}");
    assert!(!team.contains(",-"), "plain numbers: {team}");
    let company = t.get("/dashboard/chart/bars?format=csv", &head).await.body;
    assert!(company.starts_with("region,"), "{company}");
    assert!(t.get("/dashboard", &head).await.body.contains("dash-teams"));
    // The trend has 12 months and adds up to the API's revenue for the same months.
    let trend = t.get("/dashboard/chart/trend?format=csv", &head).await.body;
    assert_eq!(trend.lines().count(), 13, "{trend}");
    let june = trend.lines().last().unwrap().split(',').collect::<Vec<_>>();
    assert_eq!(june[0], "2026-06");
    let api = t.get("/api/v1/kpis?metric=revenue&period=2026-06", &head).await.json();
    assert_eq!(
        api["total"]["cells"][0]["value"]["amount"].as_str().map(|a| a.trim_end_matches('0').trim_end_matches('.')),
        Some(june[1]).map(|a| a.trim_end_matches('0').trim_end_matches('.')),
        "{api}"
    );
    // Charts download as SVG; unknown charts and formats are 404.
    let svg = t.get("/dashboard/chart/funnel?format=svg", &manager).await;
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.body.starts_with("<?xml") && svg.body.contains("<svg"), "{}", svg.body);
    assert!(svg.headers["content-disposition"].to_str().unwrap().contains("dashboard-funnel-"));
    assert_eq!(t.get("/dashboard/chart/pie?format=svg", &head).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get("/dashboard/chart/trend?format=pdf", &head).await.status, StatusCode::NOT_FOUND);
    let anonymous = t.get("/dashboard", &crate::As::Anonymous).await.status;
    assert!(anonymous.is_redirection() || anonymous == StatusCode::UNAUTHORIZED, "{anonymous}");
});

mod in_a_browser {
    use thirtyfour::prelude::*;

    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use crate::{HEAD, Kind, MANAGER, REP, spawn_app};

    #[tokio::test]
    async fn the_head_the_manager_and_the_rep_each_open_their_dashboard() {
        let Some((_driver, driver_port)) = start_driver().await else { return };
        let t = spawn_app(Kind::Sqlite).await.unwrap();
        let base = serve(&t).await;
        let d = browser(driver_port, 1400, 2300).await;
        for (who, name, expect) in [
            (HEAD, "dashboard-head", "Revenue"),
            (MANAGER, "dashboard-manager", "Omzet"),
            (REP, "dashboard-rep", "Omzet"),
        ] {
            sign_in(&d, &base, who).await;
            d.goto(format!("{base}/dashboard")).await.unwrap();
            wait_for(&d, By::Id("chart-trend")).await;
            wait_for(&d, By::Id("chart-funnel")).await;
            let text = d.find(By::Tag("main")).await.unwrap().text().await.unwrap();
            assert!(text.to_lowercase().contains(&expect.to_lowercase()), "{who} reads {expect}: {text}");
            shot(&d, name).await;
            d.delete_all_cookies().await.unwrap();
        }
        d.quit().await.unwrap();
    }
}
