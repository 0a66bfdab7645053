//! `spawn_app` and small request helpers shared by the tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::Timestamp;
use tower::ServiceExt;

use app::{App, FixedClock};
use store::{ConnectOptions, Store};

pub const PASSWORD: &str = demo::DEMO_PASSWORD;
/// "Now" for every test: the demo company is generated relative to this date.
pub const NOW: &str = "2026-06-15T10:00:00Z";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub router: Router,
    pub app: App,
    pub store: Store,
    pub clock: Arc<FixedClock>,
    pub kind: Kind,
    /// SQLite file or PostgreSQL schema to clean up.
    cleanup: Cleanup,
    pub url: String,
}

enum Cleanup {
    File(String),
    Schema { url: String, schema: String },
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

pub fn pg_url() -> Option<String> {
    match std::env::var("SALESOPS_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("SALESOPS_TEST_PG_REQUIRED").is_err(),
                "SALESOPS_TEST_PG_REQUIRED is set but SALESOPS_TEST_PG_URL is not"
            );
            None
        }
    }
}

/// An empty, migrated store that removes its file or schema when dropped.
pub struct EmptyStore {
    pub store: Store,
    cleanup: Cleanup,
}

impl Drop for EmptyStore {
    fn drop(&mut self) {
        self.cleanup.run();
    }
}

/// An empty, migrated store of the given kind (None: PostgreSQL not configured).
pub async fn empty_store(kind: Kind) -> Option<EmptyStore> {
    let (store, url, handle) = open_empty(kind).await?;
    let cleanup = match kind {
        Kind::Sqlite => Cleanup::File(handle),
        Kind::Postgres => Cleanup::Schema { url, schema: handle },
    };
    Some(EmptyStore { store, cleanup })
}

async fn open_empty(kind: Kind) -> Option<(Store, String, String)> {
    match kind {
        Kind::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique("salesops_test")));
            let url = format!("sqlite://{}", path.display());
            let store = Store::connect(&url, &ConnectOptions { max_connections: 4, pg_schema: None })
                .await
                .expect("open sqlite");
            store.migrate().await.expect("migrate sqlite");
            Some((store, url, path.display().to_string()))
        }
        Kind::Postgres => {
            let base = pg_url()?;
            let schema = unique("t").to_lowercase();
            Store::create_pg_schema(&base, &schema).await.expect("create schema (is PostgreSQL running?)");
            let store = Store::connect(&base, &ConnectOptions { max_connections: 4, pg_schema: Some(schema.clone()) })
                .await
                .expect("open postgres");
            store.migrate().await.expect("migrate postgres");
            Some((store, base, schema))
        }
    }
}

/// A fresh store of `kind` with the small demo company, and the router over it.
pub async fn spawn_app(kind: Kind) -> Option<TestApp> {
    let (store, url, handle) = open_empty(kind).await?;
    store.currencies_seed().await.expect("seed currencies");
    let now: Timestamp = NOW.parse().unwrap();
    app::load_demo(&store, demo::Scale::Small, 7, now, &|_| {}, &|_| {}).await.expect("load demo");
    let clock = Arc::new(FixedClock(Mutex::new(now)));
    let app = App::new(store.clone(), clock.clone());
    let router = web::router(web::AppState::new(app.clone()));
    let cleanup = match kind {
        Kind::Sqlite => Cleanup::File(handle),
        Kind::Postgres => Cleanup::Schema { url: url.clone(), schema: handle },
    };
    Some(TestApp { router, app, store, clock, kind, cleanup, url })
}

impl TestApp {
    /// A direct database connection to this test's store (SQLite file or PostgreSQL schema), for
    /// tests that need a write no use case offers (deleting records).
    pub async fn raw_sql(&self, statements: &[String]) {
        match &self.cleanup {
            Cleanup::File(path) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{path}")).await.unwrap();
                for sql in statements {
                    sqlx::query(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                pool.close().await;
            }
            Cleanup::Schema { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let mut tx = pool.begin().await.unwrap();
                sqlx::query(&format!("SET LOCAL search_path TO {schema}")).execute(&mut *tx).await.unwrap();
                for sql in statements {
                    sqlx::query(sql).execute(&mut *tx).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                }
                tx.commit().await.unwrap();
                pool.close().await;
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.cleanup.run();
    }
}

impl Cleanup {
    fn run(&self) {
        match self {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            Cleanup::Schema { url, schema } => {
                let (url, schema) = (url.clone(), schema.clone());
                // Drop runs outside async; use a short-lived runtime on another thread, and never
                // wait for it forever (a hung cleanup would otherwise hang the whole suite).
                let (done, finished) = std::sync::mpsc::channel();
                std::thread::spawn(move || {
                    if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                        let _ = rt.block_on(Store::drop_pg_schema(&url, &schema));
                    }
                    let _ = done.send(());
                });
                if finished.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
                    eprintln!("warning: dropping a test schema took over 60 s; left behind");
                }
            }
        }
    }
}

/// Runs a test body on SQLite, and on PostgreSQL when configured.
#[macro_export]
macro_rules! both {
    ($name:ident, |$t:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let $t = $crate::spawn_app($crate::Kind::Sqlite).await.expect("sqlite app");
                $body
            }
            #[tokio::test]
            async fn postgres() {
                let Some($t) = $crate::spawn_app($crate::Kind::Postgres).await else { return };
                $body
            }
        }
    };
}

/// How a test request authenticates.
#[derive(Clone, Debug)]
pub enum As {
    Anonymous,
    Session { cookie: String, csrf: String },
    Token(String),
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or("").to_string()
    }
}

impl TestApp {
    /// Signs in through the app (no HTTP) and returns session credentials.
    pub async fn session(&self, email: &str) -> As {
        let out = self.app.login(email, PASSWORD, None).await.expect("login");
        As::Session { cookie: format!("{}={}", web::SESSION_COOKIE, out.session_token), csrf: out.csrf_token }
    }

    pub async fn token(&self, email: &str, scope: model::TokenScope) -> As {
        let As::Session { cookie, csrf } = self.session(email).await else { unreachable!() };
        let r = self
            .send(
                "POST",
                "/api/v1/tokens",
                &As::Session { cookie, csrf },
                Some(serde_json::json!({"name": "test", "scope": scope.as_str()})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        As::Token(r.json()["secret"].as_str().unwrap().to_string())
    }

    pub async fn user_id(&self, email: &str) -> i64 {
        let (u, _) = self.store.user_credentials(&model::Email::parse(email).unwrap()).await.unwrap().unwrap();
        u.user.id.0
    }

    pub async fn raw(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("router");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        Resp { status, headers, body: String::from_utf8_lossy(&bytes).to_string() }
    }

    /// A JSON request (or GET without body), with the right credentials and CSRF header.
    pub async fn send(&self, method: &str, path: &str, who: &As, body: Option<serde_json::Value>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        match who {
            As::Anonymous => {}
            As::Session { cookie, csrf } => {
                b = b.header(header::COOKIE, cookie).header("x-csrf-token", csrf);
            }
            As::Token(t) => {
                b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
            }
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())).unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.raw(req).await
    }

    pub async fn get(&self, path: &str, who: &As) -> Resp {
        self.send("GET", path, who, None).await
    }

    /// A form POST from a page (session cookie + csrf field).
    pub async fn form(&self, path: &str, who: &As, fields: &[(&str, &str)]) -> Resp {
        let As::Session { cookie, csrf } = who else { panic!("forms need a session") };
        let mut body: Vec<String> = vec![format!("csrf={csrf}")];
        body.extend(fields.iter().map(|(k, v)| format!("{k}={}", web_encode(v))));
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.join("&")))
            .unwrap();
        self.raw(req).await
    }

    pub fn advance(&self, d: jiff::SignedDuration) {
        let mut now = self.clock.0.lock().unwrap();
        *now += d;
    }
}

pub fn web_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub const HEAD: &str = "head@demo.salesops.io";
pub const OPS: &str = "salesops@demo.salesops.io";
pub const ADMIN: &str = "admin@demo.salesops.io";
pub const MANAGER: &str = "manager@demo.salesops.io";
pub const REP: &str = "rep@demo.salesops.io";
pub const FINANCE: &str = "finance@demo.salesops.io";
pub const ANALYST: &str = "analyst@demo.salesops.io";

/// Text as askama escapes it in a page.
pub fn html(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}
