//! Lists (issue 4): full-text search (prefixes, accents, every word, any input), sorting by a
//! whitelisted column with a stable order across pages, and JSON / CSV exports that are
//! exactly the filtered, sorted list. On both stores, through the API and the pages.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use crate::{ADMIN, As, HEAD, REP, TestApp, both};

async fn post_csv(t: &TestApp, who: &As, path: &str, csv: &str) -> crate::Resp {
    let mut b = Request::builder().method("POST").uri(path).header(header::CONTENT_TYPE, "text/csv");
    if let As::Session { cookie, csrf } = who {
        b = b.header(header::COOKIE, cookie).header("x-csrf-token", csrf);
    }
    t.raw(b.body(Body::from(csv.to_string())).unwrap()).await
}

/// Customers with the names people type without their accents.
const CUSTOMERS: &str = "\
Id,Name,Account Name,Owner Email,StageName,Amount,CurrencyIsoCode,CloseDate
S1,Kantoorstoelen 2026,Bakkerij de Wit B.V.,rep@demo.salesops.io,Proposal,1200.00,EUR,2026-09-30
S2,Showroom inrichting,Łódź Meble Sp. z o.o.,rep@demo.salesops.io,Proposal,5400.00,PLN,2026-10-31
S3,Nye kontorer,Ærø Møbler ApS,rep@demo.salesops.io,Proposal,9100.00,DKK,2026-11-30
";

fn names(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_string()).collect()
}

fn ids(v: &Value) -> Vec<i64> {
    v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

async fn search(t: &TestApp, who: &As, list: &str, q: &str) -> Vec<String> {
    let r = t.get(&format!("/api/v1/{list}?limit=200&q={}", crate::web_encode(q)), who).await;
    assert_eq!(r.status, StatusCode::OK, "{list} q={q}: {}", r.body);
    names(&r.json())
}

async fn import_customers(t: &TestApp) {
    let admin = t.session(ADMIN).await;
    let r = post_csv(t, &admin, "/api/v1/import/opportunities?preset=salesforce&create_missing=true", CUSTOMERS).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

both!(search_finds_prefixes_without_accents_and_needs_every_word, |t| {
    import_customers(&t).await;
    let head = t.session(HEAD).await;
    let has = |found: &[String], name: &str| found.iter().any(|n| n == name);
    // Prefixes as you type, case and accents ignored, transliterations too.
    assert!(has(&search(&t, &head, "accounts", "bakk").await, "Bakkerij de Wit B.V."));
    assert!(has(&search(&t, &head, "accounts", "BAKKERIJ").await, "Bakkerij de Wit B.V."));
    assert!(has(&search(&t, &head, "accounts", "lodz").await, "Łódź Meble Sp. z o.o."));
    assert!(has(&search(&t, &head, "accounts", "Łódź").await, "Łódź Meble Sp. z o.o."));
    for q in ["aero", "aeroe", "ærø", "moebler", "mobler"] {
        assert!(has(&search(&t, &head, "accounts", q).await, "Ærø Møbler ApS"), "{q}");
    }
    // Several words: all of them, in any field and order.
    assert!(has(&search(&t, &head, "accounts", "wit bakk").await, "Bakkerij de Wit B.V."));
    assert!(search(&t, &head, "accounts", "bakk lodz").await.is_empty());
    // Opportunities match on their own name and on their account's name.
    assert_eq!(search(&t, &head, "opportunities", "showroom").await, vec!["Showroom inrichting"]);
    assert_eq!(search(&t, &head, "opportunities", "lodz").await, vec!["Showroom inrichting"]);
    assert_eq!(search(&t, &head, "opportunities", "meble showr").await, vec!["Showroom inrichting"]);
    assert!(search(&t, &head, "opportunities", "meble kantoor").await.is_empty());
    // Leads by company, e-mail and phone; contacts by name.
    let rep = t.session(REP).await;
    let lead = json!({"first_name": "Zofia", "last_name": "Wójcik", "company": "Łódź Meble Sp. z o.o.",
        "email": "zofia@lodzmeble.pl", "phone": "+48 42 123 45 67", "campaign": "Targi Poznań", "allow_duplicate": true});
    let r = t.send("POST", "/api/v1/leads", &rep, Some(lead)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    for q in ["wojcik", "zofia lodz", "lodzmeble", "4842123", "poznan"] {
        let r = t.get(&format!("/api/v1/leads?q={}", crate::web_encode(q)), &rep).await.json();
        assert_eq!(r["items"].as_array().unwrap().len(), 1, "{q}: {r}");
    }
    let c = t.get("/api/v1/contacts?limit=1", &head).await.json();
    let last = c["items"][0]["last_name"].as_str().unwrap().to_string();
    let r = t.get(&format!("/api/v1/contacts?limit=200&q={}", crate::web_encode(&last)), &head).await.json();
    assert!(r["items"].as_array().unwrap().iter().any(|i| i["last_name"] == last.as_str()));
    // The pages search the same way.
    let page = t.get("/accounts?q=lodz", &head).await;
    assert!(page.body.contains("Łódź Meble"), "{}", page.body);
    let page = t.get("/leads?q=wojcik", &rep).await;
    assert!(page.body.contains("Wójcik"));
});

both!(quotes_and_operators_in_a_search_never_fail, |t| {
    let head = t.session(HEAD).await;
    for q in [
        "\"",
        "\"unterminated",
        "*",
        "bakk*",
        "NEAR(a b)",
        "a OR b",
        "-x",
        "NOT",
        "'; DROP TABLE accounts; --",
        ":*&|!",
        "(",
        "^",
        "{name}: x",
        "%_\\",
        "   ",
        "ü:*A",
    ] {
        for list in ["accounts", "opportunities", "leads", "contacts"] {
            let r = t.get(&format!("/api/v1/{list}?q={}", crate::web_encode(q)), &head).await;
            assert_eq!(r.status, StatusCode::OK, "{list} q={q}: {}", r.body);
        }
        for page in ["/accounts", "/opportunities", "/leads"] {
            let r = t.get(&format!("{page}?q={}", crate::web_encode(q)), &head).await;
            assert_eq!(r.status, StatusCode::OK, "{page} q={q}");
        }
    }
    // A blank search filters nothing; one without letters or digits matches nothing.
    let all = t.get("/api/v1/accounts?count=exact&limit=1", &head).await.json()["total"].clone();
    let r = t.get("/api/v1/accounts?count=exact&limit=1&q=%20%20", &head).await.json();
    assert_eq!(r["total"], all);
    let r = t.get("/api/v1/accounts?count=exact&limit=1&q=%22*%22", &head).await.json();
    assert_eq!(r["total"], 0);
});

both!(a_rep_searching_finds_only_own_records, |t| {
    let rep_id = t.user_id(REP).await;
    let head = t.session(HEAD).await;
    let rep = t.session(REP).await;
    // A word from another rep's opportunity and account.
    let other = t.get(&format!("/api/v1/opportunities?limit=1&owner_id={}", rep_id + 1), &head).await.json();
    let word = other["items"][0]["account_name"].as_str().unwrap().split_whitespace().next().unwrap().to_string();
    assert!(!search(&t, &head, "opportunities", &word).await.is_empty());
    for list in ["opportunities", "accounts", "leads", "contacts"] {
        let r = t.get(&format!("/api/v1/{list}?limit=200&q={}", crate::web_encode(&word)), &rep).await.json();
        assert!(r["items"].as_array().unwrap().iter().all(|i| i["owner_id"] == rep_id), "{list}: {r}");
    }
    let csv = t.get(&format!("/api/v1/opportunities?format=csv&q={}", crate::web_encode(&word)), &rep).await;
    assert!(csv.body.lines().skip(1).all(|l| l.split(',').nth(4) == Some(&rep_id.to_string())));
});

both!(search_stays_right_after_loads_imports_renames_and_restores, |t| {
    let head = t.session(HEAD).await;
    // The demo load (a bulk load) indexed everything: every account finds itself by name.
    let accounts = t.get("/api/v1/accounts?limit=20", &head).await.json();
    for name in names(&accounts) {
        let found = search(&t, &head, "accounts", &name).await;
        assert!(found.contains(&name), "{name} in {found:?}");
    }
    // An import adds searchable records, and re-importing a changed name renames them in the index.
    import_customers(&t).await;
    assert_eq!(search(&t, &head, "opportunities", "kantoorstoelen").await, vec!["Kantoorstoelen 2026"]);
    let admin = t.session(ADMIN).await;
    let renamed = CUSTOMERS.replace("Kantoorstoelen 2026", "Vergadertafels 2026");
    let r = post_csv(&t, &admin, "/api/v1/import/opportunities?preset=salesforce&create_missing=true", &renamed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(search(&t, &head, "opportunities", "kantoorstoelen").await.is_empty());
    assert_eq!(search(&t, &head, "opportunities", "vergader").await, vec!["Vergadertafels 2026"]);
    // A restored database (either store) searches the same.
    let mut backup = Vec::new();
    t.store.backup(&mut backup, &|_| {}).await.unwrap();
    let all = store::Viewer { user_id: model::UserId(1), visibility: model::Visibility::All, subtree: None };
    for target in [crate::Kind::Sqlite, crate::Kind::Postgres] {
        let Some(target) = crate::empty_store(target).await else { continue };
        target.store.restore(&mut backup.as_slice(), &|_| {}).await.unwrap();
        for (q, expect) in [("lodz", "Showroom inrichting"), ("vergader", "Vergadertafels 2026")] {
            let f = store::OpportunityFilter { q: Some(q.into()), ..Default::default() };
            let page = target.store.opportunity_list(&all, &f, 10, 0).await.unwrap();
            let found: Vec<_> = page.items.iter().map(|o| o.opportunity.name.clone()).collect();
            assert_eq!(found, vec![expect.to_string()], "{q}");
        }
        let f = store::AccountFilter { q: Some("aeroe".into()), ..Default::default() };
        assert_eq!(target.store.account_list(&all, &f, 10, 0).await.unwrap().items.len(), 1);
    }
});

both!(sorting_is_whitelisted_stable_and_paged, |t| {
    let head = t.session(HEAD).await;
    for (path, field) in [
        ("/api/v1/opportunities?sort=amount;drop", "sort"),
        ("/api/v1/accounts?sort=password_hash", "sort"),
        ("/api/v1/leads?sort=name&dir=sideways", "dir"),
        ("/api/v1/contacts?sort=owner_id", "sort"),
    ] {
        let r = t.get(path, &head).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "bad_query"), "{path}");
        assert_eq!(r.json()["field"], field, "{path}");
    }
    // Stage has many ties: pages of 7 put together are the one long page, id breaking ties.
    for (list, sort) in [
        ("opportunities", "sort=stage&dir=asc"),
        ("opportunities", "sort=amount&dir=desc"),
        ("accounts", "sort=country"),
        ("leads", "sort=status&dir=desc"),
        ("contacts", "sort=account"),
    ] {
        let whole = t.get(&format!("/api/v1/{list}?{sort}&limit=70"), &head).await.json();
        let mut paged = vec![];
        for offset in (0..70).step_by(7) {
            let p = t.get(&format!("/api/v1/{list}?{sort}&limit=7&offset={offset}"), &head).await.json();
            paged.extend(ids(&p));
        }
        assert_eq!(paged, ids(&whole), "{list} {sort}");
    }
    let v = t.get("/api/v1/opportunities?sort=amount&dir=desc&limit=100", &head).await.json();
    let amounts: Vec<f64> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["amount"]["amount"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "{amounts:?}");
    let v = t.get("/api/v1/opportunities?sort=stage&limit=200", &head).await.json();
    let stage_ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert!(!stage_ids.is_empty());
    // Pages: clickable headers keep the filters and flip the direction of the current column.
    let page = t.get("/opportunities?status=open&sort=amount&dir=desc", &head).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body.replace("&#38;", "&").replace("&amp;", "&");
    assert!(body.contains("href=\"/opportunities?sort=amount&dir=asc&status=open\""), "{body}");
    assert!(body.contains("/api/v1/opportunities?format=json_export&status=open&sort=amount&dir=desc"), "{body}");
    assert_eq!(t.get("/accounts?sort=nonsense", &head).await.status, StatusCode::UNPROCESSABLE_ENTITY);
});

both!(exports_are_exactly_the_filtered_sorted_list, |t| {
    import_customers(&t).await;
    let head = t.session(HEAD).await;
    for (list, query) in [
        ("opportunities", "status=open&sort=amount&dir=desc"),
        ("opportunities", "q=lodz"),
        ("accounts", "sort=employees"),
        ("accounts", "q=b"),
    ] {
        let mut listed = vec![];
        for offset in (0..).step_by(200) {
            let p = t.get(&format!("/api/v1/{list}?{query}&limit=200&offset={offset}"), &head).await.json();
            let items = p["items"].as_array().unwrap().clone();
            let n = items.len();
            listed.extend(items);
            if n < 200 {
                break;
            }
        }
        assert!(!listed.is_empty(), "{list} {query}");
        let r = t.get(&format!("/api/v1/{list}?{query}&format=json_export"), &head).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
        let exported: Vec<Value> = serde_json::from_str(&r.body).unwrap();
        assert_eq!(exported, listed, "{list} {query}");
        let csv = t.get(&format!("/api/v1/{list}?{query}&format=csv"), &head).await;
        let csv_ids: Vec<i64> =
            csv.body.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect();
        let listed_ids: Vec<i64> = listed.iter().map(|i| i["id"].as_i64().unwrap()).collect();
        assert_eq!(csv_ids, listed_ids, "{list} {query}");
    }
    let r = t.get("/api/v1/opportunities?format=xml", &head).await;
    assert_eq!(r.json()["field"], "format");
});
