//! KPIs through the API, the CLI's use case and the pages on the small demo company: the figures
//! agree with the pure engine run on the same records, a rep sees only their own numbers, bad
//! parameters name the field at fault, and the pages (KPI table, funnel, process map) render for
//! every role. A browser test saves screenshots of the three pages.

use std::collections::HashMap;

use app::kpi_engine::{self, Dimension, Kpi};
use axum::http::StatusCode;
use model::{FiscalCalendar, Period};
use serde_json::{Value as Json, json};

use crate::{ADMIN, ANALYST, FINANCE, HEAD, MANAGER, OPS, REP, TestApp, both, web_encode};

const PERIOD: &str = "2026-Q1";
const METRICS: &str = "deals_closed,revenue,win_rate,open_pipeline,sales_cycle_length,calls_placed,leads_generated";

async fn kpis(t: &TestApp, who: &str, query: &str) -> Json {
    let s = t.session(who).await;
    let r = t.get(&format!("/api/v1/kpis?{query}"), &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// The engine's table over the facts `email` may see, computed directly.
async fn engine_table(t: &TestApp, email: &str, by: Vec<Dimension>) -> (kpi_engine::KpiTable, kpi_engine::Facts) {
    let p = t.app.cli_principal(Some(email)).await.unwrap();
    let (facts, _) = t.app.kpi_facts(&p).await.unwrap();
    let calendar = FiscalCalendar::default();
    let period = Period::parse(PERIOD).unwrap();
    let query = kpi_engine::Query {
        kpis: METRICS.split(',').map(|m| Kpi::parse(m).unwrap()).collect(),
        by,
        period: period.kind(),
        from: calendar.start(period),
        to: calendar.end(period),
    };
    let (table, _) = kpi_engine::compute(&facts, &calendar, &query).unwrap();
    (table, facts)
}

both!(api_and_cli_figures_agree_with_the_engine_on_the_same_records, |t| {
    let api = kpis(&t, HEAD, &format!("metric={METRICS}&by=owner&period={PERIOD}")).await;
    let (table, facts) = engine_table(&t, HEAD, vec![Dimension::Rep]).await;
    let rep_key: HashMap<i64, u32> = facts.reps.iter().enumerate().map(|(i, r)| (r.id.0, i as u32)).collect();
    let rows = api["rows"].as_array().unwrap();
    assert!(rows.len() >= 10, "a row per rep with records: {}", rows.len());
    let period = Period::parse(PERIOD).unwrap();
    let mut compared = 0;
    for row in rows {
        let user: i64 = row["slice"][0]["key"].as_str().unwrap().parse().unwrap();
        assert!(!row["slice"][0]["label"].as_str().unwrap().is_empty(), "reps are named");
        for cell in row["cells"].as_array().unwrap() {
            let kpi = Kpi::parse(cell["kpi"].as_str().unwrap()).unwrap();
            let expected = table.value(kpi, &[Some(rep_key[&user])], period).expect("the engine has the cell");
            assert_eq!(cell["value"], serde_json::to_value(expected).unwrap(), "{kpi} of user {user}");
            compared += 1;
        }
    }
    assert_eq!(compared, rows.len() * 7);
    // The total is the engine's total, and adds up the rows.
    let totals = table.totals();
    for (i, cell) in api["total"]["cells"].as_array().unwrap().iter().enumerate() {
        assert_eq!(cell["value"], serde_json::to_value(&totals[0].values[i]).unwrap());
    }
    let deals: u64 = rows.iter().map(|r| r["cells"][0]["value"]["count"].as_u64().unwrap()).sum();
    assert_eq!(api["total"]["cells"][0]["value"]["count"].as_u64().unwrap(), deals);
    assert!(deals > 0, "the demo wins deals in {PERIOD}");

    // The CLI runs the same use case as the user named by --as.
    let p = t.app.cli_principal(Some(HEAD)).await.unwrap();
    let query = app::KpiRequest {
        metrics: vec![METRICS.into()],
        by: vec!["owner".into()],
        period: PERIOD.into(),
        compare: None,
    }
    .parse()
    .unwrap();
    let cli = t.app.kpi_table(&p, &query).await.unwrap();
    assert_eq!(serde_json::to_value(&cli).unwrap(), api);

    // CSV: one line per rep × KPI plus the total's, with numerator and denominator.
    let s = t.session(HEAD).await;
    let r = t.get(&format!("/api/v1/kpis?metric=win_rate&by=rep&period={PERIOD}&format=csv"), &s).await;
    assert_eq!(r.status, StatusCode::OK);
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines[0], "rep,period,kpi,value,numerator,denominator,baseline,difference,relative,no_data_reason,cell");
    assert_eq!(lines.len(), 1 + rows.len() + 1);
});

both!(comparisons_and_no_data_are_honest, |t| {
    let api =
        kpis(&t, HEAD, &format!("metric=revenue,win_rate,net_promoter_score&period={PERIOD}&compare=previous")).await;
    assert_eq!(api["baseline_period"], json!({"Quarter": {"fiscal_year": 2025, "quarter": 4}}));
    let total = &api["total"]["cells"];
    let revenue: rust_decimal::Decimal = total[0]["value"]["amount"].as_str().unwrap().parse().unwrap();
    let before: rust_decimal::Decimal = total[0]["baseline"]["amount"].as_str().unwrap().parse().unwrap();
    let difference: rust_decimal::Decimal = total[0]["difference"].as_str().unwrap().parse().unwrap();
    assert_eq!(revenue - before, difference);
    // NPS is not recorded: no data with its reason, never a zero.
    assert_eq!(total[2]["value"]["type"], "no_data");
    assert!(total[2]["value"]["reason"].as_str().unwrap().contains("NPS"), "{}", total[2]);
    let s = t.session(HEAD).await;
    let page = t.get(&format!("/kpis?metric=net_promoter_score&by=region&period={PERIOD}"), &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("No data"), "NoData cells say so");
});

both!(a_rep_sees_only_their_own_numbers, |t| {
    let rep_id = t.user_id(REP).await;
    let rep_key = json!(rep_id.to_string());
    let mine = kpis(&t, REP, &format!("metric={METRICS}&by=rep&period={PERIOD}")).await;
    let rows = mine["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only the rep's own row: {rows:?}");
    assert_eq!(rows[0]["slice"][0]["key"], rep_id.to_string());
    // The same figures as the rep's row in the head of operations' company table.
    let all = kpis(&t, HEAD, &format!("metric={METRICS}&by=rep&period={PERIOD}")).await;
    let theirs = all["rows"].as_array().unwrap().iter().find(|r| r["slice"][0]["key"] == rep_key).unwrap();
    assert_eq!(rows[0]["cells"], theirs["cells"]);
    assert_eq!(mine["total"]["cells"], rows[0]["cells"], "the rep's total is the rep's row");

    // Drill-down: the rep's own deals, each visible to the rep; another rep's cell is empty.
    let s = t.session(REP).await;
    let cell = rows[0]["cell"].as_str().unwrap();
    let r = t.get(&format!("/api/v1/kpis/drill?metric=deals_closed&cell={}", web_encode(cell)), &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let drill = r.json();
    let won = drill["numerator"].as_array().unwrap();
    assert_eq!(won.len() as u64, rows[0]["cells"][0]["value"]["count"].as_u64().unwrap());
    for rec in won {
        assert_eq!(rec["kind"], "opportunity");
        let o = t.get(&format!("/api/v1/opportunities/{}", rec["id"]), &s).await;
        assert_eq!(o.status, StatusCode::OK, "the rep may open every record behind the number");
        assert_eq!(o.json()["owner_id"], rep_id);
    }
    let other = all["rows"].as_array().unwrap().iter().find(|r| r["slice"][0]["key"] != rep_key).unwrap();
    let other_cell = other["cell"].as_str().unwrap();
    let r = t.get(&format!("/api/v1/kpis/drill?metric=deals_closed&cell={}", web_encode(other_cell)), &s).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["numerator"].as_array().unwrap().is_empty(), "nothing of another rep leaks");

    // The page shows the rep's name and no one else's.
    let page = t.get(&format!("/kpis?metric=revenue&by=rep&period={PERIOD}"), &s).await;
    assert_eq!(page.status, StatusCode::OK);
    let other_name = other["slice"][0]["label"].as_str().unwrap();
    assert!(page.body.contains(rows[0]["slice"][0]["label"].as_str().unwrap()));
    assert!(!page.body.contains(other_name), "{other_name} is not on the rep's page");
});

both!(bad_parameters_give_400_with_the_field, |t| {
    let s = t.session(HEAD).await;
    for (query, field) in [
        ("metric=win_rat&period=2026-Q1", "metric"),
        ("metric=win_rate&by=colour&period=2026-Q1", "by"),
        ("metric=win_rate&period=2026-Q5", "period"),
        ("metric=win_rate&period=2026-Q1&compare=yesterday", "compare"),
        ("metric=win_rate&period=2026-Q1&format=xml", "format"),
        ("metric=win_rate", "period"),
    ] {
        let r = t.get(&format!("/api/v1/kpis?{query}"), &s).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(r.code(), "bad_query", "{query}");
        assert_eq!(r.json()["field"], field, "{query}: {}", r.body);
    }
    let r = t.get("/api/v1/kpis/drill?metric=win_rate&cell=2026-Q9", &s).await;
    assert_eq!((r.status, r.json()["field"].clone()), (StatusCode::BAD_REQUEST, json!("cell")));
    // The page keeps the form and says what is wrong.
    let page = t.get("/kpis?metric=win_rate&period=someday", &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("form-error"));
});

both!(funnel_and_process_map_come_from_the_stage_history, |t| {
    let s = t.session(HEAD).await;
    let r = t.get("/api/v1/kpis/flow", &s).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let f = r.json();
    let stages = f["funnel"]["stages"].as_array().unwrap();
    assert!(stages.len() >= 4, "{stages:?}");
    for st in stages {
        let n = |k: &str| st[k].as_u64().unwrap();
        assert_eq!(n("entered"), n("advanced") + n("lost") + n("in_progress"), "{st}");
    }
    assert!(stages[0]["entered"].as_u64().unwrap() >= stages.last().unwrap()["entered"].as_u64().unwrap());
    let edges = f["map"]["edges"].as_array().unwrap();
    assert!(edges.iter().any(|e| e["kind"] == "forward") && edges.iter().any(|e| e["kind"] == "close"));
    let bad = t.get("/api/v1/kpis/flow?from=yesterday", &s).await;
    assert_eq!((bad.status, bad.json()["field"].clone()), (StatusCode::BAD_REQUEST, json!("from")));
});

both!(pages_render_for_every_role, |t| {
    for who in [HEAD, OPS, ADMIN, MANAGER, REP, FINANCE, ANALYST] {
        let s = t.session(who).await;
        let k = t.get("/kpis", &s).await;
        assert_eq!(k.status, StatusCode::OK, "{who}: {}", k.body);
        assert!(k.body.contains("id=\"kpi-table\""), "{who}");
        for path in ["/funnel", "/process-map"] {
            let r = t.get(path, &s).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {path}: {}", r.body);
            assert!(r.body.contains("<svg"), "{who} {path} draws its chart");
        }
        let d = t.get(&format!("/kpis/drill?metric=revenue&cell={PERIOD}"), &s).await;
        assert_eq!(d.status, StatusCode::OK, "{who}");
    }
});

both!(the_fiscal_calendar_is_a_company_setting, |t| {
    let admin = t.session(ADMIN).await;
    let body = json!({"fiscal_year_start_month": 4, "quarter_scheme": "calendar"});
    let r = t.send("PUT", "/api/v1/settings/fiscal-calendar", &admin, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // FY2026 starts in April 2025: its Q1 is April to June 2025.
    let api = kpis(&t, HEAD, "metric=revenue&period=2026-Q1").await;
    assert_eq!((api["from"].as_str(), api["to"].as_str()), (Some("2025-04-01"), Some("2025-06-30")));
    let rep = t.session(REP).await;
    let r = t.send("PUT", "/api/v1/settings/fiscal-calendar", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .send(
            "PUT",
            "/api/v1/settings/fiscal-calendar",
            &admin,
            Some(json!({"fiscal_year_start_month": 13, "quarter_scheme": "calendar"})),
        )
        .await;
    assert_eq!(r.json()["field"], "fiscal_year_start_month");
});

mod browser {
    //! Screenshots of the KPI pages in headless Chromium (skipped where it is not installed).
    use thirtyfour::prelude::*;

    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use crate::{HEAD, Kind, spawn_app};

    #[tokio::test]
    async fn kpi_pages_in_a_real_browser() {
        let Some((_driver, driver_port)) = start_driver().await else { return };
        let t = spawn_app(Kind::Sqlite).await.unwrap();
        let base = serve(&t).await;
        let d = browser(driver_port, 1500, 1000).await;
        sign_in(&d, &base, HEAD).await;
        d.goto(format!(
            "{base}/kpis?by=team&period=2026-Q1&compare=previous&metric=revenue&metric=deals_closed&metric=win_rate\
             &metric=open_pipeline&metric=sales_cycle_length&metric=calls_placed&metric=net_promoter_score"
        ))
        .await
        .unwrap();
        let table = wait_for(&d, By::Id("kpi-table")).await;
        shot(&d, "kpi-01-kpis").await;
        let text = table.text().await.unwrap();
        assert!(text.to_lowercase().contains("total"), "{text}");
        d.goto(format!("{base}/funnel")).await.unwrap();
        wait_for(&d, By::Id("funnel-chart")).await;
        shot(&d, "kpi-02-funnel").await;
        d.goto(format!("{base}/process-map")).await.unwrap();
        wait_for(&d, By::Id("process-chart")).await;
        shot(&d, "kpi-03-process-map").await;
        d.quit().await.unwrap();
    }
}
