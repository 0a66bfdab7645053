//! Opportunities over three years of history: mostly new business, some renewals; past ones
//! mostly closed with a win rate that depends on region and rep, the rest open in a funnel that
//! thins out towards the later stages.

use model::{ForecastCategory, LossReasonId, Money, Opportunity, OpportunityId, Pipeline, StageChange, StageId};
use rand::Rng;
use rust_decimal::Decimal;

use crate::Sizes;
use crate::accounts::{Accounts, WORK_END, WORK_START};
use crate::calendar::Calendar;
use crate::data::{NEEDS, REGIONS, RENEWALS};
use crate::org::Org;
use crate::pipelines::StageSet;
use crate::random::{DemoRng, Weighted, log_normal, pick};

const RENEWAL_SHARE: f64 = 0.15;
/// Share of opportunities past their close date that have actually been closed; the rest are
/// overdue and still open (every real CRM has some).
const CLOSED_WHEN_DUE: f64 = 0.93;
/// Typical new-business deal in EUR; renewals are smaller.
const NEW_BUSINESS_MEDIAN_EUR: f64 = 15_000.0;
const RENEWAL_MEDIAN_EUR: f64 = 6_000.0;
const NEW_BUSINESS_WIN_RATE: f64 = 0.26;
const RENEWAL_RATE: f64 = 0.75;

pub(crate) fn build(
    sizes: &Sizes,
    org: &Org,
    accs: &Accounts,
    pipelines: &[Pipeline],
    cal: &Calendar,
    rng: &mut DemoRng,
) -> (Vec<Opportunity>, Vec<StageChange>) {
    let today = cal.today();
    let end_of_today = cal.end_of_today();
    let new_business = StageSet::of(&pipelines[0]);
    let renewal = StageSet::of(&pipelines[1]);

    // Accounts that exist longer and bigger ones see more opportunities.
    let weights = Weighted::new(
        accs.accounts
            .iter()
            .zip(&accs.meta)
            .map(|(a, m)| f64::from(today - m.day + 1) * (1.0 + f64::from(a.employees).ln() / 4.0)),
    );
    // Account and creation instant first, sorted, so that ids grow with creation time.
    let mut slots: Vec<(u32, u32, u32)> = (0..sizes.opportunities)
        .map(|_| {
            let a = weights.sample(rng);
            let m = &accs.meta[a];
            let day = rng.random_range(m.day..=today);
            let earliest = if day == m.day { m.second } else { WORK_START };
            (day, rng.random_range(earliest..=WORK_END.max(earliest)), a as u32)
        })
        .collect();
    slots.sort_unstable();

    let mut out = Vec::with_capacity(slots.len());
    let mut history = Vec::with_capacity(slots.len() * 3);
    for (i, (day, second, a)) in slots.into_iter().enumerate() {
        let account = &accs.accounts[a as usize];
        let meta = &accs.meta[a as usize];
        let region = &REGIONS[meta.region];

        let r: f64 = rng.random();
        let owner = if r < 0.90 {
            meta.owner
        } else if r < 0.98 {
            *pick(rng, &org.reps_by_region[meta.region])
        } else {
            org.sellers[meta.owner].manager.unwrap_or(meta.owner)
        };
        let seller = org.sellers[owner];

        let is_renewal = rng.random_bool(RENEWAL_SHARE);
        let stages = if is_renewal { &renewal } else { &new_business };
        let mut close = day + if is_renewal { rng.random_range(20..=120) } else { rng.random_range(15..=180) };
        if rng.random_bool(0.3) {
            // Deals like to close at the end of the month.
            let d = cal.date(close);
            close += u32::from(d.days_in_month().unsigned_abs() - d.day().unsigned_abs());
        }
        let close_date = cal.date(close);

        let median = if is_renewal { RENEWAL_MEDIAN_EUR } else { NEW_BUSINESS_MEDIAN_EUR };
        let size = (f64::from(account.employees) / 100.0).powf(0.12);
        let eur = (log_normal(rng, median, 0.85) * size * seller.deal_factor).max(250.0);
        let amount = Money::new(round_amount(rng, eur * region.currency_scale), account.currency);

        let created = cal.second(day, second);
        // How far through the open stages the deal got before its current stage.
        let (stage_id, forecast_category, updated, reached) = if close < today && rng.random_bool(CLOSED_WHEN_DUE) {
            let p = if is_renewal {
                (RENEWAL_RATE * (0.8 + 0.2 * seller.skill)).clamp(0.3, 0.97)
            } else {
                // Big deals are a little harder to win.
                let size_effect = (eur / NEW_BUSINESS_MEDIAN_EUR).powf(-0.08);
                (NEW_BUSINESS_WIN_RATE * region.win_factor * seller.skill * size_effect).clamp(0.03, 0.8)
            };
            let closed_at = cal.second(close, rng.random_range(WORK_START..=WORK_END));
            if rng.random_bool(p) {
                (stages.won, ForecastCategory::Closed, closed_at, stages.open.len())
            } else {
                let reached = sample_index(rng, &stages.open_weights) + 1;
                (stages.lost, ForecastCategory::Omitted, closed_at, reached)
            }
        } else {
            let k = sample_index(rng, &stages.open_weights);
            let (stage_id, default) = stages.open[k];
            let overdue = close < today;
            let forecast = if overdue && rng.random_bool(0.3) {
                ForecastCategory::Omitted
            } else if rng.random_bool(0.1) {
                // Optimists and sandbaggers.
                match default {
                    ForecastCategory::BestCase => ForecastCategory::Commit,
                    ForecastCategory::Commit => ForecastCategory::BestCase,
                    other => other,
                }
            } else {
                default
            };
            let span = (end_of_today - created) as f64;
            let touched = created + (span * rng.random::<f64>().sqrt()) as i64;
            (stage_id, forecast, touched.min(end_of_today), k)
        };
        let id = OpportunityId(i as i64 + 1);
        // The way here: the open stages in order, then the current stage, spread over the
        // deal's life with the later stages taking a little longer each.
        let mut path: Vec<StageId> = stages.open[..reached.min(stages.open.len())].iter().map(|s| s.0).collect();
        if path.last() != Some(&stage_id) {
            path.push(stage_id);
        }
        let span = (updated - created).max(0) as f64;
        let mut from = None;
        let mut entered = created;
        for (n, to) in path.iter().enumerate() {
            let at = if n == 0 {
                created
            } else if n == path.len() - 1 {
                updated.max(entered)
            } else {
                let share = (n as f64 / (path.len() - 1) as f64).powf(0.8);
                (created + (span * share * rng.random_range(0.85..1.0)) as i64).max(entered)
            };
            entered = at;
            history.push(StageChange {
                opportunity_id: id,
                from_stage_id: from,
                to_stage_id: *to,
                at: cal.timestamp(at),
                actor_user_id: Some(org.users[owner].id),
            });
            from = Some(*to);
        }
        let is_lost = stage_id == stages.lost;
        let loss_reason_id =
            (is_lost && !is_renewal).then(|| LossReasonId(sample_index(rng, &LOSS_WEIGHTS) as i64 + 1));
        let open = stage_id != stages.won && !is_lost;
        let next_step = (open && rng.random_bool(0.75)).then(|| pick(rng, &NEXT_STEPS).to_string());
        let lead_source = Some(pick(rng, &LEAD_SOURCES).to_string());
        let engaged_on = rng.random_bool(0.6).then(|| cal.date(day.saturating_sub(rng.random_range(0..=21))));

        let name = if is_renewal {
            format!("{} — {} {}", meta.short, pick(rng, &RENEWALS), close_date.year())
        } else {
            format!("{} — {}", meta.short, pick(rng, &NEEDS))
        };

        out.push(Opportunity {
            id,
            name,
            account_id: account.id,
            owner_id: org.users[owner].id,
            pipeline_id: stages.pipeline,
            stage_id,
            amount,
            close_date,
            forecast_category,
            created_at: cal.timestamp(created),
            updated_at: cal.timestamp(updated),
            external_id: None,
            probability: None,
            loss_reason_id,
            lead_source,
            next_step,
            engaged_on,
            stage_entered_at: cal.timestamp(entered),
        });
    }
    (out, history)
}

/// The managed loss reasons, in id order, and how often each is picked.
pub(crate) const LOSS_REASONS: [&str; 6] =
    ["Price", "Chose a competitor", "No budget", "No decision", "Timing", "Missing functionality"];
const LOSS_WEIGHTS: [f64; 6] = [30.0, 25.0, 15.0, 15.0, 10.0, 5.0];
pub(crate) const LEAD_SOURCES: [&str; 6] = ["Website", "Referral", "Trade fair", "Cold call", "Partner", "Webinar"];
const NEXT_STEPS: [&str; 5] =
    ["Send proposal", "Demo with the team", "Call the decision maker", "Site visit", "Agree on the contract"];

fn sample_index(rng: &mut DemoRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (k, w) in weights.iter().enumerate() {
        if x < *w {
            return k;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Amounts as people type them: mostly three significant figures ("15,400"), some whole units,
/// a few with cents. Always positive, always exactly two decimals.
fn round_amount(rng: &mut DemoRng, value: f64) -> Decimal {
    let r: f64 = rng.random();
    let cents = if r < 0.6 {
        let step = 10f64.powi((value.log10().floor() as i32 - 2).max(0));
        (value / step).round() * step * 100.0
    } else if r < 0.88 {
        value.round() * 100.0
    } else {
        (value * 100.0).round()
    };
    Decimal::new((cents as i64).max(1), 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream;

    #[test]
    fn amounts_have_two_decimals_and_are_positive() {
        let mut rng = stream(5, 0);
        for v in [0.2, 212.5, 15_432.17, 123_456.789] {
            let d = round_amount(&mut rng, v);
            assert_eq!(d.scale(), 2);
            assert!(d > Decimal::ZERO);
        }
    }
}
