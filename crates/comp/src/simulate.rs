//! Runs over many payees (a period run, threads via `std::thread::scope`), the what-if
//! estimator and plan modelling (a draft plan against the current plan over past credits).

use std::collections::{BTreeMap, HashMap};

use model::{FxTable, Money, UserId};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::Diagnostic;
use crate::calc::{CalcError, Payee, calculate};
use crate::credit::{Credit, CreditBook, CreditRole, Transaction};
use crate::plan::Plan;
use crate::retro::deltas;
use crate::statement::{PayeeState, PayoutLine, Period, Statement};

/// Calculates one period for many payees on `threads` threads. Payees without credits get a
/// statement too (draws, scores, adjustments). Output is in the order of `payees`.
pub fn calculate_period(
    plan: &Plan,
    payees: &[(Payee, PayeeState)],
    book: &CreditBook<'_>,
    period: &Period,
    fx: &FxTable,
    threads: usize,
) -> (Vec<Statement>, Vec<Diagnostic>) {
    let threads = threads.max(1);
    let chunk = payees.len().div_ceil(threads).max(1);
    let results: Vec<(Vec<Statement>, Vec<Diagnostic>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = payees
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut statements = Vec::with_capacity(part.len());
                    let mut diagnostics = Vec::new();
                    for (payee, prior) in part {
                        let credits = book.get(&payee.id).map_or(&[][..], Vec::as_slice);
                        match calculate(plan, payee, credits, period, prior, fx) {
                            Ok((s, d)) => {
                                statements.push(s);
                                diagnostics.extend(d);
                            }
                            Err(e) => diagnostics.push(Diagnostic {
                                transaction: None,
                                payee: Some(payee.id),
                                message: e.to_string(),
                            }),
                        }
                    }
                    (statements, diagnostics)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut statements = Vec::with_capacity(payees.len());
    let mut diagnostics = Vec::new();
    for (s, d) in results {
        statements.extend(s);
        diagnostics.extend(d);
    }
    (statements, diagnostics)
}

/// "If I close this opportunity at this amount in this period, I earn ...".
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    pub before: Money,
    pub after: Money,
    /// `after - before`: what the hypothetical transaction earns, accelerators and caps included.
    pub difference: Money,
    pub attainment_before: Option<Decimal>,
    pub attainment_after: Option<Decimal>,
    /// The lines that change, as deltas explained like any other line.
    pub changes: Vec<PayoutLine>,
}

/// The difference of two calculations: with and without `hypothetical`, credited to the payee
/// with their split share (100% if the payee is not in its splits).
pub fn what_if(
    plan: &Plan,
    payee: &Payee,
    credits: &[Credit<'_>],
    period: &Period,
    prior: &PayeeState,
    fx: &FxTable,
    hypothetical: &Transaction,
) -> Result<WhatIf, CalcError> {
    let (before, _) = calculate(plan, payee, credits, period, prior, fx)?;
    let share = hypothetical.splits.iter().find(|s| s.payee == payee.id).map_or(Decimal::ONE, |s| s.share);
    let mut with: Vec<Credit<'_>> = credits.to_vec();
    with.push(Credit { transaction: hypothetical, share, role: CreditRole::Direct });
    let (after, _) = calculate(plan, payee, &with, period, prior, fx)?;
    let changes = deltas(&before, &after)?;
    Ok(WhatIf {
        before: before.payable,
        after: after.payable,
        difference: Money::new(after.payable.amount - before.payable.amount, after.currency),
        attainment_before: before.attainment,
        attainment_after: after.attainment,
        changes,
    })
}

/// Summary statistics of a distribution (payouts or attainments over payees).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Distribution {
    pub count: usize,
    pub min: Decimal,
    pub p10: Decimal,
    pub p50: Decimal,
    pub p90: Decimal,
    pub max: Decimal,
    pub mean: Decimal,
    /// Ten equal-width buckets from `min` to `max` (for a chart): (lower bound, count).
    pub histogram: Vec<(Decimal, usize)>,
}

impl Distribution {
    pub fn of(mut values: Vec<Decimal>) -> Distribution {
        if values.is_empty() {
            return Distribution::default();
        }
        values.sort();
        let n = values.len();
        // Nearest-rank percentiles: exact values that occur in the data.
        let pick = |p: usize| values[((p * n).div_ceil(100)).clamp(1, n) - 1];
        let (min, max) = (values[0], values[n - 1]);
        let width = (max - min) / Decimal::TEN;
        let mut histogram: Vec<(Decimal, usize)> = (0..10).map(|i| (min + width * Decimal::from(i), 0)).collect();
        for v in &values {
            let bucket = if width.is_zero() { 0 } else { ((*v - min) / width).floor().to_usize().unwrap_or(9).min(9) };
            histogram[bucket].1 += 1;
        }
        let total: Decimal = values.iter().sum();
        Distribution {
            count: n,
            min,
            p10: pick(10),
            p50: pick(50),
            p90: pick(90),
            max,
            mean: total / Decimal::from(n),
            histogram,
        }
    }
}

/// One payee under the current and the draft plan, over the modelled periods.
#[derive(Debug, Clone, PartialEq)]
pub struct PayeeComparison {
    pub payee: UserId,
    pub current: Decimal,
    pub draft: Decimal,
    pub difference: Decimal,
    pub attainment: Option<Decimal>,
}

/// Result of running a draft plan against the current one (I4).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanModel {
    pub currency: model::Currency,
    /// Net credited revenue (direct credit only, so overlays do not count twice).
    pub revenue: Decimal,
    pub cost_current: Decimal,
    pub cost_draft: Decimal,
    /// Cost as a fraction of revenue (0.07 = 7%); `None` without revenue.
    pub cost_ratio_current: Option<Decimal>,
    pub cost_ratio_draft: Option<Decimal>,
    pub payouts_draft: Distribution,
    pub payouts_current: Distribution,
    /// Credited / quota over all modelled periods, per payee with a quota.
    pub attainment: Distribution,
    /// Sorted from the biggest gain to the biggest loss under the draft.
    pub payees: Vec<PayeeComparison>,
    pub earn_more: usize,
    pub earn_less: usize,
}

/// Runs `draft` and `current` over the same payees, credits and periods (state carried from
/// period to period, draws and year caps included) and compares them. Costs are in the draft's
/// payout currency; the current plan's payouts are converted at each period's last-day rate.
pub fn model_plan(
    draft: &Plan,
    current: &Plan,
    payees: &[Payee],
    book: &CreditBook<'_>,
    periods: &[Period],
    fx: &FxTable,
    threads: usize,
) -> (PlanModel, Vec<Diagnostic>) {
    let currency = draft.payout_currency;
    let mut diagnostics = Vec::new();
    let mut totals: BTreeMap<UserId, (Decimal, Decimal, Decimal, Decimal)> = BTreeMap::new();
    let mut revenue = Decimal::ZERO;
    let mut states: Vec<[(Payee, PayeeState); 2]> =
        payees.iter().map(|p| [(p.clone(), PayeeState::default()), (p.clone(), PayeeState::default())]).collect();
    let position: HashMap<UserId, usize> = payees.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    for period in periods {
        // Each period's credits once, so that no calculation scans the whole year.
        let period_book: CreditBook<'_> = book
            .iter()
            .map(|(payee, credits)| {
                (*payee, credits.iter().filter(|c| period.contains(c.transaction.date)).copied().collect::<Vec<_>>())
            })
            .collect();
        for (which, plan) in [(0usize, current), (1usize, draft)] {
            let input: Vec<(Payee, PayeeState)> = states.iter().map(|s| s[which].clone()).collect();
            let (statements, d) = calculate_period(plan, &input, &period_book, period, fx, threads);
            diagnostics.extend(d);
            for s in statements {
                let paid = s.payable.amount + s.held.amount;
                let paid = if s.currency == currency {
                    paid
                } else {
                    match fx.convert(Money::new(paid, s.currency), currency, period.end) {
                        Ok(m) => m.amount,
                        Err(e) => {
                            diagnostics.push(Diagnostic {
                                transaction: None,
                                payee: Some(s.payee),
                                message: e.to_string(),
                            });
                            continue;
                        }
                    }
                };
                let entry = totals.entry(s.payee).or_default();
                if which == 0 {
                    entry.0 += paid;
                } else {
                    entry.1 += paid;
                    entry.2 += s.credited;
                    entry.3 += s.quota.unwrap_or_default();
                }
                if let Some(&i) = position.get(&s.payee) {
                    states[i][which].1 = s.closing;
                }
            }
        }
        for credits in period_book.values() {
            for c in credits.iter().filter(|c| c.role == CreditRole::Direct) {
                let t = c.transaction;
                if t.kind.event() == draft.earning_event
                    && let Some(rate) = fx.rate(t.currency, draft.currency, t.date)
                {
                    revenue += c.share * t.signed_amount() * rate;
                }
            }
        }
    }
    let mut comparisons: Vec<PayeeComparison> = totals
        .iter()
        .map(|(payee, (cur, dr, credited, quota))| PayeeComparison {
            payee: *payee,
            current: *cur,
            draft: *dr,
            difference: *dr - *cur,
            attainment: (*quota > Decimal::ZERO).then(|| *credited / *quota),
        })
        .collect();
    comparisons.sort_by(|a, b| b.difference.cmp(&a.difference).then(a.payee.cmp(&b.payee)));
    let cost_current: Decimal = comparisons.iter().map(|c| c.current).sum();
    let cost_draft: Decimal = comparisons.iter().map(|c| c.draft).sum();
    let ratio = |cost: Decimal| (!revenue.is_zero()).then(|| cost / revenue);
    let model = PlanModel {
        currency,
        revenue,
        cost_current,
        cost_draft,
        cost_ratio_current: ratio(cost_current),
        cost_ratio_draft: ratio(cost_draft),
        payouts_draft: Distribution::of(comparisons.iter().map(|c| c.draft).collect()),
        payouts_current: Distribution::of(comparisons.iter().map(|c| c.current).collect()),
        attainment: Distribution::of(comparisons.iter().filter_map(|c| c.attainment).collect()),
        earn_more: comparisons.iter().filter(|c| c.difference > Decimal::ZERO).count(),
        earn_less: comparisons.iter().filter(|c| c.difference < Decimal::ZERO).count(),
        payees: comparisons,
    };
    (model, diagnostics)
}
