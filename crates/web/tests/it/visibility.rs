//! Row-level visibility (C5): a rep sees own records, a manager the subtree, ops and finance
//! everything; enforced in the store queries, so the UI, the API and guessed ids all agree.

use std::collections::BTreeSet;

use axum::http::StatusCode;

use crate::{ANALYST, As, FINANCE, HEAD, MANAGER, REP, TestApp, both};

async fn owners_of(t: &TestApp, who: &As, path: &str) -> (BTreeSet<i64>, i64) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = t.get(&format!("{path}{sep}limit=500&count=exact"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    let owners = v["items"].as_array().unwrap().iter().map(|i| i["owner_id"].as_i64().unwrap()).collect();
    (owners, v["total"].as_i64().unwrap())
}

both!(a_rep_sees_only_own_records_everywhere, |t| {
    let rep_id = t.user_id(REP).await;
    let rep = t.session(REP).await;
    for path in ["/api/v1/accounts", "/api/v1/opportunities"] {
        let (owners, total) = owners_of(&t, &rep, path).await;
        assert!(total > 0, "the demo rep owns {path}");
        assert_eq!(owners, BTreeSet::from([rep_id]), "{path}");
    }
    // Someone else's records: by API, by page and by guessed id, all "not found".
    let head = t.session(HEAD).await;
    let others = t.get(&format!("/api/v1/opportunities?limit=5&owner_id={}", rep_id + 1), &head).await.json();
    let other_opp = others["items"][0]["id"].as_i64().expect("another rep has opportunities");
    let other_acc = others["items"][0]["account_id"].as_i64().unwrap();
    let r = t.get(&format!("/api/v1/opportunities/{other_opp}"), &rep).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    assert_eq!(t.get(&format!("/api/v1/accounts/{other_acc}"), &rep).await.status, StatusCode::NOT_FOUND);
    let page = t.get(&format!("/opportunities/{other_opp}"), &rep).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains(others["items"][0]["name"].as_str().unwrap()));
    assert_eq!(t.get(&format!("/accounts/{other_acc}"), &rep).await.status, StatusCode::NOT_FOUND);
    // Filtering by another owner yields nothing rather than their data.
    let (_, total) = owners_of(&t, &rep, &format!("/api/v1/opportunities?owner_id={}", rep_id + 1)).await;
    assert_eq!(total, 0);
    // The list page shows only own records, and the CSV export is filtered the same way.
    let csv = t.get("/api/v1/opportunities?format=csv", &rep).await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let owners: Vec<String> = reader.records().map(|r| r.unwrap()[4].to_string()).collect();
    assert!(!owners.is_empty());
    assert!(owners.iter().all(|o| *o == rep_id.to_string()), "every exported row is the rep's own");
    // The rep's own record is readable.
    let mine = t.get("/api/v1/opportunities?limit=1", &rep).await.json()["items"][0]["id"].as_i64().unwrap();
    assert_eq!(t.get(&format!("/opportunities/{mine}"), &rep).await.status, StatusCode::OK);
});

both!(a_manager_sees_the_whole_subtree_and_nothing_else, |t| {
    let manager_id = t.user_id(MANAGER).await;
    let subtree: BTreeSet<i64> = t.store.subtree_ids(model::UserId(manager_id)).await.unwrap().into_iter().collect();
    assert!(subtree.len() > 2, "the demo manager has a team");
    let manager = t.session(MANAGER).await;
    let (owners, total) = owners_of(&t, &manager, "/api/v1/opportunities").await;
    assert!(total > 0);
    assert!(owners.is_subset(&subtree), "{owners:?} within {subtree:?}");
    assert!(owners.len() > 1, "more than the manager's own");
    let head = t.session(HEAD).await;
    let (_, everything) = owners_of(&t, &head, "/api/v1/opportunities").await;
    assert!(total < everything);
});

both!(ops_and_finance_see_everything_but_finance_cannot_write, |t| {
    let head = t.session(HEAD).await;
    let (_, all) = owners_of(&t, &head, "/api/v1/opportunities").await;
    for who in [FINANCE, ANALYST] {
        let s = t.session(who).await;
        let (_, n) = owners_of(&t, &s, "/api/v1/opportunities").await;
        assert_eq!(n, all, "{who}");
        let w = t.send("POST", "/api/v1/teams", &s, Some(serde_json::json!({"name": "Not allowed"}))).await;
        assert_eq!(w.status, StatusCode::FORBIDDEN, "{who}");
    }
});

both!(reps_and_managers_cannot_reach_administration, |t| {
    for who in [REP, MANAGER] {
        let s = t.session(who).await;
        for path in ["/api/v1/users", "/api/v1/audit", "/metrics"] {
            let r = t.get(path, &s).await;
            assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "{who} {path}");
        }
        for path in ["/admin/users", "/admin/audit", "/admin/organisation", "/admin/currencies", "/admin/users/1"] {
            assert_eq!(t.get(path, &s).await.status, StatusCode::FORBIDDEN, "{who} {path}");
        }
        let home = t.get("/", &s).await;
        assert!(!home.body.contains("href=\"/admin/users\""), "{who} has no admin links");
        // A user may read themselves, not others.
        let me = t.user_id(who).await;
        assert_eq!(t.get(&format!("/api/v1/users/{me}"), &s).await.status, StatusCode::OK);
        assert_eq!(t.get(&format!("/api/v1/users/{}", me + 1), &s).await.status, StatusCode::FORBIDDEN);
    }
    let head = t.session(HEAD).await;
    assert!(t.get("/", &head).await.body.contains("href=\"/admin/users\""));
});

both!(counts_stop_at_a_thousand_unless_asked_for_exact, |t| {
    let head = t.session(HEAD).await;
    let capped = t.get("/api/v1/opportunities?limit=10", &head).await.json();
    assert_eq!((capped["total"].as_i64(), capped["total_exact"].as_bool()), (Some(1000), Some(false)));
    let exact = t.get("/api/v1/opportunities?limit=10&count=exact", &head).await.json();
    assert_eq!((exact["total"].as_i64(), exact["total_exact"].as_bool()), (Some(3000), Some(true)));
    assert_eq!(t.get("/api/v1/opportunities?count=maybe", &head).await.json()["field"], "count");
    let page = t.get("/opportunities", &head).await;
    assert!(page.body.contains("more than 1,000 rows"), "capped label");
    assert!(page.body.contains("id=\"count-all\""));
    let page = t.get("/opportunities?count=exact", &head).await;
    assert!(page.body.contains("3,000 rows"), "exact label");
    // Small lists are always exact.
    let rep = t.session(REP).await;
    let own = t.get("/api/v1/opportunities?limit=10", &rep).await.json();
    assert_eq!(own["total_exact"], true);
    // Paging past the cap still works.
    let far = t.get("/api/v1/opportunities?limit=10&offset=2990", &head).await.json();
    assert_eq!(far["items"].as_array().unwrap().len(), 10);
    // CSV exports everything regardless of the cap.
    let csv = t.get("/api/v1/opportunities?format=csv", &head).await;
    assert_eq!(csv.body.lines().count(), 3001);
});
