//! Rolling a fine-grained KPI table (days, weeks) up to coarser periods (months, quarters) without
//! going back to the records: the way dashboards can read KPIs from stored daily rollups.
//!
//! Flows (counts, money, ratios) add their parts. The open pipeline is a stock: a coarse period
//! takes the value at its last fine period. The average revenue per rep counts distinct reps: it
//! rolls up only when the table is sliced by rep (a rep is active in the coarse period if active
//! on any of its days). Revenue growth is recomputed from the rolled-up revenue, so the table must
//! contain revenue. A coarse period the fine table covers only partly gets partial figures.

use model::{FiscalCalendar, Period, PeriodKind};

use crate::engine::{Dimension, KpiTable, Row};
use crate::value::Value;
use crate::{Kpi, KpiError};

impl KpiTable {
    /// The same table with periods of `kind`, computed from this table's cells. Each fine period
    /// must lie inside one coarse period (days always do; ISO weeks nest in 4-4-5 quarters but
    /// not in months).
    pub fn roll_up(&self, calendar: &FiscalCalendar, kind: PeriodKind) -> Result<KpiTable, KpiError> {
        let mut periods: Vec<Period> = Vec::new();
        let mut coarse_of = Vec::with_capacity(self.periods.len());
        for &fine in &self.periods {
            let coarse = calendar.period_of(calendar.start(fine), kind);
            if calendar.period_of(calendar.end(fine), kind) != coarse {
                return Err(KpiError::PeriodsDoNotNest { fine, kind });
            }
            if periods.last() != Some(&coarse) {
                periods.push(coarse);
            }
            coarse_of.push(periods.len() - 1);
        }
        let position: std::collections::HashMap<Period, usize> =
            self.periods.iter().enumerate().map(|(i, p)| (*p, i)).collect();
        let by_rep = self.by.contains(&Dimension::Rep);
        let revenue = self.kpis.iter().position(|k| *k == Kpi::Revenue);
        let mut rows: Vec<Row> = Vec::new();
        for group in self.rows.chunk_by(|a, b| a.slice == b.slice) {
            let mut values: Vec<Vec<Option<Value>>> = vec![vec![None; self.kpis.len()]; periods.len()];
            for row in group {
                let c = coarse_of[position[&row.period]];
                for (k, (kpi, value)) in self.kpis.iter().zip(&row.values).enumerate() {
                    let slot = &mut values[c][k];
                    *slot = Some(match (kpi, slot.take()) {
                        (_, None) => value.clone(),
                        (Kpi::OpenPipeline, Some(_)) => value.clone(),
                        (Kpi::AverageRevenuePerRep, Some(sum)) if by_rep => any_rep_active(&sum, value),
                        (_, Some(sum)) => sum.combine(value),
                    });
                }
            }
            for (c, period) in periods.iter().enumerate() {
                let mut cells: Vec<Value> = values[c]
                    .iter()
                    .map(|v| v.clone().unwrap_or_else(|| Value::no_data("no records in this period")))
                    .collect();
                for (k, kpi) in self.kpis.iter().enumerate() {
                    match kpi {
                        Kpi::AverageRevenuePerRep if !by_rep => {
                            cells[k] =
                                Value::no_data("distinct reps do not add up over periods; compute this period directly")
                        }
                        Kpi::RevenueGrowth => cells[k] = growth(revenue, &values, c),
                        _ => {}
                    }
                }
                rows.push(Row { slice: group[0].slice.clone(), period: *period, values: cells });
            }
        }
        Ok(KpiTable { currency: self.currency, kpis: self.kpis.clone(), by: self.by.clone(), periods, rows })
    }
}

/// Revenue in one rep's cell over reps active on any day: add the revenue, keep one rep.
fn any_rep_active(sum: &Value, day: &Value) -> Value {
    match sum.combine(day) {
        Value::Ratio { mut ratio } | Value::NoData { ratio: Some(mut ratio), .. } => {
            ratio.denominator = ratio.denominator.min(rust_decimal::Decimal::ONE);
            Value::ratio(ratio.numerator, ratio.denominator, "no rep created or closed an opportunity")
        }
        other => other,
    }
}

fn growth(revenue: Option<usize>, values: &[Vec<Option<Value>>], c: usize) -> Value {
    let Some(k) = revenue else {
        return Value::no_data("revenue growth rolls up only with revenue in the table");
    };
    let amount = |c: usize| match &values[c][k] {
        Some(Value::Money { amount }) => Some(*amount),
        _ => None,
    };
    match (c.checked_sub(1).and_then(amount), amount(c)) {
        (Some(previous), Some(current)) => {
            Value::ratio(current - previous, previous, "no revenue in the previous period")
        }
        _ => Value::no_data("the previous period is outside the computed range"),
    }
}
