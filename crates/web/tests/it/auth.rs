//! Sign-in, sessions, CSRF, rate limits, password changes and API tokens.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::{As, HEAD, PASSWORD, REP, both};
use model::TokenScope;

both!(anonymous_requests_get_401_everywhere, |t| {
    for path in ["/api/v1/me", "/api/v1/accounts", "/api/v1/users", "/api/v1/audit", "/metrics"] {
        let r = t.get(path, &As::Anonymous).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(r.code(), "unauthenticated", "{path}");
    }
    for path in ["/", "/accounts", "/opportunities/1", "/admin/users", "/settings", "/api/docs"] {
        let r = t.get(path, &As::Anonymous).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.body.contains("name=\"password\""), "{path} shows the sign-in form");
    }
    let r = t.get("/api/v1/me", &As::Token("so_00000000_nope".into())).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
});

both!(sign_in_through_the_form_sets_a_safe_cookie, |t| {
    let page = t.get("/login", &As::Anonymous).await;
    assert_eq!(page.status, StatusCode::OK);
    let prelogin =
        page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = prelogin.split('=').nth(1).unwrap().to_string();
    let post = |password: &str, csrf: &str| {
        Request::builder()
            .method("POST")
            .uri("/login")
            .header(header::COOKIE, prelogin.clone())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "email={}&password={}&csrf={csrf}&next=%2Faccounts",
                crate::web_encode(REP),
                password
            )))
            .unwrap()
    };
    // Wrong password and unknown user get the same generic answer.
    let wrong = t.raw(post("wrong-password", &csrf)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Invalid e-mail or password."));
    // A form without the matching CSRF token is refused before credentials are checked.
    let forged = t.raw(post(PASSWORD, "forged")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let ok = t.raw(post(PASSWORD, &csrf)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers.get(header::LOCATION).unwrap(), "/accounts");
    let cookie = ok.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    let session = As::Session { cookie: cookie.split(';').next().unwrap().to_string(), csrf: String::new() };
    let home = t.get("/", &session).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("id=\"me-name\""));
});

both!(open_redirects_after_sign_in_are_refused, |t| {
    let page = t.get("/login", &As::Anonymous).await;
    let prelogin =
        page.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = prelogin.split('=').nth(1).unwrap().to_string();
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header(header::COOKIE, prelogin)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "email={}&password={PASSWORD}&csrf={csrf}&next=%2F%2Fevil.example",
            crate::web_encode(REP)
        )))
        .unwrap();
    let r = t.raw(req).await;
    assert_eq!(r.headers.get(header::LOCATION).unwrap(), "/");
});

both!(login_is_rate_limited_per_email, |t| {
    for _ in 0..10 {
        assert!(matches!(t.app.login(HEAD, "wrong", Some("10.0.0.1")).await, Err(app::AppError::BadCredentials)));
    }
    // Even the right password is refused while the window is exhausted ...
    assert!(matches!(t.app.login(HEAD, PASSWORD, Some("10.0.0.1")).await, Err(app::AppError::RateLimited { .. })));
    // ... and accepted in the next window.
    t.advance(jiff::SignedDuration::from_mins(16));
    assert!(t.app.login(HEAD, PASSWORD, Some("10.0.0.1")).await.is_ok());
});

both!(sign_out_needs_csrf_and_ends_the_session, |t| {
    let s = t.session(REP).await;
    let As::Session { cookie, .. } = &s else { unreachable!() };
    let forged = t.form("/logout", &As::Session { cookie: cookie.clone(), csrf: "forged".into() }, &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "a forged sign-out is refused");
    assert_eq!(t.get("/api/v1/me", &s).await.status, StatusCode::OK);
    let out = t.form("/logout", &s, &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(t.get("/api/v1/me", &s).await.status, StatusCode::UNAUTHORIZED);
});

both!(sessions_expire_when_idle, |t| {
    let s = t.session(REP).await;
    t.advance(jiff::SignedDuration::from_hours(11));
    assert_eq!(t.get("/api/v1/me", &s).await.status, StatusCode::OK, "activity slides the expiry");
    t.advance(jiff::SignedDuration::from_hours(13));
    assert_eq!(t.get("/api/v1/me", &s).await.status, StatusCode::UNAUTHORIZED);
});

both!(api_writes_with_a_session_need_the_csrf_header, |t| {
    let As::Session { cookie, .. } = t.session(HEAD).await else { unreachable!() };
    let r = t
        .send(
            "POST",
            "/api/v1/teams",
            &As::Session { cookie, csrf: "wrong".into() },
            Some(serde_json::json!({"name": "X"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "csrf");
});

both!(changing_the_password_checks_the_old_one_and_ends_other_sessions, |t| {
    let s1 = t.session(REP).await;
    let s2 = t.session(REP).await;
    let bad = t
        .send(
            "POST",
            "/api/v1/password",
            &s1,
            Some(serde_json::json!({"current_password": "nope", "new_password": "a-new-long-password"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["field"], "current_password");
    let short = t
        .send(
            "POST",
            "/api/v1/password",
            &s1,
            Some(serde_json::json!({"current_password": PASSWORD, "new_password": "short"})),
        )
        .await;
    assert_eq!(short.json()["field"], "new_password");
    let ok = t
        .send(
            "POST",
            "/api/v1/password",
            &s1,
            Some(serde_json::json!({"current_password": PASSWORD, "new_password": "a-new-long-password"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert_eq!(t.get("/api/v1/me", &s1).await.status, StatusCode::OK, "this session stays");
    assert_eq!(t.get("/api/v1/me", &s2).await.status, StatusCode::UNAUTHORIZED, "other sessions end");
    assert!(t.app.login(REP, PASSWORD, None).await.is_err());
    assert!(t.app.login(REP, "a-new-long-password", None).await.is_ok());
    let hash = t.store.password_hash(model::UserId(t.user_id(REP).await)).await.unwrap().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
});

both!(api_tokens_are_scoped_revocable_expiring_and_stored_hashed, |t| {
    let session = t.session(HEAD).await;
    let created = t
        .send(
            "POST",
            "/api/v1/tokens",
            &session,
            Some(serde_json::json!({"name": "BI export", "scope": "read", "expires_in_days": 30})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.json()["secret"].as_str().unwrap().to_string();
    let id = created.json()["token"]["id"].as_i64().unwrap();
    let read = As::Token(secret.clone());
    assert_eq!(t.get("/api/v1/me", &read).await.status, StatusCode::OK);
    // The list never shows the secret again.
    let list = t.get("/api/v1/tokens", &session).await;
    assert!(!list.body.contains(&secret));
    // Read scope cannot write.
    let w = t.send("POST", "/api/v1/teams", &read, Some(serde_json::json!({"name": "Read-only team"}))).await;
    assert_eq!(w.status, StatusCode::FORBIDDEN);
    // A token cannot mint tokens.
    let mint = t.send("POST", "/api/v1/tokens", &read, Some(serde_json::json!({"name": "x", "scope": "read"}))).await;
    assert_eq!(mint.status, StatusCode::CONFLICT);
    // Write scope can.
    let write = t.token(HEAD, TokenScope::Write).await;
    let w = t.send("POST", "/api/v1/teams", &write, Some(serde_json::json!({"name": "Token team"}))).await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.body);
    // Bad input.
    let bad =
        t.send("POST", "/api/v1/tokens", &session, Some(serde_json::json!({"name": "x", "scope": "admin"}))).await;
    assert_eq!((bad.status, bad.json()["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("scope")));
    let bad = t
        .send(
            "POST",
            "/api/v1/tokens",
            &session,
            Some(serde_json::json!({"name": "x", "scope": "read", "expires_in_days": 5000})),
        )
        .await;
    assert_eq!(bad.json()["field"], "expires_in_days");
    // Revoked tokens stop working; someone else cannot revoke yours.
    let rep = t.session(REP).await;
    assert_eq!(t.send("DELETE", &format!("/api/v1/tokens/{id}"), &rep, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.send("DELETE", &format!("/api/v1/tokens/{id}"), &session, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/api/v1/me", &read).await.status, StatusCode::UNAUTHORIZED);
    // Expiry.
    t.advance(jiff::SignedDuration::from_hours(24 * 91));
    assert_eq!(t.get("/api/v1/me", &write).await.status, StatusCode::UNAUTHORIZED, "90-day default expiry");
    // Only hashes are stored.
    let tokens = t.store.token_list(model::UserId(t.user_id(HEAD).await)).await.unwrap();
    assert!(tokens.iter().all(|tk| !secret.contains(&tk.prefix) || secret.len() > tk.prefix.len()));
    let mut backup = Vec::new();
    t.store.backup(&mut backup, &|_| {}).await.unwrap();
    assert!(!String::from_utf8(backup).unwrap().contains(&secret), "the secret is nowhere in the database");
});
