//! The generator's time frame: the three years before `today` (plus a horizon for future close
//! dates), addressed by day index so that the hot loops avoid calendar arithmetic.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// How far back the demo history reaches.
const HISTORY_YEARS: i64 = 3;
/// How far past `today` day indices may reach (close dates up to ~7 months ahead).
const HORIZON_DAYS: u32 = 240;
const SECONDS_PER_DAY: i64 = 86_400;

/// Day 0 is `today` minus three years; day `today()` is `today`. All times are UTC.
pub(crate) struct Calendar {
    start_second: i64,
    today: u32,
    dates: Vec<Date>,
}

impl Calendar {
    pub(crate) fn new(today: Date) -> Calendar {
        let start = today.saturating_sub(HISTORY_YEARS.years());
        let second =
            |d: Date| d.to_zoned(TimeZone::UTC).expect("a civil date is representable in UTC").timestamp().as_second();
        let start_second = second(start);
        let today_index = u32::try_from((second(today) - start_second) / SECONDS_PER_DAY).unwrap_or(0);
        let len = (today_index + HORIZON_DAYS + 1) as usize;
        let mut dates = Vec::with_capacity(len);
        let mut d = start;
        for _ in 0..len {
            dates.push(d);
            d = d.tomorrow().unwrap_or(d);
        }
        Calendar { start_second, today: today_index, dates }
    }

    /// The day index of `today`.
    pub(crate) fn today(&self) -> u32 {
        self.today
    }

    pub(crate) fn date(&self, day: u32) -> Date {
        self.dates[day as usize]
    }

    /// Seconds since the Unix epoch of `second_of_day` on day `day`.
    pub(crate) fn second(&self, day: u32, second_of_day: u32) -> i64 {
        self.start_second + i64::from(day) * SECONDS_PER_DAY + i64::from(second_of_day)
    }

    /// The last second of `today` (UTC).
    pub(crate) fn end_of_today(&self) -> i64 {
        self.second(self.today, SECONDS_PER_DAY as u32 - 1)
    }

    pub(crate) fn timestamp(&self, second: i64) -> Timestamp {
        Timestamp::from_second(second).expect("demo timestamps lie within jiff's range")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn day_indices_map_to_dates_and_instants() {
        let cal = Calendar::new(date(2026, 3, 1));
        assert_eq!(cal.date(0), date(2023, 3, 1));
        assert_eq!(cal.today(), 1096); // 2024 is a leap year
        assert_eq!(cal.date(cal.today()), date(2026, 3, 1));
        let ts = cal.timestamp(cal.second(cal.today(), 3600));
        assert_eq!(ts.to_string(), "2026-03-01T01:00:00Z");
        assert_eq!(cal.timestamp(cal.end_of_today()).to_string(), "2026-03-01T23:59:59Z");
    }
}
