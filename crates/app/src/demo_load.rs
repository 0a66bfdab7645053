//! Loads the deterministic demo company into an empty store.

use jiff::Timestamp;

use crate::{AppError, auth::hash_password_with_salt};
use demo::{Company, Scale};
use store::{BulkSet, Store};

#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub logins: Vec<(model::Role, String)>,
    pub users: usize,
    pub accounts: usize,
    pub opportunities: usize,
}

/// Generates the company for (`scale`, `seed`, `now`'s date in UTC) and writes it in one
/// transaction. `on_total` is told the row count first; `progress` then receives rows written.
pub async fn load_demo(
    store: &Store,
    scale: Scale,
    seed: u64,
    now: Timestamp,
    on_total: &(dyn Fn(u64) + Sync),
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DemoSummary, AppError> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let company: Company = demo::generate(scale, seed, today);
    // The salt follows the seed, so the same seed gives the same database on either store.
    let mut salt = [0u8; 16];
    salt[..8].copy_from_slice(&seed.to_le_bytes());
    salt[8..].copy_from_slice(b"salesops");
    let hash = hash_password_with_salt(demo::DEMO_PASSWORD, &salt)?;
    let set = BulkSet {
        reporting_currency: company.reporting_currency,
        fx_rates: &company.fx_rates,
        regions: &company.regions,
        teams: &company.teams,
        users: &company.users,
        password_hash: Some(&hash),
        pipelines: &company.pipelines,
        accounts: &company.accounts,
        opportunities: &company.opportunities,
        stage_history: &company.stage_history,
        loss_reasons: &company.loss_reasons,
        contacts: &company.contacts,
        leads: &company.leads,
        activities: &company.activities,
        products: &company.products,
        price_books: &company.price_books,
        prices: &company.prices,
        opportunity_lines: &company.opportunity_lines,
        quotes: &company.quotes,
        orders: &company.orders,
        order_events: &company.order_events,
        now,
    };
    on_total(set.row_count());
    store.bulk_load(&set, progress).await?;
    crate::comp::demo_plan(store, &company, today, now).await?;
    Ok(DemoSummary {
        logins: company.logins.iter().map(|l| (l.role, l.email.as_str().to_string())).collect(),
        users: company.users.len(),
        accounts: company.accounts.len(),
        opportunities: company.opportunities.len(),
    })
}
