//! Trino's string and binary functions that DataFusion lacks or reads otherwise: `concat`
//! is NULL when an argument is (and joins arrays), `substr` counts a negative start from the
//! end, `strpos` takes an instance, `replace` takes two arguments, and `split`,
//! `split_to_map`, `codepoint`, `hamming_distance`, `levenshtein_distance`, `soundex`,
//! `luhn_check`, `to_utf8`/`from_utf8`, `to_hex`/`from_hex`, base64 and the hashes of a
//! `varbinary` (`md5`, `sha1`, `sha256`, `sha512`, `crc32`).
//!
//! Lengths and positions count characters, from 1.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, Int64Array, ListArray, ListBuilder, MapBuilder, StringArray,
    StringBuilder,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Int64Type};
use base64::Engine;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use sha2::Digest;

use super::shared::{bigint, varchar};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum S {
    Concat,
    ConcatWs,
    Codepoint,
    Hamming,
    Levenshtein,
    Luhn,
    Replace,
    Soundex,
    Split,
    SplitToMap,
    SplitToMultimap,
    Strpos,
    Strrpos,
    Substr,
    ToUtf8,
    FromUtf8,
    ToHex,
    FromHex,
    ToBase64,
    FromBase64,
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Crc32,
    Length,
    Format,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Text {
    s: S,
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (S::Concat, "concat", &[][..]),
        (S::ConcatWs, "concat_ws", &[]),
        (S::Codepoint, "codepoint", &[]),
        (S::Hamming, "hamming_distance", &[]),
        (S::Levenshtein, "levenshtein_distance", &[]),
        (S::Luhn, "luhn_check", &[]),
        (S::Replace, "replace", &[]),
        (S::Soundex, "soundex", &[]),
        (S::Split, "split", &[]),
        (S::SplitToMap, "split_to_map", &[]),
        (S::SplitToMultimap, "split_to_multimap", &[]),
        (S::Strpos, "strpos", &[]),
        (S::Strrpos, "strrpos", &[]),
        (S::Substr, "substr", &["substring"]),
        (S::ToUtf8, "to_utf8", &[]),
        (S::FromUtf8, "from_utf8", &[]),
        (S::ToHex, "to_hex", &[]),
        (S::FromHex, "from_hex", &[]),
        (S::ToBase64, "to_base64", &[]),
        (S::FromBase64, "from_base64", &[]),
        (S::Md5, "md5", &[]),
        (S::Sha1, "sha1", &[]),
        (S::Sha256, "sha256", &[]),
        (S::Sha512, "sha512", &[]),
        (S::Crc32, "crc32", &[]),
        (S::Length, "length", &[]),
        (S::Format, "format", &[]),
    ]
    .into_iter()
    .map(|(s, name, aliases)| {
        ScalarUDF::new_from_impl(Text {
            s,
            name,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            signature: Signature::user_defined(Volatility::Immutable),
        })
    })
    .collect()
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::BinaryView | DataType::LargeBinary | DataType::Null)
}

impl ScalarUDFImpl for Text {
    fn name(&self) -> &str {
        self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        let (min, max) = match self.s {
            S::Concat => (1, usize::MAX),
            S::ConcatWs => (2, usize::MAX),
            S::Codepoint | S::Luhn | S::Soundex | S::ToUtf8 | S::ToHex | S::FromHex | S::ToBase64 | S::FromBase64 => {
                (1, 1)
            }
            S::Md5 | S::Sha1 | S::Sha256 | S::Sha512 | S::Crc32 => (1, 1),
            S::FromUtf8 => (1, 1),
            S::Hamming | S::Levenshtein => (2, 2),
            S::Replace | S::Split => (2, 3),
            S::SplitToMap | S::SplitToMultimap => (3, 3),
            S::Strpos | S::Strrpos => (2, 3),
            S::Substr => (2, 3),
            S::Length => (1, 1),
            S::Format => (1, usize::MAX),
        };
        if t.len() < min || t.len() > max {
            return plan_err!("{name} cannot take {} arguments", t.len());
        }
        let text = |t: &DataType| varchar(name, t);
        let binary = |t: &DataType| -> Result<DataType> {
            if is_binary(t) { Ok(DataType::Binary) } else { plan_err!("{name} expects a varbinary, got {t}") }
        };
        let int = |t: &DataType| bigint(name, t);
        match self.s {
            S::Concat => {
                if t.iter()
                    .any(|t| matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)))
                {
                    let element = |t: &DataType| match t {
                        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                            f.data_type().clone()
                        }
                        other => other.clone(),
                    };
                    let elements: Vec<DataType> = t.iter().map(element).collect();
                    let common = type_union_resolution(&elements)
                        .ok_or_else(|| datafusion::common::plan_datafusion_err!("concat: no common type of {t:?}"))?;
                    return Ok(t
                        .iter()
                        .map(|t| match t {
                            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                                DataType::new_list(common.clone(), true)
                            }
                            _ => common.clone(),
                        })
                        .collect());
                }
                if t.iter().all(is_binary) && !t.iter().all(DataType::is_null) {
                    return Ok(vec![DataType::Binary; t.len()]);
                }
                // Trino concatenates text; numbers must be cast (here they are, as DataFusion does).
                Ok(vec![DataType::Utf8; t.len()])
            }
            S::ConcatWs => {
                let mut out = vec![text(&t[0])?];
                for t in &t[1..] {
                    out.push(match t {
                        DataType::List(_) | DataType::LargeList(_) => DataType::new_list(DataType::Utf8, true),
                        t => text(t)?,
                    });
                }
                Ok(out)
            }
            S::FromUtf8 | S::ToHex | S::ToBase64 | S::Md5 | S::Sha1 | S::Sha256 | S::Sha512 | S::Crc32 => {
                Ok(vec![binary(&t[0])?])
            }
            S::Length => Ok(vec![if is_binary(&t[0]) && !t[0].is_null() { DataType::Binary } else { text(&t[0])? }]),
            S::Format => {
                let mut out = vec![text(&t[0])?];
                out.extend(t[1..].iter().map(|t| match t {
                    t if t.is_integer() => DataType::Int64,
                    t if t.is_floating() || matches!(t, DataType::Decimal128(..)) => DataType::Float64,
                    _ => DataType::Utf8,
                }));
                Ok(out)
            }
            S::Strpos | S::Strrpos | S::Substr | S::Split => t
                .iter()
                .enumerate()
                .map(|(i, ty)| if i == 0 || (i == 1 && self.s != S::Substr) { text(ty) } else { int(ty) })
                .collect(),
            _ => t.iter().map(text).collect(),
        }
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.s {
            // An element joined to an array (`'x' || ARRAY['a']`) makes an array, wherever it stands.
            S::Concat => t.iter().find(|t| matches!(t, DataType::List(_))).unwrap_or(&t[0]).clone(),
            S::Codepoint | S::Hamming | S::Levenshtein | S::Strpos | S::Strrpos | S::Crc32 | S::Length => {
                DataType::Int64
            }
            S::Luhn => DataType::Boolean,
            S::Split => DataType::new_list(DataType::Utf8, true),
            S::SplitToMap => map_type(DataType::Utf8),
            S::SplitToMultimap => map_type(DataType::new_list(DataType::Utf8, true)),
            S::ToUtf8 | S::FromHex | S::FromBase64 | S::Md5 | S::Sha1 | S::Sha256 | S::Sha512 => DataType::Binary,
            _ => DataType::Utf8,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::shared::invoke(&args, |arrays, n| {
            let out = self.run(arrays, n, args.return_field.data_type())?;
            Ok(out)
        })
    }
}

fn map_type(value: DataType) -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(vec![Field::new("keys", DataType::Utf8, false), Field::new("values", value, true)].into()),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// Row `i` of a text argument.
fn text_at(a: &ArrayRef, i: usize) -> Option<&str> {
    let a = a.as_string::<i32>();
    a.is_valid(i).then(|| a.value(i))
}

fn bytes_at(a: &ArrayRef, i: usize) -> Option<&[u8]> {
    let a = a.as_binary::<i32>();
    a.is_valid(i).then(|| a.value(i))
}

fn int_at(a: Option<&ArrayRef>, i: usize) -> Option<Option<i64>> {
    a.map(|a| {
        let a = a.as_primitive::<Int64Type>();
        a.is_valid(i).then(|| a.value(i))
    })
}

impl Text {
    fn run(&self, a: &[ArrayRef], n: usize, ret: &DataType) -> Result<ArrayRef> {
        let name = self.name;
        Ok(match self.s {
            S::Concat if matches!(ret, DataType::List(_)) => concat_arrays(a, n)?,
            S::Concat if ret == &DataType::Binary => {
                let mut out = BinaryBuilder::new();
                for i in 0..n {
                    let parts: Option<Vec<&[u8]>> = a.iter().map(|x| bytes_at(x, i)).collect();
                    match parts {
                        Some(p) => out.append_value(p.concat()),
                        None => out.append_null(),
                    }
                }
                Arc::new(out.finish())
            }
            S::Concat => {
                strings(n, |i| Ok(a.iter().map(|x| text_at(x, i)).collect::<Option<Vec<_>>>().map(|p| p.concat())))?
            }
            S::ConcatWs => strings(n, |i| {
                let Some(sep) = text_at(&a[0], i) else { return Ok(None) };
                let mut parts = Vec::new();
                for x in &a[1..] {
                    match x.data_type() {
                        DataType::List(_) => {
                            let l = x.as_list::<i32>();
                            if l.is_valid(i) {
                                let v = l.value(i);
                                let v = v.as_string::<i32>();
                                parts.extend(v.iter().flatten().map(str::to_string));
                            }
                        }
                        _ => parts.extend(text_at(x, i).map(str::to_string)),
                    }
                }
                Ok(Some(parts.join(sep)))
            })?,
            S::Codepoint => ints(n, |i| match text_at(&a[0], i) {
                None => Ok(None),
                Some(s) if s.chars().count() == 1 => Ok(s.chars().next().map(|c| c as i64)),
                Some(s) => exec_err!("codepoint expects a single character, got '{s}'"),
            })?,
            S::Hamming => ints(n, |i| match (text_at(&a[0], i), text_at(&a[1], i)) {
                (Some(x), Some(y)) => {
                    if x.chars().count() != y.chars().count() {
                        return exec_err!("The input strings to hamming_distance function must have the same length");
                    }
                    Ok(Some(x.chars().zip(y.chars()).filter(|(p, q)| p != q).count() as i64))
                }
                _ => Ok(None),
            })?,
            S::Levenshtein => ints(n, |i| match (text_at(&a[0], i), text_at(&a[1], i)) {
                (Some(x), Some(y)) => Ok(Some(levenshtein(x, y))),
                _ => Ok(None),
            })?,
            S::Luhn => {
                let out: BooleanArray = (0..n).map(|i| text_at(&a[0], i).map(luhn)).collect();
                Arc::new(out)
            }
            S::Replace => strings(n, |i| {
                let with = match a.get(2) {
                    None => Some(""),
                    Some(w) => text_at(w, i),
                };
                Ok(match (text_at(&a[0], i), text_at(&a[1], i), with) {
                    (Some(s), Some(f), Some(w)) => Some(s.replace(f, w)),
                    _ => None,
                })
            })?,
            S::Soundex => strings(n, |i| Ok(text_at(&a[0], i).map(soundex)))?,
            S::Split => {
                let mut out = ListBuilder::new(StringBuilder::new());
                for i in 0..n {
                    let limit = int_at(a.get(2), i);
                    let (Some(s), Some(d), Some(limit)) =
                        (text_at(&a[0], i), text_at(&a[1], i), limit.unwrap_or(Some(0)))
                    else {
                        out.append_null();
                        continue;
                    };
                    if a.len() == 3 && limit <= 0 {
                        return exec_err!("Limit must be positive");
                    }
                    if d.is_empty() {
                        return exec_err!("The delimiter may not be the empty string");
                    }
                    let parts: Vec<&str> =
                        if limit > 0 { s.splitn(limit as usize, d).collect() } else { s.split(d).collect() };
                    for p in parts {
                        out.values().append_value(p);
                    }
                    out.append(true);
                }
                Arc::new(out.finish())
            }
            S::SplitToMap | S::SplitToMultimap => split_to_map(self.s, a, n)?,
            S::Strpos | S::Strrpos => ints(n, |i| {
                let instance = int_at(a.get(2), i).unwrap_or(Some(1));
                let (Some(s), Some(sub), Some(k)) = (text_at(&a[0], i), text_at(&a[1], i), instance) else {
                    return Ok(None);
                };
                if k == 0 {
                    return exec_err!("'instance' must be a positive or negative number");
                }
                let from_end = (self.s == S::Strrpos) != (k < 0);
                Ok(Some(position(s, sub, k.unsigned_abs() as usize, from_end)))
            })?,
            S::Substr => strings(n, |i| {
                let (Some(s), Some(start)) = (text_at(&a[0], i), int_at(a.get(1), i).flatten()) else {
                    return Ok(None);
                };
                let length = match int_at(a.get(2), i) {
                    None => None,
                    Some(None) => return Ok(None),
                    Some(Some(l)) => Some(l),
                };
                Ok(Some(substr(s, start, length)))
            })?,
            S::ToUtf8 => binaries(n, |i| Ok(text_at(&a[0], i).map(|s| s.as_bytes().to_vec())))?,
            S::FromUtf8 => strings(n, |i| Ok(bytes_at(&a[0], i).map(|b| String::from_utf8_lossy(b).into_owned())))?,
            S::ToHex => strings(n, |i| Ok(bytes_at(&a[0], i).map(hex::encode_upper)))?,
            S::FromHex => binaries(n, |i| match text_at(&a[0], i) {
                None => Ok(None),
                Some(s) => hex::decode(s).map(Some).or_else(|_| exec_err!("{name}: invalid hexadecimal '{s}'")),
            })?,
            S::ToBase64 => {
                strings(n, |i| Ok(bytes_at(&a[0], i).map(|b| base64::engine::general_purpose::STANDARD.encode(b))))?
            }
            S::FromBase64 => binaries(n, |i| match text_at(&a[0], i) {
                None => Ok(None),
                Some(s) => base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map(Some)
                    .or_else(|_| exec_err!("{name}: invalid base64 '{s}'")),
            })?,
            S::Md5 => binaries(n, |i| Ok(bytes_at(&a[0], i).map(|b| md5::Md5::digest(b).to_vec())))?,
            S::Sha1 => binaries(n, |i| Ok(bytes_at(&a[0], i).map(|b| sha1::Sha1::digest(b).to_vec())))?,
            S::Sha256 => binaries(n, |i| Ok(bytes_at(&a[0], i).map(|b| sha2::Sha256::digest(b).to_vec())))?,
            S::Sha512 => binaries(n, |i| Ok(bytes_at(&a[0], i).map(|b| sha2::Sha512::digest(b).to_vec())))?,
            S::Crc32 => ints(n, |i| Ok(bytes_at(&a[0], i).map(|b| crc32fast::hash(b) as i64)))?,
            // Characters of a varchar, bytes of a varbinary.
            S::Length if a[0].data_type() == &DataType::Binary => {
                ints(n, |i| Ok(bytes_at(&a[0], i).map(|b| b.len() as i64)))?
            }
            S::Length => ints(n, |i| Ok(text_at(&a[0], i).map(|s| s.chars().count() as i64)))?,
            S::Format => strings(n, |i| {
                let Some(pattern) = text_at(&a[0], i) else { return Ok(None) };
                let values: Vec<ScalarValue> =
                    a[1..].iter().map(|x| ScalarValue::try_from_array(x, i)).collect::<Result<_>>()?;
                format(pattern, &values).map(Some)
            })?,
        })
    }
}

fn strings(n: usize, f: impl Fn(usize) -> Result<Option<String>>) -> Result<ArrayRef> {
    Ok(Arc::new((0..n).map(f).collect::<Result<StringArray>>()?))
}

fn ints(n: usize, f: impl Fn(usize) -> Result<Option<i64>>) -> Result<ArrayRef> {
    Ok(Arc::new((0..n).map(f).collect::<Result<Int64Array>>()?))
}

fn binaries(n: usize, f: impl Fn(usize) -> Result<Option<Vec<u8>>>) -> Result<ArrayRef> {
    let mut out = BinaryBuilder::new();
    for i in 0..n {
        match f(i)? {
            Some(b) => out.append_value(b),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `concat` of arrays (and single elements): NULL when any argument is.
fn concat_arrays(a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let mut pieces: Vec<ArrayRef> = Vec::new();
    let mut lengths = Vec::with_capacity(n);
    let mut nulls = Vec::with_capacity(n);
    for i in 0..n {
        let mut length = 0;
        let mut null = false;
        for x in a {
            if x.is_null(i) {
                null = true;
                continue;
            }
            let piece = match x.data_type() {
                DataType::List(_) => x.as_list::<i32>().value(i),
                _ => x.slice(i, 1),
            };
            length += piece.len();
            pieces.push(piece);
        }
        lengths.push(if null { 0 } else { length });
        if null {
            // Drop what this row pushed: a NULL row has no elements.
            let pushed = a.iter().filter(|x| !x.is_null(i)).count();
            pieces.truncate(pieces.len() - pushed);
        }
        nulls.push(!null);
    }
    let element = match a.iter().find_map(|x| match x.data_type() {
        DataType::List(f) => Some(f.data_type().clone()),
        _ => None,
    }) {
        Some(t) => t,
        None => return exec_err!("concat of arrays without an array"),
    };
    let values = if pieces.is_empty() {
        arrow::array::new_empty_array(&element)
    } else {
        let refs: Vec<&dyn Array> = pieces.iter().map(|p| p.as_ref()).collect();
        arrow::compute::concat(&refs)?
    };
    let field = Arc::new(Field::new_list_field(element, true));
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, Some(nulls.into()))?))
}

fn split_to_map(s: S, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let multi = s == S::SplitToMultimap;
    let names = arrow::array::MapFieldNames { entry: "entries".into(), key: "keys".into(), value: "values".into() };
    let mut single = MapBuilder::new(Some(names.clone()), StringBuilder::new(), StringBuilder::new());
    let mut many = MapBuilder::new(Some(names), StringBuilder::new(), ListBuilder::new(StringBuilder::new()));
    for i in 0..n {
        let (Some(text), Some(entry), Some(kv)) = (text_at(&a[0], i), text_at(&a[1], i), text_at(&a[2], i)) else {
            if multi {
                many.append(false)?
            } else {
                single.append(false)?
            }
            continue;
        };
        if entry.is_empty() || kv.is_empty() || entry == kv {
            return exec_err!("entryDelimiter and keyValueDelimiter must not be empty or the same");
        }
        let mut keys: Vec<String> = Vec::new();
        let mut values: Vec<Vec<String>> = Vec::new();
        for part in text.split(entry).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once(kv) else {
                return exec_err!("Key-value delimiter must appear exactly once in each entry. Bad input: '{part}'");
            };
            match keys.iter().position(|x| x == k) {
                Some(_) if !multi => return exec_err!("Duplicate keys ({k}) are not allowed"),
                Some(p) => values[p].push(v.to_string()),
                None => {
                    keys.push(k.to_string());
                    values.push(vec![v.to_string()]);
                }
            }
        }
        for (k, v) in keys.iter().zip(&values) {
            if multi {
                many.keys().append_value(k);
                for x in v {
                    many.values().values().append_value(x);
                }
                many.values().append(true);
            } else {
                single.keys().append_value(k);
                single.values().append_value(&v[0]);
            }
        }
        if multi { many.append(true)? } else { single.append(true)? }
    }
    Ok(if multi { Arc::new(many.finish()) } else { Arc::new(single.finish()) })
}

/// The character position (from 1) of the `k`-th `sub` in `s`, from the start or the end; 0
/// when there is none.
fn position(s: &str, sub: &str, k: usize, from_end: bool) -> i64 {
    let starts: Vec<usize> = if sub.is_empty() {
        (0..=s.len()).filter(|b| s.is_char_boundary(*b)).collect()
    } else {
        // Overlapping matches count, as in Trino.
        (0..s.len()).filter(|&b| s.is_char_boundary(b) && s[b..].starts_with(sub)).collect()
    };
    let found = if from_end { starts.iter().rev().nth(k - 1) } else { starts.get(k - 1) };
    found.map_or(0, |&b| s[..b].chars().count() as i64 + 1)
}

/// `substr(s, start[, length])`: from 1, a negative start counts from the end, 0 is empty.
fn substr(s: &str, start: i64, length: Option<i64>) -> String {
    let chars = s.chars().count() as i64;
    if start == 0 || start.abs() > chars || length.is_some_and(|l| l <= 0) {
        return String::new();
    }
    let from = if start > 0 { start - 1 } else { chars + start };
    let take = length.unwrap_or(chars).min(chars - from);
    s.chars().skip(from as usize).take(take as usize).collect()
}

/// Java's `String.format` for what SQL passes it: `%s`, `%d`, `%f` (with a precision),
/// `%x`, `%e`, `%%`, with flags and width.
fn format(pattern: &str, values: &[ScalarValue]) -> Result<String> {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    let mut next = values.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek().filter(|d| "-+0 ,.#".contains(**d) || d.is_ascii_digit()) {
            spec.push(d);
            chars.next();
        }
        let Some(conversion) = chars.next() else { return exec_err!("format: '%' at the end of '{pattern}'") };
        if conversion == '%' {
            out.push('%');
            continue;
        }
        if conversion == 'n' {
            out.push('\n');
            continue;
        }
        let Some(value) = next.next() else { return exec_err!("format: too few arguments for '{pattern}'") };
        let left = spec.starts_with('-');
        let zero = spec.starts_with('0');
        let (width, precision) = match spec.trim_start_matches(['-', '+', '0', ' ', ',', '#']).split_once('.') {
            Some((w, p)) => (w.parse::<usize>().ok(), p.parse::<usize>().ok()),
            None => (spec.trim_start_matches(['-', '+', '0', ' ', ',', '#']).parse::<usize>().ok(), None),
        };
        let number = |v: &ScalarValue| -> Option<f64> {
            match v {
                ScalarValue::Float64(Some(f)) => Some(*f),
                ScalarValue::Int64(Some(i)) => Some(*i as f64),
                _ => None,
            }
        };
        let text = match (conversion, value) {
            (_, v) if v.is_null() => "null".to_string(),
            ('s' | 'S', ScalarValue::Utf8(Some(s))) => s.clone(),
            ('s' | 'S', v) => v.to_string(),
            ('d', ScalarValue::Int64(Some(i))) => i.to_string(),
            ('x', ScalarValue::Int64(Some(i))) => format!("{i:x}"),
            ('X', ScalarValue::Int64(Some(i))) => format!("{i:X}"),
            ('f', v) if number(v).is_some() => format!("{:.*}", precision.unwrap_or(6), number(v).unwrap_or(0.0)),
            ('e', v) if number(v).is_some() => format!("{:.*e}", precision.unwrap_or(6), number(v).unwrap_or(0.0)),
            (c, v) => return exec_err!("format: %{c} cannot format {v}"),
        };
        let pad = width.unwrap_or(0).saturating_sub(text.chars().count());
        match (left, zero) {
            (true, _) => out.push_str(&format!("{text}{}", " ".repeat(pad))),
            (false, true) => {
                let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
                out.push_str(&format!("{sign}{}{digits}", "0".repeat(pad)));
            }
            (false, false) => out.push_str(&format!("{}{text}", " ".repeat(pad))),
        }
    }
    Ok(out)
}

fn levenshtein(a: &str, b: &str) -> i64 {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(ca != b[j]);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(previous + cost);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()] as i64
}

fn luhn(s: &str) -> bool {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = s
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// American Soundex: the first letter and three digits.
fn soundex(s: &str) -> String {
    let code = |c: char| match c.to_ascii_uppercase() {
        'B' | 'F' | 'P' | 'V' => Some('1'),
        'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => Some('2'),
        'D' | 'T' => Some('3'),
        'L' => Some('4'),
        'M' | 'N' => Some('5'),
        'R' => Some('6'),
        _ => None,
    };
    let letters: Vec<char> = s.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    let Some(&first) = letters.first() else { return String::new() };
    let mut out = String::from(first.to_ascii_uppercase());
    let mut last = code(first);
    for &c in &letters[1..] {
        let d = code(c);
        if d.is_some() && d != last {
            out.push(d.unwrap_or('0'));
            if out.len() == 4 {
                break;
            }
        }
        // H and W do not separate letters of the same code; vowels do.
        if !matches!(c.to_ascii_uppercase(), 'H' | 'W') {
            last = d;
        }
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_substrings_and_codes() {
        assert_eq!(position("abcabc", "b", 2, false), 5);
        assert_eq!(position("abcabc", "b", 1, true), 5);
        assert_eq!(position("aaa", "aa", 2, false), 2);
        assert_eq!(position("ação", "o", 1, false), 4);
        assert_eq!(substr("PETR4", -3, Some(2)), "TR");
        assert_eq!(substr("PETR4", 2, None), "ETR4");
        assert_eq!(substr("PETR4", 9, None), "");
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(soundex("Robert"), "R163");
        assert_eq!(soundex("Tymczak"), "T522");
        assert_eq!(soundex("Ashcraft"), "A261");
        assert!(luhn("79927398713"));
    }
}
