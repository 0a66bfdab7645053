//! Plan text (TOML) -> validated [`Plan`]. Errors name the line, column and field at fault.
//!
//! The language is documented with full examples in `docs/comp-plans.md`. Money and rates are
//! written as strings (`"12400.00"`, `"8%"`) or integers, never as TOML floats, so they stay exact.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use jiff::civil::Date;
use model::Currency;
use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

/// A validated, versioned, effective-dated compensation plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: Arc<str>,
    pub name: String,
    pub version: u32,
    pub effective_from: Date,
    /// Inclusive last day; `None` = open-ended.
    pub effective_to: Option<Date>,
    /// Currency of quotas, rates' bases, fixed amounts and caps.
    pub currency: Currency,
    /// Currency the payee is paid in; lines are converted at the rate valid on the period's last day.
    pub payout_currency: Currency,
    pub earning_event: EarningEvent,
    /// Default quota per period in the plan currency; a payee's own quota overrides it.
    pub quota: Option<Decimal>,
    pub components: Vec<Component>,
    pub draw: Option<Draw>,
    pub clawback: Option<Clawback>,
}

impl Plan {
    /// Parses and validates plan text.
    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        parse(text)
    }

    /// Whether the plan version is in force on `day`.
    pub fn is_effective_on(&self, day: Date) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|to| day <= to)
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components.iter().find(|c| &*c.id == id)
    }
}

/// Which transactions earn commission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EarningEvent {
    /// Won opportunity or order; reversed by a cancellation.
    Booking,
    /// Customer invoice; reversed by a credit note.
    Invoice,
    /// Customer payment; reversed by a refund.
    Payment,
}

impl EarningEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            EarningEvent::Booking => "booking",
            EarningEvent::Invoice => "invoice",
            EarningEvent::Payment => "payment",
        }
    }
}

/// A component id: at most [`RuleId::MAX_LEN`] bytes, stored inline so that every payout
/// line's key can carry it without an allocation or a shared reference count.
#[derive(Clone, Copy)]
pub struct RuleId {
    len: u8,
    bytes: [u8; RuleId::MAX_LEN],
}

impl RuleId {
    pub const MAX_LEN: usize = 31;

    /// `None` when `s` is empty or longer than [`RuleId::MAX_LEN`] bytes.
    pub fn new(s: &str) -> Option<RuleId> {
        if s.is_empty() || s.len() > Self::MAX_LEN {
            return None;
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(RuleId { len: u8::try_from(s.len()).ok()?, bytes })
    }

    /// Internal names of lines no component produced ("adjustment", "draw"); truncated to
    /// [`RuleId::MAX_LEN`] bytes at a character boundary.
    pub fn named(s: &str) -> RuleId {
        let mut end = s.len().min(Self::MAX_LEN);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..end].copy_from_slice(&s.as_bytes()[..end]);
        RuleId { len: u8::try_from(end).unwrap_or(0), bytes }
    }

    pub fn as_str(&self) -> &str {
        // Built from a &str in `new`, so always valid UTF-8.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::ops::Deref for RuleId {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}
impl std::borrow::Borrow<str> for RuleId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}
impl PartialEq for RuleId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for RuleId {}
impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RuleId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}
impl std::hash::Hash for RuleId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}
impl fmt::Debug for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One clause of a plan; every payout line names the component (its `id`) that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub id: RuleId,
    /// The word the plan author wrote (`percentage`, `tiered`, `spif`, ...), kept for explanations.
    pub kind: ComponentKind,
    pub label: Option<String>,
    pub rule: Rule,
    pub filter: Filter,
    pub caps: Caps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    Percentage,
    Tiered,
    PerUnit,
    Flat,
    Spif,
    NewCustomer,
    Mbo,
    Retention,
}

impl ComponentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentKind::Percentage => "percentage",
            ComponentKind::Tiered => "tiered",
            ComponentKind::PerUnit => "per_unit",
            ComponentKind::Flat => "flat",
            ComponentKind::Spif => "spif",
            ComponentKind::NewCustomer => "new_customer",
            ComponentKind::Mbo => "mbo",
            ComponentKind::Retention => "retention",
        }
    }
}

/// How a component turns credits into money.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A percentage of a money base, possibly tiered, accelerated or decelerated.
    Rate(RateRule),
    /// A fixed amount per unit sold or per transaction (flat, per-unit, SPIF, new-customer bonus).
    Fixed(FixedRule),
    /// A given score (MBO, customer satisfaction, retention) times a target amount.
    Score(ScoreRule),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateRule {
    pub base: Base,
    /// Rate for lines no override matches; `None` when the schedule's tiers carry the rates.
    pub rate: Option<Decimal>,
    pub overrides: Vec<RateOverride>,
    pub schedule: Schedule,
    pub decelerator: Option<Decelerator>,
}

/// The base a percentage applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Amount,
    /// Amount minus cost.
    Margin,
}

impl Base {
    pub fn as_str(self) -> &'static str {
        match self {
            Base::Amount => "amount",
            Base::Margin => "margin",
        }
    }
}

/// A per-product or per-product-line rate (or per-unit amount for fixed rules).
#[derive(Debug, Clone, PartialEq)]
pub struct RateOverride {
    pub product: Option<String>,
    pub product_line: Option<String>,
    pub value: Decimal,
}

impl RateOverride {
    fn matches(&self, product: &str, product_line: &str) -> bool {
        self.product.as_deref().is_none_or(|p| p == product)
            && self.product_line.as_deref().is_none_or(|l| l == product_line)
    }
}

/// Finds the override for a product, the most specific (product) first.
pub(crate) fn override_for<'a>(
    overrides: &'a [RateOverride],
    product: &str,
    product_line: &str,
) -> Option<&'a RateOverride> {
    overrides
        .iter()
        .find(|o| o.product.is_some() && o.matches(product, product_line))
        .or_else(|| overrides.iter().find(|o| o.product.is_none() && o.matches(product, product_line)))
}

/// Tiers, accelerators merged in: sorted segments of a measure, each with a rate or a factor.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub measure: Measure,
    pub method: TierMethod,
    /// Sorted by `from`; the first starts at zero. A plain percentage has one segment.
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Lower bound: attainment as a fraction (1.04 = 104%) or an amount in the plan currency.
    pub from: Decimal,
    /// 1-based tier number as written in the plan; 0 when the component has no tiers.
    pub tier: u32,
    /// The tier's rate; `None` = the component's (or the product override's) rate.
    pub rate: Option<Decimal>,
    /// Accelerator factor (1 below the accelerator's threshold).
    pub factor: Decimal,
}

/// What tiers and accelerators are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Period credited amount / quota, running through the period in transaction order.
    Attainment,
    /// Period credited amount in the plan currency, running through the period.
    PeriodAmount,
    /// Each transaction's own amount (Odoo OCA "section" commissions).
    TransactionAmount,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMethod {
    /// Each part of the measure earns the rate of the tier it falls in.
    Marginal,
    /// The whole base earns the rate of the tier the final measure reaches.
    Retroactive,
}

/// Applies `factor` to every line of the component when final period attainment is below `below`.
#[derive(Debug, Clone, PartialEq)]
pub struct Decelerator {
    pub below: Decimal,
    pub factor: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FixedRule {
    pub amount: Decimal,
    pub per: Per,
    pub overrides: Vec<RateOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Unit,
    Transaction,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreRule {
    /// Name of the score in the payee's inputs (`csat`, `retention`, `mbo_q1`, ...).
    pub metric: String,
    /// Paid at a score of 100%.
    pub target: Decimal,
    /// Scores above this are paid as this (e.g. 120%).
    pub max_score: Decimal,
}

/// Which credits a component applies to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub products: Vec<String>,
    pub product_lines: Vec<String>,
    pub credit: CreditFilter,
    pub new_customers_only: bool,
    /// Transaction date window (SPIFs run for a limited time).
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Filter {
    pub(crate) fn matches_product(&self, product: &str, product_line: &str) -> bool {
        (self.products.is_empty() || self.products.iter().any(|p| p == product))
            && (self.product_lines.is_empty() || self.product_lines.iter().any(|l| l == product_line))
    }

    pub(crate) fn matches_date(&self, day: Date) -> bool {
        self.from.is_none_or(|f| f <= day) && self.to.is_none_or(|t| day <= t)
    }
}

/// Whether a component pays on the payee's own credit, on overlay credit from their team, or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CreditFilter {
    #[default]
    Any,
    Direct,
    Overlay,
}

/// Caps and floors in the plan currency.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caps {
    pub per_line: Option<Decimal>,
    pub per_period: Option<Decimal>,
    pub floor_per_period: Option<Decimal>,
    pub per_year: Option<Decimal>,
}

/// A guaranteed minimum per period.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub amount: Decimal,
    /// Recoverable draws are paid back from later earnings above the draw.
    pub recoverable: bool,
    /// Recovery schedule: at most this much is recovered per period (`None` = no limit).
    pub max_recovery_per_period: Option<Decimal>,
}

/// Reversals (cancellations, credit notes, refunds) are clawed back only within this window.
#[derive(Debug, Clone, PartialEq)]
pub struct Clawback {
    pub window_days: i64,
}

/// A plan text error with the place at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The text is not valid TOML or does not fit the plan schema.
    #[error("line {line}, column {column}: {message}")]
    Syntax { line: usize, column: usize, message: String },
    /// A value is well-formed TOML but not a valid plan value.
    #[error("line {line}, column {column}: {field}: {message}")]
    Invalid { line: usize, column: usize, field: String, message: String },
}

impl PlanError {
    pub fn line(&self) -> usize {
        match self {
            PlanError::Syntax { line, .. } | PlanError::Invalid { line, .. } => *line,
        }
    }
    pub fn column(&self) -> usize {
        match self {
            PlanError::Syntax { column, .. } | PlanError::Invalid { column, .. } => *column,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw schema (serde) and validation.

/// The largest number (amount, percentage as a fraction, factor) a plan may contain.
const MAX_PLAN_NUMBER: i64 = 1_000_000_000_000;

/// A number written as a string or an integer; floats are refused to keep money exact.
#[derive(Debug, Clone)]
struct NumText(String);

impl<'de> Deserialize<'de> for NumText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = NumText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number as a string (\"12400.00\", \"8%\") or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NumText, E> {
                Ok(NumText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NumText, E> {
                Ok(NumText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NumText, E> {
                Ok(NumText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<NumText, E> {
                Err(E::custom(format!("write {v} as a string (\"{v}\") so it stays exact")))
            }
        }
        d.deserialize_any(V)
    }
}

type Num = Option<Spanned<NumText>>;
type Text = Option<Spanned<String>>;
type Day = Option<Spanned<toml::value::Datetime>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDoc {
    plan: RawPlan,
    #[serde(default)]
    component: Vec<Spanned<RawComponent>>,
    draw: Option<Spanned<RawDraw>>,
    clawback: Option<Spanned<RawClawback>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    id: Spanned<String>,
    name: String,
    version: Spanned<i64>,
    effective_from: Spanned<toml::value::Datetime>,
    effective_to: Day,
    currency: Spanned<String>,
    payout_currency: Text,
    earning_event: Spanned<String>,
    quota: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    id: Spanned<String>,
    kind: Spanned<String>,
    label: Option<String>,
    base: Text,
    rate: Num,
    amount: Num,
    per: Text,
    #[serde(default)]
    rates: Vec<Spanned<RawOverride>>,
    #[serde(default)]
    tiers: Vec<Spanned<RawTier>>,
    tier_measure: Text,
    tier_method: Text,
    accelerator: Option<Spanned<RawAccelerator>>,
    decelerator: Option<Spanned<RawDecelerator>>,
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    product_lines: Vec<String>,
    credit: Text,
    from: Day,
    to: Day,
    cap_per_line: Num,
    cap_per_period: Num,
    floor_per_period: Num,
    cap_per_year: Num,
    metric: Text,
    target: Num,
    max_score: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    product: Option<String>,
    product_line: Option<String>,
    rate: Num,
    amount: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    from: Spanned<NumText>,
    rate: Spanned<NumText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccelerator {
    above: Spanned<NumText>,
    factor: Spanned<NumText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDecelerator {
    below: Spanned<NumText>,
    factor: Spanned<NumText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDraw {
    amount: Spanned<NumText>,
    recoverable: bool,
    max_recovery_per_period: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClawback {
    window_days: Spanned<i64>,
}

/// Turns byte spans into line/column errors.
struct Src<'a> {
    text: &'a str,
}

impl Src<'_> {
    fn place(&self, span: Range<usize>) -> (usize, usize) {
        let at = span.start.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn invalid(&self, span: Range<usize>, field: &str, message: impl Into<String>) -> PlanError {
        let (line, column) = self.place(span);
        PlanError::Invalid { line, column, field: field.to_string(), message: message.into() }
    }

    fn decimal(&self, v: &Spanned<NumText>, field: &str) -> Result<Decimal, PlanError> {
        let s = v.get_ref().0.trim();
        if s.ends_with('%') {
            return Err(self.invalid(v.span(), field, format!("'{s}' is a percentage; write an amount here")));
        }
        let d = s
            .parse::<Decimal>()
            .map_err(|_| self.invalid(v.span(), field, format!("'{s}' is not a decimal number")))?;
        self.bounded(d, v, field)
    }

    /// Keeps plan numbers far from the 28-digit limit of exact decimals, so that products of
    /// amounts, rates and factors can never overflow.
    fn bounded(&self, d: Decimal, v: &Spanned<NumText>, field: &str) -> Result<Decimal, PlanError> {
        if d.abs() > Decimal::from(MAX_PLAN_NUMBER) {
            return Err(self.invalid(v.span(), field, format!("must be at most {MAX_PLAN_NUMBER}")));
        }
        Ok(d)
    }

    fn amount(&self, v: &Spanned<NumText>, field: &str) -> Result<Decimal, PlanError> {
        let d = self.decimal(v, field)?;
        if d < Decimal::ZERO {
            return Err(self.invalid(v.span(), field, "must not be negative"));
        }
        Ok(d)
    }

    fn opt_amount(&self, v: &Num, field: &str) -> Result<Option<Decimal>, PlanError> {
        v.as_ref().map(|v| self.amount(v, field)).transpose()
    }

    /// "8%" -> 0.08. Percent signs are required so that "8" can never mean 800%.
    fn percent(&self, v: &Spanned<NumText>, field: &str) -> Result<Decimal, PlanError> {
        let s = v.get_ref().0.trim();
        let Some(number) = s.strip_suffix('%') else {
            return Err(self.invalid(v.span(), field, format!("write a percentage such as \"8%\", not '{s}'")));
        };
        let d: Decimal =
            number.trim().parse().map_err(|_| self.invalid(v.span(), field, format!("'{s}' is not a percentage")))?;
        if d < Decimal::ZERO {
            return Err(self.invalid(v.span(), field, "must not be negative"));
        }
        self.bounded(d / Decimal::ONE_HUNDRED, v, field)
    }

    fn date(&self, v: &Spanned<toml::value::Datetime>, field: &str) -> Result<Date, PlanError> {
        let dt = v.get_ref();
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => Date::new(d.year as i16, d.month as i8, d.day as i8)
                .map_err(|e| self.invalid(v.span(), field, e.to_string())),
            _ => Err(self.invalid(v.span(), field, format!("'{dt}' must be a plain date such as 2026-01-01"))),
        }
    }

    fn opt_date(&self, v: &Day, field: &str) -> Result<Option<Date>, PlanError> {
        v.as_ref().map(|v| self.date(v, field)).transpose()
    }

    fn currency(&self, v: &Spanned<String>, field: &str) -> Result<Currency, PlanError> {
        Currency::parse(v.get_ref()).map_err(|e| self.invalid(v.span(), field, e.reason))
    }

    fn choice<T: Copy>(&self, v: &Spanned<String>, field: &str, options: &[(&str, T)]) -> Result<T, PlanError> {
        options.iter().find(|(name, _)| *name == v.get_ref().as_str()).map(|(_, t)| *t).ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            self.invalid(v.span(), field, format!("'{}' is not one of: {}", v.get_ref(), names.join(", ")))
        })
    }
}

fn parse(text: &str) -> Result<Plan, PlanError> {
    let src = Src { text };
    let raw: RawDoc = toml::from_str(text).map_err(|e| {
        let (line, column) = src.place(e.span().unwrap_or(0..0));
        PlanError::Syntax { line, column, message: e.message().trim().to_string() }
    })?;
    let p = &raw.plan;
    if p.id.get_ref().trim().is_empty() {
        return Err(src.invalid(p.id.span(), "plan.id", "must not be empty"));
    }
    let version = u32::try_from(*p.version.get_ref())
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| src.invalid(p.version.span(), "plan.version", "must be a positive whole number"))?;
    let effective_from = src.date(&p.effective_from, "plan.effective_from")?;
    let effective_to = src.opt_date(&p.effective_to, "plan.effective_to")?;
    if let (Some(to), Some(span)) = (effective_to, p.effective_to.as_ref())
        && to < effective_from
    {
        return Err(src.invalid(span.span(), "plan.effective_to", "is before effective_from"));
    }
    let currency = src.currency(&p.currency, "plan.currency")?;
    let payout_currency =
        p.payout_currency.as_ref().map(|c| src.currency(c, "plan.payout_currency")).transpose()?.unwrap_or(currency);
    let earning_event = src.choice(
        &p.earning_event,
        "plan.earning_event",
        &[("booking", EarningEvent::Booking), ("invoice", EarningEvent::Invoice), ("payment", EarningEvent::Payment)],
    )?;
    let quota = src.opt_amount(&p.quota, "plan.quota")?;
    if let (Some(q), Some(span)) = (quota, p.quota.as_ref())
        && q.is_zero()
    {
        return Err(src.invalid(span.span(), "plan.quota", "must be greater than zero"));
    }

    let mut components: Vec<Component> = Vec::new();
    for c in &raw.component {
        let component = component(&src, c)?;
        if components.iter().any(|o| o.id == component.id) {
            return Err(src.invalid(
                c.get_ref().id.span(),
                "component.id",
                format!("'{}' is used twice", component.id),
            ));
        }
        components.push(component);
    }

    let draw = match &raw.draw {
        None => None,
        Some(d) => {
            let d = d.get_ref();
            Some(Draw {
                amount: src.amount(&d.amount, "draw.amount")?,
                recoverable: d.recoverable,
                max_recovery_per_period: src.opt_amount(&d.max_recovery_per_period, "draw.max_recovery_per_period")?,
            })
        }
    };
    let clawback = match &raw.clawback {
        None => None,
        Some(c) => {
            let w = &c.get_ref().window_days;
            if *w.get_ref() < 0 {
                return Err(src.invalid(w.span(), "clawback.window_days", "must not be negative"));
            }
            Some(Clawback { window_days: *w.get_ref() })
        }
    };

    Ok(Plan {
        id: Arc::from(p.id.get_ref().trim()),
        name: p.name.clone(),
        version,
        effective_from,
        effective_to,
        currency,
        payout_currency,
        earning_event,
        quota,
        components,
        draw,
        clawback,
    })
}

fn component(src: &Src, spanned: &Spanned<RawComponent>) -> Result<Component, PlanError> {
    let c = spanned.get_ref();
    let id = c.id.get_ref().trim();
    let Some(rule_id) = RuleId::new(id) else {
        return Err(src.invalid(c.id.span(), "component.id", format!("must be 1 to {} bytes long", RuleId::MAX_LEN)));
    };
    let field = |name: &str| format!("component '{id}' {name}");
    let kind = src.choice(
        &c.kind,
        &field("kind"),
        &[
            ("percentage", ComponentKind::Percentage),
            ("tiered", ComponentKind::Tiered),
            ("per_unit", ComponentKind::PerUnit),
            ("flat", ComponentKind::Flat),
            ("spif", ComponentKind::Spif),
            ("new_customer", ComponentKind::NewCustomer),
            ("mbo", ComponentKind::Mbo),
            ("retention", ComponentKind::Retention),
        ],
    )?;
    // A field that this kind of component does not use is an error, not silently ignored.
    let refuse = |present: bool, name: &str, span: Range<usize>| -> Result<(), PlanError> {
        if present {
            Err(src.invalid(span, &field(name), format!("not used by a '{}' component", kind.as_str())))
        } else {
            Ok(())
        }
    };
    let span_of = |n: &Num| n.as_ref().map_or(spanned.span(), |v| v.span());
    let credit = match &c.credit {
        None => CreditFilter::Any,
        Some(v) => src.choice(
            v,
            &field("credit"),
            &[("any", CreditFilter::Any), ("direct", CreditFilter::Direct), ("overlay", CreditFilter::Overlay)],
        )?,
    };
    let filter = Filter {
        products: c.products.clone(),
        product_lines: c.product_lines.clone(),
        credit,
        new_customers_only: kind == ComponentKind::NewCustomer,
        from: src.opt_date(&c.from, &field("from"))?,
        to: src.opt_date(&c.to, &field("to"))?,
    };
    let caps = Caps {
        per_line: src.opt_amount(&c.cap_per_line, &field("cap_per_line"))?,
        per_period: src.opt_amount(&c.cap_per_period, &field("cap_per_period"))?,
        floor_per_period: src.opt_amount(&c.floor_per_period, &field("floor_per_period"))?,
        per_year: src.opt_amount(&c.cap_per_year, &field("cap_per_year"))?,
    };
    if let (Some(cap), Some(floor)) = (caps.per_period, caps.floor_per_period)
        && floor > cap
    {
        return Err(src.invalid(span_of(&c.floor_per_period), &field("floor_per_period"), "is above cap_per_period"));
    }

    let rule = match kind {
        ComponentKind::Percentage | ComponentKind::Tiered => {
            refuse(c.amount.is_some(), "amount", span_of(&c.amount))?;
            refuse(c.per.is_some(), "per", spanned.span())?;
            refuse(c.metric.is_some(), "metric", spanned.span())?;
            Rule::Rate(rate_rule(src, spanned, kind, &field)?)
        }
        ComponentKind::PerUnit | ComponentKind::Flat | ComponentKind::Spif | ComponentKind::NewCustomer => {
            refuse(c.rate.is_some(), "rate", span_of(&c.rate))?;
            refuse(!c.tiers.is_empty(), "tiers", spanned.span())?;
            refuse(c.base.is_some(), "base", spanned.span())?;
            let amount = c
                .amount
                .as_ref()
                .ok_or_else(|| src.invalid(spanned.span(), &field("amount"), "is required"))
                .and_then(|a| src.amount(a, &field("amount")))?;
            let per = match (kind, &c.per) {
                (ComponentKind::PerUnit, None) => Per::Unit,
                (ComponentKind::PerUnit, Some(p)) => src.choice(p, &field("per"), &[("unit", Per::Unit)])?,
                (ComponentKind::Flat | ComponentKind::NewCustomer, None) => Per::Transaction,
                (_, None) => Per::Unit,
                (_, Some(p)) => {
                    src.choice(p, &field("per"), &[("unit", Per::Unit), ("transaction", Per::Transaction)])?
                }
            };
            if kind == ComponentKind::Spif && c.products.is_empty() && c.product_lines.is_empty() {
                return Err(src.invalid(spanned.span(), &field("products"), "a SPIF names its products"));
            }
            let mut overrides = Vec::new();
            for o in &c.rates {
                let r = o.get_ref();
                refuse(r.rate.is_some(), "rates.rate (use amount)", span_of(&r.rate))?;
                let value = r
                    .amount
                    .as_ref()
                    .ok_or_else(|| src.invalid(o.span(), &field("rates.amount"), "is required"))
                    .and_then(|a| src.amount(a, &field("rates.amount")))?;
                overrides.push(override_target(src, o, value, &field)?);
            }
            Rule::Fixed(FixedRule { amount, per, overrides })
        }
        ComponentKind::Mbo | ComponentKind::Retention => {
            let metric = c
                .metric
                .as_ref()
                .map(|m| m.get_ref().trim().to_string())
                .filter(|m| !m.is_empty())
                .ok_or_else(|| src.invalid(spanned.span(), &field("metric"), "is required"))?;
            let target = c
                .target
                .as_ref()
                .ok_or_else(|| src.invalid(spanned.span(), &field("target"), "is required"))
                .and_then(|t| src.amount(t, &field("target")))?;
            let max_score = match &c.max_score {
                None => Decimal::ONE,
                Some(m) => src.percent(m, &field("max_score"))?,
            };
            Rule::Score(ScoreRule { metric, target, max_score })
        }
    };
    Ok(Component { id: rule_id, kind, label: c.label.clone(), rule, filter, caps })
}

fn override_target(
    src: &Src,
    o: &Spanned<RawOverride>,
    value: Decimal,
    field: &dyn Fn(&str) -> String,
) -> Result<RateOverride, PlanError> {
    let r = o.get_ref();
    if r.product.is_none() && r.product_line.is_none() {
        return Err(src.invalid(o.span(), &field("rates"), "each rate names a product or a product_line"));
    }
    Ok(RateOverride { product: r.product.clone(), product_line: r.product_line.clone(), value })
}

fn rate_rule(
    src: &Src,
    spanned: &Spanned<RawComponent>,
    kind: ComponentKind,
    field: &dyn Fn(&str) -> String,
) -> Result<RateRule, PlanError> {
    let c = spanned.get_ref();
    let base = match &c.base {
        None => Base::Amount,
        Some(b) => src.choice(b, &field("base"), &[("amount", Base::Amount), ("margin", Base::Margin)])?,
    };
    let rate = c.rate.as_ref().map(|r| src.percent(r, &field("rate"))).transpose()?;
    let mut overrides = Vec::new();
    for o in &c.rates {
        let r = o.get_ref();
        if let Some(a) = &r.amount {
            return Err(src.invalid(a.span(), &field("rates.amount"), "a percentage component takes rate, not amount"));
        }
        let value = r
            .rate
            .as_ref()
            .ok_or_else(|| src.invalid(o.span(), &field("rates.rate"), "is required"))
            .and_then(|v| src.percent(v, &field("rates.rate")))?;
        overrides.push(override_target(src, o, value, field)?);
    }
    let measure = match &c.tier_measure {
        None => Measure::Attainment,
        Some(m) => src.choice(
            m,
            &field("tier_measure"),
            &[
                ("attainment", Measure::Attainment),
                ("period_amount", Measure::PeriodAmount),
                ("transaction_amount", Measure::TransactionAmount),
            ],
        )?,
    };
    let method = match &c.tier_method {
        None => TierMethod::Marginal,
        Some(m) => src.choice(
            m,
            &field("tier_method"),
            &[("marginal", TierMethod::Marginal), ("retroactive", TierMethod::Retroactive)],
        )?,
    };

    // Tiers as written: (from, tier number, rate).
    let mut tiers: Vec<(Decimal, u32, Option<Decimal>)> = Vec::new();
    match kind {
        ComponentKind::Tiered => {
            if c.tiers.is_empty() {
                return Err(src.invalid(spanned.span(), &field("tiers"), "a tiered component lists its tiers"));
            }
            if c.rate.is_some() || !c.rates.is_empty() {
                return Err(src.invalid(
                    spanned.span(),
                    &field("rate"),
                    "a tiered component takes its rates from its tiers",
                ));
            }
            for (i, t) in c.tiers.iter().enumerate() {
                let t = t.get_ref();
                let from = match measure {
                    Measure::Attainment => src.percent(&t.from, &field("tiers.from"))?,
                    _ => src.amount(&t.from, &field("tiers.from"))?,
                };
                let number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                if i == 0 && !from.is_zero() {
                    return Err(src.invalid(t.from.span(), &field("tiers.from"), "the first tier starts at 0"));
                }
                if let Some((prev, _, _)) = tiers.last()
                    && from <= *prev
                {
                    return Err(src.invalid(t.from.span(), &field("tiers.from"), "tiers must be in increasing order"));
                }
                tiers.push((from, number, Some(src.percent(&t.rate, &field("tiers.rate"))?)));
            }
        }
        _ => {
            if !c.tiers.is_empty() {
                return Err(src.invalid(c.tiers[0].span(), &field("tiers"), "tiers belong to a 'tiered' component"));
            }
            if rate.is_none() && c.rates.is_empty() {
                return Err(src.invalid(spanned.span(), &field("rate"), "is required"));
            }
            if c.tier_measure.is_some() || c.tier_method.is_some() {
                return Err(src.invalid(
                    spanned.span(),
                    &field("tier_measure"),
                    "tier settings belong to a 'tiered' component",
                ));
            }
            tiers.push((Decimal::ZERO, 0, None));
        }
    }

    let mut segments: Vec<Segment> = tiers
        .iter()
        .map(|(from, tier, rate)| Segment { from: *from, tier: *tier, rate: *rate, factor: Decimal::ONE })
        .collect();
    if let Some(a) = &c.accelerator {
        let a = a.get_ref();
        if measure != Measure::Attainment {
            return Err(src.invalid(
                a.above.span(),
                &field("accelerator"),
                "an accelerator needs tier_measure = attainment",
            ));
        }
        let above = src.percent(&a.above, &field("accelerator.above"))?;
        let factor = src.decimal(&a.factor, &field("accelerator.factor"))?;
        if factor < Decimal::ONE {
            return Err(src.invalid(
                a.factor.span(),
                &field("accelerator.factor"),
                "an accelerator factor is at least 1",
            ));
        }
        // Split the segment containing `above`, then raise every segment from there on.
        let at = segments.iter().rposition(|s| s.from <= above).unwrap_or(0);
        if segments[at].from != above {
            let mut split = segments[at].clone();
            split.from = above;
            segments.insert(at + 1, split);
        }
        for s in segments.iter_mut().filter(|s| s.from >= above) {
            s.factor = factor;
        }
    }
    let decelerator = match &c.decelerator {
        None => None,
        Some(d) => {
            let d = d.get_ref();
            let factor = src.decimal(&d.factor, &field("decelerator.factor"))?;
            if factor < Decimal::ZERO || factor > Decimal::ONE {
                return Err(src.invalid(d.factor.span(), &field("decelerator.factor"), "is between 0 and 1"));
            }
            Some(Decelerator { below: src.percent(&d.below, &field("decelerator.below"))?, factor })
        }
    };
    Ok(RateRule { base, rate, overrides, schedule: Schedule { measure, method, segments }, decelerator })
}

/// Several versions of one plan; picks the version in force on a day.
#[derive(Debug, Clone, Default)]
pub struct PlanVersions {
    versions: Vec<Plan>,
}

impl PlanVersions {
    /// Accepts versions of one plan id whose effective ranges do not overlap.
    pub fn new(mut versions: Vec<Plan>) -> Result<PlanVersions, String> {
        versions.sort_by_key(|p| (p.effective_from, p.version));
        for pair in versions.windows(2) {
            if pair[0].id != pair[1].id {
                return Err(format!("plan '{}' and plan '{}' are different plans", pair[0].id, pair[1].id));
            }
            if pair[0].effective_to.is_none_or(|to| to >= pair[1].effective_from) {
                return Err(format!(
                    "plan '{}' versions {} and {} overlap from {}",
                    pair[0].id, pair[0].version, pair[1].version, pair[1].effective_from
                ));
            }
        }
        Ok(PlanVersions { versions })
    }

    pub fn effective_on(&self, day: Date) -> Option<&Plan> {
        self.versions.iter().find(|p| p.is_effective_on(day))
    }
}
