//! Trend alerts on the small demo company: the rep logs a burst of calls in the last week, the
//! daily run flags it for the rep and their managers only, runs once per date, delivers one
//! e-mail per reader to a local SMTP sink and a signed POST to a local webhook receiver; the
//! scan through the API equals the pure engine on the same records; reps cannot run it or read
//! others' notifications.

use std::sync::{Arc, Mutex};

use app::kpi_engine::alerts::{ScanOptions, scan};
use axum::http::StatusCode;
use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{ADMIN, HEAD, MANAGER, REP, TestApp, both};

const AS_OF: &str = "2026-06-15";

/// Forty calls a day for the rep on the five days before the as-of date: far above their usual rate.
async fn call_burst(t: &TestApp) {
    let rep = t.session(REP).await;
    for day in 10..=14 {
        for i in 0..40 {
            let at = format!("2026-06-{day}T{:02}:{:02}:00Z", 8 + i / 6, (i % 6) * 10);
            let r = t
                .send(
                    "POST",
                    "/api/v1/activities",
                    &rep,
                    Some(json!({"kind": "call", "subject": "follow-up", "at": at, "duration_minutes": 4})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
    }
}

fn rep_alerts(report: &Json) -> Vec<Json> {
    report["alerts"].as_array().unwrap().iter().filter(|a| a["level"] == "rep").cloned().collect()
}

both!(the_daily_run_tells_the_rep_and_their_managers_once, |t| {
    call_burst(&t).await;
    let head = t.session(HEAD).await;
    let rep_id = t.user_id(REP).await;

    // The scan through the API equals the engine on the same records.
    let scanned = t.get(&format!("/api/v1/alerts/scan?as_of={AS_OF}"), &head).await;
    assert_eq!(scanned.status, StatusCode::OK, "{}", scanned.body);
    let scanned = scanned.json();
    let p = t.app.cli_principal(Some(HEAD)).await.unwrap();
    let (facts, _) = t.app.kpi_facts(&p).await.unwrap();
    let calendar = t.app.fiscal_calendar().await.unwrap();
    let (engine, _) = scan(&facts, &calendar, AS_OF.parse().unwrap(), &ScanOptions::default()).unwrap();
    assert_eq!(scanned["alerts"].as_array().unwrap().len(), engine.alerts.len());
    assert_eq!(scanned["tested"].as_u64().unwrap() as usize, engine.tested);
    assert_eq!(scanned["recent_from"], "2026-06-08");
    let calls: Vec<Json> =
        rep_alerts(&scanned).into_iter().filter(|a| a["kpi"] == "calls_placed" && a["scope_id"] == rep_id).collect();
    assert_eq!(calls.len(), 1, "the burst is flagged: {scanned}");
    assert_eq!(calls[0]["worse"], false);
    assert!(calls[0]["recent_rate"].as_f64().unwrap() > calls[0]["baseline_rate"].as_f64().unwrap());

    // A rep may not run it; a bad date names the field.
    let rep = t.session(REP).await;
    assert_eq!(
        t.send("POST", "/api/v1/alerts/run", &rep, Some(json!({"as_of": AS_OF}))).await.status,
        StatusCode::FORBIDDEN
    );
    let bad = t.send("POST", "/api/v1/alerts/run", &head, Some(json!({"as_of": "15/06/2026"}))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["field"], "as_of");

    let run = t.send("POST", "/api/v1/alerts/run", &head, Some(json!({"as_of": AS_OF}))).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let run = run.json();
    assert_eq!(run["created"], true);
    let sent = run["notifications"].as_u64().unwrap();
    assert!(sent > 0);

    // The rep hears about their own figures only; the manager above them hears about it too.
    let mine = t.get("/api/v1/notifications", &rep).await.json();
    let items = mine["items"].as_array().unwrap();
    assert!(items.iter().any(|n| n["alert"]["kpi"] == "calls_placed"));
    assert!(items.iter().all(|n| n["alert"]["level"] == "rep" && n["alert"]["scope_id"] == rep_id), "{mine}");
    // The rep reads Dutch.
    assert!(items.iter().any(|n| n["text"].as_str().unwrap().contains("per dag")), "{mine}");
    assert_eq!(mine["unread"].as_u64().unwrap() as usize, items.len());
    let manager = t.session(MANAGER).await;
    let theirs = t.get("/api/v1/notifications", &manager).await.json();
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["alert"]["scope_id"] == rep_id && n["alert"]["kpi"] == "calls_placed"),
        "{theirs}"
    );

    // Running the date again changes nothing.
    let again = t.send("POST", "/api/v1/alerts/run", &head, Some(json!({"as_of": AS_OF}))).await.json();
    assert_eq!((again["created"].clone(), again["run_id"].clone()), (json!(false), run["run_id"].clone()));
    assert_eq!(t.get("/api/v1/notifications", &rep).await.json()["items"].as_array().unwrap().len(), items.len());

    // Someone else's notification is not found; one's own is marked read, and audited.
    let manager_item = theirs["items"][0]["id"].as_i64().unwrap();
    let r = t.send("POST", "/api/v1/notifications/read", &rep, Some(json!({"id": manager_item}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t.send("POST", "/api/v1/notifications/read", &rep, Some(json!({"id": items[0]["id"]}))).await;
    assert_eq!(r.json()["marked"], 1);
    assert_eq!(t.get("/api/v1/notifications", &rep).await.json()["unread"].as_u64().unwrap() as usize, items.len() - 1);
    let admin = t.session(ADMIN).await;
    let audit = t.get("/api/v1/audit?entity=alert_run", &admin).await.json();
    assert_eq!(audit["total"], 1, "{audit}");

    // The page shows the rep's notification in their words, and the scan.
    let page = t.get(&format!("/alerts?as_of={AS_OF}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"notice-list\"") && page.body.contains("id=\"scan-alerts\""));
    assert!(!page.body.contains("id=\"run-alerts\""), "reps get no run button");
    assert!(!page.body.contains("id=\"webhooks\""));
});

/// An SMTP sink: accepts every message and keeps (recipients, data).
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<(Vec<String>, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let keep = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = socket.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let (mut to, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            keep.lock().unwrap().push((std::mem::take(&mut to), std::mem::take(&mut data)));
                            let _ = w.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                        b"250 ok\r\n"
                    } else if upper == "DATA" {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, mails)
}

/// A webhook receiver answering 204 and keeping (signature header, body).
async fn webhook_sink() -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                let sig = headers.get("x-salesops-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                keep.lock().unwrap().push((sig, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, got)
}

both!(a_run_is_mailed_to_each_reader_and_posted_signed_to_webhooks, |t| {
    call_burst(&t).await;
    let (port, mails) = smtp_sink().await;
    let (url, hooks) = webhook_sink().await;
    let mut state = web::AppState::new(t.app.clone());
    state.mailer = Some(
        web::alerts::Mailer::parse(&format!("smtp://127.0.0.1:{port}"), "salesops <alerts@demo.salesops.io>").unwrap(),
    );
    let mut t = t;
    t.router = web::router(state);
    let admin = t.session(ADMIN).await;
    let rep = t.session(REP).await;
    let secret = "a-shared-secret-of-some-length";
    assert_eq!(
        t.send("POST", "/api/v1/webhooks", &rep, Some(json!({"url": url, "secret": secret}))).await.status,
        StatusCode::FORBIDDEN
    );
    let bad = t.send("POST", "/api/v1/webhooks", &admin, Some(json!({"url": "ftp://x", "secret": secret}))).await;
    assert_eq!((bad.status, bad.json()["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("url")));
    let short = t.send("POST", "/api/v1/webhooks", &admin, Some(json!({"url": url, "secret": "short"}))).await;
    assert_eq!(short.json()["field"], "secret");
    let created = t.send("POST", "/api/v1/webhooks", &admin, Some(json!({"url": url, "secret": secret}))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = t.get("/api/v1/webhooks", &admin).await.json();
    assert!(listed[0].get("secret").is_none(), "secrets are never shown: {listed}");

    let run = t.send("POST", "/api/v1/alerts/run", &admin, Some(json!({"as_of": AS_OF}))).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let run = run.json();
    let readers: std::collections::BTreeSet<i64> = {
        let mut set = std::collections::BTreeSet::new();
        for who in [REP, MANAGER, HEAD] {
            if t.get("/api/v1/notifications", &t.session(who).await).await.json()["unread"].as_u64().unwrap() > 0 {
                set.insert(t.user_id(who).await);
            }
        }
        set
    };
    assert!(readers.contains(&t.user_id(REP).await));
    assert_eq!(run["delivery"]["email_errors"], 0, "{run}");
    assert_eq!(run["delivery"]["webhooks_delivered"], 1, "{run}");
    let mails = mails.lock().unwrap().clone();
    assert_eq!(run["delivery"]["emails_sent"].as_u64().unwrap() as usize, mails.len());
    let to_rep: Vec<&(Vec<String>, String)> = mails.iter().filter(|(to, _)| to.iter().any(|a| a == REP)).collect();
    assert_eq!(to_rep.len(), 1, "one mail per reader");
    assert!(to_rep[0].1.contains("trendsignalen"), "the rep reads Dutch: {}", to_rep[0].1);

    let hooks = hooks.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1);
    let (sig, body) = &hooks[0];
    let t_part = sig.split(',').next().unwrap().trim_start_matches("t=").parse::<i64>().unwrap();
    assert_eq!(*sig, web::alerts::signature(secret, t_part, body.as_bytes()), "the signature verifies");
    let posted: Json = serde_json::from_str(body).unwrap();
    assert_eq!(posted["event"], "trend_alerts");
    // The same alerts as the run (floats compared through their meaning, not their last digit).
    let key =
        |a: &Json| (a["kpi"].to_string(), a["level"].to_string(), a["scope_id"].to_string(), a["worse"].to_string());
    let posted_keys: Vec<_> = posted["report"]["alerts"].as_array().unwrap().iter().map(key).collect();
    let run_keys: Vec<_> = run["report"]["alerts"].as_array().unwrap().iter().map(key).collect();
    assert!(!run_keys.is_empty());
    assert_eq!(posted_keys, run_keys);
    let listed = t.get("/api/v1/webhooks", &admin).await.json();
    assert_eq!(listed[0]["last_status"], "204");
});

mod in_a_browser {
    use thirtyfour::prelude::*;

    use crate::browser::{browser, serve, shot, sign_in, start_driver, wait_for};
    use crate::{HEAD, Kind, REP, spawn_app};

    #[tokio::test]
    async fn the_head_runs_the_alerts_and_the_rep_reads_theirs() {
        let Some((_driver, driver_port)) = start_driver().await else { return };
        let t = spawn_app(Kind::Sqlite).await.unwrap();
        super::call_burst(&t).await;
        let base = serve(&t).await;
        let d = browser(driver_port, 1400, 1000).await;
        sign_in(&d, &base, HEAD).await;
        d.goto(format!("{base}/alerts?as_of={}", super::AS_OF)).await.unwrap();
        wait_for(&d, By::Css("#scan-alerts tbody tr")).await;
        let rows = d.find(By::Id("scan-alerts")).await.unwrap();
        assert!(rows.text().await.unwrap().contains("Calls"));
        d.find(By::Id("run-alerts")).await.unwrap().click().await.unwrap();
        let done = wait_for(&d, By::Id("flash-done")).await.text().await.unwrap();
        assert!(done.starts_with("Run stored"), "{done}");
        shot(&d, "alerts-01-head").await;
        d.delete_all_cookies().await.unwrap();
        sign_in(&d, &base, REP).await;
        d.goto(format!("{base}/alerts?as_of={}", super::AS_OF)).await.unwrap();
        let list = wait_for(&d, By::Css("#notice-list tr.unread")).await.text().await.unwrap();
        assert!(list.contains("per dag"), "Dutch for the rep: {list}");
        shot(&d, "alerts-02-rep").await;
        d.find(By::Id("read-all")).await.unwrap().click().await.unwrap();
        wait_for(&d, By::Id("flash-done")).await;
        assert!(d.find(By::Css("#notice-list tr.unread")).await.is_err());
        d.quit().await.unwrap();
    }
}
