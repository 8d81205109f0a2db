//! Trino's string and binary functions that DataFusion lacks or reads otherwise: `concat`
//! is NULL when an argument is (and joins arrays), `substr` counts a negative start from the
//! end, `strpos` takes an instance, `replace` takes two arguments, `trim` takes Java's
//! whitespace, `lower`/`upper` map code points one by one, `OVERLAY` takes no negative length,
//! and `split`,
//! `split_to_map`, `codepoint`, `hamming_distance`, `levenshtein_distance`, `soundex`,
//! `luhn_check`, `to_utf8`/`from_utf8`. `length`, `concat`, `lpad`, `rpad` and `substr` take a
//! `varbinary` as well (and count bytes); `binary` has the functions of bytes alone.
//!
//! Lengths and positions count characters, from 1.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListArray, ListBuilder, MapBuilder, StringBuilder};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_datafusion_err, plan_err};
use datafusion::logical_expr::ScalarUDF;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;

use super::function::{Args, Function, Text, binaries, int_at, ints, strings, udf, unary};
use super::shared::{arity, bigint, is_binary, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        concat(),
        udf(ConcatWs),
        udf(Codepoint),
        udf(Hamming),
        udf(Levenshtein),
        udf(Luhn),
        udf(Replace),
        udf(Soundex),
        udf(Lower),
        udf(Upper),
        udf(Split),
        udf(SplitPart),
        udf(Normalize),
        udf(WordStem),
        udf(SplitToMap { multi: false }),
        udf(SplitToMap { multi: true }),
        udf(Strpos { from_end: false }),
        udf(Strpos { from_end: true }),
        udf(Substr),
        udf(Overlay),
        udf(Trim { leading: true, trailing: true }),
        udf(Trim { leading: true, trailing: false }),
        udf(Trim { leading: false, trailing: true }),
        udf(Pad { left: true }),
        udf(Pad { left: false }),
        udf(ToUtf8),
        udf(FromUtf8),
        udf(Length),
        udf(Format),
        udf(LikePattern),
        udf(ListaggValue),
    ]
}

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

unary!(
    /// `codepoint(c)`: the Unicode code point of a single character.
    Codepoint, "codepoint", varchar -> DataType::Int32, integers,
    |s| {
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c as i32),
            _ => exec_err!("codepoint expects a single character, got '{s}'"),
        }
    }
);
unary!(
    /// `luhn_check(digits)`: whether the digits pass the Luhn check.
    Luhn, "luhn_check", varchar -> DataType::Boolean, bools, |s| Ok(luhn(s))
);
unary!(
    /// `soundex(s)`: American Soundex, a letter and three digits.
    Soundex, "soundex", varchar -> DataType::Utf8, strings, |s| soundex(s)
);
unary!(
    /// `lower(s)`: each code point's lower case alone, as Trino maps them (`İ` is `i`; Unicode's
    /// full mapping, DataFusion's, adds a combining dot).
    Lower, "lower", varchar -> DataType::Utf8, strings,
    |s| Ok(if s.is_ascii() { s.to_ascii_lowercase() } else { s.chars().filter_map(|c| c.to_lowercase().next()).collect() })
);
unary!(
    /// `upper(s)`: each code point's upper case alone; one with none of a single code point
    /// stays (`ß`, where Unicode's full mapping, DataFusion's, writes `SS`).
    Upper, "upper", varchar -> DataType::Utf8, strings,
    |s| Ok(if s.is_ascii() { s.to_ascii_uppercase() } else { s.chars().map(upper).collect::<String>() })
);

fn upper(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

unary!(
    /// `to_utf8(s)`: the text's UTF-8 bytes.
    ToUtf8, "to_utf8", varchar -> DataType::Binary, binaries, |s| Ok(s.as_bytes())
);
/// `from_utf8(b[, replace])`: the bytes as text, each invalid sequence replaced by U+FFFD or
/// by `replace` (one character, a code point, or empty to drop them).
#[derive(Debug, PartialEq, Eq, Hash)]
struct FromUtf8;

impl Function for FromUtf8 {
    fn name(&self) -> &'static str {
        "from_utf8"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=2)?;
        let mut out = vec![super::shared::binary(self.name(), &t[0])?];
        if let Some(r) = t.get(1) {
            out.push(if r.is_integer() { DataType::Int64 } else { varchar(self.name(), r)? });
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let bytes = args.column(0)?;
        let bytes = bytes.as_binary::<i32>();
        let replacement = |i: usize| -> Result<Option<String>> {
            if args.len() < 2 {
                return Ok(Some('\u{FFFD}'.to_string()));
            }
            let r = args.column(1)?;
            let text = match r.data_type() {
                DataType::Int64 => match int_at(&r, i) {
                    None => return Ok(None),
                    Some(c) => u32::try_from(c)
                        .ok()
                        .and_then(char::from_u32)
                        .map(String::from)
                        .ok_or_else(|| plan_datafusion_err!("from_utf8: invalid replacement code point {c}"))?,
                },
                _ if r.is_null(i) => return Ok(None),
                _ => r.as_string::<i32>().value(i).to_string(),
            };
            if text.chars().count() > 1 {
                return exec_err!("from_utf8: the replacement must be one character or empty, got '{text}'");
            }
            Ok(Some(text))
        };
        strings((0..args.rows).map(|i| {
            let (Some(b), Some(r)) = (bytes.is_valid(i).then(|| bytes.value(i)), replacement(i)?) else {
                return Ok(None);
            };
            let mut out = String::with_capacity(b.len());
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    out.push_str(&r);
                }
            }
            Ok(Some(out))
        }))
    }
}
/// `length(s)`: characters of a varchar, bytes of a varbinary.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Length;

impl Function for Length {
    fn name(&self) -> &'static str {
        "length"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=1)?;
        Ok(vec![if is_binary(&t[0]) && !t[0].is_null() { DataType::Binary } else { varchar(self.name(), &t[0])? }])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        if let Some(b) = column.as_binary_opt::<i32>() {
            return ints(b.iter().map(|b| Ok(b.map(|b| b.len() as i64))));
        }
        ints(column.as_string::<i32>().iter().map(|s| Ok(s.map(|s| chars(s) as i64))))
    }
}

/// The number of characters (ASCII text counted by its bytes).
fn chars(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

/// Trino's `concat`, which `||` of arrays plans to.
pub(super) fn concat() -> ScalarUDF {
    udf(Concat)
}

/// `concat(...)`: text, bytes or arrays joined; NULL when any argument is (an element joined to
/// an array is kept when NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Concat;

impl Function for Concat {
    fn name(&self) -> &'static str {
        "concat"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() < 2 {
            return if t.iter().any(is_list) {
                plan_err!("There must be two or more arguments to concatenate")
            } else {
                plan_err!("There must be two or more concatenation arguments")
            };
        }
        if t.iter().any(is_list) {
            let element = |t: &DataType| match t {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
                other => other.clone(),
            };
            let elements: Vec<DataType> = t.iter().map(element).collect();
            let common = type_union_resolution(&elements)
                .ok_or_else(|| plan_datafusion_err!("concat: no common type of {t:?}"))?;
            // An untyped NULL among arrays is an array (`concat(ARRAY[], NULL)` is NULL).
            return Ok(t
                .iter()
                .map(
                    |t| {
                        if is_list(t) || t.is_null() {
                            DataType::new_list(common.clone(), true)
                        } else {
                            common.clone()
                        }
                    },
                )
                .collect());
        }
        if t.iter().all(is_binary) && !t.iter().all(DataType::is_null) {
            return Ok(vec![DataType::Binary; t.len()]);
        }
        // Trino concatenates text; numbers must be cast (here they are, as DataFusion does).
        Ok(vec![DataType::Utf8; t.len()])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        // An element joined to an array (`'x' || ARRAY['a']`) makes an array, wherever it stands.
        Ok(t.iter().find(|t| matches!(t, DataType::List(_))).unwrap_or(&t[0]).clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        if matches!(args.ret, DataType::List(_)) {
            return concat_arrays(&args.columns()?, args.rows);
        }
        if args.ret == &DataType::Binary {
            let columns = args.columns()?;
            return binaries((0..args.rows).map(|i| {
                let parts: Option<Vec<&[u8]>> = columns
                    .iter()
                    .map(|c| {
                        let c = c.as_binary::<i32>();
                        c.is_valid(i).then(|| c.value(i))
                    })
                    .collect();
                Ok(parts.map(|p| p.concat()))
            }));
        }
        let parts: Vec<Text> = (0..args.len()).map(|i| Text::new(args, i)).collect::<Result<_>>()?;
        let mut out = StringBuilder::new();
        for i in 0..args.rows {
            if parts.iter().any(|p| p.get(i).is_none()) {
                out.append_null();
                continue;
            }
            for p in &parts {
                std::fmt::Write::write_str(&mut out, p.get(i).unwrap_or_default())
                    .expect("a string builder takes text");
            }
            out.append_value("");
        }
        Ok(Arc::new(out.finish()))
    }
}

/// `concat_ws(separator, ...)`: the non-NULL strings (and arrays' strings) joined.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ConcatWs;

impl Function for ConcatWs {
    fn name(&self) -> &'static str {
        "concat_ws"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=usize::MAX)?;
        let mut out = vec![varchar(self.name(), &t[0])?];
        for t in &t[1..] {
            out.push(match t {
                // Trino's array form takes an array of varchar.
                DataType::List(f) => {
                    varchar(self.name(), f.data_type())?;
                    DataType::new_list(DataType::Utf8, true)
                }
                t => varchar(self.name(), t)?,
            });
        }
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let a = args.columns()?;
        let text_at = |x: &ArrayRef, i: usize| {
            let x = x.as_string::<i32>();
            x.is_valid(i).then(|| x.value(i).to_string())
        };
        strings((0..args.rows).map(|i| {
            let Some(sep) = text_at(&a[0], i) else { return Ok(None) };
            let mut parts = Vec::new();
            for x in &a[1..] {
                match x.data_type() {
                    // A NULL array makes the whole NULL (a NULL string is skipped).
                    DataType::List(_) => {
                        let l = x.as_list::<i32>();
                        if l.is_null(i) {
                            return Ok(None);
                        }
                        parts.extend(l.value(i).as_string::<i32>().iter().flatten().map(str::to_string));
                    }
                    _ => parts.extend(text_at(x, i)),
                }
            }
            Ok(Some(parts.join(&sep)))
        }))
    }
}

/// Two strings row by row (NULL when either is).
fn pairs<T>(args: &Args, mut f: impl FnMut(&str, &str) -> Result<T>) -> Result<Vec<Option<T>>> {
    let (a, b) = (Text::new(args, 0)?, Text::new(args, 1)?);
    (0..args.rows)
        .map(|i| match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => f(x, y).map(Some),
            _ => Ok(None),
        })
        .collect()
}

/// `hamming_distance(a, b)`: characters that differ, of two strings as long.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Hamming;

impl Function for Hamming {
    fn name(&self) -> &'static str {
        "hamming_distance"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 2..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let out = pairs(args, |x, y| {
            if chars(x) != chars(y) {
                return exec_err!("The input strings to hamming_distance function must have the same length");
            }
            Ok(x.chars().zip(y.chars()).filter(|(p, q)| p != q).count() as i64)
        })?;
        ints(out.into_iter().map(Ok))
    }
}

/// `levenshtein_distance(a, b)`: the fewest single-character edits.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Levenshtein;

impl Function for Levenshtein {
    fn name(&self) -> &'static str {
        "levenshtein_distance"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 2..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let out = pairs(args, levenshtein)?;
        ints(out.into_iter().map(Ok))
    }
}

/// Arguments that are all text.
fn texts(name: &str, t: &[DataType], range: std::ops::RangeInclusive<usize>) -> Result<Vec<DataType>> {
    arity(name, t, range)?;
    t.iter().map(|t| varchar(name, t)).collect()
}

/// The function `pattern LIKE … ESCAPE e` calls when its pattern or escape is not plain
/// literal text: the pattern as [`like_pattern`] spells it.
pub const LIKE_PATTERN: &str = "athena_like_pattern";

/// A pattern of Trino's LIKE spelled for DataFusion's, whose escape is a backslash: the
/// escape character (Trino has none unless `ESCAPE` names one) turned into a backslash, and
/// every other backslash escaped, as it stands for itself. An escape must be followed by `%`,
/// `_` or itself, as Trino's LikePattern requires.
pub fn like_pattern(text: &str, escape: Option<char>) -> Result<String> {
    let mut spelled = String::with_capacity(text.len() + 2);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if Some(c) == escape => match chars.next() {
                Some(next @ ('%' | '_' | '\\')) => {
                    spelled.push('\\');
                    spelled.push(next);
                }
                Some(next) if Some(next) == escape => spelled.push(next),
                _ => return exec_err!("Escape character must be followed by '%', '_' or the escape character itself"),
            },
            '\\' => spelled.push_str("\\\\"),
            c => spelled.push(c),
        }
    }
    Ok(spelled)
}

/// The escape character `ESCAPE` names, which must be one character.
pub fn like_escape(escape: &str) -> Result<char> {
    let mut chars = escape.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => exec_err!("Escape string must be a single character"),
    }
}

/// `athena_like_pattern(pattern, escape)`: [`like_pattern`] a row at a time.
#[derive(Debug, PartialEq, Eq, Hash)]
struct LikePattern;

impl Function for LikePattern {
    fn name(&self) -> &'static str {
        LIKE_PATTERN
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 2..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let out = pairs(args, |pattern, escape| like_pattern(pattern, Some(like_escape(escape)?)))?;
        strings(out.into_iter().map(Ok))
    }
}

/// What the parser wraps `listagg`'s value in: `athena_listagg_value(x, 'x')`.
pub const LISTAGG_VALUE: &str = "athena_listagg_value";

/// `listagg`'s value, which must be text: Trino refuses another type while the statement is
/// planned (`Expected expression of varchar, but 'value' has integer type`), where DataFusion's
/// `string_agg` casts it. The second argument is the value's SQL, which the message names.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ListaggValue;

impl Function for ListaggValue {
    fn name(&self) -> &'static str {
        LISTAGG_VALUE
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=2)?;
        Ok(vec![t[0].clone(), DataType::Utf8])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn return_field(&self, args: &datafusion::logical_expr::ReturnFieldArgs) -> Result<Option<Field>> {
        let t = args.arg_fields[0].data_type();
        if matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null) {
            return Ok(None);
        }
        let sql = args.scalar_arguments.get(1).copied().flatten().and_then(|v| v.try_as_str().flatten());
        plan_err!(
            "Expected expression of varchar, but '{}' has {} type",
            sql.unwrap_or_default(),
            super::scalar::trino_type(t)
        )
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        args.column(0)
    }
}

/// `replace(s, search[, with])`: every occurrence replaced (removed without `with`).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Replace;

impl Function for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 2..=3)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (s, from) = (Text::new(args, 0)?, Text::new(args, 1)?);
        let with = if args.len() == 3 { Text::new(args, 2)? } else { Text::Constant(Some(String::new())) };
        strings((0..args.rows).map(|i| {
            Ok(match (s.get(i), from.get(i), with.get(i)) {
                (Some(s), Some(f), Some(w)) => Some(s.replace(f, w)),
                _ => None,
            })
        }))
    }
}

/// `split(s, delimiter[, limit])`: the pieces, at most `limit` (the last keeps the rest).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Split;

impl Function for Split {
    fn name(&self) -> &'static str {
        "split"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        t.iter()
            .enumerate()
            .map(|(i, t)| if i < 2 { varchar(self.name(), t) } else { bigint(self.name(), t) })
            .collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Utf8, true))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (text, delimiters) = (Text::new(args, 0)?, Text::new(args, 1)?);
        let limits = if args.len() == 3 { Some(args.column(2)?) } else { None };
        let bytes = match &text {
            Text::Column(c) => c.values().len(),
            Text::Constant(_) => 0,
        };
        let mut out = ListBuilder::with_capacity(StringBuilder::with_capacity(args.rows * 2, bytes), args.rows);
        for i in 0..args.rows {
            let limit = match &limits {
                Some(l) => int_at(l, i),
                None => Some(0),
            };
            let (Some(s), Some(d), Some(limit)) = (text.get(i), delimiters.get(i), limit) else {
                out.append_null();
                continue;
            };
            if limits.is_some() && limit <= 0 {
                return exec_err!("Limit must be positive");
            }
            if limit > i64::from(i32::MAX) {
                return exec_err!("Limit is too large");
            }
            if d.is_empty() {
                return exec_err!("The delimiter may not be the empty string");
            }
            let values = out.values();
            let mut one = d.chars();
            match (one.next(), one.next(), limit) {
                // A one-character delimiter (the usual space or comma) is found by memchr.
                (Some(c), None, 0) => s.split(c).for_each(|p| values.append_value(p)),
                (_, _, 0) => s.split(d).for_each(|p| values.append_value(p)),
                _ => s.splitn(limit as usize, d).for_each(|p| values.append_value(p)),
            }
            out.append(true);
        }
        Ok(Arc::new(out.finish()))
    }
}

/// `split_to_map(s, entry_delimiter, key_value_delimiter)` (duplicate keys refused) and
/// `split_to_multimap` (each key's values in an array).
#[derive(Debug, PartialEq, Eq, Hash)]
struct SplitToMap {
    multi: bool,
}

impl Function for SplitToMap {
    fn name(&self) -> &'static str {
        if self.multi { "split_to_multimap" } else { "split_to_map" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 3..=3)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(map_type(if self.multi { DataType::new_list(DataType::Utf8, true) } else { DataType::Utf8 }))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        split_to_map(self.multi, &args.columns()?, args.rows)
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

/// `strpos(s, sub[, instance])` and `strrpos` (from the end): the character position, from 1,
/// of the instance-th occurrence (overlapping ones count), 0 when there is none.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Strpos {
    from_end: bool,
}

impl Function for Strpos {
    fn name(&self) -> &'static str {
        if self.from_end { "strrpos" } else { "strpos" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        t.iter()
            .enumerate()
            .map(|(i, t)| if i < 2 { varchar(self.name(), t) } else { bigint(self.name(), t) })
            .collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (text, subs) = (Text::new(args, 0)?, Text::new(args, 1)?);
        let instances = if args.len() == 3 { Some(args.column(2)?) } else { None };
        // The usual call, a constant needle's first position: one searcher for the batch.
        if let (Text::Column(column), Text::Constant(Some(sub)), None, false) =
            (&text, &subs, &instances, self.from_end)
            && !sub.is_empty()
        {
            let finder = memchr::memmem::Finder::new(sub.as_bytes());
            let first = |s: &str| finder.find(s.as_bytes()).map_or(0, |b| chars(&s[..b]) as i64 + 1);
            return Ok(Arc::new(column.iter().map(|s| s.map(first)).collect::<Int64Array>()));
        }
        ints((0..args.rows).map(|i| {
            let k = match &instances {
                Some(a) => int_at(a, i),
                None => Some(1),
            };
            let (Some(s), Some(sub), Some(k)) = (text.get(i), subs.get(i), k) else { return Ok(None) };
            if k == 0 {
                return exec_err!("'instance' must be a positive or negative number");
            }
            Ok(Some(position(s, sub, k.unsigned_abs() as usize, self.from_end != (k < 0))))
        }))
    }
}

/// `substr(s, start[, length])` (also `substring`): from 1, a negative start counting from the
/// end; of a varbinary, in bytes.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Substr;

impl Function for Substr {
    fn name(&self) -> &'static str {
        "substr"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["substring"]
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        let first = text_or_bytes(self.name(), &t[0], &t[0])?;
        std::iter::once(Ok(first)).chain(t[1..].iter().map(|t| bigint(self.name(), t))).collect()
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let starts = args.column(1)?;
        let starts = starts.as_primitive::<Int64Type>();
        let lengths = if args.len() == 3 { Some(args.column(2)?) } else { None };
        // A missing length is the rest (`Some(None)`); a NULL one gives NULL (`None`).
        let length = |i: usize| match &lengths {
            None => Some(None),
            Some(l) => int_at(l, i).map(Some),
        };
        if args.ret == &DataType::Binary {
            let bytes = args.column(0)?;
            let bytes = bytes.as_binary::<i32>();
            return binaries(bytes.iter().zip(starts).enumerate().map(|(i, (b, start))| {
                Ok(b.zip(start).zip(length(i)).map(|((b, start), length)| {
                    span(b.len(), start, length).map_or(&b[..0], |(from, to)| &b[from..to])
                }))
            }));
        }
        let text = Text::new(args, 0)?;
        strings(starts.iter().enumerate().map(|(i, start)| {
            Ok(text.get(i).zip(start).zip(length(i)).map(|((s, start), length)| substr(s, start, length)))
        }))
    }
}

/// `trim(s[, chars])`, `ltrim`, `rtrim` (and `TRIM([BOTH | LEADING | TRAILING] [chars] FROM s)`,
/// which DataFusion's planner names `btrim`, `ltrim`, `rtrim`): the characters of `chars`, or
/// whitespace as Java counts it, taken off either end. DataFusion's took spaces alone.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Trim {
    leading: bool,
    trailing: bool,
}

impl Function for Trim {
    fn name(&self) -> &'static str {
        match (self.leading, self.trailing) {
            (true, false) => "ltrim",
            (false, true) => "rtrim",
            _ => "trim",
        }
    }
    fn aliases(&self) -> &'static [&'static str] {
        if self.leading && self.trailing { &["btrim"] } else { &[] }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        texts(self.name(), t, 1..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let text = Text::new(args, 0)?;
        let chars = if args.len() == 2 { Some(Text::new(args, 1)?) } else { None };
        strings((0..args.rows).map(|i| {
            let Some(s) = text.get(i) else { return Ok(None) };
            let trimmed = match &chars {
                None => self.trim(s, java_whitespace),
                Some(c) => match c.get(i) {
                    None => return Ok(None),
                    Some(c) => self.trim(s, |x| c.contains(x)),
                },
            };
            Ok(Some(trimmed))
        }))
    }
}

impl Trim {
    fn trim<'s>(&self, s: &'s str, strip: impl Fn(char) -> bool + Copy) -> &'s str {
        let s = if self.leading { s.trim_start_matches(strip) } else { s };
        if self.trailing { s.trim_end_matches(strip) } else { s }
    }
}

/// Java's `Character.isWhitespace`, which Trino trims: Unicode's white space but the
/// no-break spaces and U+0085, and the separators U+001C to U+001F.
fn java_whitespace(c: char) -> bool {
    (c.is_whitespace() && !matches!(c, '\u{85}' | '\u{A0}' | '\u{2007}' | '\u{202F}'))
        || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// `OVERLAY(s PLACING r FROM start [FOR length])`: `length` characters of `s` from `start`
/// (by default as many as `r` has) replaced by `r`. A start before the first character is an
/// error and a negative length removes nothing, as in Trino (DataFusion's took the negative
/// length back from the start).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Overlay;

impl Function for Overlay {
    fn name(&self) -> &'static str {
        "overlay"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 3..=4)?;
        let text = t[..2].iter().map(|t| varchar(self.name(), t));
        text.chain(t[2..].iter().map(|t| bigint(self.name(), t))).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (s, r) = (Text::new(args, 0)?, Text::new(args, 1)?);
        let start = args.column(2)?;
        let length = if args.len() == 4 { Some(args.column(3)?) } else { None };
        strings((0..args.rows).map(|i| {
            let (Some(s), Some(r), Some(start)) = (s.get(i), r.get(i), int_at(&start, i)) else { return Ok(None) };
            let length = match &length {
                None => chars(r) as i64,
                Some(l) => match int_at(l, i) {
                    None => return Ok(None),
                    Some(l) => l.max(0),
                },
            };
            if start < 1 {
                return exec_err!("overlay: the start position must be at least 1, got {start}");
            }
            let from = (start - 1) as usize;
            let head: String = s.chars().take(from).collect();
            let tail: String = s.chars().skip(from.saturating_add(length as usize)).collect();
            Ok(Some(format!("{head}{r}{tail}")))
        }))
    }
}

/// An argument of `name` that is a varbinary when the function's first one is (the function's
/// bytes form), else a varchar.
fn text_or_bytes(name: &str, first: &DataType, t: &DataType) -> Result<DataType> {
    if is_binary(first) && !first.is_null() { super::shared::binary(name, t) } else { varchar(name, t) }
}

/// `lpad(s, size, fill)` and `rpad`: `s` cut or filled to `size` characters (bytes, of a
/// varbinary) with `fill` repeated, before it or after it; a size out of `[0, 2^31 - 1]` or an
/// empty fill is an error, as in Trino.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Pad {
    left: bool,
}

impl Function for Pad {
    fn name(&self) -> &'static str {
        if self.left { "lpad" } else { "rpad" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 3..=3)?;
        let name = self.name();
        Ok(vec![text_or_bytes(name, &t[0], &t[0])?, bigint(name, &t[1])?, text_or_bytes(name, &t[0], &t[2])?])
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let sizes = args.column(1)?;
        let sizes = sizes.as_primitive::<Int64Type>().iter();
        let name = self.name();
        let size = |n: i64| match usize::try_from(n) {
            Ok(n) if n <= i32::MAX as usize => Ok(n),
            _ => exec_err!("Target length must be in the range [0..2147483647]"),
        };
        if args.ret == &DataType::Binary {
            let (values, fills) = (args.column(0)?, args.column(2)?);
            let (values, fills) = (values.as_binary::<i32>().iter(), fills.as_binary::<i32>().iter());
            return binaries(values.zip(sizes).zip(fills).map(|((v, n), fill)| {
                let (Some(v), Some(n), Some(fill)) = (v, n, fill) else { return Ok(None) };
                let n = size(n)?;
                if fill.is_empty() {
                    return exec_err!("Padding bytes must not be empty");
                }
                if v.len() >= n {
                    return Ok(Some(v[..n].to_vec()));
                }
                let fill = fill.iter().cycle().take(n - v.len());
                Ok(Some(if self.left {
                    fill.chain(v).copied().collect()
                } else {
                    v.iter().chain(fill).copied().collect()
                }))
            }));
        }
        let (values, fills) = (Text::new(args, 0)?, Text::new(args, 2)?);
        strings(sizes.enumerate().map(|(i, n)| {
            let (Some(v), Some(n), Some(fill)) = (values.get(i), n, fills.get(i)) else { return Ok(None) };
            let n = size(n)?;
            if fill.is_empty() {
                return exec_err!("{name}: padding string must not be empty");
            }
            let count = chars(v);
            if count >= n {
                return Ok(Some(substr(v, 1, Some(n as i64)).to_string()));
            }
            let fill = fill.chars().cycle().take(n - count);
            Ok(Some(if self.left { fill.chain(v.chars()).collect() } else { v.chars().chain(fill).collect() }))
        }))
    }
}

/// `format(pattern, ...)`: Java's `String.format`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Format;

impl Function for Format {
    fn name(&self) -> &'static str {
        "format"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 1..=usize::MAX)?;
        let mut out = vec![varchar(self.name(), &t[0])?];
        if let Some(nested) = t[1..].iter().find(|t| t.is_nested()) {
            return plan_err!("Type not supported for formatting: {nested}");
        }
        // Each value as the Java object Trino makes of it (see `java_format`).
        out.extend(t[1..].iter().map(|t| match t {
            t if t.is_integer() => DataType::Int64,
            t if t.is_floating() => DataType::Float64,
            t @ (DataType::Decimal128(..)
            | DataType::Boolean
            | DataType::Date32
            | DataType::Timestamp(..)
            | DataType::Time32(_)
            | DataType::Time64(_)) => t.clone(),
            _ => DataType::Utf8,
        }));
        Ok(out)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let a = args.columns()?;
        let patterns = a[0].as_string::<i32>();
        strings((0..args.rows).map(|i| {
            if patterns.is_null(i) {
                return Ok(None);
            }
            let values: Vec<ScalarValue> =
                a[1..].iter().map(|x| ScalarValue::try_from_array(x, i)).collect::<Result<_>>()?;
            super::java_format::format(patterns.value(i), &values).map(Some).or_else(|e| exec_err!("format: {e}"))
        }))
    }
}

/// `concat` of arrays (and single elements): NULL when any argument is.
fn concat_arrays(a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    let mut pieces: Vec<ArrayRef> = Vec::new();
    let mut lengths = Vec::with_capacity(n);
    let mut nulls = Vec::with_capacity(n);
    for i in 0..n {
        let mut length = 0;
        let mut null = false;
        // A NULL array makes the row NULL; a NULL element is kept.
        let null_array = |x: &ArrayRef| x.is_null(i) && matches!(x.data_type(), DataType::List(_));
        for x in a {
            if null_array(x) {
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
            let pushed = a.iter().filter(|x| !null_array(x)).count();
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

fn split_to_map(multi: bool, a: &[ArrayRef], n: usize) -> Result<ArrayRef> {
    fn text_at(x: &ArrayRef, i: usize) -> Option<&str> {
        let x = x.as_string::<i32>();
        x.is_valid(i).then(|| x.value(i))
    }
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
        if entry.is_empty() {
            return exec_err!("entryDelimiter is empty");
        }
        if kv.is_empty() {
            return exec_err!("keyValueDelimiter is empty");
        }
        if entry == kv {
            return exec_err!("entryDelimiter and keyValueDelimiter must not be the same");
        }
        let mut keys: Vec<String> = Vec::new();
        let mut values: Vec<Vec<String>> = Vec::new();
        // A delimiter closing the text opens no entry; an empty entry elsewhere is bad input.
        let parts = text.strip_suffix(entry).unwrap_or(text);
        for part in parts.split(entry).filter(|_| !text.is_empty()) {
            let Some((k, v)) = part.split_once(kv).filter(|(_, v)| !v.contains(kv)) else {
                let part = if multi { part.to_string() } else { format!("'{part}'") };
                return exec_err!("Key-value delimiter must appear exactly once in each entry. Bad input: {part}");
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
    let found = if !from_end && !sub.is_empty() {
        // Forward: each search resumes a character after the last match (overlapping ones count).
        let mut at = 0;
        let mut seen = 0;
        loop {
            let Some(p) = s[at..].find(sub) else { break None };
            seen += 1;
            if seen == k {
                break Some(at + p);
            }
            at += p + s[at + p..].chars().next().map_or(1, char::len_utf8);
        }
    } else {
        let starts: Vec<usize> = if sub.is_empty() {
            (0..=s.len()).filter(|b| s.is_char_boundary(*b)).collect()
        } else {
            (0..s.len()).filter(|&b| s.is_char_boundary(b) && s[b..].starts_with(sub)).collect()
        };
        if from_end { starts.iter().rev().nth(k - 1).copied() } else { starts.get(k - 1).copied() }
    };
    found.map_or(0, |b| chars(&s[..b]) as i64 + 1)
}

/// `substr(s, start[, length])`: from 1, a negative start counts from the end, 0 is empty.
fn substr(s: &str, start: i64, length: Option<i64>) -> &str {
    let ascii = s.is_ascii();
    let Some((from, to)) = span(chars(s), start, length) else { return "" };
    if ascii {
        return &s[from..to];
    }
    let byte = |k: usize| s.char_indices().nth(k).map_or(s.len(), |(b, _)| b);
    &s[byte(from)..byte(to)]
}

/// The positions `[from, to)` of Trino's `substr` of `count` characters or bytes: from 1, a
/// negative start counting from the end; `None` when nothing is taken (a start of 0 or past
/// either end, a length that is not positive).
fn span(count: usize, start: i64, length: Option<i64>) -> Option<(usize, usize)> {
    let count = count as i64;
    if start == 0 || start.abs() > count || length.is_some_and(|l| l <= 0) {
        return None;
    }
    let from = if start > 0 { start - 1 } else { count + start };
    let to = from + length.unwrap_or(count).min(count - from);
    Some((from as usize, to as usize))
}

/// The distance of `a` and `b`; Trino refuses a table of more than a million cells (the
/// longer times the shorter less one) rather than spend the time.
fn levenshtein(a: &str, b: &str) -> Result<i64> {
    let (a, b) = if chars(a) < chars(b) { (b, a) } else { (a, b) };
    let (long, short) = (chars(a), chars(b));
    if short == 0 {
        return Ok(long as i64);
    }
    if long.saturating_mul(short - 1) > 1_000_000 {
        return exec_err!("The combined inputs for Levenshtein distance are too large");
    }
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
    Ok(row[b.len()] as i64)
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
fn soundex(s: &str) -> Result<String> {
    let code = |c: char| match c.to_ascii_uppercase() {
        'B' | 'F' | 'P' | 'V' => Some('1'),
        'C' | 'G' | 'J' | 'K' | 'Q' | 'S' | 'X' | 'Z' => Some('2'),
        'D' | 'T' => Some('3'),
        'L' => Some('4'),
        'M' | 'N' => Some('5'),
        'R' => Some('6'),
        _ => None,
    };
    // Letters alone count (as Apache Commons Codec's, which Trino runs, cleans the text); a
    // letter out of A to Z is refused when it is reached.
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_uppercase).collect();
    let Some(&first) = letters.first() else { return Ok(String::new()) };
    let unmapped = |c: char| {
        exec_err!("The character is not mapped: {c} (index={})", i64::from(u32::from(c)) - i64::from(u32::from('A')))
    };
    if !first.is_ascii_uppercase() {
        return unmapped(first);
    }
    let mut out = String::from(first.to_ascii_uppercase());
    let mut last = code(first);
    for &c in &letters[1..] {
        if !c.is_ascii_uppercase() {
            return unmapped(c);
        }
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
    Ok(out)
}

/// `normalize(s[, form])`: the text in a Unicode normal form, NFC unless named (NFD, NFKC,
/// NFKD; the parser turns Trino's bare keyword into text).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Normalize;

impl Function for Normalize {
    fn name(&self) -> &'static str {
        "normalize"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("normalize", t, 1..=2)?;
        t.iter().map(|t| varchar("normalize", t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        use unicode_normalization::UnicodeNormalization;
        with_option(args, "NFC", |s, form| {
            Ok(match form.to_ascii_uppercase().as_str() {
                "NFC" => s.nfc().collect::<String>(),
                "NFD" => s.nfd().collect(),
                "NFKC" => s.nfkc().collect(),
                "NFKD" => s.nfkd().collect(),
                _ => return exec_err!("normalize: unknown normal form '{form}' (NFC, NFD, NFKC or NFKD)"),
            })
        })
    }
}

/// `f(text, option)` on each row, the option (argument 1) `default` when the call leaves it
/// out; NULL when either is NULL.
fn with_option<S: AsRef<str>>(
    args: &Args,
    default: &str,
    mut f: impl FnMut(&str, &str) -> Result<S>,
) -> Result<ArrayRef> {
    let text = Text::new(args, 0)?;
    let option = if args.len() == 2 { Text::new(args, 1)? } else { Text::Constant(Some(default.into())) };
    strings((0..args.rows).map(|i| match (text.get(i), option.get(i)) {
        (Some(s), Some(o)) => f(s, o).map(Some),
        _ => Ok(None),
    }))
}

/// `word_stem(word[, language])`: the word's Snowball stem, English unless a language code is
/// given; the word as it is when the stemmer leaves it.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WordStem;

/// The Snowball stemmer of one of Trino's language codes.
fn stemmer(language: &str) -> Result<rust_stemmers::Stemmer> {
    use rust_stemmers::Algorithm::*;
    let algorithm = match language {
        "da" => Danish,
        "de" => German,
        "en" => English,
        "es" => Spanish,
        "fi" => Finnish,
        "fr" => French,
        "hu" => Hungarian,
        "it" => Italian,
        "nl" => Dutch,
        "no" => Norwegian,
        "pt" => Portuguese,
        "ro" => Romanian,
        "ru" => Russian,
        "sv" => Swedish,
        "tr" => Turkish,
        "ca" | "eu" | "hy" | "ir" | "lt" => {
            return exec_err!("word_stem: no stemmer for language '{language}' in this build");
        }
        _ => return exec_err!("Unknown stemmer language: {language}"),
    };
    Ok(rust_stemmers::Stemmer::create(algorithm))
}

impl Function for WordStem {
    fn name(&self) -> &'static str {
        "word_stem"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("word_stem", t, 1..=2)?;
        t.iter().map(|t| varchar("word_stem", t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        // A constant language's stemmer is made once.
        let constant = match (args.len(), args.constant(1)) {
            (1, _) => Some(stemmer("en")?),
            (_, Some(ScalarValue::Utf8(Some(language)))) => Some(stemmer(language)?),
            _ => None,
        };
        with_option(args, "en", |word, language| {
            Ok(match &constant {
                Some(s) => s.stem(word).into_owned(),
                None => stemmer(language)?.stem(word).into_owned(),
            })
        })
    }
}

/// `split_part(s, delimiter, n)`: the n-th field (from 1), NULL past the last one; an empty
/// delimiter splits into characters.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SplitPart;

impl Function for SplitPart {
    fn name(&self) -> &'static str {
        "split_part"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity("split_part", t, 3..=3)?;
        Ok(vec![varchar("split_part", &t[0])?, varchar("split_part", &t[1])?, bigint("split_part", &t[2])?])
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let (text, delimiter, index) = (Text::new(args, 0)?, Text::new(args, 1)?, args.column(2)?);
        strings((0..args.rows).map(|i| {
            let (Some(s), Some(d), Some(n)) = (text.get(i), delimiter.get(i), int_at(&index, i)) else {
                return Ok(None);
            };
            if n <= 0 {
                return exec_err!("split_part: index must be greater than zero, got {n}");
            }
            let nth = (n - 1) as usize;
            Ok(if d.is_empty() {
                s.chars().nth(nth).map(String::from)
            } else {
                s.split(d).nth(nth).map(str::to_string)
            })
        }))
    }
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
        assert_eq!(levenshtein("kitten", "sitting").ok(), Some(3));
        assert_eq!(soundex("Robert").ok().as_deref(), Some("R163"));
        assert_eq!(soundex("Tymczak").ok().as_deref(), Some("T522"));
        assert_eq!(soundex("Ashcraft").ok().as_deref(), Some("A261"));
        assert!(luhn("79927398713"));
    }
}
