//! Store invariants that hold at the database level, on SQLite and (when
//! `SALESOPS_TEST_PG_URL` is set) PostgreSQL: the append-only audit log, and shared state
//! (rate limits, job locks, sessions) seen identically by two handles, as two `serve`
//! processes would.

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use store::{AuditContext, ConnectOptions, Store};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Sqlite,
    Postgres,
}

/// Two handles on one fresh database, plus a raw sqlx pool on it for tampering attempts.
struct Db {
    a: Store,
    b: Store,
    raw: Raw,
    cleanup: Option<(String, String)>,
}

enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            Raw::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
            Raw::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        }
    }
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("s_{}_{nanos}", std::process::id())
}

async fn db(kind: Kind) -> Option<Db> {
    match kind {
        Kind::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique()));
            let url = format!("sqlite://{}", path.display());
            let opts = ConnectOptions { max_connections: 2, pg_schema: None };
            let a = Store::connect(&url, &opts).await.unwrap();
            a.migrate().await.unwrap();
            let b = Store::connect(&url, &opts).await.unwrap();
            b.migrate().await.unwrap();
            let raw = sqlx::sqlite::SqlitePoolOptions::new()
                .connect_with(sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap())
                .await
                .unwrap();
            Some(Db { a, b, raw: Raw::Sqlite(raw), cleanup: None })
        }
        Kind::Postgres => {
            let url = match std::env::var("SALESOPS_TEST_PG_URL") {
                Ok(u) if !u.is_empty() => u,
                _ => {
                    assert!(
                        std::env::var("SALESOPS_TEST_PG_REQUIRED").is_err(),
                        "PostgreSQL required but not configured"
                    );
                    return None;
                }
            };
            let schema = unique();
            Store::create_pg_schema(&url, &schema).await.unwrap();
            let opts = ConnectOptions { max_connections: 2, pg_schema: Some(schema.clone()) };
            let a = Store::connect(&url, &opts).await.unwrap();
            a.migrate().await.unwrap();
            let b = Store::connect(&url, &opts).await.unwrap();
            b.migrate().await.unwrap();
            let raw_opts =
                sqlx::postgres::PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema.as_str())]);
            let raw = sqlx::postgres::PgPoolOptions::new().connect_with(raw_opts).await.unwrap();
            Some(Db { a, b, raw: Raw::Postgres(raw), cleanup: Some((url, schema)) })
        }
    }
}

impl Db {
    async fn finish(self) {
        if let Some((url, schema)) = self.cleanup {
            Store::drop_pg_schema(&url, &schema).await.unwrap();
        }
    }
}

macro_rules! both {
    ($name:ident, |$d:ident| $body:block) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let $d = db(Kind::Sqlite).await.unwrap();
                $body
            }
            #[tokio::test]
            async fn postgres() {
                let Some($d) = db(Kind::Postgres).await else { return };
                $body
            }
        }
    };
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

both!(audit_log_is_append_only, |d| {
    let ctx = AuditContext::system(at("2026-06-15T10:00:00Z"));
    d.a.team_save(&ctx, None, "North", None).await.unwrap();
    let page = d.a.audit_list(&Default::default(), 10, 0).await.unwrap();
    assert_eq!(page.total, 1);
    let update = d.raw.execute("UPDATE audit_log SET action = 'nothing happened'").await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = d.raw.execute("DELETE FROM audit_log").await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(d.b.audit_list(&Default::default(), 10, 0).await.unwrap().items[0].action, "create");
    d.finish().await;
});

both!(rate_limits_are_shared_between_processes, |d| {
    let window = at("2026-06-15T10:00:00Z");
    assert_eq!(d.a.rate_limit_hit("login:email:x", window).await.unwrap(), 1);
    assert_eq!(d.b.rate_limit_hit("login:email:x", window).await.unwrap(), 2);
    assert_eq!(d.a.rate_limit_peek("login:email:x", window).await.unwrap(), 2);
    // Concurrent hits from both handles are all counted.
    let mut tasks = vec![];
    for i in 0..20 {
        let s = if i % 2 == 0 { d.a.clone() } else { d.b.clone() };
        tasks.push(tokio::spawn(async move { s.rate_limit_hit("login:email:x", window).await.unwrap() }));
    }
    let mut seen: Vec<i64> = vec![];
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (3..=22).collect::<Vec<i64>>(), "every hit got its own count");
    let next = window + SignedDuration::from_mins(15);
    assert_eq!(d.b.rate_limit_hit("login:email:x", next).await.unwrap(), 1, "a new window starts at one");
    assert_eq!(d.a.rate_limit_sweep(next).await.unwrap(), 1);
    d.finish().await;
});

both!(job_locks_admit_one_holder_until_expiry, |d| {
    let now = at("2026-06-15T10:00:00Z");
    let later = now + SignedDuration::from_mins(5);
    assert!(d.a.job_lock_acquire("sweep", "process-a", now, later).await.unwrap());
    assert!(!d.b.job_lock_acquire("sweep", "process-b", now, later).await.unwrap(), "held by a");
    assert!(d.a.job_lock_acquire("sweep", "process-a", now, later).await.unwrap(), "re-entrant for the holder");
    let after = later + SignedDuration::from_secs(1);
    assert!(
        d.b.job_lock_acquire("sweep", "process-b", after, after + SignedDuration::from_mins(5)).await.unwrap(),
        "expired locks are taken over"
    );
    d.b.job_lock_release("sweep", "process-b").await.unwrap();
    assert!(d.a.job_lock_acquire("sweep", "process-a", after, after + SignedDuration::from_mins(5)).await.unwrap());
    d.finish().await;
});

both!(sessions_written_by_one_process_are_read_by_another, |d| {
    let ctx = AuditContext::system(at("2026-06-15T10:00:00Z"));
    let user =
        d.a.user_create(
            &ctx,
            &store::NewUser {
                email: model::Email::parse("a@example.com").unwrap(),
                name: "A".into(),
                role: model::Role::SalesRep,
                team_id: None,
                manager_id: None,
                region_id: None,
                time_zone: model::TimeZoneName::utc(),
                locale: model::Locale::En,
                password_hash: None,
            },
        )
        .await
        .unwrap();
    let expires = ctx.at + SignedDuration::from_hours(1);
    d.a.session_create(&ctx, "hash-1", user.user.id, "csrf-1", expires).await.unwrap();
    let s = d.b.session_get("hash-1", ctx.at).await.unwrap().expect("visible to the other handle");
    assert_eq!((s.user_id, s.csrf_token.as_str()), (user.user.id, "csrf-1"));
    assert!(d.b.session_get("hash-1", expires).await.unwrap().is_none(), "expired");
    d.b.session_delete(&ctx, "hash-1").await.unwrap();
    assert!(d.a.session_get("hash-1", ctx.at).await.unwrap().is_none());
    d.finish().await;
});
