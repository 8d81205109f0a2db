//! From `GetPortfolioDay`'s JSON to a [`Portfolio`]: exact numbers, dates in the answer's
//! language, and the checks that tell a whole answer from a broken one.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Deserialize;

use super::{Language, Member, Portfolio, PortfolioError, QUANTITY, REDUCER, WEIGHT};

/// One page as B3 sends it. Every value is text; fields B3 may leave out are optional.
#[derive(Debug, Deserialize)]
pub(super) struct Page {
    pub page: PageInfo,
    pub header: Option<Header>,
    #[serde(default)]
    pub results: Option<Vec<Row>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageInfo {
    pub page_number: Option<u32>,
    pub total_records: Option<u64>,
    pub total_pages: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Header {
    date: Option<String>,
    part: Option<String>,
    reductor: Option<String>,
    theorical_qty: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Row {
    segment: Option<String>,
    cod: Option<String>,
    asset: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    part: Option<String>,
    part_acum: Option<String>,
    theorical_qty: Option<String>,
}

/// The body as text: UTF-8 as B3 sends it today, or Latin-1 (its older encoding) when the
/// bytes are not UTF-8, which loses nothing.
pub(super) fn text_of(body: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(body) {
        Ok(text) => text.into(),
        Err(_) => crate::source::cotahist::record::latin1(body).into(),
    }
}

/// Reads one page. `origin` names the URL or file in errors.
pub(super) fn page(body: &[u8], origin: &str) -> Result<Page, PortfolioError> {
    if crate::source::looks_like_html(body) {
        return Err(PortfolioError::Html { origin: origin.to_string() });
    }
    let text = text_of(body);
    if text.trim().is_empty() {
        return Err(PortfolioError::Malformed { origin: origin.to_string(), detail: "the answer is empty".into() });
    }
    serde_json::from_str(&text)
        .map_err(|e| PortfolioError::Malformed { origin: origin.to_string(), detail: e.to_string() })
}

/// An exact decimal with `scale` digits after the point, as an integer (`2,728` at scale 3
/// in pt-br is 2728). Groups of thousands are optional but, when present, must be whole
/// (`1.481.593.024`); more decimals than `scale` is an error rather than a rounding.
pub fn parse_decimal(text: &str, language: Language, (precision, scale): (u8, i8)) -> Result<i128, String> {
    let (group, point) = language.separators();
    let s = text.trim();
    let bad = |why: &str| {
        format!("{s:?} is not a number in {language} format (thousands {group:?}, decimals {point:?}): {why}")
    };
    if s.is_empty() {
        return Err("empty".to_string());
    }
    let (whole, fraction) = match s.split_once(point) {
        Some((w, f)) => (w, Some(f)),
        None => (s, None),
    };
    if whole.is_empty() {
        return Err(bad("no digits before the decimal separator"));
    }
    let groups: Vec<&str> = whole.split(group).collect();
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return Err(bad("misplaced thousands separator"));
        }
    }
    let digits: String = groups.concat();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a digit"));
    }
    let fraction = fraction.unwrap_or("");
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a digit after the decimal separator"));
    }
    let scale = scale as usize;
    if fraction.len() > scale {
        return Err(bad(&format!("{} decimals; the column keeps {scale}", fraction.len())));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() + scale > precision as usize {
        return Err(bad(&format!("more than {} digits before the decimal separator", precision as usize - scale)));
    }
    let padded = format!("{significant}{fraction:0<scale$}");
    Ok(if padded.is_empty() { 0 } else { padded.parse().map_err(|_| bad("out of range"))? })
}

/// `08/12/22` is 8 December 2022 in pt-br and 12 August 2022 in en-us; a four-digit year is
/// read as written.
pub fn parse_date(text: &str, language: Language) -> Result<NaiveDate, String> {
    let s = text.trim();
    let bad = || {
        let order = if language == Language::PtBr { "dd/mm/yy" } else { "mm/dd/yy" };
        format!("{s:?} is not a date in {language} format ({order})")
    };
    let parts: Vec<&str> = s.split('/').collect();
    let [a, b, y] = parts[..] else { return Err(bad()) };
    let num = |p: &str| {
        (!p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let (Some(a), Some(b), Some(year)) = (num(a), num(b), num(y)) else { return Err(bad()) };
    let year = match y.len() {
        2 => 2000 + year as i32,
        4 => year as i32,
        _ => return Err(bad()),
    };
    let (day, month) = if language == Language::PtBr { (a, b) } else { (b, a) };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(bad)
}

/// Reads a number, and when it fails but the text is a number in the other language, says so.
fn number(text: &str, language: Language, ty: (u8, i8)) -> Result<i128, String> {
    parse_decimal(text, language, ty).map_err(|detail| {
        let other = if language == Language::PtBr { Language::EnUs } else { Language::PtBr };
        match parse_decimal(text, other, ty) {
            Ok(_) => format!("{detail} (it reads as {other}: is --language right?)"),
            Err(_) => detail,
        }
    })
}

/// Text as published, trimmed; `None` when empty.
fn text(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// Joins an answer's pages into a portfolio, checking that they make one whole answer.
pub(super) fn portfolio(
    pages: Vec<Page>,
    index: &str,
    language: Language,
    origin: &str,
) -> Result<Portfolio, PortfolioError> {
    let inconsistent = |detail: String| PortfolioError::Inconsistent { origin: origin.to_string(), detail };
    let first = pages.first().ok_or_else(|| inconsistent("no page".into()))?;
    let total_records = first.page.total_records;
    let header = first.header.as_ref();
    let rows: Vec<&Row> = pages.iter().flat_map(|p| p.results.iter().flatten()).collect();
    if rows.is_empty() {
        return Err(PortfolioError::Empty { origin: origin.to_string(), index: index.to_string() });
    }
    let Some(header) = header else {
        return Err(PortfolioError::Malformed { origin: origin.to_string(), detail: "no header".into() });
    };
    let head_field =
        |field: &'static str, detail: String| PortfolioError::Header { origin: origin.to_string(), field, detail };
    fn present(value: &Option<String>) -> Option<&str> {
        value.as_deref().filter(|v| !v.trim().is_empty())
    }
    let required = |field: &'static str, value| present(value).ok_or_else(|| head_field(field, "missing".into()));
    let date = parse_date(required("date", &header.date)?, language).map_err(|d| head_field("date", d))?;
    let total_quantity = number(required("theoricalQty", &header.theorical_qty)?, language, QUANTITY)
        .map_err(|d| head_field("theoricalQty", d))?;
    let reducer =
        number(required("reductor", &header.reductor)?, language, REDUCER).map_err(|d| head_field("reductor", d))?;
    for p in &pages[1..] {
        let other = p.header.as_ref().and_then(|h| h.date.as_deref()).map(|d| parse_date(d, language));
        if let Some(Ok(other)) = other
            && other != date
        {
            return Err(inconsistent(format!(
                "page {} is of {other}, page 1 of {date}",
                p.page.page_number.unwrap_or(0)
            )));
        }
    }

    let mut members = Vec::with_capacity(rows.len());
    let mut seen = HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let code = text(&row.cod);
        let field = |field: &'static str, detail: String| PortfolioError::Field {
            origin: origin.to_string(),
            row: i + 1,
            ticker: code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(),
            field,
            detail,
        };
        let Some(code) = code.clone() else { return Err(field("cod", "missing".into())) };
        let required_number = |name: &'static str, value: &Option<String>, ty| {
            let value = present(value).ok_or_else(|| field(name, "missing".into()))?;
            number(value, language, ty).map_err(|d| field(name, d))
        };
        let quantity = required_number("theoricalQty", &row.theorical_qty, QUANTITY)?;
        let weight = required_number("part", &row.part, WEIGHT)?;
        let weight_accumulated = match text(&row.part_acum) {
            Some(v) => Some(number(&v, language, WEIGHT).map_err(|d| field("partAcum", d))?),
            None => None,
        };
        if !seen.insert(code.clone()) {
            return Err(field("cod", format!("{code} appears twice")));
        }
        let (segment, asset, kind) = (text(&row.segment), text(&row.asset), text(&row.kind));
        let replaced_text = [&segment, &asset, &kind, &Some(code.clone())]
            .iter()
            .any(|t| t.as_deref().is_some_and(|t| t.contains('\u{FFFD}')));
        members.push(Member { segment, code, asset, kind, quantity, weight, weight_accumulated, replaced_text });
    }

    // The checks that catch a lost page, a half answer or the wrong language.
    if let Some(total) = total_records
        && total != members.len() as u64
    {
        return Err(inconsistent(format!("B3 announced {total} members and sent {}", members.len())));
    }
    let quantities: i128 = members.iter().map(|m| m.quantity).sum();
    if quantities != total_quantity {
        return Err(inconsistent(format!(
            "the members' theoretical quantities add up to {quantities}, the header's total is {total_quantity}"
        )));
    }
    // Weights have three decimals each: their sum may miss 100 by half a unit of the last
    // place per member.
    let weights: i128 = members.iter().map(|m| m.weight).sum();
    let slack = ((members.len() as i128 * 5 + 9) / 10).max(1);
    if (weights - 100_000).abs() > slack {
        return Err(inconsistent(format!(
            "the members' weights add up to {}.{:03}%, not 100% (wrong --language?)",
            weights / 1000,
            weights % 1000
        )));
    }
    if let Some(part) = text(&header.part)
        && parse_decimal(&part, language, WEIGHT) != Ok(100_000)
    {
        return Err(head_field("part", format!("{part:?} is not 100 in {language}")));
    }
    Ok(Portfolio { index: index.to_string(), language, date, total_quantity, reducer, members })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_both_languages_are_exact() {
        let pt = Language::PtBr;
        let en = Language::EnUs;
        assert_eq!(parse_decimal("18.553.794,87445950", pt, REDUCER), Ok(1_855_379_487_445_950));
        assert_eq!(parse_decimal("18,553,794.87445950", en, REDUCER), Ok(1_855_379_487_445_950));
        assert_eq!(parse_decimal("16,036,751.16", en, REDUCER), Ok(1_603_675_116_000_000));
        assert_eq!(parse_decimal("101.053.551.382", pt, QUANTITY), Ok(101_053_551_382));
        assert_eq!(parse_decimal("1481593024", pt, QUANTITY), Ok(1_481_593_024));
        assert_eq!(parse_decimal("0,070", pt, WEIGHT), Ok(70));
        assert_eq!(parse_decimal("19,064", pt, WEIGHT), Ok(19_064));
        assert_eq!(parse_decimal("19.064", en, WEIGHT), Ok(19_064));
        assert_eq!(parse_decimal("100", pt, WEIGHT), Ok(100_000));
        assert_eq!(parse_decimal("0,5", pt, WEIGHT), Ok(500));
        for bad in ["", "1.2.3,4", "12.34", "1,2,3", "2,7281", "abc", ",5", "1 000", "-1", "12.3456"] {
            assert!(parse_decimal(bad, pt, WEIGHT).is_err(), "{bad:?} was accepted");
        }
        // A pt-br weight read as en-us: a thousands group, and not the number meant.
        assert_eq!(parse_decimal("2,728", en, WEIGHT), Ok(2_728_000));
        assert!(parse_decimal("123456789012345678901", pt, QUANTITY).is_err());
    }

    #[test]
    fn dates_follow_the_language() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(parse_date("08/12/22", Language::PtBr), Ok(d(2022, 12, 8)));
        assert_eq!(parse_date("12/08/22", Language::EnUs), Ok(d(2022, 12, 8)));
        assert_eq!(parse_date("08/12/2022", Language::PtBr), Ok(d(2022, 12, 8)));
        assert!(parse_date("13/25/22", Language::EnUs).is_err());
        assert!(parse_date("31/12/22", Language::EnUs).is_err());
        assert!(parse_date("2022-12-08", Language::PtBr).is_err());
        assert!(parse_date("8/12/222", Language::PtBr).is_err());
    }

    #[test]
    fn latin1_bodies_are_read_without_loss() {
        assert_eq!(text_of(b"Minera\xe7\xe3o"), "Mineração");
        assert_eq!(text_of("Minera\u{FFFD}\u{FFFD}o".as_bytes()), "Minera\u{FFFD}\u{FFFD}o");
    }
}
