//! SQL text as people keep it: files of many statements separated by `;`, with `${name}`
//! variables, so that an error can say which statement failed and where in the file.
//!
//! A file may set defaults for its variables in comments (`-- @set day = 2022-02-04`), so that
//! it runs as is and a caller overrides what it wants (`--var day=2022-03-10`).

use std::collections::BTreeMap;
use std::fmt;

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

/// One statement of a script, with where it starts (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its number in the script, from 1.
    pub number: usize,
    /// The line it starts on.
    pub line: u64,
    /// The column it starts at.
    pub column: u64,
    /// Its text, without the `;`.
    pub sql: String,
}

/// Where a statement failed: its number and the position of the error (or of the statement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The statement, counting from 1 in its script.
    pub statement: usize,
    /// The line in the script, from 1.
    pub line: u64,
    /// The column in the line, from 1.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "statement {}, line {}, column {}", self.statement, self.line, self.column)
    }
}

/// The statements of `text`, split at the `;` that end them (not those inside strings,
/// quoted names or comments). Text after the last `;` is a statement too.
pub fn split(text: &str) -> Result<Vec<Statement>, String> {
    let tokens = Tokenizer::new(&GenericDialect {}, text).tokenize_with_location().map_err(|e| format!("{e}"))?;
    let starts = line_starts(text);
    let offset = |line: u64, column: u64| -> usize {
        let start = starts.get(line.saturating_sub(1) as usize).copied().unwrap_or(text.len());
        text[start..].char_indices().nth(column.saturating_sub(1) as usize).map_or(text.len(), |(i, _)| start + i)
    };
    let mut out = Vec::new();
    let mut first: Option<(u64, u64)> = None;
    let mut last_end = (0, 0);
    let push = |first: (u64, u64), end: (u64, u64), out: &mut Vec<Statement>| {
        let sql = text[offset(first.0, first.1)..offset(end.0, end.1)].trim_end().to_string();
        out.push(Statement { number: out.len() + 1, line: first.0, column: first.1, sql });
    };
    for token in &tokens {
        let (start, end) = (token.span.start, token.span.end);
        match &token.token {
            Token::SemiColon => {
                if let Some(f) = first.take() {
                    push(f, last_end, &mut out);
                }
            }
            Token::Whitespace(
                Whitespace::Space
                | Whitespace::Newline
                | Whitespace::Tab
                | Whitespace::SingleLineComment { .. }
                | Whitespace::MultiLineComment(_),
            ) => {}
            _ => {
                first.get_or_insert((start.line, start.column));
                last_end = (end.line, end.column);
            }
        }
    }
    if let Some(f) = first {
        push(f, last_end, &mut out);
    }
    Ok(out)
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// The position of an error in `statement`: where the engine's message says (`Line: 2,
/// Column: 5`, counted in the statement), else the statement's start.
pub fn position(statement: &Statement, message: &str) -> Position {
    let digits =
        |s: &str| -> Option<u64> { s.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok() };
    // DataFusion's parser says `at Line: 2, Column: 5`; Athena says `line 2:5: ...`.
    let datafusion = || {
        let rest = &message[message.rfind("Line: ")? + 6..];
        let (line, rest) = rest.split_once(", Column: ")?;
        Some((digits(line)?, digits(rest)?))
    };
    let athena = || {
        let rest = &message[message.find("line ")? + 5..];
        let (line, rest) = rest.split_once(':')?;
        Some((digits(line)?, digits(rest)?))
    };
    // DataFusion names an unknown table but not where it is: point at its name in the text.
    let table = || {
        let rest = &message[message.find("table '")? + 7..];
        let name = rest[..rest.find("' not found")?].rsplit('.').next()?;
        let at = crate::words::word_at(&statement.sql, name)?;
        let before = &statement.sql[..at];
        let line = before.matches('\n').count() as u64 + 1;
        Some((line, before.rsplit('\n').next().unwrap_or_default().chars().count() as u64 + 1))
    };
    let within = datafusion().or_else(athena).or_else(table);
    let (line, column) = match within {
        Some((1, c)) => (statement.line, statement.column + c - 1),
        Some((l, c)) => (statement.line + l - 1, c),
        None => (statement.line, statement.column),
    };
    Position { statement: statement.number, line, column }
}

/// Variables for `${name}` in SQL text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    /// Sets `${name}`, replacing its value.
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_string(), value.to_string());
    }

    /// The variables and their values, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// `name=value`, as given on the command line.
    pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
        let (name, value) = text.split_once('=').ok_or_else(|| format!("expected NAME=VALUE, got {text:?}"))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("{name:?} is not a variable name (letters, digits and _)"));
        }
        Ok((name.to_string(), value.trim().to_string()))
    }

    /// These variables, plus the defaults `text` sets (`-- @set name = value`) for those not
    /// set already.
    pub fn with_defaults(&self, text: &str) -> Vars {
        let mut vars = self.clone();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("--").map(str::trim) else { continue };
            let Some(assignment) = rest.strip_prefix("@set ") else { continue };
            if let Ok((name, value)) = Vars::parse_assignment(assignment) {
                vars.0.entry(name).or_insert(value);
            }
        }
        vars
    }

    /// `text` with every `${name}` replaced; an unknown name is an error that names it,
    /// except in a `'storage.location.template'` value, where Athena's partition projection
    /// gives `${column}` its own meaning.
    pub fn substitute(&self, text: &str) -> Result<String, String> {
        let templates = template_values(text);
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        while let Some(found) = text[done..].find("${") {
            let at = done + found;
            out.push_str(&text[done..at]);
            let after = &text[at + 2..];
            let end = after.find('}').ok_or_else(|| format!("unclosed ${{ in {:?}", &text[at..]))?;
            let name = &after[..end];
            match self.0.get(name) {
                Some(value) => out.push_str(value),
                None if templates.iter().any(|r| r.contains(&at)) => out.push_str(&text[at..at + end + 3]),
                None => {
                    return Err(format!(
                        "the SQL uses ${{{name}}}: set it with --var {name}=VALUE (or \\set {name} VALUE)"
                    ));
                }
            }
            done = at + end + 3;
        }
        out.push_str(&text[done..]);
        Ok(out)
    }
}

/// Where the values of `'storage.location.template' = '...'` lie in `text`.
fn template_values(text: &str) -> Vec<std::ops::Range<usize>> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for (at, key) in lower.match_indices("storage.location.template") {
        let rest = &text[at + key.len()..];
        let Some(open) = rest.find('=').and_then(|eq| rest[eq..].find(['\'', '"']).map(|q| eq + q)) else { continue };
        let quote = rest[open..].chars().next().expect("found");
        let start = at + key.len() + open + 1;
        let end = text[start..].find(quote).map_or(text.len(), |e| start + e);
        out.push(start..end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_semicolons_outside_strings_and_comments() {
        let text =
            "SELECT 1;\n-- a comment; still a comment\nSELECT ';' AS x,\n  \"a;b\" /* ; */ FROM t;\n\n  SELECT 3";
        let s = split(text).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].number, s[0].line, s[0].column, s[0].sql.as_str()), (1, 1, 1, "SELECT 1"));
        assert_eq!((s[1].line, s[1].column), (3, 1));
        assert_eq!(s[1].sql, "SELECT ';' AS x,\n  \"a;b\" /* ; */ FROM t");
        assert_eq!((s[2].number, s[2].line, s[2].column, s[2].sql.as_str()), (3, 6, 3, "SELECT 3"));
        assert!(split("-- nothing\n;;").unwrap().is_empty());
        assert!(split("SELECT 'unterminated").is_err());
    }

    #[test]
    fn error_positions_are_in_the_file() {
        let s = Statement { number: 2, line: 10, column: 3, sql: String::new() };
        let p = position(&s, "sql parser error: Expected: end of statement, found: x at Line: 1, Column: 8");
        assert_eq!((p.statement, p.line, p.column), (2, 10, 10));
        let p = position(&s, "... found: FRM at Line: 3, Column: 5");
        assert_eq!((p.line, p.column), (12, 5));
        let p = position(&s, "FAILED: line 2:7: mismatched input 'FRM'");
        assert_eq!((p.line, p.column), (11, 7));
        let p = position(&s, "table 'x' not found");
        assert_eq!((p.line, p.column), (10, 3));
        assert_eq!(p.to_string(), "statement 2, line 10, column 3");
        // An unknown table is found in the text, as a whole name, in any case.
        let s = Statement { number: 1, line: 4, column: 1, sql: "SELECT nada_x\nFROM t JOIN Nada ON 1 = 1".into() };
        let p = position(&s, "Error during planning: table 'awsdatacatalog.default.nada' not found");
        assert_eq!((p.line, p.column), (5, 13));
    }

    #[test]
    fn variables_with_defaults() {
        let text = "-- @set day = 2022-02-04\n-- @set n=10\nSELECT * FROM t WHERE d = DATE '${day}' LIMIT ${n}";
        let mut vars = Vars::default();
        vars.set("n", "3");
        let sql = vars.with_defaults(text).substitute(text).unwrap();
        assert!(sql.ends_with("WHERE d = DATE '2022-02-04' LIMIT 3"), "{sql}");
        let err = Vars::default().substitute("SELECT ${x}").unwrap_err();
        assert!(err.contains("--var x=VALUE"), "{err}");
        assert!(Vars::parse_assignment("a b=1").is_err());
        // Partition projection's `${column}`s are Athena's, not variables.
        let mut lake = Vars::default();
        lake.set("lake", "s3://b/l");
        let ddl = "TBLPROPERTIES ('storage.location.template'='${lake}/raw/year=${year}/day=${day}/')";
        assert_eq!(
            lake.substitute(ddl).unwrap(),
            "TBLPROPERTIES ('storage.location.template'='s3://b/l/raw/year=${year}/day=${day}/')"
        );
        assert!(lake.substitute("SELECT '${year}'").is_err());
    }
}
