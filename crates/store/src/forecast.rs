//! Won revenue for time-series forecasts (F2): the amount, currency and close date of every won
//! opportunity the viewer may see, with the slice it belongs to (region or product line).
//! Conversion and bucketing by month or week happen in the app layer.

use jiff::civil::Date;
use model::Money;

use crate::{Arg, Result, Store, StoreError, Viewer, Where, bind_all, dispatch};

/// How won revenue is sliced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevenueSlice {
    /// Every won opportunity's amount.
    Total,
    /// The opportunity's amount under its account's region code ("" without a region).
    Region,
    /// Each opportunity line's total under its product's family (product line).
    ProductLine,
}

/// One won amount: in the opportunity's currency, on its close date, under a slice key.
#[derive(Debug, Clone, PartialEq)]
pub struct WonAmount {
    pub amount: Money,
    pub close_date: Date,
    /// Region code or product line; empty for [`RevenueSlice::Total`].
    pub key: String,
}

impl Store {
    /// Won amounts visible to `viewer`, oldest close date first. With `key`, only that region
    /// code or product line.
    pub async fn won_amounts(&self, viewer: &Viewer, slice: RevenueSlice, key: Option<&str>) -> Result<Vec<WonAmount>> {
        let mut w = Where::default();
        w.visible("o.owner_id", viewer);
        w.push("s.kind = 'won'".into());
        let (select, from, key_column) = match slice {
            RevenueSlice::Total => ("o.amount, o.currency, o.close_date, ''", "opportunities o", None),
            RevenueSlice::Region => (
                "o.amount, o.currency, o.close_date, COALESCE(r.code, '')",
                "opportunities o JOIN accounts a ON a.id = o.account_id LEFT JOIN regions r ON r.id = a.region_id",
                Some("COALESCE(r.code, '')"),
            ),
            RevenueSlice::ProductLine => (
                "l.total, o.currency, o.close_date, pr.family",
                "opportunity_lines l JOIN opportunities o ON o.id = l.opportunity_id JOIN products pr ON pr.id = l.product_id",
                Some("pr.family"),
            ),
        };
        if let (Some(column), Some(k)) = (key_column, key) {
            let p = w.arg(Arg::Text(k.to_string()));
            w.push(format!("{column} = {p}"));
        }
        let sql = format!(
            "SELECT {select} FROM {from} JOIN stages s ON s.id = o.stage_id WHERE {} ORDER BY o.close_date, o.id",
            w.sql()
        );
        let rows: Vec<(String, String, String, String)> = dispatch!(self, p => bind_all!(sqlx::query_as::<_, (String, String, String, String)>(&sql), w.args).fetch_all(p).await?);
        rows.into_iter()
            .map(|(a, c, d, key)| {
                Ok(WonAmount {
                    amount: Money::parse(&a, &c).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    close_date: d.parse().map_err(|_| StoreError::Corrupt(format!("bad date {d}")))?,
                    key,
                })
            })
            .collect()
    }

    /// The slice keys that have won revenue visible to `viewer` (region codes or product lines),
    /// sorted; for choosing a slice.
    pub async fn won_slice_keys(&self, viewer: &Viewer, slice: RevenueSlice) -> Result<Vec<String>> {
        let mut keys: Vec<String> =
            self.won_amounts(viewer, slice, None).await?.into_iter().map(|w| w.key).filter(|k| !k.is_empty()).collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }
}
