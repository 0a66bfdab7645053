//! Organisation: regions, teams, users and the manager hierarchy.

use jiff::Timestamp;
use serde::Serialize;

use crate::audit::audit;
use crate::{
    Arg, AuditContext, Page, Result, Store, StoreError, Where, bind_all, dispatch, from_micros, like_pattern, micros,
    subtree_sql,
};
use model::{Currency, Email, Locale, Region, RegionId, Role, Team, TeamId, TimeZoneName, User, UserId};

/// A user as listed, with the names of their team, manager and region joined in.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub user: User,
    pub team_name: Option<String>,
    pub manager_name: Option<String>,
    pub region_name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub team_id: Option<TeamId>,
    pub manager_id: Option<UserId>,
    pub region_id: Option<RegionId>,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub password_hash: Option<String>,
}

/// Fields an administrator (or the user, for their own preferences) may change.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<Option<TeamId>>,
    pub manager_id: Option<Option<UserId>>,
    pub region_id: Option<Option<RegionId>>,
    pub time_zone: Option<TimeZoneName>,
    pub locale: Option<Locale>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<i64>,
    pub region_id: Option<i64>,
    pub manager_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct URow {
    id: i64,
    email: String,
    name: String,
    role: String,
    team_id: Option<i64>,
    manager_id: Option<i64>,
    region_id: Option<i64>,
    time_zone: String,
    locale: String,
    active: bool,
    created_at: i64,
    updated_at: i64,
    team_name: Option<String>,
    manager_name: Option<String>,
    region_name: Option<String>,
}

macro_rules! user_columns {
    () => {
        "SELECT u.id, u.email, u.name, u.role, u.team_id, u.manager_id, u.region_id, u.time_zone, u.locale, u.active, \
         u.created_at, u.updated_at, t.name AS team_name, m.name AS manager_name, r.name AS region_name"
    };
}

const USER_COLUMNS: &str = user_columns!();

const USER_SELECT: &str = concat!(
    user_columns!(),
    " FROM users u LEFT JOIN teams t ON t.id = u.team_id LEFT JOIN users m ON m.id = u.manager_id \
     LEFT JOIN regions r ON r.id = u.region_id"
);

fn corrupt(e: model::ValueError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl URow {
    fn into_row(self) -> Result<UserRow> {
        Ok(UserRow {
            user: User {
                id: UserId(self.id),
                email: Email::parse(&self.email).map_err(corrupt)?,
                name: self.name,
                role: Role::parse(&self.role).map_err(corrupt)?,
                team_id: self.team_id.map(TeamId),
                manager_id: self.manager_id.map(UserId),
                region_id: self.region_id.map(RegionId),
                time_zone: TimeZoneName::parse(&self.time_zone).map_err(corrupt)?,
                locale: Locale::parse(&self.locale).map_err(corrupt)?,
                active: self.active,
            },
            team_name: self.team_name,
            manager_name: self.manager_name,
            region_name: self.region_name,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    #[sqlx(flatten)]
    user: URow,
    s_csrf_token: String,
    s_last_seen_at: i64,
    s_expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct RegionRow {
    id: i64,
    code: String,
    name: String,
    currency: String,
    time_zone: String,
}

impl RegionRow {
    fn into_model(self) -> Result<Region> {
        Ok(Region {
            id: RegionId(self.id),
            code: self.code,
            name: self.name,
            currency: Currency::parse(&self.currency).map_err(corrupt)?,
            time_zone: TimeZoneName::parse(&self.time_zone).map_err(corrupt)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: i64,
    name: String,
    region_id: Option<i64>,
}

impl Store {
    // ---- users ----------------------------------------------------------------------------

    pub async fn user_get(&self, id: UserId) -> Result<UserRow> {
        let sql = format!("{USER_SELECT} WHERE u.id = $1");
        let row: URow = dispatch!(self, p => sqlx::query_as(&sql).bind(id.0).fetch_one(p).await?);
        row.into_row()
    }

    /// The live session with this token hash and its (active) user, in one query: this runs
    /// on every signed-in request.
    pub async fn session_with_user(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<(crate::SessionRow, UserRow)>> {
        let sql = format!(
            "{} , s.csrf_token AS s_csrf_token, s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at \
             FROM users u LEFT JOIN teams t ON t.id = u.team_id LEFT JOIN users m ON m.id = u.manager_id \
             LEFT JOIN regions r ON r.id = u.region_id JOIN sessions s ON s.user_id = u.id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
            USER_COLUMNS
        );
        let row: Option<SessionUserRow> =
            dispatch!(self, p => sqlx::query_as(&sql).bind(token_hash).bind(micros(now)).fetch_optional(p).await?);
        let Some(r) = row else { return Ok(None) };
        let session = crate::SessionRow {
            token_hash: token_hash.to_string(),
            user_id: UserId(r.user.id),
            csrf_token: r.s_csrf_token,
            last_seen_at: from_micros(r.s_last_seen_at)?,
            expires_at: from_micros(r.s_expires_at)?,
        };
        Ok(Some((session, r.user.into_row()?)))
    }

    /// The user with this e-mail and their password hash (for sign-in only).
    pub async fn user_credentials(&self, email: &Email) -> Result<Option<(UserRow, Option<String>)>> {
        let sql = format!("{USER_SELECT} WHERE u.email = $1");
        let row: Option<URow> =
            dispatch!(self, p => sqlx::query_as(&sql).bind(email.as_str()).fetch_optional(p).await?);
        let Some(row) = row else { return Ok(None) };
        let id = row.id;
        let hash: Option<String> = dispatch!(self, p => sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id).fetch_one(p).await?);
        Ok(Some((row.into_row()?, hash)))
    }

    pub async fn password_hash(&self, id: UserId) -> Result<Option<String>> {
        Ok(
            dispatch!(self, p => sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(id.0).fetch_one(p).await?),
        )
    }

    pub async fn user_list(&self, f: &UserFilter, limit: i64, offset: i64) -> Result<Page<UserRow>> {
        let mut w = Where::default();
        if let Some(q) = f.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let p = w.arg(Arg::Text(like_pattern(q)));
            w.push(format!("(LOWER(u.name) LIKE {p} ESCAPE '\\' OR LOWER(u.email) LIKE {p} ESCAPE '\\')"));
        }
        if let Some(r) = f.role {
            let p = w.arg(Arg::Text(r.as_str().into()));
            w.push(format!("u.role = {p}"));
        }
        for (col, v) in [("u.team_id", f.team_id), ("u.region_id", f.region_id), ("u.manager_id", f.manager_id)] {
            if let Some(v) = v {
                let p = w.arg(Arg::I64(v));
                w.push(format!("{col} = {p}"));
            }
        }
        let cond = w.sql();
        let sql = format!("{USER_SELECT} WHERE {cond} ORDER BY u.name, u.id LIMIT {limit} OFFSET {offset}");
        let count_sql = crate::count_sql(&format!("users u WHERE {cond}"), true);
        let (rows, counted): (Vec<URow>, i64) = crate::fetch_page!(self, URow, &sql, &count_sql, w.args);
        let items = rows.into_iter().map(URow::into_row).collect::<Result<_>>()?;
        Ok(Page::new(items, counted, true, limit, offset))
    }

    /// Ids of `manager` and everyone below them.
    pub async fn subtree_ids(&self, manager: UserId) -> Result<Vec<i64>> {
        let sql = subtree_sql("$1");
        Ok(dispatch!(self, p => sqlx::query_scalar(&sql).bind(manager.0).fetch_all(p).await?))
    }

    pub async fn user_create(&self, ctx: &AuditContext, u: &NewUser) -> Result<UserRow> {
        let now = micros(ctx.at);
        let id: i64 = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (email, name, role, team_id, manager_id, region_id, time_zone, locale, password_hash, active, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, $10, $10) RETURNING id",
            )
            .bind(u.email.as_str())
            .bind(&u.name)
            .bind(u.role.as_str())
            .bind(u.team_id.map(|t| t.0))
            .bind(u.manager_id.map(|m| m.0))
            .bind(u.region_id.map(|r| r.0))
            .bind(u.time_zone.as_str())
            .bind(u.locale.as_str())
            .bind(&u.password_hash)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let after = serde_json::json!({"email": u.email, "name": u.name, "role": u.role, "team_id": u.team_id,
                "manager_id": u.manager_id, "region_id": u.region_id, "time_zone": u.time_zone, "locale": u.locale});
            audit!(tx, ctx, "create", "user", Some(id.to_string()), None::<serde_json::Value>, Some(after));
            tx.commit().await?;
            id
        });
        self.user_get(UserId(id)).await
    }

    pub async fn user_update(&self, ctx: &AuditContext, id: UserId, patch: &UserPatch) -> Result<UserRow> {
        let before = self.user_get(id).await?.user;
        if let Some(Some(m)) = patch.manager_id
            && (m == id || self.subtree_ids(id).await?.contains(&m.0))
        {
            return Err(StoreError::Refused(
                "a user cannot report to themselves or to someone who reports to them".into(),
            ));
        }
        let mut after = before.clone();
        if let Some(v) = &patch.name {
            after.name = v.clone();
        }
        if let Some(v) = patch.role {
            after.role = v;
        }
        if let Some(v) = patch.team_id {
            after.team_id = v;
        }
        if let Some(v) = patch.manager_id {
            after.manager_id = v;
        }
        if let Some(v) = patch.region_id {
            after.region_id = v;
        }
        if let Some(v) = &patch.time_zone {
            after.time_zone = v.clone();
        }
        if let Some(v) = patch.locale {
            after.locale = v;
        }
        if let Some(v) = patch.active {
            after.active = v;
        }
        let now = micros(ctx.at);
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query(
                "UPDATE users SET name = $1, role = $2, team_id = $3, manager_id = $4, region_id = $5, time_zone = $6, \
                 locale = $7, active = $8, updated_at = $9 WHERE id = $10",
            )
            .bind(&after.name)
            .bind(after.role.as_str())
            .bind(after.team_id.map(|t| t.0))
            .bind(after.manager_id.map(|m| m.0))
            .bind(after.region_id.map(|r| r.0))
            .bind(after.time_zone.as_str())
            .bind(after.locale.as_str())
            .bind(after.active)
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            if !after.active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(&mut *tx).await?;
            }
            audit!(tx, ctx, "update", "user", Some(id.to_string()), Some(&before), Some(&after));
            tx.commit().await?;
        });
        self.user_get(id).await
    }

    /// Sets a new password hash and ends every other session of the user.
    pub async fn user_set_password(
        &self,
        ctx: &AuditContext,
        id: UserId,
        hash: &str,
        keep_session: Option<&str>,
    ) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let n = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(micros(ctx.at))
                .bind(id.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(id.0)
                .bind(keep_session.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            audit!(tx, ctx, "change_password", "user", Some(id.to_string()), None::<serde_json::Value>, None::<serde_json::Value>);
            tx.commit().await?;
        });
        Ok(())
    }

    // ---- regions --------------------------------------------------------------------------

    pub async fn region_list(&self) -> Result<Vec<Region>> {
        let rows: Vec<RegionRow> = dispatch!(self, p => sqlx::query_as("SELECT id, code, name, currency, time_zone FROM regions ORDER BY name").fetch_all(p).await?);
        rows.into_iter().map(RegionRow::into_model).collect()
    }

    pub async fn region_get(&self, id: RegionId) -> Result<Region> {
        let row: RegionRow = dispatch!(self, p => sqlx::query_as("SELECT id, code, name, currency, time_zone FROM regions WHERE id = $1").bind(id.0).fetch_one(p).await?);
        row.into_model()
    }

    /// Creates (`id` None) or updates a region.
    pub async fn region_save(
        &self,
        ctx: &AuditContext,
        id: Option<RegionId>,
        code: &str,
        name: &str,
        currency: Currency,
        tz: &TimeZoneName,
    ) -> Result<Region> {
        let before = match id {
            Some(id) => Some(self.region_get(id).await?),
            None => None,
        };
        let new_id: i64 = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let new_id: i64 = match id {
                Some(id) => {
                    sqlx::query("UPDATE regions SET code = $1, name = $2, currency = $3, time_zone = $4 WHERE id = $5")
                        .bind(code).bind(name).bind(currency.code()).bind(tz.as_str()).bind(id.0)
                        .execute(&mut *tx).await?;
                    id.0
                }
                None => sqlx::query_scalar("INSERT INTO regions (code, name, currency, time_zone) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(code).bind(name).bind(currency.code()).bind(tz.as_str())
                    .fetch_one(&mut *tx).await?,
            };
            let after = serde_json::json!({"code": code, "name": name, "currency": currency, "time_zone": tz});
            audit!(tx, ctx, if id.is_some() { "update" } else { "create" }, "region", Some(new_id.to_string()), before.as_ref(), Some(after));
            tx.commit().await?;
            new_id
        });
        self.region_get(RegionId(new_id)).await
    }

    // ---- teams ----------------------------------------------------------------------------

    pub async fn team_list(&self) -> Result<Vec<Team>> {
        let rows: Vec<TeamRow> = dispatch!(self, p => sqlx::query_as("SELECT id, name, region_id FROM teams ORDER BY name").fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| Team { id: TeamId(r.id), name: r.name, region_id: r.region_id.map(RegionId) })
            .collect())
    }

    pub async fn team_get(&self, id: TeamId) -> Result<Team> {
        let r: TeamRow = dispatch!(self, p => sqlx::query_as("SELECT id, name, region_id FROM teams WHERE id = $1").bind(id.0).fetch_one(p).await?);
        Ok(Team { id: TeamId(r.id), name: r.name, region_id: r.region_id.map(RegionId) })
    }

    pub async fn team_save(
        &self,
        ctx: &AuditContext,
        id: Option<TeamId>,
        name: &str,
        region_id: Option<RegionId>,
    ) -> Result<Team> {
        let before = match id {
            Some(id) => Some(self.team_get(id).await?),
            None => None,
        };
        let new_id: i64 = dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let new_id: i64 = match id {
                Some(id) => {
                    sqlx::query("UPDATE teams SET name = $1, region_id = $2 WHERE id = $3")
                        .bind(name).bind(region_id.map(|r| r.0)).bind(id.0)
                        .execute(&mut *tx).await?;
                    id.0
                }
                None => sqlx::query_scalar("INSERT INTO teams (name, region_id) VALUES ($1, $2) RETURNING id")
                    .bind(name).bind(region_id.map(|r| r.0))
                    .fetch_one(&mut *tx).await?,
            };
            let after = serde_json::json!({"name": name, "region_id": region_id});
            audit!(tx, ctx, if id.is_some() { "update" } else { "create" }, "team", Some(new_id.to_string()), before.as_ref(), Some(after));
            tx.commit().await?;
            new_id
        });
        self.team_get(TeamId(new_id)).await
    }
}

/// Active users per region and per team, for the organisation overview.
#[derive(Debug, Clone, Default)]
pub struct OrgCounts {
    pub by_region: std::collections::HashMap<i64, i64>,
    pub by_team: std::collections::HashMap<i64, i64>,
}

impl Store {
    pub async fn org_user_counts(&self) -> Result<OrgCounts> {
        let regions: Vec<(i64, i64)> = dispatch!(self, p => sqlx::query_as("SELECT region_id, COUNT(*) FROM users WHERE region_id IS NOT NULL AND active GROUP BY region_id").fetch_all(p).await?);
        let teams: Vec<(i64, i64)> = dispatch!(self, p => sqlx::query_as("SELECT team_id, COUNT(*) FROM users WHERE team_id IS NOT NULL AND active GROUP BY team_id").fetch_all(p).await?);
        Ok(OrgCounts { by_region: regions.into_iter().collect(), by_team: teams.into_iter().collect() })
    }
}
