//! Operations and global settings: health, metrics, OpenAPI, translated pages with per-locale
//! formatting and time zones.

use axum::http::StatusCode;
use serde_json::json;

use crate::{ADMIN, As, HEAD, MANAGER, REP, both};
use model::TokenScope;

both!(health_metrics_and_openapi, |t| {
    let h = t.get("/healthz", &As::Anonymous).await;
    assert_eq!((h.status, h.body.as_str()), (StatusCode::OK, "ok"));
    let admin = t.token(ADMIN, TokenScope::Read).await;
    t.get("/api/v1/accounts", &admin).await;
    let m = t.get("/metrics", &admin).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    assert!(
        m.body.contains("salesops_http_requests_total{method=\"GET\",route=\"/api/v1/accounts\",status=\"200\"} 1"),
        "{}",
        m.body
    );
    assert!(m.body.contains(
        "salesops_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/accounts\",le=\"+Inf\"} 1"
    ));
    assert!(m.body.contains("salesops_db_pool_connections"));
    let doc = t.get("/api/openapi.json", &As::Anonymous).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in ["/api/v1/accounts", "/api/v1/users/{id}", "/api/v1/audit", "/api/v1/tokens", "/api/v1/fx-rates"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let s = t.session(REP).await;
    let docs = t.get("/api/docs", &s).await;
    assert!(docs.body.contains("/api/v1/opportunities"));
});

both!(pages_speak_the_users_language_and_time_zone, |t| {
    // The demo manager is in Benelux: Dutch, Europe/Amsterdam.
    let s = t.session(MANAGER).await;
    let home = t.get("/", &s).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("lang=\"nl\""));
    assert!(home.body.contains(">Verkoopkansen<"), "Dutch navigation");
    assert!(home.body.contains("€\u{a0}"), "Dutch money format");
    // Switch to Polish through the settings form.
    let r = t.form("/settings/preferences", &s, &[("locale", "pl"), ("time_zone", "Europe/Warsaw")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let home = t.get("/", &s).await;
    assert!(home.body.contains("lang=\"pl\""));
    let bad = t.form("/settings/preferences", &s, &[("locale", "pl"), ("time_zone", "Warsaw")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Audit times are shown in the viewer's zone: 10:00 UTC is 12:00 in Amsterdam in June.
    let admin = t.session(ADMIN).await;
    let me = t.user_id(ADMIN).await;
    t.send(
        "PATCH",
        &format!("/api/v1/users/{me}"),
        &admin,
        Some(json!({"time_zone": "Europe/Amsterdam", "locale": "da"})),
    )
    .await;
    let page = t.get("/admin/audit?action=sign_in", &admin).await;
    assert!(page.body.contains("15.06.2026 12:00"), "Danish date, Amsterdam time");
    assert!(page.body.contains(">Revisionslog<") || page.body.contains("Revisionslog"));
    // The API keeps UTC.
    let log = t.get("/api/v1/audit?action=sign_in&limit=1", &admin).await.json();
    assert_eq!(log["items"][0]["at"], "2026-06-15T10:00:00Z");
});

both!(every_page_renders_for_every_role, |t| {
    let emails = [
        HEAD,
        "salesops@demo.salesops.io",
        "marketing@demo.salesops.io",
        "success@demo.salesops.io",
        "analyst@demo.salesops.io",
        ADMIN,
        MANAGER,
        REP,
        "finance@demo.salesops.io",
    ];
    for email in emails {
        let s = t.session(email).await;
        for path in [
            "/",
            "/accounts",
            "/opportunities",
            "/opportunities?status=won",
            "/accounts?q=a&offset=50",
            "/settings",
            "/api/docs",
        ] {
            let r = t.get(path, &s).await;
            assert_eq!(r.status, StatusCode::OK, "{email} {path}");
            assert!(!r.body.contains("Unknown localization key"), "{email} {path}");
        }
    }
    let s = t.session(HEAD).await;
    for path in [
        "/admin/users",
        "/admin/users/new",
        "/admin/users/2",
        "/admin/organisation",
        "/admin/currencies",
        "/admin/audit",
    ] {
        let r = t.get(path, &s).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(!r.body.contains("Unknown localization key"), "{path}");
    }
    let first = t.get("/api/v1/opportunities?limit=1", &s).await.json()["items"][0].clone();
    let page = t.get(&format!("/opportunities/{}", first["id"]), &s).await;
    assert!(page.body.contains(&crate::html(first["name"].as_str().unwrap())));
    let account = t.get(&format!("/accounts/{}", first["account_id"]), &s).await;
    assert_eq!(account.status, StatusCode::OK);
});
