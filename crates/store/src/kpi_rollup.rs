//! KPI rollups (issue 5, "Scale"): derived daily cells per owner and slice, the monthly owner
//! summary, and the change log the database triggers of migration 0012 write in the same
//! transaction as every write that can change a cell (`kpi_rollup_dirty`). The app refreshes the
//! dirty owners before it reads; reads apply the viewer's visibility on the cells' owner.
//! Derived tables: not in [`crate::TABLES`], never backed up, rebuilt after a restore.

use crate::bulk::Tx;
use crate::{Arg, Result, Store, Viewer, Where, bind_all, dispatch};

/// The additive columns of a cell, in this order (see the migration for their meaning).
pub const ROLLUP_COUNTS: [&str; 16] = [
    "created",
    "created_won",
    "won",
    "lost",
    "won_amount",
    "cycle_days",
    "cycle_count",
    "pipeline_in",
    "pipeline_out",
    "activities",
    "calls",
    "talk_seconds",
    "emails",
    "meetings",
    "visits",
    "visit_sales",
];

/// One stored daily cell. Empty labels mean "not set".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupCell {
    pub owner_id: i64,
    /// `YYYY-MM-DD`, the company's local day.
    pub day: String,
    pub product_line: String,
    pub source: String,
    pub segment: String,
    pub counts: [i64; 16],
}

/// One owner's month: opportunities created and the net change of the open pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupMonth {
    pub owner_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    pub created: i64,
    pub pipeline_net: i64,
}

/// Cells summed over a bucket: -1 before the first period, `0..n` the periods, `n` after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSum {
    pub bucket: i64,
    pub owner_id: i64,
    pub product_line: String,
    pub source: String,
    pub segment: String,
    pub counts: [i64; 16],
}

/// Which slice labels a read keeps (the others are summed over): product line, source, segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RollupDims {
    pub product_line: bool,
    pub source: bool,
    pub segment: bool,
}

fn sums() -> String {
    ROLLUP_COUNTS.iter().map(|c| format!("CAST(SUM(c.{c}) AS BIGINT)")).collect::<Vec<_>>().join(", ")
}

fn label_columns(dims: RollupDims) -> (String, String) {
    let pick = |on: bool, column: &str| if on { format!("c.{column}") } else { "''".to_string() };
    let select = format!(
        "{} AS product_line, {} AS source, {} AS segment",
        pick(dims.product_line, "product_line"),
        pick(dims.source, "source"),
        pick(dims.segment, "segment")
    );
    let mut group = vec!["c.owner_id".to_string()];
    for (on, column) in [(dims.product_line, "product_line"), (dims.source, "source"), (dims.segment, "segment")] {
        if on {
            group.push(format!("c.{column}"));
        }
    }
    (select, group.join(", "))
}

impl Store {
    /// The change log: (owner id, version) of every dirty owner; owner 0 means everything.
    pub async fn kpi_rollup_dirty(&self) -> Result<Vec<(i64, i64)>> {
        Ok(dispatch!(self, p => sqlx::query_as::<_, (i64, i64)>(
            "SELECT owner_id, version FROM kpi_rollup_dirty ORDER BY owner_id"
        ).fetch_all(p).await?))
    }

    /// Replaces the cells and months of `owners` (all owners with `None`) in one transaction and
    /// clears the marks in `done` that are still at the version read (a write that came in
    /// meanwhile keeps its owner dirty).
    pub async fn kpi_rollup_replace(
        &self,
        owners: Option<&[i64]>,
        cells: Vec<RollupCell>,
        months: Vec<RollupMonth>,
        done: &[(i64, i64)],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let result: Result<()> = async {
            let mut deletes = Vec::new();
            match owners {
                None => {
                    deletes.push("DELETE FROM kpi_rollup_cells".to_string());
                    deletes.push("DELETE FROM kpi_rollup_months".to_string());
                }
                Some(owners) => {
                    for chunk in owners.chunks(500) {
                        // Ids are integers: inlining them is injection-safe.
                        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                        deletes.push(format!("DELETE FROM kpi_rollup_cells WHERE owner_id IN ({list})"));
                        deletes.push(format!("DELETE FROM kpi_rollup_months WHERE owner_id IN ({list})"));
                    }
                }
            }
            for sql in &deletes {
                match &mut tx {
                    Tx::Sqlite(t) => sqlx::query(sql).execute(&mut **t).await.map(|_| ())?,
                    Tx::Postgres(t) => sqlx::query(sql).execute(&mut **t).await.map(|_| ())?,
                }
            }
            let mut columns = vec!["owner_id", "day", "product_line", "source", "segment"];
            columns.extend(ROLLUP_COUNTS);
            let rows = cells.into_iter().map(|c| {
                let mut row = vec![Arg::I64(c.owner_id), Arg::Text(c.day), Arg::Text(c.product_line)];
                row.push(Arg::Text(c.source));
                row.push(Arg::Text(c.segment));
                row.extend(c.counts.iter().map(|n| Arg::I64(*n)));
                row
            });
            self.insert_batches(&mut tx, "kpi_rollup_cells", &columns, rows, &|_| {}).await?;
            let rows = months
                .into_iter()
                .map(|m| vec![Arg::I64(m.owner_id), Arg::Text(m.month), Arg::I64(m.created), Arg::I64(m.pipeline_net)]);
            self.insert_batches(
                &mut tx,
                "kpi_rollup_months",
                &["owner_id", "month", "created", "pipeline_net"],
                rows,
                &|_| {},
            )
            .await?;
            let clear = "DELETE FROM kpi_rollup_dirty WHERE owner_id = $1 AND version = $2";
            for (owner, version) in done {
                match &mut tx {
                    Tx::Sqlite(t) => {
                        sqlx::query(clear).bind(owner).bind(version).execute(&mut **t).await.map(|_| ())?
                    }
                    Tx::Postgres(t) => {
                        sqlx::query(clear).bind(owner).bind(version).execute(&mut **t).await.map(|_| ())?
                    }
                }
            }
            Ok(())
        }
        .await;
        tx.finish(result).await
    }

    /// The visible cells with a day in `starts[0] ..= end`, summed per period (bucket = position
    /// of the period whose first day is the last of `starts` on or before the cell's day), owner
    /// and the kept labels.
    pub async fn kpi_rollup_range(
        &self,
        viewer: &Viewer,
        starts: &[String],
        end: &str,
        dims: RollupDims,
    ) -> Result<Vec<RollupSum>> {
        let Some(first) = starts.first() else { return Ok(Vec::new()) };
        let mut w = Where::default();
        w.visible("c.owner_id", viewer);
        let p = w.arg(Arg::Text(first.clone()));
        w.push(format!("c.day >= {p}"));
        let p = w.arg(Arg::Text(end.to_string()));
        w.push(format!("c.day <= {p}"));
        let mut case = String::from("CASE");
        for (i, start) in starts.iter().enumerate().skip(1) {
            let p = w.arg(Arg::Text(start.clone()));
            case.push_str(&format!(" WHEN c.day < {p} THEN {}", i - 1));
        }
        case.push_str(&format!(" ELSE {} END", starts.len() - 1));
        if starts.len() == 1 {
            case = "0".to_string();
        }
        self.rollup_sums(&w, &case, dims).await
    }

    /// The visible cells outside `from ..= to`, summed per owner and kept labels: bucket -1 holds
    /// the pipeline change before `from` (as `pipeline_in`) and, like bucket `after`, the
    /// opportunities created (so every slice with an opportunity gets its row). Reads every cell
    /// outside the range: for slices by product line, source or segment; rep, team and region use
    /// [`kpi_rollup_owner_totals`](Self::kpi_rollup_owner_totals).
    pub async fn kpi_rollup_outside(
        &self,
        viewer: &Viewer,
        from: &str,
        to: &str,
        after: i64,
        dims: RollupDims,
    ) -> Result<Vec<RollupSum>> {
        let mut w = Where::default();
        w.visible("c.owner_id", viewer);
        let a = w.arg(Arg::Text(from.to_string()));
        let b = w.arg(Arg::Text(to.to_string()));
        w.push(format!("(c.day < {a} OR c.day > {b})"));
        let case = format!("CASE WHEN c.day < {a} THEN -1 ELSE {after} END");
        self.rollup_sums(&w, &case, dims).await
    }

    async fn rollup_sums(&self, w: &Where, case: &str, dims: RollupDims) -> Result<Vec<RollupSum>> {
        let (labels, group) = label_columns(dims);
        let sql = format!(
            "SELECT CAST({case} AS BIGINT) AS bucket, c.owner_id, {labels}, {} FROM kpi_rollup_cells c WHERE {} \
             GROUP BY 1, {group}",
            sums(),
            w.sql()
        );
        dispatch!(self, p => {
            let rows = bind_all!(sqlx::query(&sql), w.args).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    use sqlx::Row;
                    let mut counts = [0i64; 16];
                    for (i, c) in counts.iter_mut().enumerate() {
                        *c = r.try_get::<Option<i64>, _>(5 + i)?.unwrap_or(0);
                    }
                    Ok(RollupSum {
                        bucket: r.try_get(0)?,
                        owner_id: r.try_get(1)?,
                        product_line: r.try_get(2)?,
                        source: r.try_get(3)?,
                        segment: r.try_get(4)?,
                        counts,
                    })
                })
                .collect::<Result<Vec<_>>>()
        })
    }

    /// Per visible owner: the opportunities created ever and the net change of the open pipeline
    /// in the months before `month` (`YYYY-MM`) plus the days of that month before `from`.
    pub async fn kpi_rollup_owner_totals(
        &self,
        viewer: &Viewer,
        month: &str,
        from: &str,
    ) -> Result<Vec<(i64, i64, i64)>> {
        let mut w = Where::default();
        w.visible("m.owner_id", viewer);
        let p = w.arg(Arg::Text(month.to_string()));
        let sql = format!(
            "SELECT m.owner_id, CAST(SUM(m.created) AS BIGINT), \
             CAST(SUM(CASE WHEN m.month < {p} THEN m.pipeline_net ELSE 0 END) AS BIGINT) \
             FROM kpi_rollup_months m WHERE {} GROUP BY m.owner_id",
            w.sql()
        );
        let totals: Vec<(i64, Option<i64>, Option<i64>)> = dispatch!(self, p =>
            bind_all!(sqlx::query_as::<_, (i64, Option<i64>, Option<i64>)>(&sql), w.args).fetch_all(p).await?);
        let mut out: std::collections::BTreeMap<i64, (i64, i64)> =
            totals.into_iter().map(|(o, c, n)| (o, (c.unwrap_or(0), n.unwrap_or(0)))).collect();
        let month_start = format!("{month}-01");
        if from > month_start.as_str() {
            let mut w = Where::default();
            w.visible("c.owner_id", viewer);
            let a = w.arg(Arg::Text(month_start));
            let b = w.arg(Arg::Text(from.to_string()));
            w.push(format!("c.day >= {a} AND c.day < {b}"));
            let sql = format!(
                "SELECT c.owner_id, CAST(SUM(c.pipeline_in - c.pipeline_out) AS BIGINT) FROM kpi_rollup_cells c \
                 WHERE {} GROUP BY c.owner_id",
                w.sql()
            );
            let partial: Vec<(i64, Option<i64>)> = dispatch!(self, p =>
                bind_all!(sqlx::query_as::<_, (i64, Option<i64>)>(&sql), w.args).fetch_all(p).await?);
            for (owner, net) in partial {
                out.entry(owner).or_default().1 += net.unwrap_or(0);
            }
        }
        Ok(out.into_iter().map(|(o, (c, n))| (o, c, n)).collect())
    }
}
