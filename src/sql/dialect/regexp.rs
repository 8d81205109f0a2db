//! Trino's regular expression functions: `regexp_extract`, `regexp_extract_all`,
//! `regexp_position`, `regexp_split`, `regexp_count` and `regexp_replace`, which replaces
//! every match and writes groups as `$1` (DataFusion's replaces the first match unless told
//! `'g'`, and writes groups as `\1`). Positions count characters from 1.
//!
//! Patterns are Rust's `regex` syntax, which is Java's but for look-around and
//! back-references (refused with the pattern named). A constant pattern is compiled once per
//! batch.

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::ScalarUDF;
use regex::Regex;

use super::function::{Args, Function, Parsed, udf};
use super::shared::{arity, bigint, varchar};

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![udf(Extract), udf(ExtractAll), udf(Position), udf(Split), udf(Count), udf(Replace)]
}

/// Each row's pattern: compiled once when it is a constant, else row by row.
type Patterns = Parsed<Regex>;

fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).or_else(|e| exec_err!("invalid regular expression {pattern:?}: {e}"))
}

/// The matches Java's `Matcher.find` reports, left to right: `find_iter`'s, and also an empty
/// match right after a non-empty one (Java finds `x` and then the empty end in `x` for `.*`;
/// the `regex` crate only `x`). After an empty match the search moves on one character.
pub(super) fn java_matches<'r, 'h>(re: &'r Regex, s: &'h str) -> impl Iterator<Item = regex::Match<'h>> + use<'r, 'h> {
    java_steps(s, move |at| re.find_at(s, at), |m| (m.start(), m.end()))
}

/// [`java_matches`] with each match's groups.
pub(super) fn java_captures<'r, 'h>(
    re: &'r Regex,
    s: &'h str,
) -> impl Iterator<Item = regex::Captures<'h>> + use<'r, 'h> {
    java_steps(
        s,
        move |at| re.captures_at(s, at),
        |c| {
            let m = c.get(0).expect("a match has group 0");
            (m.start(), m.end())
        },
    )
}

fn java_steps<'h, T, F: FnMut(usize) -> Option<T>>(
    s: &'h str,
    mut find: F,
    bounds: fn(&T) -> (usize, usize),
) -> impl Iterator<Item = T> + use<'h, T, F> {
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let found = find(from?)?;
        let (start, end) = bounds(&found);
        from = if start == end { s[end..].chars().next().map(|c| end + c.len_utf8()) } else { Some(end) };
        Some(found)
    })
}

/// `f` on each row's text and pattern (NULL when either is NULL).
fn each<'a, T>(
    text: &'a StringArray,
    patterns: &Patterns,
    rows: usize,
    mut f: impl FnMut(usize, &'a str, &Regex) -> Result<Option<T>>,
) -> Result<Vec<Option<T>>> {
    (0..rows)
        .map(|i| {
            if text.is_null(i) {
                return Ok(None);
            }
            match patterns.get(i)? {
                Some(re) => f(i, text.value(i), &re),
                None => Ok(None),
            }
        })
        .collect()
}

/// An integer argument of row `i`: `None` when absent, `Some(None)` when NULL.
fn int(args: &[ArrayRef], k: usize, i: usize) -> Option<Option<i64>> {
    args.get(k).map(|a| {
        let a = a.as_primitive::<Int64Type>();
        a.is_valid(i).then(|| a.value(i))
    })
}

/// The text, the pattern, then integers.
fn text_pattern_ints(name: &str, t: &[DataType], range: std::ops::RangeInclusive<usize>) -> Result<Vec<DataType>> {
    arity(name, t, range)?;
    t.iter().enumerate().map(|(i, t)| if i < 2 { varchar(name, t) } else { bigint(name, t) }).collect()
}

fn strings<S: AsRef<str>>(values: Vec<Option<S>>) -> ArrayRef {
    Arc::new(values.iter().map(|v| v.as_ref().map(AsRef::as_ref)).collect::<StringArray>())
}

fn lists(values: Vec<Option<Vec<Option<&str>>>>) -> ArrayRef {
    let mut out = ListBuilder::new(StringBuilder::new());
    for row in values {
        match row {
            Some(items) => {
                for item in items {
                    out.values().append_option(item);
                }
                out.append(true);
            }
            None => out.append_null(),
        }
    }
    Arc::new(out.finish())
}

/// `regexp_extract(s, pattern[, group])`: the first match (or its group), NULL when none.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Extract;

impl Function for Extract {
    fn name(&self) -> &'static str {
        "regexp_extract"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        text_pattern_ints(self.name(), t, 2..=3)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let patterns = Patterns::new(args, 1, compile)?;
        let out = each(columns[0].as_string::<i32>(), &patterns, args.rows, |i, s, re| {
            Ok(match group(re, int(&columns, 2, i))? {
                None => None,
                Some(0) => re.find(s).map(|m| m.as_str()),
                Some(g) => re.captures(s).and_then(|c| c.get(g)).map(|m| m.as_str()),
            })
        })?;
        Ok(strings(out))
    }
}

/// `regexp_extract_all(s, pattern[, group])`: every match (or its group).
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExtractAll;

impl Function for ExtractAll {
    fn name(&self) -> &'static str {
        "regexp_extract_all"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        text_pattern_ints(self.name(), t, 2..=3)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Utf8, true))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let patterns = Patterns::new(args, 1, compile)?;
        let out = each(columns[0].as_string::<i32>(), &patterns, args.rows, |i, s, re| {
            Ok(match group(re, int(&columns, 2, i))? {
                None => None,
                Some(0) => Some(java_matches(re, s).map(|m| Some(m.as_str())).collect()),
                Some(g) => Some(java_captures(re, s).map(|c| c.get(g).map(|m| m.as_str())).collect()),
            })
        })?;
        Ok(lists(out))
    }
}

/// `regexp_split(s, pattern)`: the pieces between matches.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Split;

impl Function for Split {
    fn name(&self) -> &'static str {
        "regexp_split"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        text_pattern_ints(self.name(), t, 2..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::new_list(DataType::Utf8, true))
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let patterns = Patterns::new(args, 1, compile)?;
        let out = each(column.as_string::<i32>(), &patterns, args.rows, |_, s, re| {
            Ok(Some(re.split(s).map(Some).collect()))
        })?;
        Ok(lists(out))
    }
}

/// `regexp_count(s, pattern)`: how many times it matches.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Count;

impl Function for Count {
    fn name(&self) -> &'static str {
        "regexp_count"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        text_pattern_ints(self.name(), t, 2..=2)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let column = args.column(0)?;
        let patterns = Patterns::new(args, 1, compile)?;
        let out = each(column.as_string::<i32>(), &patterns, args.rows, |_, s, re| {
            Ok(Some(java_matches(re, s).count() as i64))
        })?;
        Ok(Arc::new(Int64Array::from(out)))
    }
}

/// `regexp_position(s, pattern[, start[, occurrence]])`: the character position (from 1) of
/// the occurrence-th match at or after `start`, or -1.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Position;

impl Function for Position {
    fn name(&self) -> &'static str {
        "regexp_position"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        text_pattern_ints(self.name(), t, 2..=4)
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let patterns = Patterns::new(args, 1, compile)?;
        let out = each(columns[0].as_string::<i32>(), &patterns, args.rows, |i, s, re| {
            let (Some(start), Some(occurrence)) =
                (int(&columns, 2, i).unwrap_or(Some(1)), int(&columns, 3, i).unwrap_or(Some(1)))
            else {
                return Ok(None);
            };
            if start < 1 {
                return exec_err!("start position cannot be smaller than 1");
            }
            if occurrence < 1 {
                return exec_err!("occurrence cannot be smaller than 1");
            }
            let from = s.char_indices().nth((start - 1) as usize).map(|(b, _)| b);
            let found = from
                .and_then(|from| java_matches(re, &s[from..]).nth((occurrence - 1) as usize).map(|m| from + m.start()));
            Ok(Some(found.map_or(-1, |b| s[..b].chars().count() as i64 + 1)))
        })?;
        Ok(Arc::new(Int64Array::from(out)))
    }
}

/// `regexp_replace(s, pattern[, replacement])`: every match replaced (removed without a
/// replacement); the replacement names groups as `$1` or `${name}`, `\$` is a dollar.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Replace;

impl Function for Replace {
    fn name(&self) -> &'static str {
        "regexp_replace"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        arity(self.name(), t, 2..=3)?;
        t.iter().map(|t| varchar(self.name(), t)).collect()
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let columns = args.columns()?;
        let patterns = Patterns::new(args, 1, compile)?;
        // A constant replacement is read once, against the constant pattern's groups.
        let constant = match (&patterns, args.len() == 2, args.constant(2)) {
            (_, true, _) => Some(Some(String::new())),
            (Parsed::Constant(Some(re)), false, Some(ScalarValue::Utf8(w))) => {
                Some(w.as_deref().map(|w| template(w, re)).transpose()?)
            }
            _ => None,
        };
        let with = columns.get(2).map(|w| w.as_string::<i32>());
        let text = columns[0].as_string::<i32>();
        if let (Parsed::Constant(Some(re)), Some(Some(template))) = (&patterns, &constant)
            && let Some(literal) = Literal::of(re.as_str()).filter(|_| !template.contains('$'))
        {
            return Ok(Arc::new(literal.replace(text, template)));
        }
        // Written straight into the result's buffer: no string per row.
        let mut out = StringBuilder::with_capacity(args.rows, text.values().len());
        let mut expanded = String::new();
        for i in 0..args.rows {
            let re = if text.is_null(i) { None } else { patterns.get(i)? };
            let Some(re) = re else {
                out.append_null();
                continue;
            };
            let template = match &constant {
                Some(t) => t.as_deref().map(Cow::Borrowed),
                None => with.filter(|w| w.is_valid(i)).map(|w| template(w.value(i), &re)).transpose()?.map(Cow::Owned),
            };
            let Some(template) = template else {
                out.append_null();
                continue;
            };
            let s = text.value(i);
            let mut last = 0;
            if template.contains('$') {
                for caps in java_captures(&re, s) {
                    let m = caps.get(0).expect("a match has group 0");
                    expanded.clear();
                    caps.expand(&template, &mut expanded);
                    out.write_str(&s[last..m.start()])
                        .and_then(|_| out.write_str(&expanded))
                        .expect("a string builder takes text");
                    last = m.end();
                }
            } else {
                for m in java_matches(&re, s) {
                    out.write_str(&s[last..m.start()])
                        .and_then(|_| out.write_str(&template))
                        .expect("a string builder takes text");
                    last = m.end();
                }
            }
            out.append_value(&s[last..]);
        }
        Ok(Arc::new(out.finish()))
    }
}

/// A pattern that matches a fixed string, or one character of an ASCII class: replaced by a
/// byte search, without the regex engine's per-match work (a match of either is whole
/// characters, and the leftmost-first matches are the non-overlapping ones left to right).
enum Literal {
    Text(Box<memchr::memmem::Finder<'static>>),
    Class(Box<[bool; 256]>),
}

impl Literal {
    fn of(pattern: &str) -> Option<Literal> {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::parse(pattern).ok()?;
        match hir.kind() {
            HirKind::Literal(l) if !l.0.is_empty() => {
                Some(Literal::Text(Box::new(memchr::memmem::Finder::new(&l.0[..]).into_owned())))
            }
            HirKind::Class(Class::Unicode(c)) if c.ranges().iter().all(|r| r.end().is_ascii()) => {
                let mut table = Box::new([false; 256]);
                for r in c.ranges() {
                    table[r.start() as usize..=r.end() as usize].fill(true);
                }
                Some(Literal::Class(table))
            }
            _ => None,
        }
    }

    /// Every match in each text replaced by `with`, written into one buffer.
    fn replace(&self, text: &StringArray, with: &str) -> StringArray {
        let mut out = StringBuilder::with_capacity(text.len(), text.values().len());
        for s in text.iter() {
            let Some(s) = s else {
                out.append_null();
                continue;
            };
            let mut last = 0;
            let mut put = |out: &mut StringBuilder, at: usize, len: usize| {
                out.write_str(&s[last..at]).and_then(|_| out.write_str(with)).expect("a string builder takes text");
                last = at + len;
            };
            match self {
                Literal::Text(finder) => {
                    for at in finder.find_iter(s.as_bytes()) {
                        put(&mut out, at, finder.needle().len());
                    }
                }
                Literal::Class(table) => {
                    for (at, _) in s.bytes().enumerate().filter(|(_, b)| table[*b as usize]) {
                        put(&mut out, at, 1);
                    }
                }
            }
            out.append_value(&s[last..]);
        }
        out.finish()
    }
}

/// Trino's replacement (Java's rules) in Rust's template syntax: `$` and digits name the
/// longest group number the pattern has (`$10` is group 1 then `0` when there are fewer than
/// ten groups), `${name}` a named group, a backslash escapes the next character; a reference
/// to a group the pattern lacks is an error.
fn template(trino: &str, re: &Regex) -> Result<String> {
    let groups = re.captures_len() - 1;
    let mut out = String::with_capacity(trino.len());
    let mut chars = trino.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => return exec_err!("Illegal escape: a replacement ends with a backslash"),
            },
            '$' => match chars.next() {
                Some('{') => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    if !re.capture_names().flatten().any(|n| n == name) {
                        return exec_err!("Illegal group reference: no group named '{name}'");
                    }
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut group = d.to_digit(10).unwrap_or(0) as usize;
                    if group > groups {
                        return exec_err!("Illegal group reference: the pattern has {groups} groups, not {group}");
                    }
                    while let Some(next) = chars.peek().and_then(|c| c.to_digit(10)) {
                        let longer = group * 10 + next as usize;
                        if longer > groups {
                            break;
                        }
                        group = longer;
                        chars.next();
                    }
                    out.push_str(&format!("${{{group}}}"));
                }
                _ => return exec_err!("Illegal group reference in replacement {trino:?}"),
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The capture group an argument names (0, the whole match, when there is none), checked
/// against the pattern; `None` when the argument is NULL.
fn group(re: &Regex, argument: Option<Option<i64>>) -> Result<Option<usize>> {
    let group = match argument {
        None => 0,
        Some(None) => return Ok(None),
        Some(Some(g)) => g,
    };
    if group < 0 || group as usize >= re.captures_len() {
        return exec_err!("Pattern has {} groups. Cannot access group {group}", re.captures_len() - 1);
    }
    Ok(Some(group as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_read_as_trino_writes_them() {
        let re = Regex::new("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(?<k>k)").unwrap();
        assert_eq!(template("$1", &re).unwrap(), "${1}");
        assert_eq!(template("x$2y", &re).unwrap(), "x${2}y");
        assert_eq!(template("\\$1", &re).unwrap(), "$$1");
        assert_eq!(template("${k}", &re).unwrap(), "${k}");
        assert_eq!(template("$11$12", &re).unwrap(), "${11}${1}2");
        let two = Regex::new("(a)(b)").unwrap();
        assert_eq!(template("$10", &two).unwrap(), "${1}0");
        assert!(template("$3", &two).is_err());
        assert!(template("${x}", &two).is_err());
        assert!(template("$", &two).is_err());
    }
}
