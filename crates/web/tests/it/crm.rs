//! The CRM core through the API and the pages: stage moves with exit criteria and loss
//! reasons, the stage history, activities, and the lead lifecycle with duplicates, nurture,
//! conversion and merge.

use axum::http::StatusCode;
use serde_json::json;

use crate::{ADMIN, HEAD, REP, TestApp, both};

/// The rep's first open opportunity in the given stage of "New business".
async fn rep_opportunity_in(t: &TestApp, stage: &str) -> serde_json::Value {
    let rep = t.session(REP).await;
    let list = t.get("/api/v1/opportunities?status=open&limit=500", &rep).await.json();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["stage_name"] == stage)
        .cloned()
        .unwrap_or_else(|| panic!("the demo rep has an open opportunity in {stage}"))
}

async fn stage_id(t: &TestApp, name: &str) -> i64 {
    let who = t.session(REP).await;
    let pipelines = t.get("/api/v1/pipelines", &who).await.json();
    pipelines
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["stages"].as_array().unwrap().clone())
        .find(|s| s["name"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

both!(moving_a_deal_checks_exit_criteria_and_keeps_history, |t| {
    let rep = t.session(REP).await;
    let opp = rep_opportunity_in(&t, "Qualification").await;
    let id = opp["id"].as_i64().unwrap();
    let needs_analysis = stage_id(&t, "Needs analysis").await;
    let before = t.get(&format!("/api/v1/opportunities/{id}/history"), &rep).await.json();
    let steps = before.as_array().unwrap().len();
    assert!(steps >= 2, "the demo deal came through Prospecting: {before}");

    // Qualification needs a next step before the deal may move forward.
    let r = t
        .send(
            "POST",
            &format!("/api/v1/opportunities/{id}/move"),
            &rep,
            Some(json!({"stage_id": needs_analysis, "next_step": ""})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "exit_criteria");
    assert!(r.json()["message"].as_str().unwrap().contains("next_step"), "{}", r.body);

    t.advance(jiff::SignedDuration::from_hours(2));
    let r = t
        .send(
            "POST",
            &format!("/api/v1/opportunities/{id}/move"),
            &rep,
            Some(json!({"stage_id": needs_analysis, "next_step": "Demo for the board"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let moved = r.json();
    assert_eq!(
        (moved["stage_name"].as_str(), moved["next_step"].as_str()),
        (Some("Needs analysis"), Some("Demo for the board"))
    );
    assert_eq!(moved["stage_entered_at"], "2026-06-15T12:00:00Z");

    // Lost needs a reason from the managed list.
    let lost = stage_id(&t, "Closed lost").await;
    let r = t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": lost}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("loss_reason_id")));
    let reasons = t.get("/api/v1/loss-reasons", &rep).await.json();
    let price = reasons.as_array().unwrap().iter().find(|r| r["name"] == "Price").unwrap()["id"].as_i64().unwrap();
    let r = t
        .send(
            "POST",
            &format!("/api/v1/opportunities/{id}/move"),
            &rep,
            Some(json!({"stage_id": lost, "loss_reason_id": price})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.json()["loss_reason"].as_str(), r.json()["forecast_category"].as_str()),
        (Some("Price"), Some("omitted"))
    );

    // The nurture loop: a lost deal re-enters the pipeline later; nothing of the way is lost.
    let prospecting = stage_id(&t, "Prospecting").await;
    let r =
        t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": prospecting}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["loss_reason"], serde_json::Value::Null);
    let history = t.get(&format!("/api/v1/opportunities/{id}/history"), &rep).await.json();
    let tail: Vec<(&str, &str)> = history.as_array().unwrap()[steps..]
        .iter()
        .map(|h| (h["to_stage"].as_str().unwrap(), h["source"].as_str().unwrap()))
        .collect();
    assert_eq!(tail, [("Needs analysis", "ui"), ("Closed lost", "ui"), ("Prospecting", "ui")]);

    // Every move is audited with before and after.
    let head = t.session(HEAD).await;
    let audit = t.get(&format!("/api/v1/audit?entity=opportunity&entity_id={id}"), &head).await.json();
    assert_eq!(audit["total"], 3, "{audit}");

    // Someone else's deal cannot be moved, nor does it reveal itself.
    let others = t.get("/api/v1/opportunities?status=open&limit=5", &head).await.json();
    let rep_id = t.user_id(REP).await;
    let foreign =
        others["items"].as_array().unwrap().iter().find(|o| o["owner_id"] != rep_id).unwrap()["id"].as_i64().unwrap();
    let r = t
        .send("POST", &format!("/api/v1/opportunities/{foreign}/move"), &rep, Some(json!({"stage_id": prospecting})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
});

both!(the_opportunity_page_shows_history_and_moves_by_form, |t| {
    let rep = t.session(REP).await;
    let opp = rep_opportunity_in(&t, "Qualification").await;
    let id = opp["id"].as_i64().unwrap();
    let page = t.get(&format!("/opportunities/{id}"), &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"stage-history\"") && page.body.contains("Prospecting"), "history shown");
    assert!(page.body.contains("id=\"move-form\""));
    let needs_analysis = stage_id(&t, "Needs analysis").await.to_string();
    // The Dutch-speaking rep gets the refusal inline, naming the field.
    let r =
        t.form(&format!("/opportunities/{id}/move"), &rep, &[("stage_id", &needs_analysis), ("next_step", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Vul eerst in om verder te gaan: Volgende stap."),
        "translated, naming the field: {}",
        r.body
    );
    let r = t
        .form(
            &format!("/opportunities/{id}/move"),
            &rep,
            &[("stage_id", &needs_analysis), ("next_step", "Offerte sturen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/opportunities/{id}"), &rep).await;
    assert!(page.body.contains("Offerte sturen"));
    // Log a call from the page; it appears in the timeline.
    let r = t
        .form(
            "/activities",
            &rep,
            &[
                ("opportunity_id", &id.to_string()),
                ("kind", "call"),
                ("subject", "Belde met inkoper"),
                ("duration_minutes", "12"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/opportunities/{id}"), &rep).await;
    assert!(page.body.contains("Belde met inkoper") && page.body.contains("12 min"));
    let acts = t.get(&format!("/api/v1/activities?opportunity_id={id}&kind=call"), &rep).await.json();
    assert_eq!(acts["items"][0]["duration_seconds"], 720);
});

both!(the_lead_lifecycle_with_duplicates_nurture_conversion_and_merge, |t| {
    let rep = t.session(REP).await;
    let new = json!({"first_name": "Sanne", "last_name": "de Wit", "company": "Bakkerij de Wit B.V.",
        "email": "Sanne@BakkerijDeWit.nl", "phone": "+31 (0)20 555 0101", "source": "Website"});
    let r = t.send("POST", "/api/v1/leads", &rep, Some(new.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.json()["id"].as_i64().unwrap();

    // The same person again, typed differently: refused as a possible duplicate.
    let again = json!({"first_name": "S.", "last_name": "de Wit", "company": "bakkerij De Wit",
        "email": "info@bakkerijdewit.nl", "phone": "020-5550101"});
    let r = t.send("POST", "/api/v1/leads", &rep, Some(again.clone())).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "conflict"), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains(&format!("lead {first}")));
    let mut anyway = again.clone();
    anyway["allow_duplicate"] = json!(true);
    let r = t.send("POST", "/api/v1/leads", &rep, Some(anyway)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let second = r.json()["id"].as_i64().unwrap();
    let detail = t.get(&format!("/api/v1/leads/{first}"), &rep).await.json();
    let reasons: Vec<&str> = detail["duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lead_id"] == second)
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["phone"], "{detail}");

    // Merge the second into the first: one lead remains, the other points at it.
    let r = t.send("POST", &format!("/api/v1/leads/{first}/merge"), &rep, Some(json!({"merge_id": second}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let gone = t.get(&format!("/api/v1/leads/{second}"), &rep).await.json();
    assert_eq!(gone["lead"]["merged_into_id"], first);
    let list = t.get("/api/v1/leads?q=bakkerij%20de%20wit", &rep).await.json();
    assert_eq!(list["total"], 1, "{list}");

    // Disqualify needs a reason; nurture and re-entry are kept in the history.
    let path = format!("/api/v1/leads/{first}/status");
    let r = t.send("POST", &path, &rep, Some(json!({"status": "disqualified"}))).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    for s in ["working", "nurture", "working", "qualified"] {
        let r = t.send("POST", &path, &rep, Some(json!({"status": s}))).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{s}: {}", r.body);
    }
    let r = t.send("POST", &path, &rep, Some(json!({"status": "converted"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "conversion has its own action");

    // Convert: account, contact and opportunity in one step.
    let r = t
        .send(
            "POST",
            &format!("/api/v1/leads/{first}/convert"),
            &rep,
            Some(json!({"create_opportunity": true, "amount": "4800.00", "close_date": "2026-08-31"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let c = r.json();
    let opp = t.get(&format!("/api/v1/opportunities/{}", c["opportunity_id"]), &rep).await.json();
    assert_eq!(
        (opp["stage_name"].as_str(), opp["amount"]["amount"].as_str(), opp["amount"]["currency"].as_str()),
        (Some("Prospecting"), Some("4800.00"), Some("EUR"))
    );
    assert_eq!(opp["account_name"], "Bakkerij de Wit B.V.");
    assert_eq!(opp["lead_source"], "Website");
    let hist = t.get(&format!("/api/v1/opportunities/{}/history", c["opportunity_id"]), &rep).await.json();
    assert_eq!(hist[0]["source"], "conversion");
    let lead = t.get(&format!("/api/v1/leads/{first}"), &rep).await.json();
    let statuses: Vec<&str> =
        lead["history"].as_array().unwrap().iter().map(|h| h["to_status"].as_str().unwrap()).collect();
    // Both leads' entries, the merge, then the lifecycle.
    assert_eq!(statuses, ["new", "new", "new", "working", "nurture", "working", "qualified", "converted"]);
    assert!(lead["history"].as_array().unwrap().iter().any(|h| h["reason"] == format!("merged lead {second}")));
    let r = t.send("POST", &format!("/api/v1/leads/{first}/convert"), &rep, Some(json!({}))).await;
    assert_eq!(r.code(), "refused", "converting twice is refused: {}", r.body);
});

both!(lead_pages_and_process_administration, |t| {
    let rep = t.session(REP).await;
    let page = t.get("/leads?status=nurture", &rep).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"leads\""));
    let r = t
        .form(
            "/leads",
            &rep,
            &[
                ("first_name", "Piet"),
                ("last_name", "Smit"),
                ("company", "Smit Installatie"),
                ("email", "piet@smit-installatie.nl"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id =
        r.headers["location"].to_str().unwrap().trim_start_matches("/leads/").split('?').next().unwrap().to_string();
    let r = t
        .form("/leads", &rep, &[("first_name", "P."), ("last_name", "Smit"), ("company", "Smit Installatie BV")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("id=\"allow_duplicate\""), "the form offers to create anyway");
    let r = t.form(&format!("/leads/{id}/status"), &rep, &[("status", "disqualified"), ("reason", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r =
        t.form(&format!("/leads/{id}/status"), &rep, &[("status", "nurture"), ("reason", "Budget next year")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = t.get(&format!("/leads/{id}"), &rep).await;
    assert!(page.body.contains("id=\"lead-history\"") && page.body.contains("Budget next year"));

    // Administrators change exit criteria and loss reasons; reps may not.
    let admin = t.session(ADMIN).await;
    assert_eq!(t.get("/admin/sales-process", &rep).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/admin/sales-process", &admin).await.status, StatusCode::OK);
    let proposal = stage_id(&t, "Proposal").await;
    let r = t
        .form(&format!("/admin/stages/{proposal}/exit-criteria"), &admin, &[("exit_criteria", "amount, budget")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("budget"));
    let r = t
        .form(&format!("/admin/stages/{proposal}/exit-criteria"), &admin, &[("exit_criteria", "amount, engaged_on")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let pipelines = t.get("/api/v1/pipelines", &admin).await.json();
    let stage = pipelines[0]["stages"].as_array().unwrap().iter().find(|s| s["id"] == proposal).unwrap().clone();
    assert_eq!(stage["exit_criteria"], json!(["amount", "engaged_on"]));
    let r = t.form("/admin/loss-reasons", &admin, &[("name", "Price")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = t.form("/admin/loss-reasons", &admin, &[("name", "Merger")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t.send("POST", "/api/v1/loss-reasons", &rep, Some(json!({"name": "Rep reason"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(the_opportunity_list_filters_by_owner_and_stage, |t| {
    let head = t.session(HEAD).await;
    let rep_id = t.user_id(REP).await;
    let proposal = stage_id(&t, "Proposal").await;
    let api = t
        .get(&format!("/api/v1/opportunities?owner_id={rep_id}&stage_id={proposal}&count=exact&limit=500"), &head)
        .await
        .json();
    let items = api["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|o| o["owner_id"] == rep_id && o["stage_id"] == proposal));
    let page = t.get(&format!("/opportunities?owner_id={rep_id}&stage_id={proposal}"), &head).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"owner-filter\""));
    assert_eq!(page.body.matches("href=\"/opportunities/").count(), items.len().min(50));
});

both!(contacts_are_listed_per_account_within_visibility, |t| {
    let rep = t.session(REP).await;
    let rep_id = t.user_id(REP).await;
    let accounts = t.get("/api/v1/accounts?limit=1", &rep).await.json();
    let account = accounts["items"][0]["id"].as_i64().unwrap();
    let contacts = t.get(&format!("/api/v1/contacts?account_id={account}"), &rep).await.json();
    let items = contacts["items"].as_array().unwrap();
    assert!(!items.is_empty(), "demo accounts have contacts");
    assert!(items.iter().all(|c| c["account_id"] == account && c["owner_id"] == rep_id));
    let page = t.get(&format!("/accounts/{account}"), &rep).await;
    assert!(page.body.contains("id=\"contacts\""));
    assert!(page.body.contains(&crate::html(items[0]["last_name"].as_str().unwrap())));
    let all = t.get("/api/v1/contacts?limit=500", &rep).await.json();
    assert!(all["items"].as_array().unwrap().iter().all(|c| c["owner_id"] == rep_id), "a rep sees own contacts only");
});

both!(a_meddic_scorecard_gates_a_stage, |t| {
    let admin = t.session(ADMIN).await;
    let rep = t.session(REP).await;
    // New business runs on MEDDIC plus one criterion of the company's own.
    let r = t
        .send(
            "PUT",
            "/api/v1/pipelines/1/methodology",
            &admin,
            Some(json!({"methodology": "meddic", "add": ["Site survey done"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = t.send("PUT", "/api/v1/pipelines/1/methodology", &rep, Some(json!({"methodology": "bant"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Needs analysis may only be left with a confirmed economic buyer.
    let needs = stage_id(&t, "Needs analysis").await;
    let r =
        t.form(&format!("/admin/stages/{needs}/exit-criteria"), &admin, &[("exit_criteria", "score:champions")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown criterion is refused");
    let r = t
        .form(&format!("/admin/stages/{needs}/exit-criteria"), &admin, &[("exit_criteria", "score:economic_buyer")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let opp = rep_opportunity_in(&t, "Needs analysis").await;
    let id = opp["id"].as_i64().unwrap();
    let card = t.get(&format!("/api/v1/opportunities/{id}/scorecard"), &rep).await.json();
    assert_eq!(card["methodology"], "meddic");
    let keys: Vec<&str> = card["criteria"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "metrics",
            "economic_buyer",
            "decision_criteria",
            "decision_process",
            "identify_pain",
            "champion",
            "site_survey_done"
        ]
    );

    let proposal = stage_id(&t, "Proposal").await;
    let r =
        t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": proposal}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["message"].as_str().unwrap().contains("score:economic_buyer"), "{}", r.body);
    let r = t
        .send(
            "PUT",
            &format!("/api/v1/opportunities/{id}/scorecard"),
            &rep,
            Some(json!([{"key": "economic_buyer", "score": 1, "note": "Met the CFO once"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r =
        t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": proposal}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "weak is not enough");
    // From the page: the Dutch rep confirms the economic buyer, then moves on.
    let page = t.get(&format!("/opportunities/{id}"), &rep).await;
    assert!(page.body.contains("id=\"scorecard\"") && page.body.contains("Met the CFO once"));
    let r = t
        .form(
            &format!("/opportunities/{id}/scorecard"),
            &rep,
            &[("score_economic_buyer", "2"), ("note_economic_buyer", "CFO signs off")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r =
        t.send("POST", &format!("/api/v1/opportunities/{id}/move"), &rep, Some(json!({"stage_id": proposal}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let bad = t
        .send(
            "PUT",
            &format!("/api/v1/opportunities/{id}/scorecard"),
            &rep,
            Some(json!([{"key": "champion", "score": 7}])),
        )
        .await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("score")));
});
