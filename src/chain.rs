//! An error and its causes on one line. b3lake's errors say what failed in their message and
//! keep why as their [`source`](std::error::Error::source), so whatever prints or logs one
//! prints the whole chain, once.

use std::error::Error;
use std::fmt;

/// Displays an error and each of its sources, `: `-separated. A source whose message the line
/// already holds, whole or after its leading label (`sql parser error: ...`), is skipped: the
/// AWS SDK, reqwest and DataFusion repeat their causes in their own messages.
///
/// ```
/// use std::path::Path;
///
/// use b3lake::chain::Chain;
/// use b3lake::source::portfolio::{Language, read_file};
///
/// let e = read_file(Path::new("/nonexistent/x"), "IBOV", Language::PtBr).unwrap_err();
/// assert_eq!(e.to_string(), "/nonexistent/x");
/// assert_eq!(Chain(&e).to_string(), "/nonexistent/x: No such file or directory (os error 2)");
/// ```
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.0.to_string();
        let mut source = self.0.source();
        while let Some(cause) = source {
            let next = cause.to_string();
            let unlabelled = next.split_once(": ").map_or(next.as_str(), |(_, rest)| rest);
            if !text.contains(&next) && !text.contains(unlabelled) {
                text.push_str(": ");
                text.push_str(&next);
            }
            source = cause.source();
        }
        f.write_str(&text)
    }
}

/// [`Chain`] as a string.
pub fn chain(e: &(dyn Error + 'static)) -> String {
    Chain(e).to_string()
}

#[cfg(test)]
mod tests {
    use datafusion::error::DataFusionError;

    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {path}")]
    struct Outer {
        path: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn each_cause_once() {
        let e = Outer { path: "x.txt", source: std::io::Error::other("disk on fire") };
        assert_eq!(chain(&e), "reading x.txt: disk on fire");
        let repeats = Outer { path: "disk on fire", source: std::io::Error::other("disk on fire") };
        assert_eq!(chain(&repeats), "reading disk on fire");
        let parser = sqlparser_error();
        assert_eq!(chain(&parser), parser.to_string());
    }

    /// DataFusion's error for a statement that does not parse: its text quotes its source.
    fn sqlparser_error() -> DataFusionError {
        let dialect = datafusion::sql::sqlparser::dialect::GenericDialect {};
        let e = datafusion::sql::sqlparser::parser::Parser::parse_sql(&dialect, "SELEC 1").unwrap_err();
        DataFusionError::SQL(Box::new(e), None)
    }
}
