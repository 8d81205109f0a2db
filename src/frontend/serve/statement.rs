//! What a statement is, as Athena reports it (`StatementType`, `SubstatementType`), whether it
//! changes the lake (`--read-only` refuses those), and the text it runs once its `?`s take
//! their `ExecutionParameters` or an `EXECUTE ... USING`'s values.

use crate::sql::statements::{self, Statement};
use crate::sql::write::Write;

/// Athena's kinds of statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads or writes rows: SELECT, INSERT INTO, UNLOAD.
    Dml,
    /// Changes the catalog: CREATE, DROP, ALTER, MSCK, CTAS.
    Ddl,
    /// Describes: SHOW, DESCRIBE, EXPLAIN.
    Utility,
}

impl Kind {
    /// As `StatementType` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Dml => "DML",
            Kind::Ddl => "DDL",
            Kind::Utility => "UTILITY",
        }
    }
}

/// A statement's kind, its `SubstatementType`, and whether it writes to the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// `StatementType`.
    pub kind: Kind,
    /// `SubstatementType`.
    pub sub: &'static str,
    /// It changes the lake's data or catalog.
    pub writes: bool,
}

/// Classifies `sql` by the parse the engine itself makes of it, so that the two never disagree.
pub fn classify(sql: &str) -> Classified {
    let c = |kind, sub, writes| Classified { kind, sub, writes };
    match statements::parse(sql) {
        Some(Ok(statement)) => match statement {
            Statement::CreateTable { .. } => c(Kind::Ddl, "CREATE_TABLE", true),
            Statement::DropTable { .. } => c(Kind::Ddl, "DROP_TABLE", true),
            Statement::Repair { .. } => c(Kind::Ddl, "MSCK_REPAIR_TABLE", true),
            Statement::AddPartitions { .. } => c(Kind::Ddl, "ALTER_TABLE_ADD_PARTITION", true),
            Statement::DropPartitions { .. } => c(Kind::Ddl, "ALTER_TABLE_DROP_PARTITION", true),
            Statement::SetProperties { .. } => c(Kind::Ddl, "ALTER_TABLE_SET_TBLPROPERTIES", true),
            Statement::ShowTables => c(Kind::Utility, "SHOW_TABLES", false),
            Statement::ShowPartitions { .. } => c(Kind::Utility, "SHOW_PARTITIONS", false),
            Statement::Describe { .. } => c(Kind::Utility, "DESCRIBE", false),
            Statement::ShowCreateTable { .. } => c(Kind::Utility, "SHOW_CREATE_TABLE", false),
            Statement::CreateView(_) => c(Kind::Ddl, "CREATE_VIEW", true),
            Statement::DropView { .. } => c(Kind::Ddl, "DROP_VIEW", true),
            Statement::ShowViews { .. } => c(Kind::Utility, "SHOW_VIEWS", false),
            Statement::ShowCreateView { .. } => c(Kind::Utility, "SHOW_CREATE_VIEW", false),
            Statement::Write(Write::CreateTableAs { .. }) => c(Kind::Ddl, "CREATE_TABLE_AS_SELECT", true),
            Statement::Write(Write::Insert { .. }) => c(Kind::Dml, "INSERT", true),
            Statement::Write(Write::Unload { .. }) => c(Kind::Dml, "UNLOAD", true),
        },
        // A statement the catalog refuses to parse fails when it runs; a write it meant to be
        // is still a write.
        Some(Err(_)) => {
            let first = first_word(sql);
            let writes = !matches!(first.as_str(), "SHOW" | "DESCRIBE" | "DESC");
            let kind = if writes { Kind::Ddl } else { Kind::Utility };
            c(kind, "UNKNOWN", writes)
        }
        None if crate::sql::explain::parse(sql).is_some() => c(Kind::Utility, "EXPLAIN", false),
        None => match first_word(sql).as_str() {
            "SELECT" | "WITH" | "VALUES" | "TABLE" | "(" => c(Kind::Dml, "SELECT", false),
            "SHOW" | "DESCRIBE" | "DESC" => c(Kind::Utility, "UNKNOWN", false),
            // A workgroup's prepared statements, not the lake's.
            "PREPARE" => c(Kind::Utility, "PREPARE", false),
            "DEALLOCATE" => c(Kind::Utility, "DEALLOCATE", false),
            // CREATE SCHEMA, DELETE, UPDATE, MERGE...: refused by the engine, and writes.
            _ => c(Kind::Ddl, "UNKNOWN", true),
        },
    }
}

/// The first word of a statement, past comments, upper case (`(` for a parenthesized query).
fn first_word(sql: &str) -> String {
    let mut rest = sql.trim_start();
    loop {
        if let Some(comment) = rest.strip_prefix("--") {
            rest = comment.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    if rest.starts_with('(') {
        return "(".into();
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').next().unwrap_or("").to_ascii_uppercase()
}

/// `sql` with each `?` outside strings, quoted names and comments replaced by the next of
/// `values` (SQL text, as Athena's `ExecutionParameters` are), or Trino's error when they are
/// not as many as the `?`s.
pub fn bind(sql: &str, values: &[String]) -> Result<String, String> {
    let mut out = String::with_capacity(sql.len());
    let mut used = 0;
    let mut chars = sql.char_indices().peekable();
    let mut expected = 0;
    while let Some((_, ch)) = chars.next() {
        match ch {
            '\'' | '"' => {
                out.push(ch);
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if c == ch {
                        break;
                    }
                }
            }
            '-' if chars.peek().is_some_and(|&(_, c)| c == '-') => {
                out.push(ch);
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek().is_some_and(|&(_, c)| c == '*') => {
                out.push(ch);
                let mut star = false;
                for (_, c) in chars.by_ref() {
                    out.push(c);
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
            }
            '?' => {
                expected += 1;
                if let Some(value) = values.get(used) {
                    out.push_str(value);
                    used += 1;
                }
            }
            _ => out.push(ch),
        }
    }
    if expected != values.len() {
        return Err(format!("Incorrect number of parameters: expected {expected} but found {}", values.len()));
    }
    Ok(out)
}

/// `EXECUTE name [USING v1, v2, ...]`: the name and the values' SQL text, if `sql` is one.
pub fn parse_execute(sql: &str) -> Option<(String, Vec<String>)> {
    let text = sql.trim().trim_end_matches(';').trim();
    let rest = strip_word(text, "EXECUTE")?;
    let (name, rest) = match rest.find(|c: char| c.is_whitespace()) {
        Some(n) => (&rest[..n], rest[n..].trim_start()),
        None => (rest, ""),
    };
    let name = name.trim_matches('"').to_string();
    if rest.is_empty() {
        return Some((name, Vec::new()));
    }
    let values = strip_word(rest, "USING")?;
    Some((name, split_top_level(values)))
}

/// `PREPARE name FROM statement`: the name and the statement.
pub fn parse_prepare(sql: &str) -> Option<(String, String)> {
    let rest = strip_word(sql.trim().trim_end_matches(';').trim(), "PREPARE")?;
    let n = rest.find(|c: char| c.is_whitespace())?;
    let (name, rest) = (&rest[..n], rest[n..].trim_start());
    let query = strip_word(rest, "FROM")?;
    Some((name.trim_matches('"').to_string(), query.to_string()))
}

/// `DEALLOCATE PREPARE name`: the name.
pub fn parse_deallocate(sql: &str) -> Option<String> {
    let rest = strip_word(sql.trim().trim_end_matches(';').trim(), "DEALLOCATE")?;
    let name = strip_word(rest, "PREPARE")?;
    Some(name.trim().trim_matches('"').to_string())
}

fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && rest.starts_with(char::is_whitespace)).then(|| rest.trim_start())
}

/// Splits at the commas outside strings and parentheses.
fn split_top_level(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for ch in text.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(current.trim().to_string());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_string());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_classified_as_athena_reports_them() {
        let kind = |sql| {
            let c = classify(sql);
            (c.kind.name(), c.sub, c.writes)
        };
        assert_eq!(kind("SELECT 1"), ("DML", "SELECT", false));
        assert_eq!(kind("-- a comment\n WITH a AS (SELECT 1) SELECT * FROM a"), ("DML", "SELECT", false));
        assert_eq!(kind("INSERT INTO t SELECT 1"), ("DML", "INSERT", true));
        assert_eq!(kind("CREATE TABLE t AS SELECT 1 AS x"), ("DDL", "CREATE_TABLE_AS_SELECT", true));
        assert_eq!(kind("UNLOAD (SELECT 1) TO 's3://b/p/' WITH (format = 'PARQUET')"), ("DML", "UNLOAD", true));
        assert_eq!(kind("SHOW TABLES"), ("UTILITY", "SHOW_TABLES", false));
        assert_eq!(kind("EXPLAIN SELECT 1"), ("UTILITY", "EXPLAIN", false));
        assert_eq!(kind("DROP TABLE IF EXISTS t"), ("DDL", "DROP_TABLE", true));
        assert_eq!(kind("DELETE FROM t"), ("DDL", "UNKNOWN", true));
    }

    #[test]
    fn parameters_fill_the_question_marks_outside_strings_and_comments() {
        let sql = "SELECT '?', \"a?\" FROM t WHERE x = ? -- ?\n AND y = ? /* ? */";
        let bound = bind(sql, &["'PETR4'".into(), "2".into()]).unwrap();
        assert_eq!(bound, "SELECT '?', \"a?\" FROM t WHERE x = 'PETR4' -- ?\n AND y = 2 /* ? */");
        assert_eq!(bind("SELECT ?", &[]).unwrap_err(), "Incorrect number of parameters: expected 1 but found 0");
    }

    #[test]
    fn prepared_statement_commands_parse() {
        assert_eq!(
            parse_execute("EXECUTE top USING 'PETR4', ARRAY[1, 2], 3"),
            Some(("top".into(), vec!["'PETR4'".into(), "ARRAY[1, 2]".into(), "3".into()]))
        );
        assert_eq!(parse_execute("execute top"), Some(("top".into(), vec![])));
        assert_eq!(parse_prepare("PREPARE q FROM SELECT ?"), Some(("q".into(), "SELECT ?".into())));
        assert_eq!(parse_deallocate("DEALLOCATE PREPARE q;"), Some("q".into()));
        assert_eq!(parse_execute("EXECUTED"), None);
    }
}
