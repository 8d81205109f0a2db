//! Bytes of quote records (type 01) to Arrow columns.
//!
//! This is the hot loop of ingestion: every byte is checked (digits are digits, dates exist)
//! because a silently wrong price is worse than a refused file, and values are accumulated as
//! integers so that prices stay exact to the cent from file to Parquet.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Decimal128Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use chrono::{Datelike, NaiveDate};

use super::layout::{Field, Kind, NO_EXPIRY, QUOTE_FIELDS, RECORD_LEN, raw_schema};

/// What is wrong with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field.
    pub field: &'static Field,
    /// What is wrong, with the bytes found.
    pub problem: String,
}

impl FieldError {
    fn new(field: &'static Field, raw: &[u8], what: &str) -> Self {
        Self { field, problem: format!("{what} in {:?}", latin1(raw)) }
    }
}

enum Column {
    Text(StringBuilder),
    Int(Int32Builder),
    BigInt(Int64Builder),
    Date(Date32Builder, DateCache),
    Decimal(Decimal128Builder),
}

/// Most records of a file share their trading date, and most DATVEN are `99991231`:
/// remembering the last one avoids re-validating the same date millions of times.
#[derive(Default)]
struct DateCache {
    /// The last date field checked and its value; `None` before the first.
    last: Option<([u8; 8], Option<i32>)>,
}

/// Accumulates quote records into one Arrow [`RecordBatch`] of the raw schema.
pub struct QuoteBatchBuilder {
    columns: Vec<Column>,
    rows: usize,
}

impl QuoteBatchBuilder {
    /// A builder with room for `rows` records.
    pub fn with_capacity(rows: usize) -> Self {
        let columns = QUOTE_FIELDS
            .iter()
            .map(|f| match f.kind {
                Kind::Text => Column::Text(StringBuilder::with_capacity(rows, rows * f.width())),
                Kind::Int => Column::Int(Int32Builder::with_capacity(rows)),
                Kind::BigInt => Column::BigInt(Int64Builder::with_capacity(rows)),
                Kind::Date => Column::Date(Date32Builder::with_capacity(rows), DateCache::default()),
                Kind::Decimal { scale } => Column::Decimal(
                    Decimal128Builder::with_capacity(rows)
                        .with_precision_and_scale(f.width() as u8, scale)
                        .expect("layout widths are valid decimal precisions"),
                ),
            })
            .collect();
        Self { columns, rows: 0 }
    }

    /// Records added since the last batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// No record added since the last batch.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Parses one 245-byte quote record. On error, nothing of the record is kept.
    pub fn push(&mut self, record: &[u8]) -> Result<(), FieldError> {
        debug_assert_eq!(record.len(), RECORD_LEN);
        // Validate every field before appending any, so a bad record leaves no partial row.
        let mut parsed = [Value::Null; QUOTE_FIELDS.len()];
        for ((field, column), slot) in QUOTE_FIELDS.iter().zip(&mut self.columns).zip(&mut parsed) {
            let raw = &record[field.range.clone()];
            *slot = match column {
                Column::Text(_) if !field.nullable() && trim(raw).is_empty() => {
                    return Err(FieldError::new(field, raw, "blank, but every quote record needs one"));
                }
                Column::Text(_) if raw.iter().any(|&b| b < b' ' || b == 0x7f) => {
                    // A NUL or a line break would end up in a partition name or a CSV line.
                    return Err(FieldError::new(field, raw, "control character"));
                }
                Column::Text(_) => Value::Text,
                Column::Int(_) | Column::BigInt(_) | Column::Decimal(_) => Value::Number(digits(field, raw)?),
                Column::Date(_, cache) => match cache.last {
                    Some((last, value)) if raw == last => Value::Date(value),
                    _ => {
                        let value = date(field, raw)?;
                        if value.is_none() && !field.nullable() {
                            return Err(FieldError::new(field, raw, "not a trading date"));
                        }
                        cache.last = Some((raw.try_into().expect("dates are 8 bytes"), value));
                        Value::Date(value)
                    }
                },
            };
        }
        for ((field, column), value) in QUOTE_FIELDS.iter().zip(&mut self.columns).zip(parsed) {
            let raw = &record[field.range.clone()];
            match (column, value) {
                (Column::Text(b), _) => match trim(raw) {
                    [] => b.append_null(),
                    text if text.is_ascii() => b.append_value(std::str::from_utf8(text).expect("ASCII is UTF-8")),
                    text => b.append_value(latin1(text)),
                },
                (Column::Int(b), Value::Number(n)) => b.append_value(n as i32),
                (Column::BigInt(b), Value::Number(n)) => b.append_value(n as i64),
                (Column::Decimal(b), Value::Number(n)) => b.append_value(n as i128),
                (Column::Date(b, _), Value::Date(d)) => b.append_option(d),
                _ => unreachable!("value kinds follow column kinds"),
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows so far as a batch; the builder is left empty and reusable.
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Column::Text(b) => Arc::new(b.finish()),
                    Column::Int(b) => Arc::new(b.finish()),
                    Column::BigInt(b) => Arc::new(b.finish()),
                    Column::Date(b, _) => Arc::new(b.finish()),
                    Column::Decimal(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(raw_schema(), arrays).expect("builders follow the raw schema")
    }
}

#[derive(Clone, Copy)]
enum Value {
    Null,
    Text,
    Number(u64),
    Date(Option<i32>),
}

/// Zero-padded unsigned digits. 18 digits at most, so `u64` never overflows.
///
/// Eight digits at a time (SWAR): one check and a few multiplications per 8 bytes instead of
/// a branch per byte; numbers are most of every record.
#[inline]
pub(crate) fn digits(field: &'static Field, raw: &[u8]) -> Result<u64, FieldError> {
    let mut n: u64 = 0;
    let mut chunks = raw.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of 8"));
        if !eight_digits(word) {
            return Err(non_digit(field, raw));
        }
        n = n * 100_000_000 + parse_eight(word);
    }
    for &b in chunks.remainder() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(non_digit(field, raw));
        }
        n = n * 10 + d as u64;
    }
    Ok(n)
}

#[cold]
fn non_digit(field: &'static Field, raw: &[u8]) -> FieldError {
    let bad = raw.iter().find(|b| !b.is_ascii_digit()).copied().unwrap_or(b'?');
    FieldError::new(field, raw, &format!("non-digit {:?}", bad as char))
}

/// Whether all 8 bytes of a little-endian word are ASCII digits.
#[inline]
fn eight_digits(word: u64) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    (word & HIGH) | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) == 0x3333_3333_3333_3333
}

/// The value of 8 ASCII digits, the first byte most significant.
#[inline]
fn parse_eight(word: u64) -> u64 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let mut v = word.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & MASK).wrapping_mul(MUL1).wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))) >> 32
}

/// `AAAAMMDD` as days since 1970-01-01; `99991231` is "not applicable" (NULL).
fn date(field: &'static Field, raw: &[u8]) -> Result<Option<i32>, FieldError> {
    if raw == NO_EXPIRY {
        return Ok(None);
    }
    let n = digits(field, raw)?;
    let (y, m, d) = ((n / 10000) as i32, (n / 100 % 100) as u32, (n % 100) as u32);
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => Ok(Some(date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE)),
        None => Err(FieldError::new(field, raw, "impossible date")),
    }
}

/// `NaiveDate::from_ymd(1970, 1, 1).num_days_from_ce()`.
pub(crate) const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Strips the space padding on both sides.
#[inline]
fn trim(raw: &[u8]) -> &[u8] {
    raw.trim_ascii()
}

/// Latin-1 maps each byte to the code point of the same value.
pub fn latin1(raw: &[u8]) -> String {
    raw.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::cotahist::layout::field;

    #[test]
    fn digits_reject_spaces_and_signs() {
        let f = field("preco_abertura").unwrap();
        assert_eq!(digits(f, b"0000000001050").unwrap(), 1050);
        let e = digits(f, b"00000000010 0").unwrap_err();
        assert!(e.problem.contains("non-digit ' '"), "{}", e.problem);
        assert!(digits(f, b"-000000001050").is_err());
    }

    #[test]
    fn eight_at_a_time_agrees_with_one_at_a_time() {
        let f = field("volume_total_negociado").unwrap();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for width in 1..=18 {
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let text = format!("{:0width$}", x % 10u64.pow(width as u32), width = width);
                assert_eq!(digits(f, text.as_bytes()).unwrap(), text.parse::<u64>().unwrap(), "{text}");
            }
        }
        assert_eq!(digits(f, b"999999999999999999").unwrap(), 999_999_999_999_999_999);
        // Every position and every kind of non-digit is caught.
        for pos in 0..18 {
            for bad in [b' ', b'/', b':', b'A', b'-', 0xC9, 0x00, b'0' + 10] {
                let mut raw = *b"000000000000012345";
                raw[pos] = bad;
                let e = digits(f, &raw).unwrap_err();
                assert!(e.problem.contains(&format!("{:?}", bad as char)), "{pos} {bad}: {}", e.problem);
            }
        }
    }

    #[test]
    fn dates_are_checked() {
        let f = field("data_pregao").unwrap();
        assert_eq!(date(f, b"19700102").unwrap(), Some(1));
        assert_eq!(date(f, b"99991231").unwrap(), None);
        assert!(date(f, b"20230229").unwrap_err().problem.contains("impossible date"));
        assert!(date(f, b"20231301").is_err());
    }

    #[test]
    fn key_fields_are_never_blank() {
        let line = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/COTAHIST_D04022022.TXT")).unwrap();
        let record = &line.split(|&b| b == b'\n').nth(1).unwrap()[..RECORD_LEN];
        let mut builder = QuoteBatchBuilder::with_capacity(4);
        builder.push(record).unwrap();
        let mut nul = record.to_vec();
        nul[14] = 0;
        assert!(builder.push(&nul).unwrap_err().problem.contains("control character"));
        for (column, blank) in [
            ("codigo_negociacao", &b"            "[..]),
            ("data_pregao", b"99991231"),
            ("data_pregao", b"\0\0\0\0\0\0\0\0"),
        ] {
            let f = field(column).unwrap();
            let mut bad = record.to_vec();
            bad[f.range.clone()].copy_from_slice(blank);
            let e = builder.push(&bad).unwrap_err();
            assert_eq!(e.field.column, column);
        }
        assert_eq!(builder.finish().num_rows(), 1, "refused records leave nothing behind");
    }

    #[test]
    fn latin1_decodes_every_byte() {
        assert_eq!(latin1(b"SAO JO\xc3O"), "SAO JOÃO");
        assert_eq!(latin1(b"\xc9"), "É");
    }
}
