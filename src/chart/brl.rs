//! Numbers and dates as a Brazilian reader writes them: a comma before the decimals, dots
//! between thousands, `mil`/`mi`/`bi` for large amounts, `R$` before money, days first.

use chrono::NaiveDate;

/// What the numbers of an axis or a label measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Money in reais: `R$ 1,2 bi`.
    Brl,
    /// A price in reais, to the cent: `R$ 32,63`.
    Price,
    /// A plain quantity: `1,2 mi`.
    Count,
}

impl Unit {
    /// A value for an axis tick or a bar's label: short, rounded.
    pub fn short(self, v: f64) -> String {
        match self {
            Unit::Brl => format!("R$ {}", compact(v)),
            Unit::Price => format!("R$ {}", decimal(v, 2)),
            Unit::Count => compact(v),
        }
    }
}

/// `1,2 bi`, `345 mi`, `12,5 mil`, `950`: at most three significant digits and a scale word.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, word) = if a >= 1e12 {
        (v / 1e12, " tri")
    } else if a >= 1e9 {
        (v / 1e9, " bi")
    } else if a >= 1e6 {
        (v / 1e6, " mi")
    } else if a >= 1e3 {
        (v / 1e3, " mil")
    } else {
        (v, "")
    };
    let decimals = if scaled.abs() >= 100.0 || (word.is_empty() && scaled.fract() == 0.0) {
        0
    } else if scaled.abs() >= 10.0 {
        1
    } else {
        // Below ten, one decimal unless a small number needs two to differ from zero.
        if word.is_empty() && scaled.abs() < 1.0 { 2 } else { 1 }
    };
    let text = decimal(scaled, decimals);
    // `2,0 bi` reads as `2 bi`.
    let text = text.strip_suffix(",0").map(str::to_string).unwrap_or(text);
    format!("{text}{word}")
}

/// `1.234.567,89`: `decimals` places, a comma before them, dots between thousands.
pub fn decimal(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let negative = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::with_capacity(s.len() + 4);
    if negative {
        out.push('-');
    }
    out.push_str(&group(int));
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// An exact decimal's digits (`1234567.80`, as Arrow prints a DECIMAL) in Brazilian form:
/// `1.234.567,80`. No rounding: every digit is kept.
pub fn exact(text: &str) -> String {
    let (sign, digits) = match text.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = format!("{sign}{}", group(int));
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

fn group(int: &str) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// `+1,3%`, `-0,5%`, `0,0%`.
pub fn percent(v: f64, decimals: usize) -> String {
    let text = decimal(v, decimals);
    if v > 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("+{text}%")
    } else {
        format!("{text}%")
    }
}

/// `1 pregão`, `5 pregões`.
pub fn sessions(n: usize) -> String {
    if n == 1 { "1 pregão".to_string() } else { format!("{} pregões", decimal(n as f64, 0)) }
}

/// `04/02/2022`.
pub fn date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_brazilians_write() {
        assert_eq!(compact(1_234_567_890.0), "1,2 bi");
        assert_eq!(compact(2_000_000_000.0), "2 bi");
        assert_eq!(compact(345_600_000.0), "346 mi");
        assert_eq!(compact(12_500.0), "12,5 mil");
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(0.25), "0,25");
        assert_eq!(compact(-3_400_000.0), "-3,4 mi");
        assert_eq!(Unit::Brl.short(2_139_338_183.0), "R$ 2,1 bi");
        assert_eq!(Unit::Price.short(1234.5), "R$ 1.234,50");
        assert_eq!(decimal(1234567.891, 2), "1.234.567,89");
        assert_eq!(decimal(-0.001, 2), "0,00");
        assert_eq!(decimal(999.0, 0), "999");
        assert_eq!(exact("2139338183.00"), "2.139.338.183,00");
        assert_eq!(exact("-1234.5"), "-1.234,5");
        assert_eq!(exact("12"), "12");
        assert_eq!(percent(1.25, 2), "+1,25%");
        assert_eq!(percent(-0.5, 1), "-0,5%");
        assert_eq!(percent(0.0, 1), "0,0%");
        assert_eq!(date(NaiveDate::from_ymd_opt(2022, 2, 4).unwrap()), "04/02/2022");
        assert_eq!((sessions(1).as_str(), sessions(1250).as_str()), ("1 pregão", "1.250 pregões"));
    }
}
