//! Sorting of the lists: a whitelist of columns per list (`sort=<key>`, `dir=asc|desc`), with
//! the record id as the last key so equal values keep a stable order across pages and exports.

/// Which list a sort belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortList {
    Accounts,
    Opportunities,
    Contacts,
    Leads,
}

/// A validated sort: one whitelisted key and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub key: &'static str,
    pub desc: bool,
}

/// (key, SQL expressions in order, descending by default).
type Column = (&'static str, &'static [&'static str], bool);

const ACCOUNTS: &[Column] = &[
    ("name", &["a.name"], false),
    ("industry", &["a.industry"], false),
    ("country", &["a.country"], false),
    ("city", &["a.city"], false),
    ("owner", &["u.name"], false),
    ("employees", &["a.employees"], true),
    ("created", &["a.created_at"], true),
    ("updated", &["a.updated_at"], true),
];

const OPPORTUNITIES: &[Column] = &[
    ("name", &["o.name"], false),
    ("account", &["a.name"], false),
    ("owner", &["u.name"], false),
    // Pipeline order: the stage's position.
    ("stage", &["s.position"], false),
    // Stored as exact decimal text; compared as a number.
    ("amount", &["CAST(o.amount AS NUMERIC)"], true),
    ("close_date", &["o.close_date"], false),
    ("created", &["o.created_at"], true),
    ("updated", &["o.updated_at"], true),
];

const CONTACTS: &[Column] = &[
    ("name", &["c.last_name", "c.first_name"], false),
    ("email", &["c.email"], false),
    ("title", &["c.title"], false),
    ("account", &["a.name"], false),
    ("owner", &["u.name"], false),
    ("created", &["c.created_at"], true),
];

const LEADS: &[Column] = &[
    ("name", &["l.last_name", "l.first_name"], false),
    ("company", &["l.company"], false),
    ("email", &["l.email"], false),
    ("status", &["l.status"], false),
    ("source", &["l.source"], false),
    ("owner", &["u.name"], false),
    ("created", &["l.created_at"], true),
    ("updated", &["l.updated_at"], true),
];

impl SortList {
    fn columns(self) -> &'static [Column] {
        match self {
            SortList::Accounts => ACCOUNTS,
            SortList::Opportunities => OPPORTUNITIES,
            SortList::Contacts => CONTACTS,
            SortList::Leads => LEADS,
        }
    }

    /// The keys `sort` accepts.
    pub fn keys(self) -> Vec<&'static str> {
        self.columns().iter().map(|c| c.0).collect()
    }

    fn id_column(self) -> &'static str {
        match self {
            SortList::Accounts => "a.id",
            SortList::Opportunities => "o.id",
            SortList::Contacts => "c.id",
            SortList::Leads => "l.id",
        }
    }

    /// Parses `sort` (a key, or `-key` for descending) and `dir` (asc or desc; the key's
    /// natural direction when absent). Err is a message naming the accepted values.
    pub fn parse(self, sort: Option<&str>, dir: Option<&str>) -> Result<Option<Sort>, String> {
        let sort = sort.map(str::trim).filter(|s| !s.is_empty());
        let dir = dir.map(str::trim).filter(|s| !s.is_empty());
        let desc = match dir {
            None => None,
            Some("asc") => Some(false),
            Some("desc") => Some(true),
            Some(_) => return Err("dir must be asc or desc".into()),
        };
        let Some(raw) = sort else {
            return if desc.is_some() { Err("dir needs a sort column".into()) } else { Ok(None) };
        };
        let (key, minus) = match raw.strip_prefix('-') {
            Some(k) => (k, true),
            None => (raw, false),
        };
        let Some(col) = self.columns().iter().find(|c| c.0 == key) else {
            return Err(format!("sort must be one of: {}", self.keys().join(", ")));
        };
        let desc = match (minus, desc) {
            (true, _) => true,
            (false, Some(d)) => d,
            (false, None) => col.2,
        };
        Ok(Some(Sort { key: col.0, desc }))
    }

    /// ORDER BY for an explicit sort, with the id last in the same direction.
    pub(crate) fn order_by(self, s: &Sort) -> String {
        let dir = if s.desc { "DESC" } else { "ASC" };
        let exprs = self.columns().iter().find(|c| c.0 == s.key).map(|c| c.1).unwrap_or(&[]);
        let mut parts: Vec<String> = exprs.iter().map(|e| format!("{e} {dir}")).collect();
        parts.push(format!("{} {dir}", self.id_column()));
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_are_whitelisted() {
        let o = SortList::Opportunities;
        assert_eq!(o.parse(Some("amount"), None), Ok(Some(Sort { key: "amount", desc: true })));
        assert_eq!(o.parse(Some("amount"), Some("asc")), Ok(Some(Sort { key: "amount", desc: false })));
        assert_eq!(o.parse(Some("-close_date"), None), Ok(Some(Sort { key: "close_date", desc: true })));
        assert_eq!(o.parse(None, None), Ok(None));
        assert!(o.parse(Some("amount; DROP TABLE x"), None).is_err());
        assert!(o.parse(Some("name"), Some("sideways")).is_err());
        assert_eq!(o.order_by(&Sort { key: "name", desc: false }), "o.name ASC, o.id ASC");
    }
}
