//! Sessions, API tokens, rate-limit counters and job locks. All of it lives in the database so
//! that several `serve` processes can share one PostgreSQL database with no process state.

use jiff::Timestamp;
use serde::Serialize;

use crate::audit::audit;
use crate::{AuditContext, Result, Store, StoreError, dispatch, from_micros, micros};
use model::{ApiTokenId, TokenScope, UserId};

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiTokenRow {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
}

/// A token to store: only the hash of the secret is kept, plus a short prefix for display.
#[derive(Debug, Clone, Copy)]
pub struct NewApiToken<'a> {
    pub user: UserId,
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub scope: TokenScope,
    pub expires_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SRow {
    token_hash: String,
    user_id: i64,
    csrf_token: String,
    last_seen_at: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct TRow {
    id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    scope: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl TRow {
    fn into_model(self) -> Result<ApiTokenRow> {
        Ok(ApiTokenRow {
            id: ApiTokenId(self.id),
            user_id: UserId(self.user_id),
            name: self.name,
            prefix: self.prefix,
            scope: TokenScope::parse(&self.scope).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            revoked_at: self.revoked_at.map(from_micros).transpose()?,
            last_used_at: self.last_used_at.map(from_micros).transpose()?,
        })
    }
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, scope, created_at, expires_at, revoked_at, last_used_at";

impl Store {
    // ---- sessions -------------------------------------------------------------------------

    pub async fn session_create(
        &self,
        ctx: &AuditContext,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, ip, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)")
                .bind(token_hash)
                .bind(user.0)
                .bind(csrf)
                .bind(ctx.ip.clone())
                .bind(micros(ctx.at))
                .bind(micros(expires_at))
                .execute(&mut *tx)
                .await?;
            // Expired sessions of anyone are swept on sign-in, so the table does not grow forever.
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(micros(ctx.at)).execute(&mut *tx).await?;
            audit!(tx, ctx, "sign_in", "session", Some(user.to_string()), None::<serde_json::Value>, None::<serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The live session with this token hash, if any.
    pub async fn session_get(&self, token_hash: &str, now: Timestamp) -> Result<Option<SessionRow>> {
        let row: Option<SRow> = dispatch!(self, p => sqlx::query_as(
            "SELECT s.token_hash, s.user_id, s.csrf_token, s.last_seen_at, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active")
            .bind(token_hash).bind(micros(now)).fetch_optional(p).await?);
        row.map(|r| {
            Ok(SessionRow {
                token_hash: r.token_hash,
                user_id: UserId(r.user_id),
                csrf_token: r.csrf_token,
                last_seen_at: from_micros(r.last_seen_at)?,
                expires_at: from_micros(r.expires_at)?,
            })
        })
        .transpose()
    }

    /// Slides the session's expiry forward (called at most once a minute per session).
    pub async fn session_touch(&self, token_hash: &str, now: Timestamp, expires_at: Timestamp) -> Result<()> {
        dispatch!(self, p => sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(micros(now)).bind(micros(expires_at)).bind(token_hash).execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn session_delete(&self, ctx: &AuditContext, token_hash: &str) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let user: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
                .bind(token_hash).fetch_optional(&mut *tx).await?;
            if let Some(u) = user {
                audit!(tx, ctx, "sign_out", "session", Some(u.to_string()), None::<serde_json::Value>, None::<serde_json::Value>);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- API tokens -----------------------------------------------------------------------

    pub async fn token_create(&self, ctx: &AuditContext, t: &NewApiToken<'_>) -> Result<ApiTokenRow> {
        let NewApiToken { user, name, prefix, token_hash, scope, expires_at } = *t;
        let id: i64 = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, prefix, token_hash, scope, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(user.0).bind(name).bind(prefix).bind(token_hash).bind(scope.as_str()).bind(micros(ctx.at)).bind(micros(expires_at))
                .fetch_one(&mut *tx).await?;
            let after = serde_json::json!({"user_id": user, "name": name, "prefix": prefix, "scope": scope, "expires_at": expires_at});
            audit!(tx, ctx, "create", "api_token", Some(id.to_string()), None::<serde_json::Value>, Some(after));
            tx.commit().await?;
            id
        });
        self.token_get(ApiTokenId(id)).await
    }

    pub async fn token_get(&self, id: ApiTokenId) -> Result<ApiTokenRow> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        let r: TRow = dispatch!(self, p => sqlx::query_as(&sql).bind(id.0).fetch_one(p).await?);
        r.into_model()
    }

    pub async fn token_list(&self, user: UserId) -> Result<Vec<ApiTokenRow>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
        let rows: Vec<TRow> = dispatch!(self, p => sqlx::query_as(&sql).bind(user.0).fetch_all(p).await?);
        rows.into_iter().map(TRow::into_model).collect()
    }

    /// A usable (not revoked, not expired) token by hash; records its last use at most once a minute.
    pub async fn token_authenticate(&self, token_hash: &str, now: Timestamp) -> Result<Option<ApiTokenRow>> {
        let sql = format!(
            "SELECT t.{} FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.active",
            TOKEN_COLUMNS.replace(", ", ", t.")
        );
        let r: Option<TRow> =
            dispatch!(self, p => sqlx::query_as(&sql).bind(token_hash).bind(micros(now)).fetch_optional(p).await?);
        let Some(r) = r else { return Ok(None) };
        let t = r.into_model()?;
        if t.last_used_at.is_none_or(|l| now.as_second() - l.as_second() > 60) {
            dispatch!(self, p => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(micros(now)).bind(t.id.0).execute(p).await.map(|_| ())?);
        }
        Ok(Some(t))
    }

    /// Revokes a token of `owner`; NotFound if it is someone else's.
    pub async fn token_revoke(&self, ctx: &AuditContext, owner: UserId, id: ApiTokenId) -> Result<()> {
        let before = self.token_get(id).await?;
        if before.user_id != owner {
            return Err(StoreError::NotFound);
        }
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(micros(ctx.at)).bind(id.0).execute(&mut *tx).await?;
            audit!(tx, ctx, "revoke", "api_token", Some(id.to_string()), Some(&before), None::<serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- rate limits and job locks ----------------------------------------------------------

    /// Counts one hit on `bucket` in the fixed window starting at `window_start` and returns the
    /// hits so far (including this one). Atomic across processes (upsert).
    pub async fn rate_limit_hit(&self, bucket: &str, window_start: Timestamp) -> Result<i64> {
        let n: i64 = dispatch!(self, p => sqlx::query_scalar(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits")
            .bind(bucket).bind(micros(window_start)).fetch_one(p).await?);
        Ok(n)
    }

    /// Hits so far on `bucket` in the window, without counting.
    pub async fn rate_limit_peek(&self, bucket: &str, window_start: Timestamp) -> Result<i64> {
        let n: Option<i64> = dispatch!(self, p => sqlx::query_scalar("SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2")
            .bind(bucket).bind(micros(window_start)).fetch_optional(p).await?);
        Ok(n.unwrap_or(0))
    }

    pub async fn rate_limit_sweep(&self, before: Timestamp) -> Result<u64> {
        Ok(
            dispatch!(self, p => sqlx::query("DELETE FROM rate_limits WHERE window_start < $1").bind(micros(before)).execute(p).await?.rows_affected()),
        )
    }

    /// Takes the named lock for `holder` until `expires_at` if it is free or expired.
    /// Returns true when this holder now has it.
    pub async fn job_lock_acquire(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool> {
        let n = dispatch!(self, p => sqlx::query(
            "INSERT INTO job_locks (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_locks.expires_at < $4 OR job_locks.holder = $2")
            .bind(name).bind(holder).bind(micros(expires_at)).bind(micros(now)).execute(p).await?.rows_affected());
        Ok(n == 1)
    }

    pub async fn job_lock_release(&self, name: &str, holder: &str) -> Result<()> {
        dispatch!(self, p => sqlx::query("DELETE FROM job_locks WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(p).await.map(|_| ())?);
        Ok(())
    }
}
