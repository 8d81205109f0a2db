//! The line editor's helper: a statement stays open until its `;` (a backslash command
//! ends with its line), and Tab completes keywords, tables, columns, functions and commands.

use std::sync::{Arc, RwLock};

use datafusion::sql::sqlparser::keywords::ALL_KEYWORDS;
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::command::HELP;

/// Names completion offers besides the keywords; refreshed after each statement.
pub type Words = Arc<RwLock<Vec<String>>>;

/// The REPL's line editor helper: completion of keywords and the lake's names, highlighting, and a statement that continues until its `;`.
pub struct ReplHelper {
    /// Table and column names to complete.
    pub words: Words,
}

impl Helper for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input().trim();
        Ok(if input.is_empty() || input.starts_with('\\') || input.ends_with(';') {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\\')).map_or(0, |i| i + 1);
        let prefix = &before[start..];
        if prefix.is_empty() {
            return Ok((pos, vec![]));
        }
        let lower = prefix.to_lowercase();
        let pair = |s: String| Pair { display: s.clone(), replacement: s };
        let mut out: Vec<Pair> = if prefix.starts_with('\\') {
            HELP.iter()
                .map(|(c, _)| c.split_whitespace().next().unwrap_or(c).to_string())
                .filter(|c| c.starts_with(prefix))
                .map(pair)
                .collect()
        } else {
            let upper = prefix.chars().all(|c| !c.is_lowercase());
            let keywords = ALL_KEYWORDS
                .iter()
                .filter(|k| k.to_lowercase().starts_with(&lower))
                .map(|k| if upper { k.to_string() } else { k.to_lowercase() });
            let words = self.words.read().map(|w| w.clone()).unwrap_or_default();
            words.into_iter().filter(|w| w.to_lowercase().starts_with(&lower)).chain(keywords).map(pair).collect()
        };
        out.dedup_by(|a, b| a.replacement == b.replacement);
        Ok((start, out))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}
