//! Fiscal calendar and reporting periods: which day, week, month, quarter or fiscal year a date
//! falls in, and how to step to the previous period or the same period last year.
//!
//! Conventions (also in `docs/kpis.md`):
//! - A fiscal year is named after the calendar year in which it **ends**: with a fiscal year that
//!   starts in April, `FY2018` runs from 1 April 2017 to 31 March 2018. With a January start the
//!   fiscal year is the calendar year.
//! - Quarters are fiscal: `2018-Q1` is the first quarter of `FY2018`. With [`QuarterScheme::Calendar`]
//!   a quarter is three calendar months; with [`QuarterScheme::Weeks445`] the fiscal year is made of
//!   whole Monday-to-Sunday weeks and a quarter is 13 weeks (4 + 4 + 5), the fourth quarter taking
//!   the 53rd week when the year has one.
//! - A 4-4-5 fiscal year starts on the Monday nearest to the first day of its start month (at most
//!   three days before or after), so it always has 52 or 53 weeks.
//! - Days, ISO weeks (`2017-W09`) and months (`2017-03`) are calendar periods in every scheme; under
//!   4-4-5 months therefore do not nest in quarters (weeks do).
//! - Supported dates are the years 0002 to 9997; operations clamp outside that range.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use serde::{Deserialize, Serialize};

/// How a fiscal year is split into quarters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuarterScheme {
    /// Three calendar months per quarter.
    Calendar,
    /// 13 whole weeks per quarter (4 + 4 + 5), the year starting on a Monday.
    Weeks445,
}

/// The company's fiscal calendar: the month its fiscal year starts in and how quarters are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FiscalCalendar {
    start_month: i8,
    quarters: QuarterScheme,
}

/// The granularity of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// A reporting period. Quarters and years are fiscal (their dates depend on a [`FiscalCalendar`]);
/// days, ISO weeks and months are calendar periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Period {
    /// One day: `2017-03-05`.
    Day(Date),
    /// An ISO 8601 week, Monday to Sunday: `2017-W09`.
    Week { year: i16, week: i8 },
    /// A calendar month: `2017-03`.
    Month { year: i16, month: i8 },
    /// A fiscal quarter (1 to 4) of a fiscal year: `2017-Q3`.
    Quarter { fiscal_year: i16, quarter: i8 },
    /// A fiscal year: `FY2017`.
    Year { fiscal_year: i16 },
}

/// A period or calendar that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("'{input}' is not a period: {reason}")]
    Parse { input: String, reason: &'static str },
    #[error("fiscal year start month must be 1 to 12, not {0}")]
    StartMonth(i8),
}

const MIN_YEAR: i16 = 2;
const MAX_YEAR: i16 = 9997;

impl Default for FiscalCalendar {
    /// Calendar year, calendar quarters.
    fn default() -> Self {
        FiscalCalendar { start_month: 1, quarters: QuarterScheme::Calendar }
    }
}

impl FiscalCalendar {
    /// A fiscal calendar whose year starts in `start_month` (1 = January).
    pub fn new(start_month: i8, quarters: QuarterScheme) -> Result<FiscalCalendar, PeriodError> {
        if !(1..=12).contains(&start_month) {
            return Err(PeriodError::StartMonth(start_month));
        }
        Ok(FiscalCalendar { start_month, quarters })
    }

    pub fn start_month(&self) -> i8 {
        self.start_month
    }

    pub fn quarter_scheme(&self) -> QuarterScheme {
        self.quarters
    }

    /// The period of the given kind that contains `date`.
    pub fn period_of(&self, date: Date, kind: PeriodKind) -> Period {
        match kind {
            PeriodKind::Day => Period::Day(date),
            PeriodKind::Week => {
                let iso = date.iso_week_date();
                Period::Week { year: iso.year(), week: iso.week() }
            }
            PeriodKind::Month => Period::Month { year: date.year(), month: date.month() },
            PeriodKind::Quarter => {
                let fiscal_year = self.fiscal_year_of(date);
                let quarter = match self.quarters {
                    QuarterScheme::Calendar => {
                        let months = (i32::from(date.month()) - i32::from(self.start_month)).rem_euclid(12);
                        (months / 3 + 1) as i8
                    }
                    QuarterScheme::Weeks445 => {
                        let week = (epoch_day(date) - epoch_day(self.fiscal_year_start(fiscal_year))) / 7;
                        (week / 13 + 1).min(4) as i8
                    }
                };
                Period::Quarter { fiscal_year, quarter }
            }
            PeriodKind::Year => Period::Year { fiscal_year: self.fiscal_year_of(date) },
        }
    }

    /// The fiscal year (named by the calendar year it ends in) that contains `date`.
    pub fn fiscal_year_of(&self, date: Date) -> i16 {
        let year = date.year();
        let guess = if self.start_month == 1 || date.month() < self.start_month { year } else { year + 1 };
        match self.quarters {
            QuarterScheme::Calendar => guess,
            // A 4-4-5 year may start up to three days before or after the 1st of its start month.
            QuarterScheme::Weeks445 => {
                if date < self.fiscal_year_start(guess) {
                    guess - 1
                } else if date >= self.fiscal_year_start(guess + 1) {
                    guess + 1
                } else {
                    guess
                }
            }
        }
    }

    /// The first day of fiscal year `fiscal_year`.
    pub fn fiscal_year_start(&self, fiscal_year: i16) -> Date {
        let year = if self.start_month == 1 { fiscal_year } else { fiscal_year - 1 };
        let first = ymd(year, self.start_month, 1);
        match self.quarters {
            QuarterScheme::Calendar => first,
            QuarterScheme::Weeks445 => nearest_monday(first),
        }
    }

    /// The first day of `period`.
    pub fn start(&self, period: Period) -> Date {
        match period {
            Period::Day(date) => date,
            Period::Week { year, week } => iso_week_monday(year, week),
            Period::Month { year, month } => ymd(year, month, 1),
            Period::Quarter { fiscal_year, quarter } => {
                let quarter = quarter.clamp(1, 4);
                let year_start = self.fiscal_year_start(fiscal_year);
                match self.quarters {
                    QuarterScheme::Calendar => add_months(year_start, 3 * i32::from(quarter - 1)),
                    QuarterScheme::Weeks445 => from_epoch_day(epoch_day(year_start) + 91 * i32::from(quarter - 1)),
                }
            }
            Period::Year { fiscal_year } => self.fiscal_year_start(fiscal_year),
        }
    }

    /// The last day of `period` (inclusive).
    pub fn end(&self, period: Period) -> Date {
        from_epoch_day(epoch_day(self.start(self.next(period))) - 1)
    }

    /// Whether `date` lies in `period`.
    pub fn contains(&self, period: Period, date: Date) -> bool {
        self.start(period) <= date && date <= self.end(period)
    }

    /// The period just before `period`, of the same kind.
    pub fn previous(&self, period: Period) -> Period {
        self.shift(period, -1)
    }

    /// The period just after `period`, of the same kind.
    pub fn next(&self, period: Period) -> Period {
        self.shift(period, 1)
    }

    /// The same period one year earlier: the same fiscal quarter of the previous fiscal year, the
    /// same month or ISO week number (week 53 maps to week 52 when last year had none), the same
    /// day (29 February maps to 28 February).
    pub fn same_period_last_year(&self, period: Period) -> Period {
        match period {
            Period::Day(date) => {
                let year = (date.year() - 1).max(MIN_YEAR);
                let day = date.day().min(days_in_month(year, date.month()));
                Period::Day(ymd(year, date.month(), day))
            }
            Period::Week { year, week } => {
                let year = year - 1;
                Period::Week { year, week: week.min(iso_weeks_in_year(year)) }
            }
            Period::Month { year, month } => Period::Month { year: year - 1, month },
            Period::Quarter { fiscal_year, quarter } => Period::Quarter { fiscal_year: fiscal_year - 1, quarter },
            Period::Year { fiscal_year } => Period::Year { fiscal_year: fiscal_year - 1 },
        }
    }

    /// Every period of `kind` that overlaps `from ..= to`, in order.
    pub fn periods_between(&self, from: Date, to: Date, kind: PeriodKind) -> Vec<Period> {
        let mut periods = Vec::new();
        if to < from {
            return periods;
        }
        let mut period = self.period_of(from, kind);
        while self.start(period) <= to {
            periods.push(period);
            let next = self.next(period);
            if self.start(next) <= self.start(period) {
                break; // clamped at the end of the supported range
            }
            period = next;
        }
        periods
    }

    fn shift(&self, period: Period, by: i32) -> Period {
        match period {
            Period::Day(date) => Period::Day(from_epoch_day(epoch_day(date) + by)),
            Period::Week { year, week } => {
                let monday = from_epoch_day(epoch_day(iso_week_monday(year, week)) + 7 * by);
                self.period_of(monday, PeriodKind::Week)
            }
            Period::Month { year, month } => {
                let index = i32::from(year) * 12 + i32::from(month) - 1 + by;
                Period::Month { year: clamp_year(index.div_euclid(12)), month: (index.rem_euclid(12) + 1) as i8 }
            }
            Period::Quarter { fiscal_year, quarter } => {
                let index = i32::from(fiscal_year) * 4 + i32::from(quarter.clamp(1, 4)) - 1 + by;
                Period::Quarter {
                    fiscal_year: clamp_year(index.div_euclid(4)),
                    quarter: (index.rem_euclid(4) + 1) as i8,
                }
            }
            Period::Year { fiscal_year } => Period::Year { fiscal_year: clamp_year(i32::from(fiscal_year) + by) },
        }
    }
}

impl Period {
    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Day(_) => PeriodKind::Day,
            Period::Week { .. } => PeriodKind::Week,
            Period::Month { .. } => PeriodKind::Month,
            Period::Quarter { .. } => PeriodKind::Quarter,
            Period::Year { .. } => PeriodKind::Year,
        }
    }

    /// Parses `2017-03-05`, `2017-W09`, `2017-03`, `2017-Q3` (or `FY2017-Q3`) and `FY2017`.
    pub fn parse(input: &str) -> Result<Period, PeriodError> {
        let error = |reason| PeriodError::Parse { input: input.to_string(), reason };
        let text = input.trim();
        if let Some(rest) = text.strip_prefix("FY").or_else(|| text.strip_prefix("fy")) {
            if let Some((year, quarter)) = rest.split_once('-') {
                return Ok(Period::Quarter {
                    fiscal_year: parse_year(year).ok_or(error(YEAR))?,
                    quarter: parse_quarter(quarter).ok_or(error(QUARTER))?,
                });
            }
            return Ok(Period::Year { fiscal_year: parse_year(rest).ok_or(error(YEAR))? });
        }
        let mut parts = text.split('-');
        let year = parts.next().and_then(parse_year).ok_or(error(YEAR))?;
        let second = parts.next().ok_or(error("expected YYYY-MM-DD, YYYY-Www, YYYY-MM, YYYY-Qn or FYYYYY"))?;
        let third = parts.next();
        if parts.next().is_some() {
            return Err(error("too many '-'"));
        }
        match (second.as_bytes().first(), third) {
            (Some(b'Q' | b'q'), None) => {
                Ok(Period::Quarter { fiscal_year: year, quarter: parse_quarter(second).ok_or(error(QUARTER))? })
            }
            (Some(b'W' | b'w'), None) => {
                let week: i8 = parse_digits(&second[1..], 2).ok_or(error("week must be W01 to W53"))?;
                if week < 1 || week > iso_weeks_in_year(year) {
                    return Err(error("this year has no such ISO week"));
                }
                Ok(Period::Week { year, week })
            }
            (_, None) => {
                let month: i8 = parse_digits(second, 2).ok_or(error(MONTH))?;
                if !(1..=12).contains(&month) {
                    return Err(error(MONTH));
                }
                Ok(Period::Month { year, month })
            }
            (_, Some(day)) => {
                let month: i8 = parse_digits(second, 2).ok_or(error(MONTH))?;
                let day: i8 = parse_digits(day, 2).ok_or(error("day must be two digits"))?;
                Date::new(year, month, day).map(Period::Day).map_err(|_| error("no such day"))
            }
        }
    }
}

const YEAR: &str = "year must be four digits, 0002 to 9997";
const QUARTER: &str = "quarter must be Q1 to Q4";
const MONTH: &str = "month must be 01 to 12";

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Day(date) => write!(f, "{:04}-{:02}-{:02}", date.year(), date.month(), date.day()),
            Period::Week { year, week } => write!(f, "{year:04}-W{week:02}"),
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { fiscal_year, quarter } => write!(f, "{fiscal_year:04}-Q{quarter}"),
            Period::Year { fiscal_year } => write!(f, "FY{fiscal_year:04}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Period, PeriodError> {
        Period::parse(s)
    }
}

impl fmt::Display for PeriodKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        })
    }
}

/// Days since 1970-01-01 (negative before). Plain integer arithmetic, so engines can bucket
/// millions of dates quickly.
#[inline]
pub fn epoch_day(date: Date) -> i32 {
    let (year, month, day) = (i32::from(date.year()), i32::from(date.month()), i32::from(date.day()));
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date `days` days after 1970-01-01; the inverse of [`epoch_day`] (clamped to the supported
/// range).
pub fn from_epoch_day(days: i32) -> Date {
    let days = days.clamp(epoch_day(ymd(MIN_YEAR, 1, 1)), epoch_day(ymd(MAX_YEAR, 12, 31))) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + i32::from(month <= 2);
    ymd(year as i16, month as i8, day as i8)
}

fn ymd(year: i16, month: i8, day: i8) -> Date {
    Date::new(year.clamp(MIN_YEAR, MAX_YEAR), month.clamp(1, 12), day.clamp(1, days_in_month(year, month)))
        .unwrap_or(Date::MIN)
}

fn clamp_year(year: i32) -> i16 {
    year.clamp(i32::from(MIN_YEAR), i32::from(MAX_YEAR)) as i16
}

fn days_in_month(year: i16, month: i8) -> i8 {
    Date::new(year.clamp(MIN_YEAR, MAX_YEAR), month.clamp(1, 12), 1).map_or(28, |d| d.days_in_month())
}

fn add_months(date: Date, months: i32) -> Date {
    let index = i32::from(date.year()) * 12 + i32::from(date.month()) - 1 + months;
    ymd(clamp_year(index.div_euclid(12)), (index.rem_euclid(12) + 1) as i8, date.day())
}

fn nearest_monday(date: Date) -> Date {
    // Monday = 1 ... Sunday = 7; Thursday..Sunday go forward, Tuesday..Wednesday back.
    let offset = match date.weekday().to_monday_one_offset() {
        1 => 0,
        n @ 2..=4 => -(i32::from(n) - 1),
        n => 8 - i32::from(n),
    };
    from_epoch_day(epoch_day(date) + offset)
}

fn iso_week_monday(year: i16, week: i8) -> Date {
    let year = year.clamp(MIN_YEAR, MAX_YEAR);
    ISOWeekDate::new(year, week.clamp(1, iso_weeks_in_year(year)), Weekday::Monday).map_or(Date::MIN, |w| w.date())
}

fn iso_weeks_in_year(year: i16) -> i8 {
    // 28 December is always in the last ISO week of its year.
    ymd(year, 12, 28).iso_week_date().week()
}

fn parse_year(text: &str) -> Option<i16> {
    let year: i16 = parse_digits(text, 4)?;
    (MIN_YEAR..=MAX_YEAR).contains(&year).then_some(year)
}

fn parse_quarter(text: &str) -> Option<i8> {
    let digits = text.strip_prefix('Q').or_else(|| text.strip_prefix('q'))?;
    let quarter: i8 = parse_digits(digits, 1)?;
    (1..=4).contains(&quarter).then_some(quarter)
}

fn parse_digits<T: FromStr>(text: &str, width: usize) -> Option<T> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn april_calendar() -> FiscalCalendar {
        FiscalCalendar::new(4, QuarterScheme::Calendar).unwrap()
    }

    fn p(text: &str) -> Period {
        Period::parse(text).unwrap()
    }

    #[test]
    fn fiscal_year_starting_in_april_is_named_after_the_year_it_ends_in() {
        let cal = april_calendar();
        assert_eq!(cal.period_of(date(2017, 3, 31), PeriodKind::Year), p("FY2017"));
        assert_eq!(cal.period_of(date(2017, 4, 1), PeriodKind::Year), p("FY2018"));
        assert_eq!(cal.period_of(date(2017, 4, 1), PeriodKind::Quarter), p("2018-Q1"));
        assert_eq!(cal.period_of(date(2017, 12, 31), PeriodKind::Quarter), p("2018-Q3"));
        assert_eq!(cal.period_of(date(2018, 1, 1), PeriodKind::Quarter), p("2018-Q4"));
        assert_eq!((cal.start(p("FY2018")), cal.end(p("FY2018"))), (date(2017, 4, 1), date(2018, 3, 31)));
        assert_eq!((cal.start(p("2018-Q4")), cal.end(p("2018-Q4"))), (date(2018, 1, 1), date(2018, 3, 31)));
    }

    #[test]
    fn weeks_445_quarters_are_thirteen_weeks_and_the_53rd_week_goes_to_q4() {
        let cal = FiscalCalendar::new(1, QuarterScheme::Weeks445).unwrap();
        // 1 January 2015 is a Thursday: the nearest Monday is 29 December 2014.
        assert_eq!(cal.fiscal_year_start(2015), date(2014, 12, 29));
        assert_eq!(cal.period_of(date(2014, 12, 29), PeriodKind::Year), p("FY2015"));
        assert_eq!(cal.period_of(date(2014, 12, 28), PeriodKind::Year), p("FY2014"));
        assert_eq!(cal.end(p("2015-Q1")), date(2015, 3, 29));
        assert_eq!(cal.period_of(date(2015, 3, 30), PeriodKind::Quarter), p("2015-Q2"));
        // FY2015 ends on Sunday 3 January 2016 (FY2016 starts Monday 4 January): 53 weeks.
        assert_eq!(cal.fiscal_year_start(2016), date(2016, 1, 4));
        assert_eq!(cal.start(p("2015-Q4")), date(2015, 9, 28));
        assert_eq!(cal.end(p("2015-Q4")), date(2016, 1, 3));
        assert_eq!(cal.period_of(date(2016, 1, 3), PeriodKind::Quarter), p("2015-Q4"));
        let q4_days = epoch_day(cal.end(p("2015-Q4"))) - epoch_day(cal.start(p("2015-Q4"))) + 1;
        assert_eq!(q4_days, 14 * 7);
    }

    #[test]
    fn weeks_445_with_an_april_start() {
        let cal = FiscalCalendar::new(4, QuarterScheme::Weeks445).unwrap();
        // 1 April 2017 is a Saturday: FY2018 starts on Monday 3 April 2017.
        assert_eq!(cal.fiscal_year_start(2018), date(2017, 4, 3));
        assert_eq!(cal.period_of(date(2017, 4, 2), PeriodKind::Quarter), p("2017-Q4"));
        assert_eq!(cal.period_of(date(2017, 4, 3), PeriodKind::Quarter), p("2018-Q1"));
    }

    #[test]
    fn previous_and_same_period_last_year() {
        let cal = FiscalCalendar::default();
        assert_eq!(cal.previous(p("2017-Q1")), p("2016-Q4"));
        assert_eq!(cal.previous(p("2017-01")), p("2016-12"));
        assert_eq!(cal.previous(p("2016-W01")), p("2015-W53"));
        assert_eq!(cal.previous(p("2017-03-01")), p("2017-02-28"));
        assert_eq!(cal.same_period_last_year(p("2016-02-29")), p("2015-02-28"));
        assert_eq!(cal.same_period_last_year(p("2016-W52")), p("2015-W52"));
        assert_eq!(cal.same_period_last_year(p("2020-W53")), p("2019-W52"));
        assert_eq!(cal.same_period_last_year(p("2015-W53")), p("2014-W52"));
        assert_eq!(cal.same_period_last_year(p("2017-Q3")), p("2016-Q3"));
        assert_eq!(cal.same_period_last_year(p("FY2017")), p("FY2016"));
    }

    #[test]
    fn parse_and_display() {
        for text in ["2017-03-05", "2017-W09", "2017-03", "2017-Q3", "FY2017"] {
            assert_eq!(p(text).to_string(), text);
        }
        assert_eq!(p("FY2017-Q3"), p("2017-Q3"));
        for bad in ["2017-Q5", "2017-13", "2017-02-30", "2017-W54", "2015-W54", "FY17", "17-03", "2017-03-05-01", ""] {
            assert!(Period::parse(bad).is_err(), "{bad} should not parse");
        }
        assert!(Period::parse("2019-W53").is_err(), "2019 has 52 ISO weeks");
        assert_eq!(FiscalCalendar::new(13, QuarterScheme::Calendar), Err(PeriodError::StartMonth(13)));
    }

    #[test]
    fn periods_between_covers_the_range() {
        let cal = april_calendar();
        let quarters = cal.periods_between(date(2017, 2, 15), date(2017, 7, 1), PeriodKind::Quarter);
        assert_eq!(quarters, vec![p("2017-Q4"), p("2018-Q1"), p("2018-Q2")]);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1900i32..2200, 0i32..366).prop_map(|(year, day)| from_epoch_day(epoch_day(date(year as i16, 1, 1)) + day))
    }

    fn any_calendar() -> impl Strategy<Value = FiscalCalendar> {
        (1i8..=12, any::<bool>()).prop_map(|(month, weeks)| {
            FiscalCalendar::new(month, if weeks { QuarterScheme::Weeks445 } else { QuarterScheme::Calendar }).unwrap()
        })
    }

    fn any_kind() -> impl Strategy<Value = PeriodKind> {
        prop_oneof![
            Just(PeriodKind::Day),
            Just(PeriodKind::Week),
            Just(PeriodKind::Month),
            Just(PeriodKind::Quarter),
            Just(PeriodKind::Year)
        ]
    }

    proptest! {
        #[test]
        fn epoch_day_agrees_with_jiff(d in any_date()) {
            let expected = d.since(date(1970, 1, 1)).unwrap().get_days();
            prop_assert_eq!(epoch_day(d), expected);
            prop_assert_eq!(from_epoch_day(epoch_day(d)), d);
        }

        #[test]
        fn a_date_lies_in_its_period_and_periods_tile(d in any_date(), cal in any_calendar(), kind in any_kind()) {
            let period = cal.period_of(d, kind);
            prop_assert!(cal.contains(period, d));
            let next = cal.next(period);
            prop_assert_eq!(epoch_day(cal.start(next)), epoch_day(cal.end(period)) + 1);
            prop_assert_eq!(cal.previous(next), period);
            prop_assert_eq!(Period::parse(&period.to_string()).unwrap(), period);
        }

        #[test]
        fn quarters_nest_in_fiscal_years(d in any_date(), cal in any_calendar()) {
            let Period::Quarter { fiscal_year, quarter } = cal.period_of(d, PeriodKind::Quarter) else { unreachable!() };
            prop_assert_eq!(cal.period_of(d, PeriodKind::Year), Period::Year { fiscal_year });
            if quarter == 1 {
                prop_assert_eq!(cal.start(Period::Quarter { fiscal_year, quarter }), cal.fiscal_year_start(fiscal_year));
            }
            let year = Period::Year { fiscal_year };
            prop_assert_eq!(cal.end(Period::Quarter { fiscal_year, quarter: 4 }), cal.end(year));
        }
    }
}
