//! SQL text a word at a time: the tokens of a statement (comments and whitespace left out)
//! with where each lies in the text. The statements b3lake recognises by their first
//! keywords (`CREATE VIEW`, `CREATE TABLE ... AS`, `INSERT INTO`, `UNLOAD`, `EXPLAIN`) keep
//! their queries as the user wrote them, cut out of the text by these positions.

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

/// A statement's words.
pub struct Words<'a> {
    sql: &'a str,
    tokens: Vec<TokenWithSpan>,
}

impl<'a> Words<'a> {
    /// The words of `sql`, or `None` if it does not tokenize (the engine reports why).
    pub fn new(sql: &'a str) -> Option<Self> {
        let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location().ok()?;
        Some(Self { sql, tokens: tokens.into_iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect() })
    }

    /// The `i`th word.
    pub fn get(&self, i: usize) -> Option<&TokenWithSpan> {
        self.tokens.get(i)
    }

    /// Whether the `i`th word is the unquoted keyword `k`.
    pub fn is(&self, i: usize, k: Keyword) -> bool {
        matches!(self.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k && w.quote_style.is_none())
    }

    /// The words.
    pub fn all(&self) -> &[TokenWithSpan] {
        &self.tokens
    }

    /// The byte offset of a position in the text.
    pub fn offset(&self, at: Location) -> usize {
        let mut offset = 0;
        for (i, line) in self.sql.split_inclusive('\n').enumerate() {
            if i as u64 + 1 == at.line {
                let column = at.column.saturating_sub(1) as usize;
                return offset + line.char_indices().nth(column).map_or(line.len(), |(b, _)| b);
            }
            offset += line.len();
        }
        self.sql.len()
    }

    /// The text from the `i`th word on, without a final `;`.
    pub fn from(&self, i: usize) -> &'a str {
        let start = self.get(i).map_or(self.sql.len(), |t| self.offset(t.span.start));
        trimmed(&self.sql[start..])
    }

    /// The text after the `i`th word, without a final `;`.
    pub fn after(&self, i: usize) -> &'a str {
        let start = self.get(i).map_or(self.sql.len(), |t| self.offset(t.span.end));
        trimmed(&self.sql[start..])
    }

    /// The text before the `i`th word.
    pub fn before(&self, i: usize) -> &'a str {
        &self.sql[..self.get(i).map_or(self.sql.len(), |t| self.offset(t.span.start))]
    }

    /// The text between the `i`th and the `j`th words.
    pub fn between(&self, i: usize, j: usize) -> &'a str {
        let (Some(a), Some(b)) = (self.get(i), self.get(j)) else { return "" };
        self.sql[self.offset(a.span.end)..self.offset(b.span.start)].trim()
    }
}

/// Where `word` first stands alone in `text` (any case): not inside a longer name.
pub fn word_at(text: &str, word: &str) -> Option<usize> {
    let (text, word) = (text.to_ascii_lowercase(), word.to_ascii_lowercase());
    let name_char = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(&word)
        .map(|(at, _)| at)
        .find(|&at| !name_char(text[..at].chars().next_back()) && !name_char(text[at + word.len()..].chars().next()))
}

fn trimmed(text: &str) -> &str {
    let mut text = text.trim();
    while let Some(rest) = text.strip_suffix(';') {
        text = rest.trim_end();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_know_where_they_are() {
        let sql = "-- é\nCREATE  VIEW v AS\n  SELECT 'ã' ;;";
        let w = Words::new(sql).unwrap();
        assert!(w.is(0, Keyword::CREATE) && w.is(1, Keyword::VIEW) && w.is(3, Keyword::AS));
        assert_eq!(w.after(3), "SELECT 'ã'");
        assert_eq!(w.from(4), "SELECT 'ã'");
        assert_eq!(w.before(3).trim_end(), "-- é\nCREATE  VIEW v");
        assert_eq!(w.between(1, 3), "v");
        assert!(!Words::new("SELECT \"quoted").is_some_and(|w| w.is(0, Keyword::CREATE)));
    }
}
