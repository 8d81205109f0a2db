//! The two date pattern languages of Athena: MySQL's `%` specifiers (`date_format`,
//! `date_parse`) and Joda-Time's letters (`format_datetime`). Neither is strftime, which is
//! what DataFusion's `to_char` speaks, so they are interpreted here.

use std::fmt::Write;

use chrono::format::{Parsed, StrftimeItems};
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
    let mut strftime = String::with_capacity(pattern.len() * 2);
    for piece in mysql_pieces(pattern) {
        let spec = match piece {
            Piece::Literal(c) => {
                strftime.push(c);
                continue;
            }
            Piece::Spec(spec) => spec,
        };
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
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, StrftimeItems::new(&strftime))
        .map_err(|e| format!("invalid value {text:?} for format {pattern:?}: {e}"))?;
    complete(&mut parsed).to_naive_datetime_with_offset(0).map_err(|e| format!("invalid value {text:?}: {e}"))
}

/// Fills what a pattern left out with Joda-Time's defaults (1970-01-01 00:00:00).
fn complete(parsed: &mut Parsed) -> &mut Parsed {
    let week_date = parsed.isoweek().is_some();
    if parsed.year().is_none() && parsed.year_div_100().is_none() && parsed.isoyear().is_none() {
        let _ = parsed.set_year(1970);
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

/// `dt` formatted with a Joda-Time pattern, as Trino's `format_datetime` does.
pub fn joda_format(dt: &NaiveDateTime, pattern: &str, out: &mut String) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // 'text' is literal; '' is a quote.
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() {
                if chars[j] == '\'' {
                    if chars.get(j + 1) == Some(&'\'') {
                        out.push('\'');
                        j += 2;
                        continue;
                    }
                    break;
                }
                out.push(chars[j]);
                j += 1;
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let n = chars[i..].iter().take_while(|&&x| x == c).count();
        i += n;
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
            other => return Err(format!("Joda pattern letter {other:?} not supported")),
        };
        out.push_str(&text);
    }
    Ok(())
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
        joda_format(t, pattern, &mut out).map(|_| out)
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
        assert!(mysql_parse("2022-13-01", "%Y-%m-%d").is_err());
    }

    #[test]
    fn joda_patterns() {
        let t = at(2022, 2, 4, 7, 5, 9, 321);
        assert_eq!(joda(&t, "yyyy-MM-dd HH:mm:ss.SSS").unwrap(), "2022-02-04 07:05:09.321");
        assert_eq!(
            joda(&t, "dd/MM/yy 'às' h:mm a, EEEE, MMMM (D) ''x''").unwrap(),
            "04/02/22 às 7:05 AM, Friday, February (35) '2022'"
        );
        assert!(joda(&t, "zzz").is_err());
    }
}
