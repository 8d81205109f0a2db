//! The two date pattern languages of Athena: MySQL's `%` specifiers (`date_format`,
//! `date_parse`) and Joda-Time's letters (`format_datetime`). Neither is strftime, which is
//! what DataFusion's `to_char` speaks, so they are interpreted here.

use std::fmt::Write;

use chrono::format::{Fixed, Item, Numeric, ParseErrorKind, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDateTime, Timelike};

/// A piece of a MySQL pattern: literal text, or the letter of a `%` specifier.
enum Piece {
    Literal(char),
    Spec(char),
}

fn mysql_pieces(pattern: &str) -> impl Iterator<Item = Piece> + '_ {
    let mut chars = pattern.chars();
    std::iter::from_fn(move || {
        let c = chars.next()?;
        if c == '%' { chars.next().map(Piece::Spec) } else { Some(Piece::Literal(c)) }
    })
}

/// `dt` formatted with a MySQL pattern, as Trino's `date_format` does.
pub fn mysql_format(dt: &NaiveDateTime, pattern: &str, out: &mut String) -> Result<(), String> {
    for piece in mysql_pieces(pattern) {
        let spec = match piece {
            Piece::Literal(c) => {
                out.push(c);
                continue;
            }
            Piece::Spec(spec) => spec,
        };
        let hour12 = (dt.hour() + 11) % 12 + 1;
        let am_pm = if dt.hour() < 12 { "AM" } else { "PM" };
        let _ = match spec {
            'a' => write!(out, "{}", dt.format("%a")),
            'b' => write!(out, "{}", dt.format("%b")),
            'c' => write!(out, "{}", dt.month()),
            'd' => write!(out, "{:02}", dt.day()),
            'e' => write!(out, "{}", dt.day()),
            // Trino's timestamps carry milliseconds: printed as six digits.
            'f' => write!(out, "{:06}", dt.nanosecond() / 1_000_000 * 1000),
            'H' => write!(out, "{:02}", dt.hour()),
            'h' | 'I' => write!(out, "{hour12:02}"),
            'i' => write!(out, "{:02}", dt.minute()),
            'j' => write!(out, "{:03}", dt.ordinal()),
            'k' => write!(out, "{}", dt.hour()),
            'l' => write!(out, "{hour12}"),
            'M' => write!(out, "{}", dt.format("%B")),
            'm' => write!(out, "{:02}", dt.month()),
            'p' => write!(out, "{am_pm}"),
            'r' => write!(out, "{hour12:02}:{:02}:{:02} {am_pm}", dt.minute(), dt.second()),
            'S' | 's' => write!(out, "{:02}", dt.second()),
            'T' => write!(out, "{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second()),
            'v' => write!(out, "{:02}", dt.iso_week().week()),
            'W' => write!(out, "{}", dt.format("%A")),
            'x' => write!(out, "{:04}", dt.iso_week().year()),
            'Y' => write!(out, "{:04}", dt.year()),
            'y' => write!(out, "{:02}", dt.year().rem_euclid(100)),
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => return Err(unsupported(spec)),
            other => write!(out, "{other}"),
        };
    }
    Ok(())
}

fn unsupported(spec: char) -> String {
    format!("%{spec} not supported in date format string")
}

/// `text` parsed with a MySQL pattern, as Trino's `date_parse` does: fields the pattern
/// leaves out default to 1970-01-01 00:00:00.
pub fn mysql_parse(text: &str, pattern: &str) -> Result<NaiveDateTime, String> {
    if pattern.is_empty() {
        // Joda-Time's formatter, which Trino builds from the pattern, has no field to read.
        return Err("Both printing and parsing not supported".into());
    }
    let mut strftime = String::with_capacity(pattern.len() * 2);
    for piece in mysql_pieces(pattern) {
        let spec = match piece {
            Piece::Literal(c) => {
                strftime.push(c);
                continue;
            }
            Piece::Spec(spec) => spec,
        };
        // `.%f` is a fraction of a second, as many digits as written (`1.1` is 1.100 s);
        // chrono's `%f` would read them as nanoseconds.
        if spec == 'f' && strftime.ends_with('.') {
            strftime.pop();
            strftime.push_str("%.f");
            continue;
        }
        strftime.push_str(match spec {
            'a' => "%a",
            'b' => "%b",
            'c' | 'm' => "%m",
            'd' | 'e' => "%d",
            'f' => "%f",
            'H' | 'k' => "%H",
            'h' | 'I' | 'l' => "%I",
            'i' => "%M",
            'j' => "%j",
            'M' => "%B",
            'p' => "%p",
            'r' => "%I:%M:%S %p",
            'S' | 's' => "%S",
            'T' => "%H:%M:%S",
            'v' => "%V",
            'W' => "%A",
            'x' => "%G",
            'Y' => "%Y",
            'y' => "%y",
            '%' => "%%",
            'D' | 'U' | 'u' | 'V' | 'w' | 'X' => return Err(unsupported(spec)),
            other => {
                strftime.push(other);
                continue;
            }
        });
    }
    // One field at a time, so a refusal names where the text stopped matching, as Joda-Time's
    // parser (Trino's) does.
    let malformed = |rest: &str| format!("Invalid format: \"{text}\" is malformed at \"{rest}\"");
    let mut parsed = Parsed::new();
    let mut rest = text;
    for item in StrftimeItems::new(&strftime) {
        match chrono::format::parse_and_remainder(&mut parsed, rest, std::iter::once(item.clone())) {
            // Joda reads at most nine digits of a fraction; chrono skips those past the ninth.
            Ok(after) if item == Item::Fixed(Fixed::Nanosecond) && rest.len() - after.len() > 10 => {
                return Err(malformed(&rest[10..]));
            }
            Ok(after) => rest = after,
            Err(e) if e.kind() == ParseErrorKind::TooShort => {
                return Err(format!("Invalid format: \"{text}\" is too short"));
            }
            Err(e) if e.kind() == ParseErrorKind::OutOfRange => {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                return Err(match (joda_field(&item), digits.parse::<i64>()) {
                    (Some((field, low, high)), Ok(v)) => out_of_range(text, v, field, low, high),
                    _ => malformed(rest),
                });
            }
            Err(_) => return Err(malformed(rest)),
        }
    }
    if !rest.is_empty() {
        return Err(malformed(rest));
    }
    let complete = complete(&mut parsed);
    complete.to_naive_datetime_with_offset(0).map_err(|e| match (complete.year(), complete.month(), complete.day()) {
        (Some(y), Some(m), Some(d)) if d > 28 => {
            let last =
                chrono::NaiveDate::from_ymd_opt(y, m, 1).and_then(super::shared::last_day).map_or(31, |d| d.day());
            out_of_range(text, i64::from(d), "dayOfMonth", 1, i64::from(last))
        }
        _ => format!("Cannot parse \"{text}\": {e}"),
    })
}

/// Joda-Time's words for a field's value past its range, which Trino passes on.
fn out_of_range(text: &str, value: i64, field: &str, low: i64, high: i64) -> String {
    format!("Cannot parse \"{text}\": Value {value} for {field} must be in the range [{low},{high}]")
}

/// Joda-Time's name and range of the field a chrono item reads.
fn joda_field(item: &Item) -> Option<(&'static str, i64, i64)> {
    let Item::Numeric(numeric, _) = item else { return None };
    Some(match numeric {
        Numeric::Month => ("monthOfYear", 1, 12),
        Numeric::Day => ("dayOfMonth", 1, 31),
        Numeric::Hour => ("hourOfDay", 0, 23),
        Numeric::Hour12 => ("clockhourOfHalfday", 1, 12),
        Numeric::Minute => ("minuteOfHour", 0, 59),
        Numeric::Second => ("secondOfMinute", 0, 59),
        Numeric::Ordinal => ("dayOfYear", 1, 366),
        Numeric::IsoWeek => ("weekOfWeekyear", 1, 53),
        _ => return None,
    })
}

/// Fills what a pattern left out with Joda-Time's defaults (1970-01-01 00:00:00).
fn complete(parsed: &mut Parsed) -> &mut Parsed {
    let week_date = parsed.isoweek().is_some();
    if parsed.year().is_none() && parsed.year_div_100().is_none() && parsed.isoyear().is_none() {
        // A two-digit year (`%y`) is in 1970..2069, as Trino's documentation says.
        let _ = match parsed.year_mod_100() {
            Some(yy) => parsed.set_year(i64::from(if yy >= 70 { 1900 + yy } else { 2000 + yy })),
            None => parsed.set_year(1970),
        };
    }
    if !week_date && parsed.ordinal().is_none() {
        if parsed.month().is_none() {
            let _ = parsed.set_month(1);
        }
        if parsed.day().is_none() {
            let _ = parsed.set_day(1);
        }
    }
    if week_date && parsed.weekday().is_none() {
        let _ = parsed.set_weekday(chrono::Weekday::Mon);
    }
    if parsed.hour_div_12().is_none() && parsed.hour_mod_12().is_none() {
        let _ = parsed.set_hour(0);
    } else if parsed.hour_div_12().is_none() {
        let _ = parsed.set_ampm(false);
    }
    if parsed.minute().is_none() {
        let _ = parsed.set_minute(0);
    }
    if parsed.second().is_none() {
        let _ = parsed.set_second(0);
    }
    parsed
}

/// A piece of a Joda-Time pattern: literal text (`'quoted'` or not a letter), or a letter
/// repeated `n` times.
#[derive(Debug, PartialEq)]
enum Joda {
    Literal(String),
    Field(char, usize),
}

fn joda_pieces(pattern: &str) -> Vec<Joda> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // 'text' is literal; '' is a quote.
            let mut text = String::new();
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push(Joda::Literal("'".into()));
                i += 2;
                continue;
            }
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        text.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                text.push(chars[j]);
                j += 1;
            }
            out.push(Joda::Literal(text));
            i = j + 1;
        } else if c.is_ascii_alphabetic() {
            let n = chars[i..].iter().take_while(|&&x| x == c).count();
            out.push(Joda::Field(c, n));
            i += n;
        } else {
            out.push(Joda::Literal(c.to_string()));
            i += 1;
        }
    }
    out
}

/// The zone a formatted value is in: its id as Trino names it (`UTC`, `+07:09`,
/// `America/Sao_Paulo`), its offset from UTC then, and that offset's short name.
pub struct JodaZone<'a> {
    /// What `ZZZ` prints.
    pub id: &'a str,
    /// Seconds east of UTC, what `Z` and `ZZ` print.
    pub offset: i32,
    /// What `z` prints (the tz database's abbreviation: `-03` where Java may say `BRT`).
    pub short: &'a str,
}

/// UTC, the zone of a timestamp without one (Trino formats those in UTC).
pub const UTC: JodaZone<'static> = JodaZone { id: "UTC", offset: 0, short: "UTC" };

/// `dt` (a local time in `zone`) formatted with a Joda-Time pattern, as Trino's
/// `format_datetime` does.
pub fn joda_format(dt: &NaiveDateTime, zone: &JodaZone, pattern: &str, out: &mut String) -> Result<(), String> {
    for piece in joda_pieces(pattern) {
        let (c, n) = match piece {
            Joda::Literal(text) => {
                out.push_str(&text);
                continue;
            }
            Joda::Field(c, n) => (c, n),
        };
        let pad = |v: i64| format!("{v:0n$}");
        let text = match c {
            'G' => "AD".to_string(),
            'C' => pad(i64::from(dt.year() / 100)),
            'y' | 'Y' | 'u' if n == 2 => format!("{:02}", dt.year().rem_euclid(100)),
            'y' | 'Y' | 'u' => pad(i64::from(dt.year())),
            'x' if n == 2 => format!("{:02}", dt.iso_week().year().rem_euclid(100)),
            'x' => pad(i64::from(dt.iso_week().year())),
            'w' => pad(i64::from(dt.iso_week().week())),
            'e' => pad(i64::from(dt.weekday().number_from_monday())),
            'E' if n >= 4 => dt.format("%A").to_string(),
            'E' => dt.format("%a").to_string(),
            'D' => pad(i64::from(dt.ordinal())),
            'M' if n >= 4 => dt.format("%B").to_string(),
            'M' if n == 3 => dt.format("%b").to_string(),
            'M' => pad(i64::from(dt.month())),
            'd' => pad(i64::from(dt.day())),
            'a' => (if dt.hour() < 12 { "AM" } else { "PM" }).to_string(),
            'h' => pad(i64::from((dt.hour() + 11) % 12 + 1)),
            'K' => pad(i64::from(dt.hour() % 12)),
            'H' => pad(i64::from(dt.hour())),
            'k' => pad(i64::from(if dt.hour() == 0 { 24 } else { dt.hour() })),
            'm' => pad(i64::from(dt.minute())),
            's' => pad(i64::from(dt.second())),
            'S' => {
                let nanos = format!("{:09}", dt.nanosecond() % 1_000_000_000);
                let mut digits: String = nanos.chars().take(n.min(9)).collect();
                digits.extend(std::iter::repeat_n('0', n.saturating_sub(9)));
                digits
            }
            // Joda: `Z` +0709, `ZZ` +07:09 (no `Z` for UTC when printing), `ZZZ` the zone's id.
            'Z' if n >= 3 => zone.id.to_string(),
            'Z' => {
                let (sign, minutes) = (if zone.offset < 0 { '-' } else { '+' }, zone.offset.abs() / 60);
                let separator = if n == 2 { ":" } else { "" };
                format!("{sign}{:02}{separator}{:02}", minutes / 60, minutes % 60)
            }
            'z' if n < 4 => zone.short.to_string(),
            other => return Err(format!("Joda pattern letter {other:?} not supported")),
        };
        out.push_str(&text);
    }
    Ok(())
}

/// The zone a parsed text named: an offset from UTC in seconds, or a time zone's name.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedZone {
    /// `+01:00`, `-0300`, `Z`.
    Offset(i32),
    /// `America/Sao_Paulo`.
    Named(String),
}

/// A UTC offset at the start of `text` (`Z`, `+HH`, `+HHMM`, `+HH:MM`, or with `-`): its
/// seconds east of UTC and the text after it. Both Joda's `Z` and ISO 8601 spell offsets so.
pub fn utc_offset(text: &str) -> Option<(i32, &str)> {
    if let Some(rest) = text.strip_prefix('Z') {
        return Some((0, rest));
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |s: &str| s.get(..2).filter(|d| d.bytes().all(|b| b.is_ascii_digit())).map(|d| d.parse::<i32>().ok());
    let hours = two(&text[1..])??;
    let rest = &text[3..];
    let after_colon = rest.strip_prefix(':').unwrap_or(rest);
    let (minutes, rest) = match two(after_colon) {
        Some(m) => (m?, &after_colon[2..]),
        None => (0, rest),
    };
    (minutes < 60).then_some((sign * (hours * 3600 + minutes * 60), rest))
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// `text` parsed with a Joda-Time pattern, as Trino's `parse_datetime` does: the local date and
/// time (fields the pattern leaves out are Joda's defaults, 1970-01-01 00:00:00.000) and the
/// zone the text names, if the pattern has one (`Z`, `ZZ`: an offset; `ZZZ`: a zone's name).
pub fn joda_parse(text: &str, pattern: &str) -> Result<(NaiveDateTime, Option<ParsedZone>), String> {
    let bad = || format!("Invalid format: \"{text}\"");
    let pieces = joda_pieces(pattern);
    let mut rest = text;
    let mut parsed = Parsed::new();
    let mut zone = None;
    let (mut pm, mut hour12) = (None, None);
    let numeric = |p: Option<&Joda>| matches!(p, Some(Joda::Field(c, _)) if "CyYuxwDMdhKHkmsSe".contains(*c));
    for (k, piece) in pieces.iter().enumerate() {
        let (c, n) = match piece {
            Joda::Literal(lit) => {
                rest = rest.strip_prefix(lit.as_str()).ok_or_else(bad)?;
                continue;
            }
            Joda::Field(c, n) => (*c, *n),
        };
        // A number: at most `max` digits (its pattern's width when the next field is a number
        // too), with a sign for years.
        let next_numeric = numeric(pieces.get(k + 1));
        let number = |rest: &mut &str, max: usize, signed: bool| -> Result<(i64, usize), String> {
            let max = if next_numeric { n.max(1) } else { max };
            leading_number(rest, max, signed).ok_or_else(bad)
        };
        let set = |r: chrono::format::ParseResult<()>| r.map_err(|_| bad());
        match c {
            'y' | 'Y' | 'u' if n == 2 => {
                let two = number(&mut rest, 2, false)?.0;
                // Joda's pivot: the 100 years around 30 years ago.
                let pivot = i64::from(chrono::Utc::now().year()) - 30;
                let mut year = pivot - 50 + (two - (pivot - 50)).rem_euclid(100);
                if year < pivot - 50 {
                    year += 100;
                }
                set(parsed.set_year(year))?;
            }
            'y' | 'Y' | 'u' => set(parsed.set_year(number(&mut rest, 9, true)?.0))?,
            'M' if n >= 3 => {
                let i = name(&mut rest, &MONTHS).ok_or_else(bad)?;
                set(parsed.set_month(i as i64 + 1))?;
            }
            'M' => set(parsed.set_month(number(&mut rest, 2, false)?.0))?,
            'd' => set(parsed.set_day(number(&mut rest, 2, false)?.0))?,
            'D' => set(parsed.set_ordinal(number(&mut rest, 3, false)?.0))?,
            'E' => {
                name(&mut rest, &DAYS).ok_or_else(bad)?;
            }
            'e' => {
                number(&mut rest, 1, false)?;
            }
            'H' => set(parsed.set_hour(number(&mut rest, 2, false)?.0))?,
            'k' => set(parsed.set_hour(number(&mut rest, 2, false)?.0 % 24))?,
            'h' => hour12 = Some(number(&mut rest, 2, false)?.0 % 12),
            'K' => hour12 = Some(number(&mut rest, 2, false)?.0),
            'a' => {
                let lower = rest.get(..2).map(str::to_ascii_lowercase);
                pm = Some(match lower.as_deref() {
                    Some("am") => false,
                    Some("pm") => true,
                    _ => return Err(bad()),
                });
                rest = &rest[2..];
            }
            'm' => set(parsed.set_minute(number(&mut rest, 2, false)?.0))?,
            's' => set(parsed.set_second(number(&mut rest, 2, false)?.0))?,
            'S' => {
                let (v, digits) = number(&mut rest, 9, false)?;
                set(parsed.set_nanosecond(v * 10_i64.pow(9 - digits as u32)))?;
            }
            'Z' if n >= 3 => {
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "/_-+".contains(c))).unwrap_or(rest.len());
                zone = Some(ParsedZone::Named(rest[..end].to_string()));
                rest = &rest[end..];
            }
            'Z' => {
                let (seconds, r) = utc_offset(rest).ok_or_else(bad)?;
                rest = r;
                zone = Some(ParsedZone::Offset(seconds));
            }
            'z' => return Err(format!("Parsing of time zone names is not supported: \"{text}\"")),
            'G' => rest = rest.strip_prefix("AD").ok_or_else(bad)?,
            other => return Err(format!("Joda pattern letter {other:?} not supported")),
        }
    }
    if !rest.is_empty() {
        return Err(format!("Invalid format: \"{text}\" is malformed at \"{rest}\""));
    }
    match (hour12, pm) {
        (Some(h), Some(pm)) => parsed.set_hour(h + if pm { 12 } else { 0 }).map_err(|_| bad())?,
        (Some(h), None) => parsed.set_hour(h).map_err(|_| bad())?,
        (None, Some(_)) | (None, None) => {}
    }
    let local = complete(&mut parsed).to_naive_datetime_with_offset(0).map_err(|e| format!("{}: {e}", bad()))?;
    Ok((local, zone))
}

/// The number at the start of `rest` (at most `max` digits; a sign first when `signed`) and
/// how many digits it had; `rest` moves past it.
fn leading_number(rest: &mut &str, max: usize, signed: bool) -> Option<(i64, usize)> {
    let negative = signed && rest.starts_with('-');
    let start = usize::from(signed && (rest.starts_with('-') || rest.starts_with('+')));
    let digits = rest[start..].bytes().take(max).take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let v: i64 = rest[start..start + digits].parse().ok()?;
    *rest = &rest[start + digits..];
    Some((if negative { -v } else { v }, digits))
}

/// The index of the name (or its first three letters) `rest` starts with, case-insensitively,
/// and `rest` after it.
fn name(rest: &mut &str, names: &[&str]) -> Option<usize> {
    let lower = rest.to_ascii_lowercase();
    let (i, len) = names.iter().enumerate().find_map(|(i, full)| {
        if lower.starts_with(full) {
            Some((i, full.len()))
        } else if lower.starts_with(&full[..3]) {
            Some((i, 3))
        } else {
            None
        }
    })?;
    *rest = &rest[len..];
    Some(i)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn mysql(t: &NaiveDateTime, pattern: &str) -> Result<String, String> {
        let mut out = String::new();
        mysql_format(t, pattern, &mut out).map(|_| out)
    }

    fn joda(t: &NaiveDateTime, pattern: &str) -> Result<String, String> {
        let mut out = String::new();
        joda_format(t, &UTC, pattern, &mut out).map(|_| out)
    }

    fn at(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32, ms: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_milli_opt(h, mi, s, ms).unwrap()
    }

    #[test]
    fn mysql_patterns_round_trip() {
        let t = at(2022, 2, 4, 17, 5, 9, 321);
        assert_eq!(mysql(&t, "%Y-%m-%d %H:%i:%s.%f").unwrap(), "2022-02-04 17:05:09.321000");
        assert_eq!(
            mysql(&t, "%a %b %e %l:%i %p, %W %M %c %j %y %T %r %%").unwrap(),
            "Fri Feb 4 5:05 PM, Friday February 2 035 22 17:05:09 05:05:09 PM %"
        );
        assert!(mysql(&t, "%D").unwrap_err().contains("%D"));
        assert_eq!(mysql_parse("2022-02-04 17:05:09", "%Y-%m-%d %H:%i:%s").unwrap(), at(2022, 2, 4, 17, 5, 9, 0));
        assert_eq!(mysql_parse("04/02/2022", "%d/%m/%Y").unwrap(), at(2022, 2, 4, 0, 0, 0, 0));
        assert_eq!(mysql_parse("2022", "%Y").unwrap(), at(2022, 1, 1, 0, 0, 0, 0));
        assert_eq!(mysql_parse("05:10 PM", "%h:%i %p").unwrap(), at(1970, 1, 1, 17, 10, 0, 0));
        // Joda-Time's refusals, as Trino passes them on.
        assert_eq!(
            mysql_parse("2022-13-01", "%Y-%m-%d").unwrap_err(),
            "Cannot parse \"2022-13-01\": Value 13 for monthOfYear must be in the range [1,12]"
        );
        assert_eq!(mysql_parse("2022-1x", "%Y-%m").unwrap_err(), "Invalid format: \"2022-1x\" is malformed at \"x\"");
        assert_eq!(mysql_parse("2022-", "%Y-%m").unwrap_err(), "Invalid format: \"2022-\" is too short");
    }

    #[test]
    fn joda_patterns() {
        let t = at(2022, 2, 4, 7, 5, 9, 321);
        assert_eq!(joda(&t, "yyyy-MM-dd HH:mm:ss.SSS").unwrap(), "2022-02-04 07:05:09.321");
        assert_eq!(
            joda(&t, "dd/MM/yy 'às' h:mm a, EEEE, MMMM (D) ''x''").unwrap(),
            "04/02/22 às 7:05 AM, Friday, February (35) '2022'"
        );
        assert!(joda(&t, "zzzz").is_err());
        assert_eq!(joda(&t, "Z|ZZ|ZZZ|z").unwrap(), "+0000|+00:00|UTC|UTC");
        let mut out = String::new();
        let zone = JodaZone { id: "America/Sao_Paulo", offset: -3 * 3600 - 30 * 60, short: "-03" };
        joda_format(&t, &zone, "Z ZZ ZZZZ z", &mut out).unwrap();
        assert_eq!(out, "-0330 -03:30 America/Sao_Paulo -03");
    }

    #[test]
    fn joda_parses_as_joda_reads() {
        let parse = joda_parse;
        assert_eq!(
            parse("2022-02-04 17:05:09.3", "yyyy-MM-dd HH:mm:ss.SSS").unwrap(),
            (at(2022, 2, 4, 17, 5, 9, 300), None)
        );
        assert_eq!(parse("04 fEbruary 2022", "dd MMMM yyyy").unwrap().0, at(2022, 2, 4, 0, 0, 0, 0));
        assert_eq!(parse("Fri, 04 Feb 2022", "EEE, dd MMM yyyy").unwrap().0, at(2022, 2, 4, 0, 0, 0, 0));
        assert_eq!(parse("220204", "yyMMdd").unwrap().0, at(2022, 2, 4, 0, 0, 0, 0));
        assert_eq!(parse("12:00 AM", "hh:mm a").unwrap().0, at(1970, 1, 1, 0, 0, 0, 0));
        assert_eq!(parse("12:00 pm", "hh:mm a").unwrap().0, at(1970, 1, 1, 12, 0, 0, 0));
        assert_eq!(parse("2022-035", "yyyy-DDD").unwrap().0, at(2022, 2, 4, 0, 0, 0, 0));
        assert_eq!(parse("it's 2022", "'it''s' yyyy").unwrap().0, at(2022, 1, 1, 0, 0, 0, 0));
        assert_eq!(parse("2022 Z", "yyyy Z").unwrap().1, Some(ParsedZone::Offset(0)));
        assert_eq!(parse("2022 -0330", "yyyy Z").unwrap().1, Some(ParsedZone::Offset(-(3 * 3600 + 30 * 60))));
        assert_eq!(parse("2022 Europe/Lisbon", "yyyy ZZZ").unwrap().1, Some(ParsedZone::Named("Europe/Lisbon".into())));
        for (bad, pattern) in [
            ("2022-02-30", "yyyy-MM-dd"),
            ("2022-02", "yyyy-MM-dd"),
            ("2022x", "yyyy"),
            ("x", "yyyy"),
            ("2022 CET", "yyyy z"),
        ] {
            assert!(parse(bad, pattern).is_err(), "{bad}");
        }
    }
}
