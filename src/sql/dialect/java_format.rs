//! Java's `String.format`, which Trino's `format` calls with each SQL value as the Java object
//! Trino makes of it: a `Long` of an integer, a `Double` of a double, a `BigDecimal` of a
//! decimal, a `LocalDate`, `LocalDateTime` or `ZonedDateTime` of a date or timestamp.
//!
//! A specifier is `%[index$][flags][width][.precision]conversion`, its index `n$` or `<` (the
//! previous argument); the conversions are `b s d o x e f g t` (and their upper case), `%` and
//! `n`. Numbers round half up from their shortest decimal digits, as Java's formatter rounds a
//! `double` (`%.1f` of `0.35` is `0.4`), and the flags `-#+ 0,(` apply as Java applies them.

use arrow::array::timezone::Tz;
use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use datafusion::common::ScalarValue;

/// `pattern` formatted with `values`, or Java's complaint.
pub fn format(pattern: &str, values: &[ScalarValue]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    let (mut ordinary, mut last) = (0, None::<usize>);
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let spec = Spec::read(&rest[at + 1..]).ok_or_else(|| format!("Unknown format conversion in '{pattern}'"))?;
        rest = &rest[at + 1 + spec.length..];
        spec.check()?;
        match spec.conversion {
            '%' => {
                out.push_str(&justify(&spec, "%".into()));
                continue;
            }
            'n' => {
                out.push('\n');
                continue;
            }
            _ => {}
        }
        let index = match spec.index {
            Index::Explicit(n) => n - 1,
            Index::Previous => last.ok_or_else(|| format!("Missing format argument for '%<{}'", spec.conversion))?,
            Index::Ordinary => {
                ordinary += 1;
                ordinary - 1
            }
        };
        let value = values.get(index).ok_or_else(|| format!("Format specifier '%{}' has no argument", spec.text))?;
        last = Some(index);
        out.push_str(&convert(&spec, value)?);
    }
    out.push_str(rest);
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Index {
    Ordinary,
    Explicit(usize),
    Previous,
}

/// One format specifier, read from the text after its `%`.
#[derive(Debug)]
struct Spec<'a> {
    text: &'a str,
    index: Index,
    flags: &'a str,
    width: Option<usize>,
    precision: Option<usize>,
    conversion: char,
    /// A date/time conversion's letter (`%tY`).
    suffix: Option<char>,
    length: usize,
}

impl<'a> Spec<'a> {
    fn read(text: &'a str) -> Option<Self> {
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let mut i = 0;
        let mut index = Index::Ordinary;
        let lead = digits(text);
        if lead > 0 && text[lead..].starts_with('$') {
            index = Index::Explicit(text[..lead].parse().ok().filter(|n| *n > 0)?);
            i = lead + 1;
        } else if text.starts_with('<') {
            index = Index::Previous;
            i = 1;
        }
        let flags_end = i + text[i..].bytes().take_while(|b| b"-#+ 0,(".contains(b)).count();
        let flags = &text[i..flags_end];
        i = flags_end;
        let w = digits(&text[i..]);
        let width = (w > 0).then(|| text[i..i + w].parse().ok()).flatten();
        i += w;
        let mut precision = None;
        if text[i..].starts_with('.') {
            let p = digits(&text[i + 1..]);
            if p == 0 {
                return None;
            }
            precision = text[i + 1..i + 1 + p].parse().ok();
            i += 1 + p;
        }
        let conversion = text[i..].chars().next()?;
        i += conversion.len_utf8();
        let mut suffix = None;
        if matches!(conversion, 't' | 'T') {
            let s = text[i..].chars().next()?;
            suffix = Some(s);
            i += s.len_utf8();
        }
        Some(Spec { text: &text[..i], index, flags, width, precision, conversion, suffix, length: i })
    }

    fn flag(&self, f: char) -> bool {
        self.flags.contains(f)
    }

    /// The specifier's own faults, which Java's formatter refuses before reading a value.
    fn check(&self) -> Result<(), String> {
        let c = self.conversion;
        if let Some(f) = self.flags.chars().find(|f| self.flags.matches(*f).count() > 1) {
            return Err(format!("DuplicateFormatFlags: Flags = '{f}'"));
        }
        if let (Some(p), 'd' | 'o' | 'x' | 'X' | 'c' | 'C' | 't' | 'T' | '%' | 'n') = (self.precision, c) {
            return Err(format!("IllegalFormatPrecision: {p}"));
        }
        if let (Some(w), 'n') = (self.width, c) {
            return Err(format!("IllegalFormatWidth: {w}"));
        }
        if self.flag('-') && self.flag('0') {
            return Err(format!("IllegalFormatFlags: Flags = '{}'", self.flags));
        }
        if (self.flag('-') || self.flag('0')) && self.width.is_none() {
            return Err(format!("MissingFormatWidth: %{}", self.text));
        }
        if matches!(c, 's' | 'S' | 'b' | 'B' | 'h' | 'H')
            && let Some(f) = self.flags.chars().find(|f| !matches!(f, '-' | '#'))
        {
            return Err(format!("FormatFlagsConversionMismatch: Conversion = {c}, Flags = {f}"));
        }
        Ok(())
    }
}

/// Pads to the width (left-justified with `-`).
fn justify(spec: &Spec, text: String) -> String {
    let pad = spec.width.unwrap_or(0).saturating_sub(text.chars().count());
    if spec.flag('-') { format!("{text}{}", " ".repeat(pad)) } else { format!("{}{text}", " ".repeat(pad)) }
}

fn convert(spec: &Spec, value: &ScalarValue) -> Result<String, String> {
    let c = spec.conversion;
    let mismatch = || format!("%{c} != {}", java_class(value));
    let text = match c.to_ascii_lowercase() {
        'b' => {
            let b = match value {
                ScalarValue::Boolean(Some(b)) => *b,
                v => !v.is_null(),
            };
            truncate(spec, b.to_string())
        }
        's' => truncate(spec, if value.is_null() { "null".into() } else { java_text(value) }),
        _ if value.is_null() => "null".into(),
        'd' => match value {
            ScalarValue::Int64(Some(i)) => signed(spec, &i.to_string())?,
            _ => return Err(mismatch()),
        },
        'o' | 'x' => {
            let ScalarValue::Int64(Some(i)) = value else { return Err(mismatch()) };
            let (digits, prefix) =
                if c.eq_ignore_ascii_case(&'x') { (format!("{i:x}"), "0x") } else { (format!("{i:o}"), "0") };
            let prefix = if spec.flag('#') { prefix } else { "" };
            let pad = spec.width.unwrap_or(0).saturating_sub(prefix.len() + digits.len());
            if spec.flag('0') { format!("{prefix}{}{digits}", "0".repeat(pad)) } else { format!("{prefix}{digits}") }
        }
        'e' | 'f' | 'g' => {
            let digits = match value {
                ScalarValue::Float64(Some(f)) if f.is_nan() => return Ok(justify(spec, cased(c, "NaN".into()))),
                ScalarValue::Float64(Some(f)) if f.is_infinite() => {
                    let text = if *f > 0.0 { "Infinity" } else { "-Infinity" };
                    return Ok(justify(spec, cased(c, text.into())));
                }
                ScalarValue::Float64(Some(f)) => format!("{f}"),
                ScalarValue::Decimal128(Some(v), _, s) => decimal_text(*v, *s),
                _ => return Err(mismatch()),
            };
            let precision = spec.precision.unwrap_or(6);
            let text = match c.to_ascii_lowercase() {
                'f' => fixed(&digits, precision),
                'e' => scientific(&digits, precision),
                _ => general(&digits, precision),
            };
            signed(spec, &text)?
        }
        't' => datetime(spec, value)?,
        _ => return Err(format!("Unknown format conversion '{c}'")),
    };
    Ok(justify(spec, cased(c, text)))
}

/// Upper case for the upper-case conversions (`%S`, `%X`, `%E`, `%T...`).
fn cased(c: char, text: String) -> String {
    if c.is_ascii_uppercase() { text.to_uppercase() } else { text }
}

fn truncate(spec: &Spec, text: String) -> String {
    match spec.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text,
    }
}

/// A number's text (`-1234.5`) with the sign flags, grouping and zero padding.
fn signed(spec: &Spec, text: &str) -> Result<String, String> {
    let (negative, magnitude) = match text.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, text),
    };
    let magnitude = if spec.flag(',') { grouped(magnitude) } else { magnitude.to_string() };
    let (before, after) = match (negative, spec.flag('(')) {
        (true, true) => ("(", ")"),
        (true, false) => ("-", ""),
        (false, _) if spec.flag('+') => ("+", ""),
        (false, _) if spec.flag(' ') => (" ", ""),
        _ => ("", ""),
    };
    let zeros = if spec.flag('0') {
        let used = before.len() + magnitude.chars().count() + after.len();
        "0".repeat(spec.width.unwrap_or(0).saturating_sub(used))
    } else {
        String::new()
    };
    Ok(format!("{before}{zeros}{magnitude}{after}"))
}

/// Groups of three digits before the point, separated by commas.
fn grouped(magnitude: &str) -> String {
    let (int, rest) = magnitude.split_at(magnitude.find(['.', 'e', 'E']).unwrap_or(magnitude.len()));
    let mut out = String::new();
    for (i, d) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out + rest
}

fn decimal_text(v: i128, scale: i8) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let digits = v.unsigned_abs().to_string();
    if scale <= 0 {
        return format!("{sign}{digits}{}", "0".repeat(scale.unsigned_abs() as usize));
    }
    let scale = scale as usize;
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A decimal text's sign, its digits without the point, and where the point goes.
pub(super) fn parts(text: &str) -> (bool, Vec<u8>, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    (negative, digits, int.len() as i64)
}

/// Rounds `digits` half up to `keep` of them (carrying into a new leading digit); the point
/// moves right by one when the carry adds a digit.
pub(super) fn round(digits: &[u8], keep: usize) -> (Vec<u8>, bool) {
    if digits.len() <= keep {
        let mut d = digits.to_vec();
        d.resize(keep, 0);
        return (d, false);
    }
    let mut d = digits[..keep].to_vec();
    if digits[keep] >= 5 {
        let mut i = keep;
        loop {
            if i == 0 {
                d.insert(0, 1);
                return (d, true);
            }
            i -= 1;
            if d[i] == 9 {
                d[i] = 0;
            } else {
                d[i] += 1;
                break;
            }
        }
    }
    (d, false)
}

fn text_of(d: &[u8]) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// `%.pf`: `p` digits after the point, rounded half up.
fn fixed(text: &str, p: usize) -> String {
    let (negative, digits, point) = parts(text);
    // Digits before the point (at least one) and `p` after.
    let (digits, point) = if point <= 0 {
        let mut d = vec![0; (1 - point) as usize];
        d.extend(digits);
        (d, 1)
    } else {
        (digits, point)
    };
    let (d, carried) = round(&digits, point as usize + p);
    let point = point as usize + usize::from(carried);
    let (int, frac) = d.split_at(point);
    let sign = if negative { "-" } else { "" };
    if p == 0 { format!("{sign}{}", text_of(int)) } else { format!("{sign}{}.{}", text_of(int), text_of(frac)) }
}

/// `%.pe`: one digit, the point, `p` digits, and a signed exponent of two digits at least.
fn scientific(text: &str, p: usize) -> String {
    let (negative, digits, point) = parts(text);
    let sign = if negative { "-" } else { "" };
    let Some(first) = digits.iter().position(|x| *x != 0) else {
        let zeros = if p == 0 { String::new() } else { format!(".{}", "0".repeat(p)) };
        return format!("{sign}0{zeros}e+00");
    };
    let (d, carried) = round(&digits[first..], p + 1);
    let exponent = point - first as i64 - 1 + i64::from(carried);
    let d = &d[..p + 1];
    let mantissa = if p == 0 { text_of(d) } else { format!("{}.{}", text_of(&d[..1]), text_of(&d[1..])) };
    let esign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}e{esign}{:02}", exponent.abs())
}

/// `%.pg`: fixed when the rounded value is at least 10^-4 and below 10^p, else scientific
/// (Java's rule; trailing zeros kept).
fn general(text: &str, p: usize) -> String {
    let p = p.max(1);
    let (_, digits, point) = parts(text);
    let exponent = match digits.iter().position(|x| *x != 0) {
        None => 0,
        Some(first) => point - first as i64 - 1 + i64::from(round(&digits[first..], p).1),
    };
    if (-4..p as i64).contains(&exponent) {
        fixed(text, (p as i64 - 1 - exponent) as usize)
    } else {
        scientific(text, p - 1)
    }
}

/// The class Java's complaint names for a value.
fn java_class(v: &ScalarValue) -> &'static str {
    match v {
        ScalarValue::Int64(_) => "java.lang.Long",
        ScalarValue::Float64(_) => "java.lang.Double",
        ScalarValue::Decimal128(..) => "java.math.BigDecimal",
        ScalarValue::Boolean(_) => "java.lang.Boolean",
        ScalarValue::Date32(_) => "java.time.LocalDate",
        ScalarValue::Time32Second(_)
        | ScalarValue::Time32Millisecond(_)
        | ScalarValue::Time64Microsecond(_)
        | ScalarValue::Time64Nanosecond(_) => "java.time.LocalTime",
        ScalarValue::TimestampSecond(_, None)
        | ScalarValue::TimestampMillisecond(_, None)
        | ScalarValue::TimestampMicrosecond(_, None)
        | ScalarValue::TimestampNanosecond(_, None) => "java.time.LocalDateTime",
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => "java.time.ZonedDateTime",
        _ => "java.lang.String",
    }
}

/// A date, a timestamp's local time, or a zoned timestamp: what `%t` reads.
enum When {
    Date(chrono::NaiveDate),
    Time(chrono::NaiveTime),
    Local(NaiveDateTime),
    Zoned(chrono::DateTime<Tz>),
}

fn when(v: &ScalarValue) -> Option<When> {
    let (nanos, zone) = match v {
        ScalarValue::Date32(Some(d)) => {
            return chrono::NaiveDate::from_num_days_from_ce_opt(*d + 719_163).map(When::Date);
        }
        ScalarValue::Time64Nanosecond(Some(n)) => return time_of_day(*n),
        ScalarValue::Time64Microsecond(Some(n)) => return time_of_day(n.checked_mul(1_000)?),
        ScalarValue::Time32Millisecond(Some(n)) => return time_of_day(i64::from(*n) * 1_000_000),
        ScalarValue::Time32Second(Some(n)) => return time_of_day(i64::from(*n) * 1_000_000_000),
        ScalarValue::TimestampSecond(Some(s), z) => (s.checked_mul(1_000_000_000)?, z),
        ScalarValue::TimestampMillisecond(Some(s), z) => (s.checked_mul(1_000_000)?, z),
        ScalarValue::TimestampMicrosecond(Some(s), z) => (s.checked_mul(1_000)?, z),
        ScalarValue::TimestampNanosecond(Some(s), z) => (*s, z),
        _ => return None,
    };
    let utc = chrono::DateTime::from_timestamp_nanos(nanos).naive_utc();
    Some(match zone {
        None => When::Local(utc),
        Some(z) => When::Zoned(z.parse::<Tz>().ok()?.from_utc_datetime(&utc)),
    })
}

fn time_of_day(nanos: i64) -> Option<When> {
    let (seconds, nanos) = (u32::try_from(nanos.div_euclid(1_000_000_000)).ok()?, (nanos % 1_000_000_000) as u32);
    chrono::NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos).map(When::Time)
}

/// `%t` and `%T` with their letter, as Java's `Formatter` spells each field.
fn datetime(spec: &Spec, v: &ScalarValue) -> Result<String, String> {
    let letter = spec.suffix.unwrap_or(' ');
    let w = when(v).ok_or_else(|| format!("%t{letter} != {}", java_class(v)))?;
    let unsupported = || format!("Unsupported field for %t{letter} of {}", java_class(v));
    let (local, zoned) = match &w {
        When::Date(d) => (d.and_hms_opt(0, 0, 0).unwrap_or_default(), None),
        When::Time(t) => (NaiveDateTime::new(chrono::NaiveDate::default(), *t), None),
        When::Local(t) => (*t, None),
        When::Zoned(t) => (t.naive_local(), Some(t)),
    };
    let has_time = !matches!(w, When::Date(_));
    // A time of day has no date (Java's LocalTime refuses the date's fields).
    let date_part =
        |f: &str| if matches!(w, When::Time(_)) { Err(unsupported()) } else { Ok(local.format(f).to_string()) };
    let time_part = |f: &str| if has_time { Ok(local.format(f).to_string()) } else { Err(unsupported()) };
    let zone_part = |f: &str| zoned.map(|t| t.format(f).to_string()).ok_or_else(unsupported);
    // A named zone's abbreviation (`EDT`, `UTC`), as Java's `%tZ` writes it; an offset's own.
    let zone_name = || {
        let named = match v {
            ScalarValue::TimestampSecond(_, Some(z))
            | ScalarValue::TimestampMillisecond(_, Some(z))
            | ScalarValue::TimestampMicrosecond(_, Some(z))
            | ScalarValue::TimestampNanosecond(_, Some(z)) => z.parse::<chrono_tz::Tz>().ok(),
            _ => None,
        };
        match (named, zoned) {
            (Some(tz), Some(t)) => match super::datetime::short_name(&tz, &t.naive_utc()) {
                Some(name) => Ok(name),
                None => zone_part("%Z"),
            },
            _ => zone_part("%Z"),
        }
    };
    match letter {
        'Y' => Ok(format!("{:04}", local.year())),
        'y' => date_part("%y"),
        'C' => Ok(format!("{:02}", local.year().div_euclid(100))),
        'B' => date_part("%B"),
        'b' | 'h' => date_part("%b"),
        'A' => date_part("%A"),
        'a' => date_part("%a"),
        'm' => date_part("%m"),
        'd' => date_part("%d"),
        'e' => Ok(local.day().to_string()),
        'j' => date_part("%j"),
        'F' => date_part("%Y-%m-%d"),
        'D' => date_part("%m/%d/%y"),
        'H' => time_part("%H"),
        'I' => time_part("%I"),
        'k' => time_part("%-H"),
        'l' => time_part("%-I"),
        'M' => time_part("%M"),
        'S' => time_part("%S"),
        'L' => time_part("%3f"),
        'N' => time_part("%9f"),
        'p' => time_part("%P"),
        'R' => time_part("%H:%M"),
        'T' => time_part("%H:%M:%S"),
        'r' => time_part("%I:%M:%S %p"),
        'z' => zone_part("%z"),
        'Z' => zone_name(),
        'c' => Ok(format!("{} {} {}", time_part("%a %b %d %H:%M:%S")?, zone_name()?, local.format("%Y"))),
        's' | 'Q' => {
            // An instant: a zoned timestamp's alone (Java refuses a local one).
            let instant = zoned.ok_or_else(unsupported)?.timestamp_millis();
            Ok(if letter == 's' { instant.div_euclid(1000).to_string() } else { instant.to_string() })
        }
        other => Err(format!("Unknown date/time conversion '{other}'")),
    }
}

/// A value as Java's `toString` spells it, as `%s` shows it: a double as `Double.toString`, a
/// decimal with its scale, a timestamp as a `LocalDateTime` (`2020-05-01T12:34:56.100`: seconds
/// left out when they and the fraction are zero, the fraction in groups of three digits).
fn java_text(v: &ScalarValue) -> String {
    match (v, when(v)) {
        (ScalarValue::Utf8(Some(s)), _) => s.clone(),
        (ScalarValue::Float64(Some(f)), _) => super::text::float(*f, super::text::Double::Shown),
        (ScalarValue::Decimal128(Some(d), _, s), _) => decimal_text(*d, *s),
        (_, Some(When::Local(t))) => java_datetime(t),
        (_, Some(When::Time(t))) => java_datetime(NaiveDateTime::new(chrono::NaiveDate::default(), t))
            .split_once('T')
            .map_or_else(String::new, |(_, time)| time.to_string()),
        (_, Some(When::Zoned(t))) => {
            let zone = match v {
                ScalarValue::TimestampSecond(_, Some(z))
                | ScalarValue::TimestampMillisecond(_, Some(z))
                | ScalarValue::TimestampMicrosecond(_, Some(z))
                | ScalarValue::TimestampNanosecond(_, Some(z)) => z.as_ref(),
                _ => "UTC",
            };
            // ZonedDateTime's spelling: the offset, then the zone's name.
            let offset = t.format("%:z").to_string();
            let offset = if offset == "+00:00" { "Z" } else { offset.as_str() };
            format!("{}{offset}[{zone}]", java_datetime(t.naive_local()))
        }
        (other, _) => other.to_string(),
    }
}

fn java_datetime(t: NaiveDateTime) -> String {
    let nanos = t.nanosecond();
    let fraction = match nanos {
        0 => String::new(),
        n if n % 1_000_000 == 0 => format!(".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => format!(".{:06}", n / 1_000),
        n => format!(".{n:09}"),
    };
    if t.second() == 0 && nanos == 0 {
        t.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        format!("{}{fraction}", t.format("%Y-%m-%dT%H:%M:%S"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pattern: &str, values: &[ScalarValue]) -> String {
        format(pattern, values).unwrap()
    }

    #[test]
    fn numbers_round_half_up_from_their_shortest_digits() {
        let d = |x: f64| ScalarValue::Float64(Some(x));
        assert_eq!(f("%.1f", &[d(0.35)]), "0.4");
        assert_eq!(f("%.1f", &[d(0.25)]), "0.3");
        assert_eq!(f("%.0f", &[d(9.5)]), "10");
        assert_eq!(f("%.2f", &[d(-0.001)]), "-0.00");
        assert_eq!(f("%e", &[d(12345.678)]), "1.234568e+04");
        assert_eq!(f("%.2e", &[d(0.000999)]), "9.99e-04");
        assert_eq!(f("%.1e", &[d(9.96)]), "1.0e+01");
        assert_eq!(f("%g", &[d(0.0001)]), "0.000100000");
        assert_eq!(f("%g", &[d(1234567.0)]), "1.23457e+06");
        assert_eq!(f("%,.2f", &[ScalarValue::Decimal128(Some(123456789), 9, 2)]), "1,234,567.89");
        assert_eq!(f("%(,d", &[ScalarValue::Int64(Some(-1234))]), "(1,234)");
        assert_eq!(f("%+08.2f", &[d(4.125)]), "+0004.13");
        assert_eq!(f("%#x %o", &[ScalarValue::Int64(Some(255)), ScalarValue::Int64(Some(8))]), "0xff 10");
    }

    #[test]
    fn arguments_by_index_and_again() {
        let s = |x: &str| ScalarValue::Utf8(Some(x.into()));
        assert_eq!(f("%2$s %3$s %1$s", &[s("a"), s("b"), s("c")]), "b c a");
        assert_eq!(f("%s %<S %s", &[s("a"), s("b")]), "a A b");
        assert!(format("%s %s", &[s("a")]).is_err());
    }
}
