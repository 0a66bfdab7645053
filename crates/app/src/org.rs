//! Organisation administration (C5) and global settings (C3): users, roles, teams, the manager
//! hierarchy, regions, currencies and exchange rates; plus reads of commercial records through
//! the caller's visibility.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::{App, AppError, Principal, hash_password};
use model::{
    AccountId, Currency, Email, Locale, OpportunityId, Permission, Region, RegionId, Role, Team, TeamId, TimeZoneName,
    UserId,
};
use store::{
    AccountFilter, AccountRow, AuditEntry, AuditFilter, NewUser, OpportunityFilter, OpportunityRow, Page, UserFilter,
    UserPatch, UserRow,
};

/// A new user as typed into a form or posted as JSON; validated into [`NewUser`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub email: String,
    pub name: String,
    pub role: String,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub region_id: Option<i64>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub password: String,
}

/// Changes to a user; absent fields stay as they are. For nullable links, 0 clears the link.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatchInput {
    pub name: Option<String>,
    pub role: Option<String>,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub region_id: Option<i64>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub active: Option<bool>,
}

fn clean_name(field: &str, s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 200 {
        return Err(AppError::invalid(field, "must be 1 to 200 characters"));
    }
    Ok(s.to_string())
}

fn link(v: Option<i64>) -> Option<Option<i64>> {
    v.map(|id| if id == 0 { None } else { Some(id) })
}

pub const MAX_PAGE: i64 = 500;

/// Clamps user-supplied paging to sane bounds.
pub fn page_bounds(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), AppError> {
    let limit = limit.unwrap_or(50);
    let offset = offset.unwrap_or(0);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::invalid("limit", format!("must be between 1 and {MAX_PAGE}")));
    }
    if offset < 0 {
        return Err(AppError::invalid("offset", "must not be negative"));
    }
    Ok((limit, offset))
}

impl App {
    /// Every user of the organisation (active or not), in the store's list order, read page by
    /// page. For engines and jobs that label or route by user; not filtered by visibility.
    pub(crate) async fn all_users(&self) -> Result<Vec<model::User>, AppError> {
        let mut users = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.store.user_list(&store::UserFilter::default(), 1_000, offset).await?;
            let n = page.items.len() as i64;
            users.extend(page.items.into_iter().map(|row| row.user));
            if n < 1_000 {
                return Ok(users);
            }
            offset += n;
        }
    }

    async fn check_links(&self, team: Option<i64>, manager: Option<i64>, region: Option<i64>) -> Result<(), AppError> {
        if let Some(t) = team {
            self.store
                .team_get(TeamId(t))
                .await
                .map_err(|_| AppError::invalid("team_id", format!("team {t} does not exist")))?;
        }
        if let Some(m) = manager {
            self.store
                .user_get(UserId(m))
                .await
                .map_err(|_| AppError::invalid("manager_id", format!("user {m} does not exist")))?;
        }
        if let Some(r) = region {
            self.store
                .region_get(RegionId(r))
                .await
                .map_err(|_| AppError::invalid("region_id", format!("region {r} does not exist")))?;
        }
        Ok(())
    }

    pub async fn users(
        &self,
        p: &Principal,
        f: &UserFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<UserRow>, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        Ok(self.store.user_list(f, limit, offset).await?)
    }

    pub async fn user(&self, p: &Principal, id: UserId) -> Result<UserRow, AppError> {
        if p.user.id != id {
            p.require(Permission::AdministerOrganisation)?;
        }
        Ok(self.store.user_get(id).await?)
    }

    pub async fn create_user(&self, p: &Principal, input: &NewUserInput) -> Result<UserRow, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let email = Email::parse(&input.email)?;
        let name = clean_name("name", &input.name)?;
        let role = Role::parse(&input.role)?;
        let time_zone = match input.time_zone.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(tz) => TimeZoneName::parse(tz)?,
            None => TimeZoneName::utc(),
        };
        let locale = match input.locale.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(l) => Locale::parse(l)?,
            None => Locale::En,
        };
        if input.password.chars().count() < 10 {
            return Err(AppError::invalid("password", "must be at least 10 characters"));
        }
        self.check_links(input.team_id, input.manager_id, input.region_id).await?;
        let new = NewUser {
            email,
            name,
            role,
            team_id: input.team_id.map(TeamId),
            manager_id: input.manager_id.map(UserId),
            region_id: input.region_id.map(RegionId),
            time_zone,
            locale,
            password_hash: Some(hash_password(&input.password)?),
        };
        self.store.user_create(&p.audit(self.now()), &new).await.map_err(|e| match e {
            store::StoreError::Conflict(_) => AppError::invalid("email", "is already in use"),
            e => e.into(),
        })
    }

    pub async fn update_user(&self, p: &Principal, id: UserId, input: &UserPatchInput) -> Result<UserRow, AppError> {
        p.require_write_credential()?;
        let is_admin = p.can(Permission::AdministerOrganisation);
        let own_preferences_only = input.role.is_none()
            && input.team_id.is_none()
            && input.manager_id.is_none()
            && input.region_id.is_none()
            && input.active.is_none()
            && input.name.is_none();
        if !(is_admin || (p.user.id == id && own_preferences_only)) {
            return Err(AppError::Forbidden);
        }
        if is_admin
            && p.user.id == id
            && (input.active == Some(false) || input.role.as_deref().is_some_and(|r| r != p.user.role.as_str()))
        {
            return Err(AppError::Refused("you cannot deactivate yourself or change your own role".into()));
        }
        let patch = UserPatch {
            name: input.name.as_deref().map(|n| clean_name("name", n)).transpose()?,
            role: input.role.as_deref().map(Role::parse).transpose()?,
            team_id: link(input.team_id).map(|o| o.map(TeamId)),
            manager_id: link(input.manager_id).map(|o| o.map(UserId)),
            region_id: link(input.region_id).map(|o| o.map(RegionId)),
            time_zone: input.time_zone.as_deref().map(TimeZoneName::parse).transpose()?,
            locale: input.locale.as_deref().map(Locale::parse).transpose()?,
            active: input.active,
        };
        self.check_links(
            patch.team_id.flatten().map(|t| t.0),
            patch.manager_id.flatten().map(|m| m.0),
            patch.region_id.flatten().map(|r| r.0),
        )
        .await?;
        Ok(self.store.user_update(&p.audit(self.now()), id, &patch).await?)
    }

    pub async fn teams(&self) -> Result<Vec<Team>, AppError> {
        Ok(self.store.team_list().await?)
    }

    pub async fn save_team(
        &self,
        p: &Principal,
        id: Option<TeamId>,
        name: &str,
        region_id: Option<i64>,
    ) -> Result<Team, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let name = clean_name("name", name)?;
        self.check_links(None, None, region_id).await?;
        self.store.team_save(&p.audit(self.now()), id, &name, region_id.map(RegionId)).await.map_err(|e| match e {
            store::StoreError::Conflict(_) => AppError::invalid("name", "is already in use"),
            e => e.into(),
        })
    }

    pub async fn regions(&self) -> Result<Vec<Region>, AppError> {
        Ok(self.store.region_list().await?)
    }

    pub async fn save_region(
        &self,
        p: &Principal,
        id: Option<RegionId>,
        code: &str,
        name: &str,
        currency: &str,
        time_zone: &str,
    ) -> Result<Region, AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let code = code.trim().to_uppercase();
        if code.is_empty()
            || code.len() > 20
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(AppError::invalid("code", "must be 1 to 20 letters, digits, '-' or '_'"));
        }
        let name = clean_name("name", name)?;
        let currency = Currency::parse(currency)?;
        let tz = TimeZoneName::parse(time_zone)?;
        self.store.region_save(&p.audit(self.now()), id, &code, &name, currency, &tz).await.map_err(|e| match e {
            store::StoreError::Conflict(_) => AppError::invalid("code", "is already in use"),
            e => e.into(),
        })
    }

    pub async fn set_fx_rate(
        &self,
        p: &Principal,
        from: &str,
        to: &str,
        valid_from: &str,
        rate: &str,
    ) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let from = Currency::parse(from).map_err(|e| AppError::invalid("from", e.reason))?;
        let to = Currency::parse(to).map_err(|e| AppError::invalid("to", e.reason))?;
        if from == to {
            return Err(AppError::invalid("to", "must differ from 'from'"));
        }
        let valid_from: Date =
            valid_from.trim().parse().map_err(|_| AppError::invalid("valid_from", "must be a date YYYY-MM-DD"))?;
        let rate: Decimal = rate.trim().parse().map_err(|_| AppError::invalid("rate", "must be a decimal number"))?;
        if rate <= Decimal::ZERO {
            return Err(AppError::invalid("rate", "must be positive"));
        }
        self.store.fx_rate_set(&p.audit(self.now()), from, to, valid_from, rate).await?;
        Ok(())
    }

    pub async fn set_reporting_currency(&self, p: &Principal, code: &str) -> Result<(), AppError> {
        p.require(Permission::AdministerOrganisation)?;
        p.require_write_credential()?;
        let c = Currency::parse(code)?;
        self.store.setting_set(&p.audit(self.now()), "reporting_currency", c.code()).await?;
        Ok(())
    }

    pub async fn audit_log(
        &self,
        p: &Principal,
        f: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<AuditEntry>, AppError> {
        p.require(Permission::ReadAudit)?;
        Ok(self.store.audit_list(f, limit, offset).await?)
    }

    /// Records an export of data in the audit log (who took what out of the system).
    pub async fn audit_export(&self, p: &Principal, what: &str) -> Result<(), AppError> {
        self.store.audit_event(&p.audit(self.now()), "export", what, None).await?;
        Ok(())
    }

    pub async fn accounts(
        &self,
        p: &Principal,
        f: &AccountFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<AccountRow>, AppError> {
        Ok(self.store.account_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    pub async fn account(&self, p: &Principal, id: AccountId) -> Result<AccountRow, AppError> {
        Ok(self.store.account_get(&self.viewer(p).await?, id).await?)
    }

    pub async fn opportunities(
        &self,
        p: &Principal,
        f: &OpportunityFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Page<OpportunityRow>, AppError> {
        Ok(self.store.opportunity_list(&self.viewer(p).await?, f, limit, offset).await?)
    }

    /// The total amount of a filtered opportunity list in the reporting currency. Each amount is
    /// converted at the rate of its close date, or of today (in the caller's time zone) for a
    /// close date still ahead; amounts are never added across currencies unconverted.
    pub async fn opportunities_total(&self, p: &Principal, f: &OpportunityFilter) -> Result<AmountTotal, AppError> {
        let rows = self.store.opportunity_amounts(&self.viewer(p).await?, f).await?;
        let fx = self.store.fx_table().await?;
        let reporting = self.store.reporting_currency().await?;
        let today = self.now().to_zoned(p.user.time_zone.tz()).date();
        let currencies: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.amount.currency.code()).collect();
        Ok(AmountTotal {
            count: rows.len() as i64,
            currencies: currencies.into_iter().map(str::to_string).collect(),
            total: fx.sum_in(reporting, rows.iter().map(|r| (r.amount, r.close_date.min(today)))),
            reporting,
        })
    }

    pub async fn opportunity(&self, p: &Principal, id: OpportunityId) -> Result<OpportunityRow, AppError> {
        Ok(self.store.opportunity_get(&self.viewer(p).await?, id).await?)
    }
}

/// The sum of a list's amounts in the reporting currency.
#[derive(Debug, Clone)]
pub struct AmountTotal {
    pub count: i64,
    /// The currencies the amounts were in (ISO codes, sorted).
    pub currencies: Vec<String>,
    /// The converted total, or why it cannot be given (a missing exchange rate).
    pub total: Result<model::Money, model::MoneyError>,
    pub reporting: model::Currency,
}
