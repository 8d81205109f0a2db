//! B3's trading calendar against published lists (tests/data/b3_closures.csv, written from the
//! `holidays` and `exchange_calendars` packages by tests/data/b3_closures.py) and against the
//! sessions of the real COTAHIST files.

use std::collections::BTreeSet;

use b3lake::source::calendar::{YEARS, closure, is_trading_day, trading_days};
use chrono::{Datelike, NaiveDate, Weekday};

use crate::common::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// (source, date, name) rows of the published lists.
fn published() -> Vec<(String, NaiveDate, String)> {
    let text = std::fs::read_to_string(data("b3_closures.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.splitn(3, ',');
            let (source, date, name) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            (source.to_string(), d(date), name.to_string())
        })
        .collect()
}

#[test]
fn every_holiday_of_the_holidays_package_is_a_closure() {
    let rows: Vec<_> = published().into_iter().filter(|(s, _, _)| s.starts_with("holidays ")).collect();
    assert!(rows.len() > 500, "1986 to 2035: {}", rows.len());
    let open: Vec<String> =
        rows.iter().filter(|(_, day, _)| is_trading_day(*day)).map(|(_, day, name)| format!("{day} {name}")).collect();
    assert!(open.is_empty(), "holidays b3lake calls sessions: {open:?}");
    let years: BTreeSet<i32> = rows.iter().map(|(_, day, _)| day.year()).collect();
    assert_eq!((years.first(), years.last()), (Some(YEARS.start()), Some(YEARS.end())));
}

#[test]
fn the_closed_weekdays_are_exactly_those_of_exchange_calendars() {
    let rows: Vec<_> = published().into_iter().filter(|(s, _, _)| s.starts_with("exchange_calendars ")).collect();
    let bound = |what: &str| rows.iter().find(|(_, _, n)| n == what).unwrap().1;
    let (first, last) = (bound("first session"), bound("last session"));
    let published: BTreeSet<NaiveDate> = rows.iter().filter(|(_, _, n)| n == "closed").map(|r| r.1).collect();
    let ours: BTreeSet<NaiveDate> = first
        .iter_days()
        .take_while(|day| *day <= last)
        .filter(|day| !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !is_trading_day(*day))
        .collect();
    assert!(published.len() > 250, "{}", published.len());
    let missing: Vec<_> = published.difference(&ours).collect();
    let extra: Vec<_> = ours.difference(&published).map(|day| (day, closure(*day))).collect();
    assert!(missing.is_empty() && extra.is_empty(), "sessions b3lake lacks: {missing:?}; closures it adds: {extra:?}");
}

/// The days each real file holds a session for are trading days; the yearly file of 2016, as
/// published on 6 January, holds every session of the year until then.
#[test]
fn the_real_files_sessions_are_trading_days() {
    let mut sessions = BTreeSet::new();
    for file in [DAY_2022, YEAR_2016, DEMO_2003] {
        for line in lines(file) {
            if line.starts_with(b"01") {
                sessions.insert(d(&format!(
                    "{}-{}-{}",
                    std::str::from_utf8(&line[2..6]).unwrap(),
                    std::str::from_utf8(&line[6..8]).unwrap(),
                    std::str::from_utf8(&line[8..10]).unwrap()
                )));
            }
        }
    }
    let expected: BTreeSet<NaiveDate> =
        [d("2003-02-12"), d("2016-01-04"), d("2016-01-05"), d("2016-01-06"), d("2022-02-04")].into();
    assert_eq!(sessions, expected);
    assert!(sessions.iter().all(|day| is_trading_day(*day)));
    let in_2016: BTreeSet<NaiveDate> = sessions.iter().filter(|day| day.year() == 2016).copied().collect();
    assert_eq!(trading_days(d("2016-01-01"), d("2016-01-06")).collect::<BTreeSet<_>>(), in_2016);
}
