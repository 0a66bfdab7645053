//! Organisation administration (users, teams, regions, currencies) and the audit log.

use axum::http::{StatusCode, header};
use serde_json::json;

use crate::{ADMIN, HEAD, OPS, REP, both};
use model::TokenScope;

both!(admins_manage_users_with_validation, |t| {
    let s = t.session(ADMIN).await;
    let manager = t.user_id(crate::MANAGER).await;
    let new = json!({"email": "Ewa.Nowak@Example.PL", "name": "Ewa Nowak", "role": "sales_rep", "manager_id": manager,
                     "time_zone": "Europe/Warsaw", "locale": "pl", "password": "a-long-password"});
    let r = t.send("POST", "/api/v1/users", &s, Some(new.clone())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let u = r.json();
    assert_eq!(u["email"], "ewa.nowak@example.pl", "e-mail is normalised");
    assert_eq!((u["locale"].as_str(), u["time_zone"].as_str()), (Some("pl"), Some("Europe/Warsaw")));
    let id = u["id"].as_i64().unwrap();
    // The new rep can sign in and now belongs to the manager's subtree.
    assert!(t.app.login("ewa.nowak@example.pl", "a-long-password", None).await.is_ok());
    assert!(t.store.subtree_ids(model::UserId(manager)).await.unwrap().contains(&id));
    // Validation names the field.
    for (patch, field) in [
        (json!({"email": "ewa.nowak@example.pl"}), "email"),
        (json!({"email": "not-an-email"}), "email"),
        (json!({"role": "king"}), "role"),
        (json!({"time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"locale": "fr"}), "locale"),
        (json!({"password": "short"}), "password"),
        (json!({"manager_id": 999999}), "manager_id"),
        (json!({"name": "  "}), "name"),
    ] {
        let mut body = new.clone();
        body["email"] = json!("other@example.pl");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = t.send("POST", "/api/v1/users", &s, Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        assert_eq!(r.json()["field"], field, "{}", r.body);
    }
    // Update, including a manager cycle refused.
    let r = t
        .send("PATCH", &format!("/api/v1/users/{id}"), &s, Some(json!({"name": "Ewa Nowak-Kowalska", "locale": "en"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["name"], "Ewa Nowak-Kowalska");
    let r = t.send("PATCH", &format!("/api/v1/users/{manager}"), &s, Some(json!({"manager_id": id}))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "refused"), "{}", r.body);
    // Deactivation ends sessions and blocks sign-in.
    let ewa = t.app.login("ewa.nowak@example.pl", "a-long-password", None).await.unwrap();
    let ewa_session =
        crate::As::Session { cookie: format!("{}={}", web::SESSION_COOKIE, ewa.session_token), csrf: ewa.csrf_token };
    let r = t.send("PATCH", &format!("/api/v1/users/{id}"), &s, Some(json!({"active": false}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(t.app.login("ewa.nowak@example.pl", "a-long-password", None).await.is_err());
    assert_eq!(t.get("/api/v1/me", &ewa_session).await.status, StatusCode::UNAUTHORIZED, "sessions end");
    // Admins cannot lock themselves out.
    let me = t.user_id(ADMIN).await;
    let r = t.send("PATCH", &format!("/api/v1/users/{me}"), &s, Some(json!({"active": false}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Users change their own preferences, nothing else.
    let rep = t.session(REP).await;
    let rep_id = t.user_id(REP).await;
    let r = t
        .send(
            "PATCH",
            &format!("/api/v1/users/{rep_id}"),
            &rep,
            Some(json!({"locale": "da", "time_zone": "Europe/Copenhagen"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .send("PATCH", &format!("/api/v1/users/{rep_id}"), &rep, Some(json!({"role": "head_of_commercial_ops"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

both!(admins_create_users_teams_and_regions_from_the_pages, |t| {
    let s = t.session(OPS).await;
    let r = t
        .form(
            "/admin/regions",
            &s,
            &[("code", "ch"), ("name", "Switzerland"), ("currency", "CHF"), ("time_zone", "Europe/Zurich")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t
        .form(
            "/admin/regions",
            &s,
            &[("code", "CH"), ("name", "Again"), ("currency", "CHF"), ("time_zone", "Europe/Zurich")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "duplicate code");
    assert!(r.body.contains("code: is already in use"));
    let regions = t.get("/api/v1/regions", &s).await.json();
    let ch = regions.as_array().unwrap().iter().find(|r| r["code"] == "CH").unwrap()["id"].as_i64().unwrap();
    let r = t.form("/admin/teams", &s, &[("name", "Zurich Field"), ("region_id", &ch.to_string())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = t.get("/admin/organisation", &s).await;
    assert!(page.body.contains("Zurich Field") && page.body.contains("Switzerland"));
    let r = t
        .form(
            "/admin/users/new",
            &s,
            &[
                ("name", "Lea Meier"),
                ("email", "lea@example.ch"),
                ("role", "sales_rep"),
                ("region_id", &ch.to_string()),
                ("time_zone", "Europe/Zurich"),
                ("locale", "en"),
                ("password", "a-long-password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t
        .form(
            "/admin/users/new",
            &s,
            &[("name", "Bad"), ("email", "bad"), ("role", "sales_rep"), ("password", "a-long-password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"form-error\""), "the form is shown again with the error");
    let list = t.get("/admin/users?q=lea", &s).await;
    assert!(list.body.contains("Lea Meier"));
});

both!(currencies_and_dated_rates, |t| {
    let s = t.session(ADMIN).await;
    let r = t
        .send(
            "POST",
            "/api/v1/fx-rates",
            &s,
            Some(json!({"from": "CHF", "to": "EUR", "valid_from": "2026-06-01", "rate": "1.0412"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    for (body, field) in [
        (json!({"from": "CHF", "to": "EUR", "valid_from": "2026-13-01", "rate": "1"}), "valid_from"),
        (json!({"from": "CHF", "to": "EUR", "valid_from": "2026-06-01", "rate": "-1"}), "rate"),
        (json!({"from": "CHF", "to": "EUR", "valid_from": "2026-06-01", "rate": "1,5"}), "rate"),
        (json!({"from": "XXX", "to": "EUR", "valid_from": "2026-06-01", "rate": "1"}), "from"),
        (json!({"from": "EUR", "to": "EUR", "valid_from": "2026-06-01", "rate": "1"}), "to"),
    ] {
        let r = t.send("POST", "/api/v1/fx-rates", &s, Some(body)).await;
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{}",
            r.body
        );
    }
    let rates = t.get("/api/v1/fx-rates", &s).await.json();
    assert!(
        rates.as_array().unwrap().iter().any(|r| r["from"] == "CHF" && r["rate"] == "1.0412"),
        "exact decimal kept"
    );
    let r = t.send("PUT", "/api/v1/settings/reporting-currency", &s, Some(json!({"currency": "usd"}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/api/v1/currencies", &s).await.json()["reporting_currency"], "USD");
    let page = t.get("/admin/currencies", &s).await;
    assert!(page.body.contains("1.041200") || page.body.contains("1,041200"));
});

both!(every_write_is_audited_with_actor_source_and_change, |t| {
    let s = t.session(ADMIN).await;
    let token = t.token(ADMIN, TokenScope::Write).await;
    let r = t.send("POST", "/api/v1/teams", &token, Some(json!({"name": "Audited team"}))).await;
    let team = r.json()["id"].as_i64().unwrap();
    let r = t.send("PATCH", &format!("/api/v1/teams/{team}"), &s, Some(json!({"name": "Renamed team"}))).await;
    assert_eq!(r.status, StatusCode::OK);
    let log = t.get(&format!("/api/v1/audit?entity=team&entity_id={team}"), &s).await.json();
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{log}");
    let (update, create) = (&items[0], &items[1]);
    assert_eq!(create["action"], "create");
    assert!(create["actor_token_id"].as_i64().is_some(), "the token is recorded");
    assert_eq!(create["actor_user_id"], t.user_id(ADMIN).await);
    assert_eq!(update["before"]["name"], "Audited team");
    assert_eq!(update["after"]["name"], "Renamed team");
    // Sign-ins, password changes and exports are audited too.
    let signins = t.get("/api/v1/audit?action=sign_in", &s).await.json();
    assert!(signins["total"].as_i64().unwrap() >= 2);
    let csv = t.get("/api/v1/audit?format=csv&entity=team", &s).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with("id,at,actor_user_id"));
    assert!(csv.body.contains("Renamed team"));
    let json = t.get("/api/v1/audit?format=json_export&entity=team", &s).await;
    assert_eq!(json.status, StatusCode::OK);
    let items = json.json();
    let items = items.as_array().expect("the whole filtered log as one JSON array");
    assert!(items.iter().all(|e| e["entity"] == "team") && items.iter().any(|e| e["after"]["name"] == "Renamed team"));
    let exports = t.get("/api/v1/audit?action=export", &s).await.json();
    assert_eq!(exports["items"][0]["entity"], "audit_log");
    // The page shows and filters it.
    let page = t.get(&format!("/admin/audit?entity=team&entity_id={team}"), &s).await;
    assert!(page.body.contains("Renamed team"));
    // Bad filters are named.
    let r = t.get("/api/v1/audit?from=yesterday", &s).await;
    assert_eq!(r.json()["field"], "from");
    // No route can change the log.
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let r = t.send(method, "/api/v1/audit", &s, Some(json!({}))).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let head = t.session(HEAD).await;
    assert_eq!(t.get("/api/v1/audit", &head).await.status, StatusCode::OK);
});
