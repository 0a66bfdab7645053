//! Full-text search of the lists (see docs/search.md). The searchable fields of a record are
//! normalised in Rust (`model::search`) into `search_*` columns on every write path (the row
//! layouts in `crm.rs` carry them, so single writes, bulk loads, imports, merges and
//! conversions cannot forget them). SQLite indexes them with FTS5 external-content tables kept
//! in step by triggers; PostgreSQL with GIN indexes on `to_tsvector('simple', ...)`
//! expressions. A query is the user's words, folded the same way, each one a prefix that must
//! match (AND); the words only ever travel as bound values made of letters and digits.

use model::search::{document, query_words};
use model::{Account, Contact, Lead, Opportunity};

use crate::bulk::Tx;
use crate::{Arg, Backend, Result, Store, Where, dispatch};

/// (name, other fields) of an account.
pub(crate) fn account_doc(a: &Account) -> (String, String) {
    let other = [
        a.domain.as_deref().unwrap_or(""),
        a.city.as_str(),
        a.country.as_str(),
        a.external_id.as_deref().unwrap_or(""),
    ];
    (document([a.name.as_str()]), document(other))
}

pub(crate) fn opportunity_doc(o: &Opportunity) -> String {
    document([o.name.as_str(), o.external_id.as_deref().unwrap_or(""), o.next_step.as_deref().unwrap_or("")])
}

/// A phone number's digits as one word too, so "0201234" finds "020 123 4567".
fn digits(phone: Option<&str>) -> String {
    phone.map(|p| p.chars().filter(char::is_ascii_digit).collect()).unwrap_or_default()
}

pub(crate) fn contact_doc(c: &Contact) -> String {
    let d = digits(c.phone.as_deref());
    document([
        c.first_name.as_str(),
        c.last_name.as_str(),
        c.email.as_deref().unwrap_or(""),
        c.phone.as_deref().unwrap_or(""),
        d.as_str(),
        c.title.as_str(),
        c.external_id.as_deref().unwrap_or(""),
    ])
}

pub(crate) fn lead_doc(l: &Lead) -> String {
    let d = digits(l.phone.as_deref());
    document([
        l.first_name.as_str(),
        l.last_name.as_str(),
        l.company.as_str(),
        l.email.as_deref().unwrap_or(""),
        l.phone.as_deref().unwrap_or(""),
        d.as_str(),
        l.campaign.as_str(),
        l.external_id.as_deref().unwrap_or(""),
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    Accounts,
    Opportunities,
    Contacts,
    Leads,
}

impl Entity {
    fn table(self) -> &'static str {
        match self {
            Entity::Accounts => "accounts",
            Entity::Opportunities => "opportunities",
            Entity::Contacts => "contacts",
            Entity::Leads => "leads",
        }
    }
}

/// PostgreSQL: the indexed tsvector of `alias`'s row, exactly as in the migration's index.
fn pg_tsv(entity: Entity, alias: &str) -> String {
    match entity {
        Entity::Accounts => format!(
            "(setweight(to_tsvector('simple', COALESCE({alias}.search_name, '')), 'A') || to_tsvector('simple', COALESCE({alias}.search_text, '')))"
        ),
        _ => format!("to_tsvector('simple', COALESCE({alias}.search_text, ''))"),
    }
}

/// The SQL a search adds to a list query: a `WITH hits(id, score)` prefix (the records whose
/// own text matches every word, higher score = more relevant) and the join onto it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SearchSql {
    pub with: String,
    pub join: String,
}

/// Adds the search for `q` on `entity` (aliased `alias` in the list query) to `w`; None when
/// `q` has no words (then a blank `q` filters nothing, and one of only punctuation matches
/// nothing). Opportunities also match on their account's
/// name, word by word.
pub(crate) fn search_sql(
    backend: Backend,
    entity: Entity,
    alias: &str,
    q: Option<&str>,
    w: &mut Where,
) -> Option<SearchSql> {
    let q = q.unwrap_or("");
    let words = query_words(q);
    if words.is_empty() {
        if !q.trim().is_empty() {
            // Only punctuation: nothing can match it.
            w.push("1=0".into());
        }
        return None;
    }
    let t = entity.table();
    if entity == Entity::Opportunities {
        // Opportunities are filtered by the match but not ranked: a short prefix can match a
        // large share of a million deals (their own text or their account's name), and ranking
        // them all made a search take seconds. The list keeps its own order (latest close date
        // first), which its index serves, so a page stops after its rows.
        for word in &words {
            let cond = match backend {
                Backend::Sqlite => {
                    let own = w.arg(Arg::Text(format!("\"{word}\"*")));
                    let account = w.arg(Arg::Text(format!("search_name : \"{word}\"*")));
                    format!(
                        "{alias}.id IN (SELECT rowid FROM opportunities_fts WHERE opportunities_fts MATCH {own} \
                         UNION SELECT o2.id FROM opportunities o2 WHERE o2.account_id IN \
                         (SELECT rowid FROM accounts_fts WHERE accounts_fts MATCH {account}))"
                    )
                }
                Backend::Postgres => {
                    let own = w.arg(Arg::Text(format!("{word}:*")));
                    let account = w.arg(Arg::Text(format!("{word}:*A")));
                    format!(
                        "{alias}.id IN (SELECT x.id FROM opportunities x WHERE {} @@ to_tsquery('simple', {own}) \
                         UNION SELECT x.id FROM opportunities x WHERE x.account_id IN \
                         (SELECT y.id FROM accounts y WHERE {} @@ to_tsquery('simple', {account})))",
                        pg_tsv(Entity::Opportunities, "x"),
                        pg_tsv(Entity::Accounts, "y"),
                    )
                }
            };
            w.push(cond);
        }
        return Some(SearchSql::default());
    }
    let with = match backend {
        Backend::Sqlite => {
            let m = w.arg(Arg::Text(words.iter().map(|x| format!("\"{x}\"*")).collect::<Vec<_>>().join(" AND ")));
            let weights = if entity == Entity::Accounts { ", 4.0, 1.0" } else { "" };
            format!(
                "WITH hits(id, score) AS (SELECT rowid, -bm25({t}_fts{weights}) FROM {t}_fts WHERE {t}_fts MATCH {m}) "
            )
        }
        Backend::Postgres => {
            let m = w.arg(Arg::Text(words.iter().map(|x| format!("{x}:*")).collect::<Vec<_>>().join(" & ")));
            let tsv = pg_tsv(entity, "x");
            format!(
                "WITH hits(id, score) AS (SELECT x.id, ts_rank({tsv}, to_tsquery('simple', {m})) FROM {t} x \
                 WHERE {tsv} @@ to_tsquery('simple', {m})) "
            )
        }
    };
    Some(SearchSql { with, join: format!("JOIN hits h ON h.id = {alias}.id") })
}

/// FTS5 tables of SQLite (derived data: never backed up; rebuilt after bulk writes).
pub(crate) const FTS_TABLES: &[&str] = &["accounts_fts", "opportunities_fts", "contacts_fts", "leads_fts"];

/// True for an FTS5 table or one of its shadow tables.
pub(crate) fn is_fts_table(name: &str) -> bool {
    FTS_TABLES.iter().any(|t| name == *t || name.strip_prefix(t).is_some_and(|rest| rest.starts_with('_')))
}

impl Store {
    /// SQLite: drops the FTS triggers of `tables` for a big write and returns the statements
    /// that rebuild those FTS indexes in one pass and put the triggers back (run them before
    /// the transaction commits). Indexing a million rows at once is far faster than a trigger
    /// per row. PostgreSQL: nothing (its GIN indexes go with the secondary indexes).
    pub(crate) async fn suspend_search(&self, tx: &mut Tx<'_>, tables: &[&str]) -> Result<Vec<String>> {
        let Tx::Sqlite(t) = tx else { return Ok(vec![]) };
        let mut after = vec![];
        for table in tables {
            let fts = format!("{table}_fts");
            if !FTS_TABLES.contains(&fts.as_str()) {
                continue;
            }
            let triggers: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1 AND name LIKE $2 ORDER BY name",
            )
            .bind(table)
            .bind(format!("{fts}%"))
            .fetch_all(&mut **t)
            .await?;
            for (name, _) in &triggers {
                sqlx::query(&format!("DROP TRIGGER {name}")).execute(&mut **t).await?;
            }
            after.push(format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"));
            after.extend(triggers.into_iter().map(|(_, sql)| sql));
        }
        Ok(after)
    }

    /// Fills the search columns of rows that have none (rows written before migration 0006,
    /// or restored from an older backup), in batches.
    pub(crate) async fn fill_search_text(&self) -> Result<u64> {
        let mut total = 0;
        total += self.fill_table("accounts", "search_name IS NULL OR search_text IS NULL").await?;
        for t in ["opportunities", "contacts", "leads"] {
            total += self.fill_table(t, "search_text IS NULL").await?;
        }
        Ok(total)
    }

    async fn fill_table(&self, table: &str, missing: &str) -> Result<u64> {
        let mut done = 0u64;
        loop {
            let ids: Vec<i64> = dispatch!(self, p => sqlx::query_scalar(&format!(
                "SELECT id FROM {table} WHERE {missing} ORDER BY id LIMIT 2000")).fetch_all(p).await?);
            let Some(last) = ids.last().copied() else { return Ok(done) };
            let cond =
                format!("{}.id IN ({})", &table[..1], ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            let updates: Vec<(i64, Vec<Arg>)> = match table {
                "accounts" => self
                    .account_rows_where(&cond)
                    .await?
                    .into_iter()
                    .map(|r| {
                        let (n, t) = account_doc(&r.account);
                        (r.account.id.0, vec![Arg::Text(n), Arg::Text(t)])
                    })
                    .collect(),
                "opportunities" => self
                    .opportunity_rows_where(&cond)
                    .await?
                    .into_iter()
                    .map(|r| (r.opportunity.id.0, vec![Arg::Text(opportunity_doc(&r.opportunity))]))
                    .collect(),
                "contacts" => self
                    .contacts_by_ids(&ids)
                    .await?
                    .into_iter()
                    .map(|c| (c.id.0, vec![Arg::Text(contact_doc(&c))]))
                    .collect(),
                _ => self
                    .leads_by_ids(&ids)
                    .await?
                    .into_iter()
                    .map(|l| (l.id.0, vec![Arg::Text(lead_doc(&l))]))
                    .collect(),
            };
            let set = if table == "accounts" { "search_name = $1, search_text = $2" } else { "search_text = $1" };
            let sql = format!("UPDATE {table} SET {set} WHERE id = ${}", if table == "accounts" { 3 } else { 2 });
            dispatch!(self, p => {
                let mut tx = crate::BeginWrite::begin_write(p).await?;
                for (id, mut args) in updates {
                    args.push(Arg::I64(id));
                    crate::bind_all!(sqlx::query(&sql), args).execute(&mut *tx).await?;
                }
                // Rows that vanished or could not be read still get a value, so this ends.
                let rest = format!("UPDATE {table} SET {} WHERE id <= $1 AND ({missing})",
                    if table == "accounts" { "search_name = COALESCE(search_name, ''), search_text = COALESCE(search_text, '')" } else { "search_text = ''" });
                sqlx::query(&rest).bind(last).execute(&mut *tx).await?;
                tx.commit().await?;
            });
            done += ids.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_tables_and_their_shadows_are_recognised() {
        assert!(is_fts_table("accounts_fts"));
        assert!(is_fts_table("accounts_fts_data"));
        assert!(!is_fts_table("accounts"));
        assert!(!is_fts_table("opportunity_scores"));
    }

    #[test]
    fn searches_bind_words_never_inline_them() {
        let mut w = Where::default();
        let s = search_sql(Backend::Sqlite, Entity::Leads, "l", Some("\"; DROP TABLE x; --"), &mut w).unwrap();
        assert!(!s.with.contains("DROP"));
        assert!(matches!(&w.args[0], Arg::Text(t) if t == "\"drop\"* AND \"table\"* AND \"x\"*"));
        assert!(search_sql(Backend::Postgres, Entity::Leads, "l", Some(" * \" - "), &mut Where::default()).is_none());
    }
}
