//! Organisation vocabulary: roles and what they may see and do, e-mail addresses, time zones.

use serde::{Deserialize, Serialize};

/// A value that failed validation; `field` names what was wrong for error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValueError {
    pub field: &'static str,
    pub reason: String,
}

impl ValueError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}

/// The roles of the permission model (SPEC: "who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    HeadOfCommercialOps,
    SalesOpsManager,
    MarketingOps,
    CustomerSuccessOps,
    DataAnalyst,
    CrmAdmin,
    SalesManager,
    SalesRep,
    Finance,
}

/// Which records a role may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Only records the user owns.
    Own,
    /// Records owned by the user and everyone below them in the manager hierarchy.
    Subtree,
    /// Every record.
    All,
}

/// Coarse capabilities checked by the application layer before any write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create and change commercial records (accounts, opportunities) within the visible set.
    WriteRecords,
    /// Administer users, teams, regions, currencies and exchange rates.
    AdministerOrganisation,
    /// Read the audit log.
    ReadAudit,
    /// Read payouts of everyone (Finance is read-only on them).
    ReadAllPayouts,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::HeadOfCommercialOps,
        Role::SalesOpsManager,
        Role::MarketingOps,
        Role::CustomerSuccessOps,
        Role::DataAnalyst,
        Role::CrmAdmin,
        Role::SalesManager,
        Role::SalesRep,
        Role::Finance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::HeadOfCommercialOps => "head_of_commercial_ops",
            Role::SalesOpsManager => "sales_ops_manager",
            Role::MarketingOps => "marketing_ops",
            Role::CustomerSuccessOps => "customer_success_ops",
            Role::DataAnalyst => "data_analyst",
            Role::CrmAdmin => "crm_admin",
            Role::SalesManager => "sales_manager",
            Role::SalesRep => "sales_rep",
            Role::Finance => "finance",
        }
    }

    pub fn parse(s: &str) -> Result<Role, ValueError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| ValueError::new("role", format!("unknown role '{s}'")))
    }

    /// The i18n key of the role's display name.
    pub fn label_key(self) -> String {
        format!("role-{}", self.as_str().replace('_', "-"))
    }

    pub fn visibility(self) -> Visibility {
        match self {
            Role::SalesRep => Visibility::Own,
            Role::SalesManager => Visibility::Subtree,
            _ => Visibility::All,
        }
    }

    pub fn has(self, permission: Permission) -> bool {
        use Role::*;
        match permission {
            Permission::WriteRecords => matches!(
                self,
                HeadOfCommercialOps
                    | SalesOpsManager
                    | MarketingOps
                    | CustomerSuccessOps
                    | CrmAdmin
                    | SalesManager
                    | SalesRep
            ),
            Permission::AdministerOrganisation => matches!(self, HeadOfCommercialOps | SalesOpsManager | CrmAdmin),
            Permission::ReadAudit => matches!(self, HeadOfCommercialOps | SalesOpsManager | CrmAdmin),
            Permission::ReadAllPayouts => matches!(self, HeadOfCommercialOps | SalesOpsManager | Finance),
        }
    }
}

/// Read-only or read-write API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            _ => Err(ValueError::new("scope", format!("must be 'read' or 'write', got '{s}'"))),
        }
    }
}

/// A normalised (trimmed, lower-cased) e-mail address with one `@` and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, ValueError> {
        let s = s.trim().to_lowercase();
        let bad = || ValueError::new("email", format!("'{s}' is not an e-mail address"));
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || s.len() > 254
            || s.chars().any(char::is_whitespace)
        {
            return Err(bad());
        }
        Ok(Email(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Email::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

/// An IANA time zone name that exists in the bundled tz database ("Europe/Amsterdam").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(s: &str) -> Result<TimeZoneName, ValueError> {
        let s = s.trim();
        if s.is_empty() || jiff::tz::TimeZone::get(s).is_err() {
            return Err(ValueError::new("time_zone", format!("'{s}' is not an IANA time zone")));
        }
        Ok(TimeZoneName(s.to_string()))
    }
    pub fn utc() -> TimeZoneName {
        TimeZoneName("UTC".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn tz(&self) -> jiff::tz::TimeZone {
        // Validated in `parse`, so the lookup cannot fail; fall back to UTC defensively.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        TimeZoneName::parse(&s)
    }
}
impl From<TimeZoneName> for String {
    fn from(t: TimeZoneName) -> String {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_scope() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::SalesRep.visibility(), Visibility::Own);
        assert_eq!(Role::SalesManager.visibility(), Visibility::Subtree);
        assert_eq!(Role::Finance.visibility(), Visibility::All);
        assert!(!Role::Finance.has(Permission::WriteRecords));
        assert!(!Role::DataAnalyst.has(Permission::WriteRecords));
        assert!(Role::CrmAdmin.has(Permission::AdministerOrganisation));
        assert!(!Role::SalesManager.has(Permission::ReadAudit));
        assert!(Role::parse("king").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(Email::parse("  Anna@Example.NL ").unwrap().as_str(), "anna@example.nl");
        for bad in ["", "anna", "anna@", "@x.nl", "a@b", "a b@x.nl", "a@@x.nl", "a@x."] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_must_exist() {
        assert!(TimeZoneName::parse("Europe/Warsaw").is_ok());
        assert!(TimeZoneName::parse("Europe/Atlantis").is_err());
        assert!(TimeZoneName::parse("").is_err());
    }
}
