//! Bad input gets a clear JSON error with a stable code and the field at fault; never a 500.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::{As, HEAD, both};

both!(malformed_and_mistyped_bodies_are_named, |t| {
    let s = t.session(HEAD).await;
    let As::Session { cookie, csrf } = &s else { unreachable!() };
    let raw = |body: &'static str, content_type: Option<&str>| {
        let mut b = Request::builder()
            .method("POST")
            .uri("/api/v1/teams")
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf);
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(body)).unwrap()
    };
    let r = t.raw(raw("{\"name\": ", Some("application/json"))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "bad_json"), "{}", r.body);
    let r = t.raw(raw("{\"name\": 42}", Some("application/json"))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"), "{}", r.body);
    assert_eq!(r.json()["field"], "name", "{}", r.body);
    let r = t.raw(raw("{\"name\": \"A\", \"colour\": \"red\"}", Some("application/json"))).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid"));
    assert_eq!(r.json()["field"], "colour", "{}", r.body);
    let r = t.raw(raw("{}", Some("application/json"))).await;
    assert_eq!(r.json()["field"], "name", "missing field named: {}", r.body);
    let r = t.raw(raw("{\"name\": \"A\"}", None)).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"));
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/teams")
        .header(header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(big))
        .unwrap();
    let r = t.raw(req).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    // Nothing was written by any of these.
    let teams = t.get("/api/v1/teams", &s).await.json();
    assert!(teams.as_array().unwrap().iter().all(|tm| tm["name"] != "A"));
});

both!(bad_ids_queries_and_routes, |t| {
    let s = t.session(HEAD).await;
    for path in [
        "/api/v1/accounts/abc",
        "/api/v1/accounts/-1",
        "/api/v1/accounts/0",
        "/api/v1/users/1.5",
        "/api/v1/opportunities/99999999999999999999",
    ] {
        let r = t.get(path, &s).await;
        assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "bad_id"), "{path}");
    }
    assert_eq!(t.get("/api/v1/accounts/987654321", &s).await.code(), "not_found");
    let r = t.get("/api/v1/accounts?limit=abc", &s).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "bad_query"), "{}", r.body);
    assert_eq!(r.json()["field"], "limit");
    let r = t.get("/api/v1/accounts?limit=100000", &s).await;
    assert_eq!((r.status, r.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")));
    let r = t.get("/api/v1/accounts?offset=-3", &s).await;
    assert_eq!(r.json()["field"], "offset");
    let r = t.get("/api/v1/accounts?colour=red", &s).await;
    assert_eq!(r.code(), "bad_query", "unknown parameters are refused: {}", r.body);
    let r = t.get("/api/v1/opportunities?close_from=yesterday", &s).await;
    assert_eq!(r.json()["field"], "close_from");
    let r = t.get("/api/v1/opportunities?status=maybe", &s).await;
    assert_eq!(r.json()["field"], "status");
    let r = t.get("/api/v1/accounts?format=xml", &s).await;
    assert_eq!(r.json()["field"], "format");
    let r = t.get("/api/v1/nothing-here", &s).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::NOT_FOUND, "not_found"));
    // Search text with SQL wildcards and quotes is just text.
    let r = t.get("/api/v1/accounts?q=%25'%22_%5C", &s).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["total"], 0);
    // Pages with bad ids: 404, not 500.
    assert_eq!(t.get("/accounts/abc", &s).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get("/no/such/page", &s).await.status, StatusCode::NOT_FOUND);
});
