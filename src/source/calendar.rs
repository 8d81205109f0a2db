//! B3's trading calendar: which days have a session, so that a missing file on one of them is
//! late data, not a holiday.
//!
//! The rules, not a table, so that they hold for any year; they are tested for 1986 to 2035
//! against two published lists (`tests/data/b3_closures.csv`, with its sources) and against the
//! sessions of the real COTAHIST files the project has:
//! - the national holidays (Lei 662/1949, Lei 6.802/1980 for 12 October, Lei 14.759/2023 for
//!   20 November from 2024), Carnival's Monday and Tuesday, Good Friday and Corpus Christi;
//!   Holy Thursday until 1999 (Resolução BCB 2.516/1998 ended it as a banking holiday);
//! - B3's own closures: 24 December and the last weekday of the year;
//! - the São Paulo holidays B3 observed until it stopped in 2022: the city's anniversary
//!   (25 January), the Constitutionalist Revolution (9 July, from 1998; in 2020 the city moved
//!   it for the pandemic and B3 opened) and Black Consciousness Day (20 November, 2004 to 2019);
//! - a one-off closure: 12 June 2014, the World Cup's opening match in São Paulo.
//!
//! Ash Wednesday is a session (it opens at 13:00).

use chrono::{Datelike, NaiveDate, Weekday};

/// The years the calendar is tested for; outside them its rules are extrapolated.
pub const YEARS: std::ops::RangeInclusive<i32> = 1986..=2035;

/// Why B3 has no session on `day`, or `None` when it has one.
pub fn closure(day: NaiveDate) -> Option<&'static str> {
    if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
        return Some("weekend");
    }
    let year = day.year();
    let easter = easter(year);
    let from_easter = (day - easter).num_days();
    let moveable = match from_easter {
        -48 | -47 => Some("Carnival"),
        -3 if year <= 1999 => Some("Holy Thursday"),
        -2 => Some("Good Friday"),
        60 => Some("Corpus Christi"),
        _ => None,
    };
    if moveable.is_some() {
        return moveable;
    }
    let last_weekday = {
        let mut d = NaiveDate::from_ymd_opt(year, 12, 31).expect("31 December");
        while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            d = d.pred_opt().expect("a day before");
        }
        d
    };
    if day == last_weekday {
        return Some("last weekday of the year");
    }
    match (day.month(), day.day()) {
        (1, 1) => Some("New Year's Day"),
        (1, 25) if year <= 2021 => Some("São Paulo's anniversary"),
        (4, 21) => Some("Tiradentes"),
        (5, 1) => Some("Labour Day"),
        (6, 12) if year == 2014 => Some("World Cup opening in São Paulo"),
        (7, 9) if (1998..=2019).contains(&year) || year == 2021 => Some("Constitutionalist Revolution"),
        (9, 7) => Some("Independence Day"),
        (10, 12) => Some("Our Lady of Aparecida"),
        (11, 2) => Some("All Souls' Day"),
        (11, 15) => Some("Proclamation of the Republic"),
        (11, 20) if (2004..=2019).contains(&year) || year >= 2024 => Some("Black Consciousness Day"),
        (12, 24) => Some("Christmas Eve"),
        (12, 25) => Some("Christmas"),
        _ => None,
    }
}

/// Whether B3 has a session on `day`.
pub fn is_trading_day(day: NaiveDate) -> bool {
    closure(day).is_none()
}

/// The trading days from `from` to `to`, both included.
pub fn trading_days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to).filter(|d| is_trading_day(*d))
}

/// The trading days between the first and the last of `present` (sorted) that it lacks: the
/// sessions a lake holding `present` misses.
pub fn missing_between(present: &[NaiveDate]) -> Vec<NaiveDate> {
    match (present.first(), present.last()) {
        (Some(first), Some(last)) => {
            trading_days(*first, *last).filter(|d| present.binary_search(d).is_err()).collect()
        }
        _ => Vec::new(),
    }
}

/// Easter Sunday of the Gregorian calendar (the anonymous algorithm, as in Meeus).
fn easter(year: i32) -> NaiveDate {
    let (a, b, c) = (year % 19, year / 100, year % 100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a date")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn easter_of_known_years() {
        // Published Easter dates.
        for (year, date) in [(1986, "1986-03-30"), (2000, "2000-04-23"), (2019, "2019-04-21"), (2024, "2024-03-31")] {
            assert_eq!(easter(year), d(date));
        }
    }

    #[test]
    fn the_last_weekday_of_a_year_and_the_day_before() {
        assert_eq!(closure(d("2022-12-30")), Some("last weekday of the year"));
        assert!(is_trading_day(d("2022-12-29")));
        assert_eq!(trading_days(d("2024-02-09"), d("2024-02-15")).count(), 3, "Carnival Mon-Tue, a weekend");
        let present = [d("2024-02-08"), d("2024-02-15")];
        assert_eq!(missing_between(&present), [d("2024-02-09"), d("2024-02-14")]);
        assert!(missing_between(&[]).is_empty());
    }
}
