//! `calculate`: one payee, one plan, one period -> a [`Statement`] of explained lines.
//!
//! Order of work: credits of the plan's earning event in the period, converted to the plan
//! currency at their own date, sorted by (date, transaction id) -> running attainment ->
//! component lines (tiers, accelerators, decelerators, per-line caps) -> period/year caps and
//! floors -> adjustments -> holds and releases -> draw -> conversion to the payout currency ->
//! rounding.

use std::collections::BTreeMap;
use std::sync::Arc;

use model::{Currency, FxTable, Money, OpportunityId, UserId};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::Diagnostic;
use crate::credit::{Credit, CreditRole};
use crate::plan::{
    Base, Component, CreditFilter, FixedRule, Measure, Per, Plan, RateRule, Rule, RuleId, ScoreRule, TierMethod,
    override_for,
};
use crate::statement::{
    Explanation, HeldLine, LineKey, LineKind, LineStatus, PayeeState, PayoutLine, Period, Statement,
};

/// The payee's own inputs to a calculation.
#[derive(Debug, Clone)]
pub struct Payee {
    pub id: UserId,
    /// Quota for the period in the plan currency; overrides the plan's default quota.
    pub quota: Option<Decimal>,
    /// Scores for MBO / satisfaction / retention components (1.0 = 100%).
    pub scores: BTreeMap<String, Decimal>,
    pub holds: Vec<Hold>,
    /// Holds lifted this period: matching held lines from earlier periods are paid.
    pub releases: Vec<HoldScope>,
    pub adjustments: Vec<Adjustment>,
}

impl Payee {
    /// A payee with no quota override, scores, holds or adjustments.
    pub fn new(id: UserId) -> Payee {
        Payee {
            id,
            quota: None,
            scores: BTreeMap::new(),
            holds: Vec::new(),
            releases: Vec::new(),
            adjustments: Vec::new(),
        }
    }
}

/// What a hold (or a release) applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldScope {
    Opportunity(OpportunityId),
    Payee(UserId),
    Plan(Arc<str>),
}

/// Keep back lines until released (e.g. "until the customer pays").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub scope: HoldScope,
    pub reason: String,
}

/// A manual adjustment. It flows through the calculation (holds, draw, rounding, conversion)
/// and does not change quota attainment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub id: i64,
    /// Signed, in the plan currency.
    pub amount: Decimal,
    pub reason_code: String,
    /// Required, and not the payee themselves.
    pub approver: Option<UserId>,
    /// The approver's name, for the statement sentence (the engine knows no names).
    pub approver_name: Option<String>,
    pub opportunity: Option<OpportunityId>,
}

/// Data the calculation cannot do without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("no exchange rate from {from} to {to} on or before {on}: the payout currency cannot be computed")]
    NoPayoutRate { from: Currency, to: Currency, on: jiff::civil::Date },
    #[error("the locked statement is in {old} and the recalculation in {new}: deltas need one currency")]
    CurrencyChanged { old: Currency, new: Currency },
}

/// Calculates one payee's statement.
///
/// Rounding rule: every line is computed exactly (28 significant digits) in the plan currency,
/// converted exactly to the payout currency, and then rounded to the currency's minor unit by
/// *cumulative rounding*: line *i* gets `round(S_i) - round(S_{i-1})`, where `S_i` is the exact
/// running total of lines 1..i and `round` is half away from zero. Each line then differs from
/// its exact value by at most one minor unit, and the rounded lines add up to exactly
/// `round(exact total)`:
/// rounding never creates or loses a cent across the lines. Payable and held lines are rounded
/// as two separate sequences, so both totals hold the property.
pub fn calculate(
    plan: &Plan,
    payee: &Payee,
    credits: &[Credit<'_>],
    period: &Period,
    prior: &PayeeState,
    fx: &FxTable,
) -> Result<(Statement, Vec<Diagnostic>), CalcError> {
    // Conversion to the payout currency at the rate of the period's last day.
    let (rate, fx_note) = if plan.payout_currency == plan.currency {
        (Decimal::ONE, None)
    } else {
        let rate = fx.rate(plan.currency, plan.payout_currency, period.end).ok_or(CalcError::NoPayoutRate {
            from: plan.currency,
            to: plan.payout_currency,
            on: period.end,
        })?;
        (rate, Some((rate, period.end)))
    };

    let mut run = Run { plan, payee, period, diagnostics: Vec::new(), lines: Vec::new() };
    if !plan.is_effective_on(period.start) && !plan.is_effective_on(period.end) {
        run.note(None, format!("plan '{}' version {} is not in force in period {}", plan.id, plan.version, period.id));
    }
    let items = run.items(credits, fx);
    // Most credits give one line per component that pays on them; a quarter more leaves room
    // for tier crossings without reallocating.
    run.lines.reserve(items.len() + items.len() / 4 + plan.components.len() + 2);
    let credited: Decimal = items.iter().map(|i| i.measure).sum();
    let quota = payee.quota.or(plan.quota).filter(|q| *q > Decimal::ZERO);
    let attainment = quota.map(|q| credited / q);

    let year = period.start.year();
    let prior_ytd = if prior.year == year { prior.year_to_date.clone() } else { BTreeMap::new() };
    let mut ytd = prior_ytd.clone();

    for component in &plan.components {
        let first = run.lines.len();
        match &component.rule {
            Rule::Rate(rule) => run.rate_lines(component, rule, &items, quota, credited),
            Rule::Fixed(rule) => run.fixed_lines(component, rule, &items),
            Rule::Score(rule) => run.score_line(component, rule),
        }
        run.caps(component, first, prior_ytd.get(&component.id).copied().unwrap_or_default());
        if run.lines.len() > first {
            let total: Decimal = run.lines[first..].iter().map(|l| l.exact).sum();
            *ytd.entry(component.id).or_default() += total;
        }
    }
    run.adjustments();
    let mut held_lines = run.holds_and_releases(prior);
    let draw_balance = run.draw(prior.draw_balance);

    // Lines were computed in the plan currency; convert and round them in place.
    let currency = plan.payout_currency;
    // Looked up once: `minor_units` searches the currency table.
    let minor_units = currency.minor_units();
    let mut lines = run.lines;
    let mut running = [Decimal::ZERO; 2];
    let mut rounded_before = [Decimal::ZERO; 2];
    for line in &mut lines {
        let which = usize::from(line.status == LineStatus::Held);
        if line.status == LineStatus::Held {
            held_lines.push(HeldLine {
                period: period.id.clone(),
                key: line.key.clone(),
                amount: line.exact,
                opportunity: line.explanation.opportunity,
                reason: line.explanation.detail.as_ref().and_then(|d| d.reason.clone()).unwrap_or_default(),
            });
        }
        if fx_note.is_some() {
            line.exact *= rate;
        }
        running[which] += line.exact;
        let rounded_total = round_to(running[which], minor_units);
        line.amount = Money::new(rounded_total - rounded_before[which], currency);
        rounded_before[which] = rounded_total;
        line.explanation.plan_currency = Some(plan.currency);
    }

    let statement = Statement {
        payee: payee.id,
        plan: plan.id.clone(),
        plan_version: plan.version,
        period: period.id.clone(),
        currency,
        fx: fx_note,
        lines,
        payable: Money::new(rounded_before[0], currency),
        held: Money::new(rounded_before[1], currency),
        credited,
        quota,
        attainment,
        closing: PayeeState { year, year_to_date: ytd, draw_balance, held: held_lines },
    };
    Ok((statement, run.diagnostics))
}

/// Rounds to the currency's minor unit, half away from zero.
pub fn round(amount: Decimal, currency: Currency) -> Decimal {
    round_to(amount, currency.minor_units())
}

fn round_to(amount: Decimal, minor_units: u32) -> Decimal {
    amount.round_dp_with_strategy(minor_units, RoundingStrategy::MidpointAwayFromZero)
}

/// Cumulative rounding of a sequence of exact amounts (see [`calculate`]).
pub fn round_lines(exact: &[Decimal], currency: Currency) -> Vec<Decimal> {
    let mut running = Decimal::ZERO;
    let mut before = Decimal::ZERO;
    exact
        .iter()
        .map(|e| {
            running += e;
            let now = round(running, currency);
            let line = now - before;
            before = now;
            line
        })
        .collect()
}

/// `a * b`, skipping the multiplication when `b` is one (most shares, rates and factors are).
fn times(a: Decimal, b: Decimal) -> Decimal {
    if b == Decimal::ONE { a } else { a * b }
}

/// One credit in the period, in the plan currency.
struct Item<'c, 'a> {
    /// Sort key (date, transaction id, role), copied so that sorting does not chase pointers.
    order: (jiff::civil::Date, crate::TransactionId, CreditRole),
    credit: &'c Credit<'a>,
    /// Share x sign x exchange rate: turns a line amount into a credited amount.
    weight: Decimal,
    /// Signed credited amount in the plan currency.
    measure: Decimal,
    /// The whole transaction's amount in the plan currency, unsigned and before the split.
    full_amount: Decimal,
    /// Credited amount of the period before this item.
    before: Decimal,
    /// False for reversals outside the clawback window: they reduce attainment, not pay.
    pays: bool,
}

struct Run<'p> {
    plan: &'p Plan,
    payee: &'p Payee,
    period: &'p Period,
    diagnostics: Vec<Diagnostic>,
    /// Lines in the plan currency; amounts are filled in by rounding at the end.
    lines: Vec<PayoutLine>,
}

fn line(key: LineKey, exact: Decimal, explanation: Explanation) -> PayoutLine {
    PayoutLine {
        key,
        status: LineStatus::Payable,
        amount: Money::zero(Currency::EUR),
        exact,
        explanation,
        corrects: None,
    }
}

fn summary_key(rule: RuleId, kind: LineKind, group: i64) -> LineKey {
    LineKey { rule, kind, transaction: None, overlay_of: None, segment: 0, group }
}

impl Run<'_> {
    fn note(&mut self, transaction: Option<crate::TransactionId>, message: String) {
        self.diagnostics.push(Diagnostic { transaction, payee: Some(self.payee.id), message });
    }

    fn items<'c, 'a>(&mut self, credits: &'c [Credit<'a>], fx: &FxTable) -> Vec<Item<'c, 'a>> {
        let mut items: Vec<Item<'c, 'a>> = Vec::with_capacity(credits.len());
        // Transactions lie anywhere in memory; a tight first pass over them lets the processor
        // fetch many at once instead of waiting for each inside the larger loop below.
        let (event, period) = (self.plan.earning_event, self.period);
        let gathered: Vec<(&'c Credit<'a>, Decimal)> = credits
            .iter()
            .filter(|c| c.transaction.kind.event() == event && period.contains(c.transaction.date))
            .map(|c| (c, c.transaction.lines.iter().map(|l| l.amount).sum()))
            .collect();
        for (credit, gross) in gathered {
            let t = credit.transaction;
            let rate = if t.currency == self.plan.currency {
                Decimal::ONE
            } else if let Some(rate) = fx.rate(t.currency, self.plan.currency, t.date) {
                rate
            } else {
                self.note(
                    Some(t.id),
                    format!(
                        "no exchange rate from {} to {} on {}; transaction left out",
                        t.currency, self.plan.currency, t.date
                    ),
                );
                continue;
            };
            let mut pays = true;
            if let (Some(claw), Some(rev)) = (&self.plan.clawback, t.reverses)
                && (t.date - rev.original_date).get_days() > i32::try_from(claw.window_days).unwrap_or(i32::MAX)
            {
                pays = false;
                self.note(
                    Some(t.id),
                    format!(
                        "{} {} reverses {} of {}, outside the {}-day clawback window: not clawed back",
                        t.kind.as_str(),
                        t.id,
                        rev.transaction,
                        rev.original_date,
                        claw.window_days
                    ),
                );
            }
            let signed_share = if t.kind.is_reversal() { -credit.share } else { credit.share };
            let weight = times(signed_share, rate);
            items.push(Item {
                order: (t.date, t.id, credit.role),
                credit,
                weight,
                measure: times(gross, weight),
                full_amount: times(gross, rate),
                before: Decimal::ZERO,
                pays,
            });
        }
        items.sort_unstable_by_key(|item| item.order);
        let mut running = Decimal::ZERO;
        for item in &mut items {
            item.before = running;
            running += item.measure;
        }
        items
    }

    fn applies(component: &Component, item: &Item) -> bool {
        let t = item.credit.transaction;
        let role_ok = matches!(
            (component.filter.credit, item.credit.role),
            (CreditFilter::Any, _)
                | (CreditFilter::Direct, CreditRole::Direct)
                | (CreditFilter::Overlay, CreditRole::Overlay { .. })
        );
        item.pays
            && role_ok
            && component.filter.matches_date(t.date)
            && (!component.filter.new_customers_only || t.new_customer)
    }

    fn explanation(component: &Component, item: &Item) -> Explanation {
        let t = item.credit.transaction;
        Explanation {
            component_kind: Some(component.kind),
            transaction_kind: Some(t.kind),
            opportunity: t.opportunity,
            reverses: t.reverses.map(|r| r.transaction),
            share: Some(item.credit.share),
            ..Explanation::default()
        }
    }

    fn key(component: &Component, kind: LineKind, item: &Item, segment: usize, group: usize) -> LineKey {
        LineKey {
            rule: component.id,
            kind,
            transaction: Some(item.credit.transaction.id),
            overlay_of: match item.credit.role {
                CreditRole::Direct => None,
                CreditRole::Overlay { of, .. } => Some(of),
            },
            segment: u32::try_from(segment).unwrap_or(u32::MAX),
            group: i64::try_from(group).unwrap_or(i64::MAX),
        }
    }

    fn rate_lines(
        &mut self,
        component: &Component,
        rule: &RateRule,
        items: &[Item],
        quota: Option<Decimal>,
        credited: Decimal,
    ) {
        let schedule = &rule.schedule;
        let tiered = schedule.segments.len() > 1;
        let needs_quota = schedule.measure == Measure::Attainment && (tiered || rule.decelerator.is_some());
        if needs_quota && quota.is_none() {
            self.note(
                None,
                format!("component '{}' is measured on attainment but the payee has no quota; not paid", component.id),
            );
            return;
        }
        // Segment bounds as credited amounts, so that positions need no division.
        let scale = if schedule.measure == Measure::Attainment { quota.unwrap_or(Decimal::ONE) } else { Decimal::ONE };
        let bounds: Vec<Decimal> = schedule.segments.iter().map(|s| times(s.from, scale)).collect();
        // Some(final attainment) when the decelerator applies.
        let (decelerate, decelerator_factor) = match (&rule.decelerator, quota) {
            (Some(d), Some(q)) if credited / q < d.below => (Some(credited / q), d.factor),
            _ => (None, Decimal::ONE),
        };
        let tiers_have_rates = schedule.segments.iter().any(|s| s.rate.is_some());
        let mut parts: Vec<Part> = Vec::with_capacity(3);
        // Reused per item: (rate of the group, base).
        let mut groups: Vec<(Option<Decimal>, Decimal)> = Vec::with_capacity(2);
        for item in items {
            if !Self::applies(component, item) {
                continue;
            }
            let t = item.credit.transaction;
            groups.clear();
            for line in &t.lines {
                if !component.filter.matches_product(&line.product, &line.product_line) {
                    continue;
                }
                let rate =
                    override_for(&rule.overrides, &line.product, &line.product_line).map(|o| o.value).or(rule.rate);
                if rate.is_none() && !tiers_have_rates {
                    continue;
                }
                let base = match rule.base {
                    Base::Amount => line.amount,
                    Base::Margin => line.amount - line.cost,
                };
                match groups.iter_mut().find(|(r, _)| *r == rate) {
                    Some(g) => g.1 += base,
                    None => groups.push((rate, base)),
                }
            }
            if groups.is_empty() {
                continue;
            }
            // Position of this item on the schedule's measure, as credited amounts.
            let (pre, post, final_position) = match schedule.measure {
                Measure::Attainment | Measure::PeriodAmount => (item.before, item.before + item.measure, credited),
                Measure::TransactionAmount => (Decimal::ZERO, item.full_amount, item.full_amount),
            };
            segment_parts(&bounds, schedule.method, pre, post, final_position, &mut parts);
            for (group, (group_rate, base)) in groups.iter().enumerate() {
                let base = times(*base, item.weight);
                for p in &parts {
                    let segment = &schedule.segments[p.index];
                    let Some(rate) = segment.rate.or(*group_rate) else { continue };
                    let factor = times(segment.factor, decelerator_factor);
                    let part = times(base, p.fraction);
                    let exact = times(part * rate, factor);
                    let mut explanation = Self::explanation(component, item);
                    explanation.base_kind = Some(rule.base);
                    explanation.base = Some(part);
                    explanation.rate = Some(rate);
                    explanation.tier = segment.tier;
                    if tiered {
                        explanation.measure = Some((schedule.measure, schedule.method));
                        explanation.range = Some(p.range);
                        explanation.quota = quota;
                    }
                    if factor != Decimal::ONE {
                        explanation.factor = Some(factor);
                    }
                    if decelerate.is_some() {
                        explanation.detail_mut().attainment = decelerate;
                    }
                    self.lines.push(line(
                        Self::key(component, LineKind::Commission, item, p.index, group),
                        exact,
                        explanation,
                    ));
                }
            }
        }
    }

    fn fixed_lines(&mut self, component: &Component, rule: &FixedRule, items: &[Item]) {
        let mut groups: Vec<(Decimal, Decimal)> = Vec::with_capacity(2);
        for item in items {
            if !Self::applies(component, item) {
                continue;
            }
            let t = item.credit.transaction;
            let weight = if t.kind.is_reversal() { -item.credit.share } else { item.credit.share };
            groups.clear();
            let mut any = false;
            for line in &t.lines {
                if !component.filter.matches_product(&line.product, &line.product_line) {
                    continue;
                }
                any = true;
                if rule.per == Per::Unit {
                    let value = override_for(&rule.overrides, &line.product, &line.product_line)
                        .map_or(rule.amount, |o| o.value);
                    match groups.iter_mut().find(|(v, _)| *v == value) {
                        Some(g) => g.1 += line.quantity,
                        None => groups.push((value, line.quantity)),
                    }
                }
            }
            if !any {
                continue;
            }
            if rule.per == Per::Transaction {
                groups.push((rule.amount, Decimal::ONE));
            }
            for (group, (value, units)) in groups.iter().enumerate() {
                let mut explanation = Self::explanation(component, item);
                let detail = explanation.detail_mut();
                detail.unit_amount = Some(*value);
                detail.quantity = (rule.per == Per::Unit).then_some(*units);
                self.lines.push(line(
                    Self::key(component, LineKind::Fixed, item, 0, group),
                    *value * *units * weight,
                    explanation,
                ));
            }
        }
    }

    fn score_line(&mut self, component: &Component, rule: &ScoreRule) {
        let Some(&score) = self.payee.scores.get(&rule.metric) else {
            self.note(None, format!("no '{}' score for component '{}'; not paid", rule.metric, component.id));
            return;
        };
        let paid_score = score.clamp(Decimal::ZERO, rule.max_score);
        let mut explanation = Explanation { component_kind: Some(component.kind), ..Explanation::default() };
        let detail = explanation.detail_mut();
        detail.score = Some(score);
        detail.metric = Some(rule.metric.clone());
        detail.unit_amount = Some(rule.target);
        self.lines.push(line(summary_key(component.id, LineKind::Score, 0), rule.target * paid_score, explanation));
    }

    /// Per-line caps, then period cap or floor, then the yearly cap, for the lines from `first`.
    fn caps(&mut self, component: &Component, first: usize, prior_ytd: Decimal) {
        let caps = &component.caps;
        if let Some(cap) = caps.per_line {
            for line in &mut self.lines[first..] {
                let capped = line.exact.clamp(-cap, cap);
                if capped != line.exact {
                    line.explanation.detail_mut().capped_from = Some(line.exact);
                    line.exact = capped;
                }
            }
        }
        if caps.per_period.is_none() && caps.floor_per_period.is_none() && caps.per_year.is_none() {
            return;
        }
        let total: Decimal = self.lines[first..].iter().map(|l| l.exact).sum();
        let summary = |kind: LineKind, exact: Decimal, limit: Decimal| {
            let mut explanation = Explanation { component_kind: Some(component.kind), ..Explanation::default() };
            explanation.detail_mut().limit = Some(limit);
            line(summary_key(component.id, kind, 0), exact, explanation)
        };
        let mut period_total = total;
        if let Some(cap) = caps.per_period
            && total > cap
        {
            self.lines.push(summary(LineKind::PeriodCap, cap - total, cap));
            period_total = cap;
        }
        if let Some(floor) = caps.floor_per_period
            && total < floor
        {
            self.lines.push(summary(LineKind::PeriodFloor, floor - total, floor));
            period_total = floor;
        }
        if let Some(cap) = caps.per_year {
            let excess = prior_ytd + period_total - cap;
            if excess > Decimal::ZERO && period_total > Decimal::ZERO {
                self.lines.push(summary(LineKind::YearCap, -excess.min(period_total), cap));
            }
        }
    }

    fn adjustments(&mut self) {
        let rule = RuleId::named("adjustment");
        for a in &self.payee.adjustments {
            match a.approver {
                Some(approver) if approver != self.payee.id => {
                    let mut explanation = Explanation { opportunity: a.opportunity, ..Explanation::default() };
                    let detail = explanation.detail_mut();
                    detail.reason = Some(a.reason_code.clone());
                    detail.approver = Some(approver);
                    detail.approver_name.clone_from(&a.approver_name);
                    self.lines.push(line(summary_key(rule, LineKind::Adjustment, a.id), a.amount, explanation));
                }
                _ => self.note(
                    None,
                    format!(
                        "adjustment {} ({}) has no approver other than the payee; not applied",
                        a.id, a.reason_code
                    ),
                ),
            }
        }
    }

    fn hold_for(&self, opportunity: Option<OpportunityId>) -> Option<&Hold> {
        self.payee.holds.iter().find(|h| match &h.scope {
            HoldScope::Opportunity(o) => opportunity == Some(*o),
            HoldScope::Payee(p) => *p == self.payee.id,
            HoldScope::Plan(p) => *p == self.plan.id,
        })
    }

    fn released(&self, held: &HeldLine) -> bool {
        self.payee.releases.iter().any(|r| match r {
            HoldScope::Opportunity(o) => held.opportunity == Some(*o),
            HoldScope::Payee(p) => *p == self.payee.id,
            HoldScope::Plan(p) => *p == self.plan.id,
        })
    }

    /// Marks this period's lines held, pays released lines from earlier periods; returns the
    /// earlier held lines still held.
    fn holds_and_releases(&mut self, prior: &PayeeState) -> Vec<HeldLine> {
        if !self.payee.holds.is_empty() {
            let reasons: Vec<Option<String>> =
                self.lines.iter().map(|l| self.hold_for(l.explanation.opportunity).map(|h| h.reason.clone())).collect();
            for (line, reason) in self.lines.iter_mut().zip(reasons) {
                if let Some(reason) = reason {
                    line.status = LineStatus::Held;
                    line.explanation.detail_mut().reason = Some(reason);
                }
            }
        }
        let mut carried = Vec::new();
        for (position, held) in prior.held.iter().enumerate() {
            if self.released(held) {
                let mut key = held.key.clone();
                key.kind = LineKind::Release;
                key.group = i64::try_from(position).unwrap_or(i64::MAX);
                let mut explanation = Explanation { opportunity: held.opportunity, ..Explanation::default() };
                let detail = explanation.detail_mut();
                detail.held_in = Some(held.period.clone());
                detail.reason = Some(held.reason.clone());
                self.lines.push(line(key, held.amount, explanation));
            } else {
                carried.push(held.clone());
            }
        }
        carried
    }

    /// Adds a draw top-up or recovery line; returns the closing draw balance.
    fn draw(&mut self, balance: Decimal) -> Decimal {
        let Some(draw) = &self.plan.draw else { return balance };
        let earnings: Decimal = self.lines.iter().filter(|l| l.status == LineStatus::Payable).map(|l| l.exact).sum();
        let rule = RuleId::named("draw");
        let draw_line = |kind: LineKind, exact: Decimal| {
            let mut explanation = Explanation::default();
            explanation.detail_mut().limit = Some(draw.amount);
            line(summary_key(rule, kind, 0), exact, explanation)
        };
        if earnings < draw.amount {
            let top_up = draw.amount - earnings;
            self.lines.push(draw_line(LineKind::DrawTopUp, top_up));
            if draw.recoverable { balance + top_up } else { balance }
        } else if balance > Decimal::ZERO {
            let mut recovery = balance.min(earnings - draw.amount);
            if let Some(max) = draw.max_recovery_per_period {
                recovery = recovery.min(max);
            }
            if recovery > Decimal::ZERO {
                self.lines.push(draw_line(LineKind::DrawRecovery, -recovery));
            }
            balance - recovery
        } else {
            balance
        }
    }
}

/// A part of one item's movement along a schedule.
#[derive(Debug, PartialEq)]
struct Part {
    index: usize,
    /// Fraction of the item's base in this part (the fractions of an item add up to one).
    fraction: Decimal,
    /// Where on the measure this part lies (retroactive: the final position, twice).
    range: (Decimal, Decimal),
}

/// Splits the movement of one item from `pre` to `post` over the schedule's segments.
fn segment_parts(
    bounds: &[Decimal],
    method: TierMethod,
    pre: Decimal,
    post: Decimal,
    final_position: Decimal,
    parts: &mut Vec<Part>,
) {
    parts.clear();
    let containing = |x: Decimal| bounds.iter().rposition(|from| *from <= x).unwrap_or(0);
    let (lo, hi) = if pre <= post { (pre, post) } else { (post, pre) };
    if bounds.len() == 1 {
        parts.push(Part { index: 0, fraction: Decimal::ONE, range: (lo, hi) });
        return;
    }
    match method {
        TierMethod::Retroactive => {
            let index = containing(final_position);
            parts.push(Part { index, fraction: Decimal::ONE, range: (final_position, final_position) });
        }
        TierMethod::Marginal => {
            // Within one segment (the common case): no division.
            let first = containing(lo);
            if lo == hi || bounds.get(first + 1).is_none_or(|next| hi <= *next) {
                parts.push(Part { index: first, fraction: Decimal::ONE, range: (lo, hi) });
                return;
            }
            let width = hi - lo;
            for (i, from) in bounds.iter().enumerate() {
                let s_lo = if i == 0 { lo } else { (*from).max(lo) };
                let s_hi = bounds.get(i + 1).map_or(hi, |next| (*next).min(hi));
                if s_hi > s_lo {
                    parts.push(Part { index: i, fraction: (s_hi - s_lo) / width, range: (s_lo, s_hi) });
                }
            }
            // The last part takes the remainder so the fractions add up to exactly one.
            if let Some((last, others)) = parts.split_last_mut() {
                let assigned: Decimal = others.iter().map(|p| p.fraction).sum();
                last.fraction = Decimal::ONE - assigned;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn marginal_parts_add_up_to_one() {
        let segments = vec![d("0"), d("1")];
        let mut parts = Vec::new();
        segment_parts(&segments, TierMethod::Marginal, d("0.9"), d("1.2"), d("1.2"), &mut parts);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].fraction + parts[1].fraction, Decimal::ONE);
        assert_eq!(parts[0].fraction, Decimal::ONE / d("3"));
        assert_eq!(parts[1].range, (d("1"), d("1.2")));
        let mut refund = Vec::new();
        segment_parts(&segments, TierMethod::Marginal, d("1.2"), d("0.9"), d("0.9"), &mut refund);
        assert_eq!(refund, parts);
    }

    #[test]
    fn payout_lines_stay_small() {
        // A run holds millions of lines; rare details are boxed to keep this bound.
        let size = std::mem::size_of::<PayoutLine>();
        assert!(size <= 320, "PayoutLine is {size} bytes");
    }

    #[test]
    fn cumulative_rounding_keeps_the_total() {
        let exact = [d("0.333"), d("0.333"), d("0.334")];
        let lines = round_lines(&exact, Currency::EUR);
        assert_eq!(lines, vec![d("0.33"), d("0.34"), d("0.33")]);
        assert_eq!(lines.iter().sum::<Decimal>(), d("1.00"));
    }
}
