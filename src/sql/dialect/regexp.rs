//! Trino's regular expression functions: `regexp_extract`, `regexp_extract_all`,
//! `regexp_position`, `regexp_split`, `regexp_count` and `regexp_replace`, which replaces
//! every match and writes groups as `$1` (DataFusion's replaces the first match unless told
//! `'g'`, and writes groups as `\1`). Positions count characters from 1.
//!
//! Patterns are Rust's `regex` syntax, which is Java's but for look-around and
//! back-references (refused with the pattern named). A constant pattern is compiled once per
//! batch.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use regex::Regex;

use super::shared::{bigint, varchar};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum R {
    Extract,
    ExtractAll,
    Position,
    Split,
    Count,
    Replace,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Regexp {
    r: R,
    name: &'static str,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (R::Extract, "regexp_extract"),
        (R::ExtractAll, "regexp_extract_all"),
        (R::Position, "regexp_position"),
        (R::Split, "regexp_split"),
        (R::Count, "regexp_count"),
        (R::Replace, "regexp_replace"),
    ]
    .into_iter()
    .map(|(r, name)| {
        ScalarUDF::new_from_impl(Regexp { r, name, signature: Signature::user_defined(Volatility::Immutable) })
    })
    .collect()
}

/// A pattern, compiled once when it is the same for every row.
struct Patterns<'a> {
    patterns: &'a StringArray,
    constant: Option<Regex>,
}

impl<'a> Patterns<'a> {
    fn new(patterns: &'a StringArray, scalar: bool) -> Result<Self> {
        let constant = if scalar && patterns.is_valid(0) { Some(compile(patterns.value(0))?) } else { None };
        Ok(Patterns { patterns, constant })
    }

    fn get(&self, i: usize) -> Result<Option<Regex>> {
        if let Some(r) = &self.constant {
            return Ok(Some(r.clone()));
        }
        let i = if self.patterns.len() == 1 { 0 } else { i };
        if self.patterns.is_null(i) { Ok(None) } else { compile(self.patterns.value(i)).map(Some) }
    }
}

fn compile(pattern: &str) -> Result<Regex> {
    Regex::new(pattern).or_else(|e| exec_err!("invalid regular expression {pattern:?}: {e}"))
}

/// Trino's replacement (`$1`, `${name}`, `\$` for a dollar) in Rust's syntax (`$$` for one).
fn replacement(trino: &str) -> String {
    let mut out = String::with_capacity(trino.len());
    let mut chars = trino.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            '$' if chars.peek().is_some_and(|c| c.is_ascii_digit()) => {
                let mut group = String::new();
                while let Some(d) = chars.peek().filter(|c| c.is_ascii_digit()) {
                    group.push(*d);
                    chars.next();
                }
                out.push_str(&format!("${{{group}}}"));
            }
            c => out.push(c),
        }
    }
    out
}

/// The character position (from 1) of a byte offset in `s`.
fn char_position(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64 + 1
}

impl ScalarUDFImpl for Regexp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name;
        let range = match self.r {
            R::Extract | R::ExtractAll => 2..=3,
            R::Position => 2..=4,
            R::Split | R::Count => 2..=2,
            R::Replace => 2..=3,
        };
        if !range.contains(&t.len()) {
            return plan_err!("{name} takes {range:?} arguments, got {}", t.len());
        }
        t.iter()
            .enumerate()
            .map(|(i, t)| match (self.r, i) {
                (_, 0 | 1) | (R::Replace, 2) => varchar(name, t),
                _ => bigint(name, t),
            })
            .collect()
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(match self.r {
            R::Extract | R::Replace => DataType::Utf8,
            R::ExtractAll | R::Split => DataType::new_list(DataType::Utf8, true),
            R::Position | R::Count => DataType::Int64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let pattern_scalar = matches!(args.args[1], ColumnarValue::Scalar(_));
        super::shared::invoke(&args, |arrays, n| {
            let strings = arrays[0].as_string::<i32>();
            let patterns = Patterns::new(arrays[1].as_string::<i32>(), pattern_scalar)?;
            let int = |k: usize, i: usize| -> Option<Option<i64>> {
                arrays.get(k).map(|a| {
                    let a = a.as_primitive::<Int64Type>();
                    a.is_valid(i).then(|| a.value(i))
                })
            };
            let out: ArrayRef = match self.r {
                R::Extract | R::Replace => {
                    let mut out = StringBuilder::new();
                    for i in 0..n {
                        let (Some(re), true) = (patterns.get(i)?, strings.is_valid(i)) else {
                            out.append_null();
                            continue;
                        };
                        let s = strings.value(i);
                        if self.r == R::Replace {
                            let with = match arrays.get(2).map(|a| a.as_string::<i32>()) {
                                None => Some(String::new()),
                                Some(w) if w.is_valid(i) => Some(replacement(w.value(i))),
                                Some(_) => None,
                            };
                            match with {
                                Some(w) => out.append_value(re.replace_all(s, w.as_str())),
                                None => out.append_null(),
                            }
                            continue;
                        }
                        let Some(group) = group(&re, int(2, i))? else {
                            out.append_null();
                            continue;
                        };
                        match re.captures(s).and_then(|c| c.get(group)) {
                            Some(m) => out.append_value(m.as_str()),
                            None => out.append_null(),
                        }
                    }
                    Arc::new(out.finish())
                }
                R::ExtractAll | R::Split => {
                    let mut out = ListBuilder::new(StringBuilder::new());
                    for i in 0..n {
                        let (Some(re), true) = (patterns.get(i)?, strings.is_valid(i)) else {
                            out.append_null();
                            continue;
                        };
                        let s = strings.value(i);
                        if self.r == R::Split {
                            for part in re.split(s) {
                                out.values().append_value(part);
                            }
                            out.append(true);
                            continue;
                        }
                        let Some(group) = group(&re, int(2, i))? else {
                            out.append_null();
                            continue;
                        };
                        for c in re.captures_iter(s) {
                            match c.get(group) {
                                Some(m) => out.values().append_value(m.as_str()),
                                None => out.values().append_null(),
                            }
                        }
                        out.append(true);
                    }
                    Arc::new(out.finish())
                }
                R::Count => {
                    let mut out = Vec::with_capacity(n);
                    for i in 0..n {
                        out.push(match (patterns.get(i)?, strings.is_valid(i)) {
                            (Some(re), true) => Some(re.find_iter(strings.value(i)).count() as i64),
                            _ => None,
                        });
                    }
                    Arc::new(Int64Array::from(out))
                }
                R::Position => {
                    let mut out = Vec::with_capacity(n);
                    for i in 0..n {
                        let (Some(re), true) = (patterns.get(i)?, strings.is_valid(i)) else {
                            out.push(None);
                            continue;
                        };
                        let (start, occurrence) = (int(2, i), int(3, i));
                        let (Some(start), Some(occurrence)) = (start.unwrap_or(Some(1)), occurrence.unwrap_or(Some(1)))
                        else {
                            out.push(None);
                            continue;
                        };
                        if start < 1 {
                            return exec_err!("start position cannot be smaller than 1");
                        }
                        if occurrence < 1 {
                            return exec_err!("occurrence cannot be smaller than 1");
                        }
                        let s = strings.value(i);
                        let from = s.char_indices().nth((start - 1) as usize).map(|(b, _)| b);
                        let found = from.and_then(|from| {
                            re.find_iter(&s[from..]).nth((occurrence - 1) as usize).map(|m| from + m.start())
                        });
                        out.push(Some(found.map_or(-1, |b| char_position(s, b))));
                    }
                    Arc::new(Int64Array::from(out))
                }
            };
            Ok(out)
        })
    }
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
        assert_eq!(replacement("$1"), "${1}");
        assert_eq!(replacement("x$2y"), "x${2}y");
        assert_eq!(replacement("\\$1"), "$$1");
        assert_eq!(replacement("${name}"), "${name}");
    }
}
