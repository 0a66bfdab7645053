//! Authentication extractors. Every route except sign-in, health and static files takes one:
//! [`ApiAuth`] (bearer token or session cookie + CSRF header for unsafe methods; 401 JSON when
//! anonymous), [`PageAuth`] (session cookie; 401 with the sign-in form when anonymous) and
//! [`FormAuth`] (a page POST: session + form body + CSRF field checked, in one step).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};

use crate::AppState;
use crate::error::ApiError;
use crate::pages::PageError;
use app::{AppError, Credential, Principal};

pub const SESSION_COOKIE: &str = "salesops_session";
pub const PRELOGIN_COOKIE: &str = "salesops_prelogin";

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub fn client_ip(parts: &Parts, trust_proxy: bool) -> Option<String> {
    if trust_proxy
        && let Some(f) = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
        && let Some(first) = f.split(',').next()
    {
        return Some(first.trim().to_string());
    }
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string())
}

/// Constant-time comparison for secrets.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn session_cookie(value: &str, max_age_seconds: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}")
}

/// A caller of the JSON API.
pub struct ApiAuth(pub Principal);

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, state.trust_proxy);
        let auth_header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(h) = auth_header {
            let Some(secret) = h.strip_prefix("Bearer ") else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "use 'Authorization: Bearer <token>'",
                ));
            };
            let p = state.app.authenticate_token(secret.trim(), ip).await?;
            return Ok(ApiAuth(p));
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(AppError::Unauthenticated.into());
        };
        let p = state.app.authenticate_session(token, ip).await?;
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            let Credential::Session { csrf_token, .. } = &p.credential else {
                return Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "session expected"));
            };
            if !same_secret(sent, csrf_token) {
                return Err(ApiError::new(StatusCode::FORBIDDEN, "csrf", "missing or wrong X-CSRF-Token header"));
            }
        }
        Ok(ApiAuth(p))
    }
}

/// A signed-in user viewing a page.
pub struct PageAuth(pub Principal);

impl FromRequestParts<AppState> for PageAuth {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let ip = client_ip(parts, state.trust_proxy);
        let next = parts.uri.path_and_query().map(|p| p.as_str().to_string());
        let prelogin = cookie(&parts.headers, PRELOGIN_COOKIE).map(str::to_string);
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::login(next, prelogin));
        };
        match state.app.authenticate_session(token, ip).await {
            Ok(p) => Ok(PageAuth(p)),
            Err(AppError::Unauthenticated) => Err(PageError::login(next, prelogin)),
            Err(e) => Err(PageError::new(e, None)),
        }
    }
}

/// A signed-in user submitting a form: the session, the fields, and a verified CSRF token.
pub struct FormAuth {
    pub principal: Principal,
    pub form: HashMap<String, String>,
}

impl FormAuth {
    pub fn get(&self, key: &str) -> &str {
        self.form.get(key).map(String::as_str).unwrap_or("")
    }
    /// A field as an optional id: empty means none.
    pub fn id(&self, key: &str) -> Result<Option<i64>, AppError> {
        let v = self.get(key).trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| AppError::invalid(key, "must be a number"))
    }
}

impl FromRequest<AppState> for FormAuth {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let PageAuth(principal) = PageAuth::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let axum::Form(form): axum::Form<HashMap<String, String>> = axum::Form::from_request(req, state)
            .await
            .map_err(|e| PageError::new(AppError::invalid("form", e.body_text()), Some(&principal)))?;
        let Credential::Session { csrf_token, .. } = &principal.credential else {
            return Err(PageError::new(AppError::Forbidden, Some(&principal)));
        };
        let sent = form.get("csrf").map(String::as_str).unwrap_or("");
        if !same_secret(sent, csrf_token) {
            return Err(PageError::new(AppError::Csrf, Some(&principal)));
        }
        Ok(FormAuth { principal, form })
    }
}

/// The CSRF token of a session principal, for rendering forms.
pub fn csrf_of(p: &Principal) -> String {
    match &p.credential {
        Credential::Session { csrf_token, .. } => csrf_token.clone(),
        Credential::Token { .. } | Credential::Cli => String::new(),
    }
}

/// The caller's address (for audit and rate limits), without requiring authentication.
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state.trust_proxy)))
    }
}
