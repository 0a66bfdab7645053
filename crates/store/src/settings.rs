//! Company settings, currencies and dated exchange rates.

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::audit::audit;
use crate::{AuditContext, Result, Store, StoreError, dispatch};
use model::{Currency, FxRate, FxTable};

#[derive(sqlx::FromRow)]
struct FxRow {
    from_currency: String,
    to_currency: String,
    valid_from: String,
    rate: String,
}

impl FxRow {
    fn into_model(self) -> Result<FxRate> {
        let bad = |what: &str| {
            StoreError::Corrupt(format!(
                "fx rate {}/{} {}: bad {what}",
                self.from_currency, self.to_currency, self.valid_from
            ))
        };
        Ok(FxRate {
            from: Currency::parse(&self.from_currency).map_err(|_| bad("currency"))?,
            to: Currency::parse(&self.to_currency).map_err(|_| bad("currency"))?,
            valid_from: self.valid_from.parse().map_err(|_| bad("date"))?,
            rate: self.rate.parse().map_err(|_| bad("rate"))?,
        })
    }
}

impl Store {
    pub async fn setting_get(&self, key: &str) -> Result<Option<String>> {
        Ok(
            dispatch!(self, p => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(p).await?),
        )
    }

    pub async fn setting_set(&self, ctx: &AuditContext, key: &str, value: &str) -> Result<()> {
        let before = self.setting_get(key).await?;
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key).bind(value).execute(&mut *tx).await?;
            audit!(tx, ctx, "update", "setting", Some(key.to_string()), before.map(serde_json::Value::String), Some(serde_json::Value::String(value.to_string())));
            tx.commit().await?;
        });
        Ok(())
    }

    /// The company's reporting currency (EUR until set).
    pub async fn reporting_currency(&self) -> Result<Currency> {
        match self.setting_get("reporting_currency").await? {
            Some(c) => Currency::parse(&c).map_err(|e| StoreError::Corrupt(e.to_string())),
            None => Ok(Currency::EUR),
        }
    }

    /// Makes sure every currency salesops knows is in the `currencies` table (idempotent).
    pub async fn currencies_seed(&self) -> Result<()> {
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            for c in Currency::all() {
                sqlx::query("INSERT INTO currencies (code, name, minor_units, active) VALUES ($1, $2, $3, TRUE) ON CONFLICT (code) DO NOTHING")
                    .bind(c.code()).bind(c.name()).bind(i64::from(c.minor_units())).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn currency_list(&self) -> Result<Vec<(Currency, bool)>> {
        let rows: Vec<(String, bool)> = dispatch!(self, p => sqlx::query_as("SELECT code, active FROM currencies ORDER BY code").fetch_all(p).await?);
        rows.into_iter()
            .map(|(c, a)| Ok((Currency::parse(&c).map_err(|e| StoreError::Corrupt(e.to_string()))?, a)))
            .collect()
    }

    pub async fn fx_rates(&self) -> Result<Vec<FxRate>> {
        let rows: Vec<FxRow> = dispatch!(self, p => sqlx::query_as(
            "SELECT from_currency, to_currency, valid_from, rate FROM fx_rates ORDER BY from_currency, to_currency, valid_from")
            .fetch_all(p).await?);
        rows.into_iter().map(FxRow::into_model).collect()
    }

    pub async fn fx_table(&self) -> Result<FxTable> {
        Ok(FxTable::new(self.fx_rates().await?))
    }

    /// Adds or replaces the rate for (from, to, valid_from).
    pub async fn fx_rate_set(
        &self,
        ctx: &AuditContext,
        from: Currency,
        to: Currency,
        valid_from: Date,
        rate: Decimal,
    ) -> Result<()> {
        if from == to || rate <= Decimal::ZERO {
            return Err(StoreError::Refused("a rate needs two different currencies and a positive value".into()));
        }
        let d = valid_from.to_string();
        dispatch!(self, p => {
            let mut tx = crate::BeginWrite::begin_write(p).await?;
            let before: Option<String> = sqlx::query_scalar("SELECT rate FROM fx_rates WHERE from_currency = $1 AND to_currency = $2 AND valid_from = $3")
                .bind(from.code()).bind(to.code()).bind(&d).fetch_optional(&mut *tx).await?;
            sqlx::query("INSERT INTO fx_rates (from_currency, to_currency, valid_from, rate) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (from_currency, to_currency, valid_from) DO UPDATE SET rate = excluded.rate")
                .bind(from.code()).bind(to.code()).bind(&d).bind(rate.to_string()).execute(&mut *tx).await?;
            let key = format!("{from}/{to}@{d}");
            audit!(tx, ctx, "set", "fx_rate", Some(key), before.map(serde_json::Value::String), Some(serde_json::Value::String(rate.to_string())));
            tx.commit().await?;
        });
        Ok(())
    }
}
