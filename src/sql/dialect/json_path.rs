//! The JSONPath of Trino's `json_extract` family, and finding the value it reaches by reading
//! the document's text, as Trino's extractor reads the parser's tokens.
//!
//! Nothing is built: a member or element the path does not take is skipped (its tokens still
//! checked, so a malformed document before the value answers NULL), and reading stops at the
//! value, so text after it is never read. That is Trino's behaviour as well as the fast way:
//! `json_extract_scalar('{"a": 1, "b": }', '$.a')` is `1` there, the first of two equal keys
//! is the one found, and a number's text is the document's own (`1e2`, not `100.0`).

use std::borrow::Cow;

use datafusion::common::{Result, exec_err};

/// One step of a path: a member's name, which also selects an array's element when it reads as
/// an integer (Trino's tokens are names; `$.0` and `$[0]` both take an array's first element).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    key: String,
    index: Option<usize>,
}

impl Step {
    fn new(key: String) -> Self {
        // Java's Integer.parseInt: an optional sign, then digits; a negative index takes nothing.
        let index = key.parse::<i32>().ok().and_then(|i| usize::try_from(i).ok());
        Step { key, index }
    }
}

/// A path as Trino's tokenizer reads it: `$`, then `.name` (letters, digits, `_` and `:`),
/// `[name]` (letters, digits and `_`) or `["name"]` (with `\"` and `\\`), any number of times.
pub fn parse(text: &str) -> Result<Vec<Step>> {
    let bad = || exec_err!("Invalid JSON path: '{text}'");
    let Some(mut rest) = text.strip_prefix('$') else { return bad() };
    let plain = |c: char| c == '_' || c.is_alphanumeric();
    let mut steps = Vec::new();
    while !rest.is_empty() {
        let name = |s: &str, also: fn(char) -> bool| s.find(|c: char| !also(c) && !plain(c)).unwrap_or(s.len());
        let (key, after) = if let Some(r) = rest.strip_prefix('.') {
            let end = name(r, |c| c == ':');
            (&r[..end], &r[end..])
        } else if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted name, the only one that may be empty.
            let Some((key, after)) = unquote(r).and_then(|(k, r)| Some((k, r.strip_prefix(']')?))) else {
                return bad();
            };
            steps.push(Step::new(key));
            rest = after;
            continue;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = name(r, |_| false);
            let Some(after) = r[end..].strip_prefix(']') else { return bad() };
            (&r[..end], after)
        } else {
            return bad();
        };
        if key.is_empty() {
            return bad();
        }
        steps.push(Step::new(key.to_string()));
        rest = after;
    }
    Ok(steps)
}

/// A quoted name's text up to its closing quote (`\"` and `\\` the only escapes), and the rest.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut key = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((key, &s[i + 1..])),
            '\\' => match chars.next()? {
                (_, e @ ('"' | '\\')) => key.push(e),
                _ => return None,
            },
            c => key.push(c),
        }
    }
    None
}

/// The text of the value `steps` reach in `doc`, or `None` when the path reaches nothing (a
/// missing member, an index past the end, a scalar where a step needs an array or object) or
/// the document is malformed before the value ends.
pub fn reach<'a>(doc: &'a str, steps: &[Step]) -> Option<&'a str> {
    let mut r = Reader { text: doc.as_bytes(), at: 0 };
    r.space();
    let root = steps.is_empty();
    let (start, end) = r.find(steps)?;
    // A number at the top level must end where the text or a space does (Jackson's check).
    if root
        && matches!(r.text[start], b'-' | b'0'..=b'9')
        && !matches!(r.peek(), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
    {
        return None;
    }
    Some(&doc[start..end])
}

/// The number of members or elements of the object or array whose text is `value` (as
/// [`reach`] gives it), 0 for a scalar: `json_size`'s answer, counted as Trino counts the
/// tokens (two members of one name are two).
pub fn size(value: &str) -> Option<i64> {
    let mut r = Reader { text: value.as_bytes(), at: 0 };
    let (close, object) = match r.peek()? {
        b'{' => (b'}', true),
        b'[' => (b']', false),
        _ => return Some(0),
    };
    r.at += 1;
    r.space();
    if r.peek()? == close {
        return Some(0);
    }
    let mut n = 0;
    loop {
        r.space();
        if object {
            r.string()?;
            r.expect(b':')?;
            r.space();
        }
        r.value(1)?;
        n += 1;
        r.space();
        match r.peek()? {
            b',' => r.at += 1,
            c if c == close => return Some(n),
            _ => return None,
        }
    }
}

/// The text a scalar JSON value stands for (a string's contents unescaped, a number's or
/// boolean's own spelling), `None` for null, an array or an object: `json_extract_scalar`'s answer.
pub fn scalar_text(value: &str) -> Option<Cow<'_, str>> {
    match value.as_bytes().first()? {
        b'"' if !value.contains('\\') => Some(Cow::Borrowed(&value[1..value.len() - 1])),
        b'"' => serde_json::from_str::<String>(value).ok().map(Cow::Owned),
        b'n' | b'[' | b'{' => None,
        _ => Some(Cow::Borrowed(value)),
    }
}

/// Deeper nesting than this is refused (answers NULL) instead of exhausting the stack.
const DEPTH: usize = 1000;

/// A position in a document's bytes.
struct Reader<'a> {
    text: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `b` (after spaces) or fails.
    fn expect(&mut self, b: u8) -> Option<()> {
        self.space();
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Follows `steps` from the value starting here; the start and end of the value reached.
    fn find(&mut self, steps: &[Step]) -> Option<(usize, usize)> {
        self.space();
        let Some((step, rest)) = steps.split_first() else {
            let start = self.at;
            self.value(0)?;
            return Some((start, self.at));
        };
        match self.peek()? {
            b'{' => {
                self.at += 1;
                self.space();
                if self.peek()? == b'}' {
                    return None;
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.expect(b':')?;
                    if self.key_is(key, &step.key) {
                        return self.find(rest);
                    }
                    self.pass()?;
                }
            }
            b'[' => {
                self.at += 1;
                self.space();
                if self.peek()? == b']' {
                    return None;
                }
                let mut i = 0;
                loop {
                    if step.index == Some(i) {
                        return self.find(rest);
                    }
                    self.pass()?;
                    i += 1;
                }
            }
            _ => None,
        }
    }

    /// Skips a member or element the path does not take, and the comma after it: there must
    /// be another (the one the path takes) before the object or array ends.
    fn pass(&mut self) -> Option<()> {
        self.space();
        self.value(0)?;
        self.expect(b',')
    }

    /// Whether the string token at `start..end` (quotes included) names `key`.
    fn key_is(&self, (start, end): (usize, usize), key: &str) -> bool {
        let raw = &self.text[start + 1..end - 1];
        if raw.contains(&b'\\') {
            let raw = std::str::from_utf8(&self.text[start..end]).unwrap_or_default();
            serde_json::from_str::<String>(raw).is_ok_and(|k| k == key)
        } else {
            raw == key.as_bytes()
        }
    }

    /// Skips one value, checking its tokens.
    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' if depth >= DEPTH => None,
            b'{' => self.members(b'}', depth, |r| {
                r.string()?;
                r.expect(b':')
            }),
            b'[' => self.members(b']', depth, |_| Some(())),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// An object's or array's members up to `close`, each read by `before` then a value.
    fn members(&mut self, close: u8, depth: usize, before: impl Fn(&mut Self) -> Option<()>) -> Option<()> {
        self.at += 1;
        self.space();
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            self.space();
            before(self)?;
            self.space();
            self.value(depth + 1)?;
            self.space();
            match self.peek()? {
                b',' => self.at += 1,
                c if c == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string token (escapes checked, no raw control characters); its start and end.
    fn string(&mut self) -> Option<(usize, usize)> {
        let start = self.at;
        (self.peek()? == b'"').then_some(())?;
        self.at += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some((start, self.at));
                }
                b'\\' => {
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.text.get(self.at + 1..self.at + 5)?;
                            hex.iter().all(u8::is_ascii_hexdigit).then_some(())?;
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => self.at += 1,
            }
        }
    }

    /// `true`, `false` or `null`, not followed by a letter or digit (`truex` is no token).
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.text[self.at..].starts_with(word).then_some(())?;
        self.at += word.len();
        match self.peek() {
            Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => None,
            _ => Some(()),
        }
    }

    /// A number as JSON writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.peek().filter(u8::is_ascii_digit)?;
            self.digits();
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(doc: &str, path: &str) -> Option<String> {
        reach(doc, &parse(path).unwrap()).map(str::to_string)
    }

    #[test]
    fn paths_tokenize_as_trinos_tokenizer_does() {
        assert_eq!(parse("$.store.book[0].title").unwrap().len(), 4);
        let steps = parse("$[\"a b\"][2]").unwrap();
        assert_eq!(steps, vec![Step::new("a b".into()), Step::new("2".into())]);
        assert_eq!(parse(r#"$["a\"b\\"]"#).unwrap(), vec![Step::new("a\"b\\".into())]);
        assert_eq!(parse("$.a:b").unwrap(), vec![Step::new("a:b".into())]);
        assert_eq!(parse("$[\"\"]").unwrap(), vec![Step::new(String::new())]);
        for bad in ["store", "$.", "$[]", "$[0", "$.a-b", "$[ 0]", " $.a", "$[\"a\\x\"]", "$[a:b]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn values_are_found_as_trinos_extractor_finds_them() {
        let doc = r#"{"store": {"book": [{"title": "Dom \"Casmurro\"", "price": 35.5}, {"price": 1e2}]}}"#;
        assert_eq!(at(doc, "$.store.book[1].price").as_deref(), Some("1e2"));
        assert_eq!(at(doc, "$.store.book[0].title").as_deref(), Some(r#""Dom \"Casmurro\"""#));
        assert_eq!(at(doc, "$.store.book[0]").as_deref(), Some(r#"{"title": "Dom \"Casmurro\"", "price": 35.5}"#));
        assert_eq!(at(doc, "$.store.book[2]"), None);
        assert_eq!(at(doc, "$.store.book.x"), None);
        assert_eq!(at(doc, "$.store.book[0].title.x"), None);
        // Both a name and an index select an element; an object's member may be named "0".
        assert_eq!(at("[10, 20]", "$.1").as_deref(), Some("20"));
        assert_eq!(at(r#"{"0": 7}"#, "$[0]").as_deref(), Some("7"));
        // The first of equal names; text after the value is not read; before it, it is checked.
        assert_eq!(at(r#"{"a": 1, "a": 2}"#, "$.a").as_deref(), Some("1"));
        assert_eq!(at(r#"{"a": 1, "b": }"#, "$.a").as_deref(), Some("1"));
        assert_eq!(at(r#"{"b": [1, }, "a": 1}"#, "$.a"), None);
        assert_eq!(at(r#"{"b": "\q", "a": 1}"#, "$.a"), None);
        assert_eq!(at(r#"{"b": 01, "a": 1}"#, "$.a"), None);
        assert_eq!(at(r#"{"b": truex, "a": 1}"#, "$.a"), None);
        assert_eq!(at(r#"{"\u0061": 1}"#, "$.a").as_deref(), Some("1"));
        assert_eq!(at("  [1, 2] trailing", "$").as_deref(), Some("[1, 2]"));
        assert_eq!(at("1x", "$"), None);
        assert_eq!(at("", "$"), None);
        let deep = "[".repeat(DEPTH + 2) + &"]".repeat(DEPTH + 2);
        assert_eq!(at(&deep, "$"), None);
    }

    #[test]
    fn sizes_count_the_tokens() {
        assert_eq!(size(r#"{"a": 1, "a": [2, 3]}"#), Some(2));
        assert_eq!(size("[1, [2, 3], {}]"), Some(3));
        assert_eq!(size("[ ]"), Some(0));
        assert_eq!(size(r#""text""#), Some(0));
    }

    #[test]
    fn scalars_read_as_their_text() {
        assert_eq!(scalar_text(r#""a\nb""#).as_deref(), Some("a\nb"));
        assert_eq!(scalar_text(r#""plain""#).as_deref(), Some("plain"));
        assert_eq!(scalar_text("-1.50e3").as_deref(), Some("-1.50e3"));
        assert_eq!(scalar_text("true").as_deref(), Some("true"));
        for none in ["null", "[1]", "{}"] {
            assert_eq!(scalar_text(none), None);
        }
    }
}
