//! The SQL/JSON path language of `json_exists`, `json_value` and `json_query`, as Trino's
//! documentation describes it: a path is read once into a tree ([`parse`]) and evaluated per
//! document into a sequence of items ([`Path::eval`]), in the lax or the strict mode.
//!
//! Items keep a document's member order (Trino's parser keeps it, and `json_query` writes it
//! back), so they are not `serde_json::Value`, whose objects this build sorts.

use std::fmt::Write;

use regex::Regex;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::text::{Double, float};

/// A JSON item: a document's value, or one a path computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// JSON's `null` (not SQL's NULL).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer (Trino reads one as `integer` or `bigint`).
    Int(i64),
    /// A number with a fraction or an exponent (Trino reads one as `double`).
    Double(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Item>),
    /// An object, its members in the document's order.
    Object(Vec<(String, Item)>),
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Item, E> {
                Ok(Item::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Item, E> {
                Ok(Item::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Item, E> {
                Ok(Item::Int(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Item, E> {
                Ok(i64::try_from(n).map_or(Item::Double(n as f64), Item::Int))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Item, E> {
                Ok(Item::Double(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Item, E> {
                Ok(Item::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Item, E> {
                Ok(Item::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Item::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Item::Object(members))
            }
        }
        d.deserialize_any(V)
    }
}

impl Item {
    /// A document's text read as an item.
    pub fn parse(text: &str) -> Result<Item, String> {
        serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))
    }

    /// The item as JSON text, as Trino writes it (compact, members in order, doubles as Java).
    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Item::Null => out.push_str("null"),
            Item::Bool(b) => write!(out, "{b}").unwrap(),
            Item::Int(n) => write!(out, "{n}").unwrap(),
            Item::Double(d) => out.push_str(&float(*d, Double::Shown)),
            Item::Str(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Item::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Item::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    Item::Str(k.clone()).write(out);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Whether the item is neither an array nor an object.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Item::Array(_) | Item::Object(_))
    }

    fn number(&self) -> Option<f64> {
        match self {
            Item::Int(n) => Some(*n as f64),
            Item::Double(d) => Some(*d),
            _ => None,
        }
    }
}

/// A failed evaluation: a structural error in the strict mode, a type error, an arithmetic
/// error. The functions answer it as their `ON ERROR` clause says.
pub type Failed = String;

/// A path: its mode and its expression.
#[derive(Debug, Clone)]
pub struct Path {
    lax: bool,
    expr: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    Context,
    Current,
    Last,
    Literal(Item),
    Member(Box<Expr>, Option<String>),
    Descendant(Box<Expr>, String),
    Subscripts(Box<Expr>, Option<Vec<(Expr, Option<Expr>)>>),
    Filter(Box<Expr>, Box<Predicate>),
    Method(Box<Expr>, Method),
    Arithmetic(Box<Expr>, char, Box<Expr>),
    Negate(Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    Double,
    Ceiling,
    Floor,
    Abs,
    KeyValue,
    Type,
    Size,
}

#[derive(Debug, Clone)]
enum Predicate {
    And(Box<Predicate>, Box<Predicate>),
    Or(Box<Predicate>, Box<Predicate>),
    Not(Box<Predicate>),
    Exists(Expr),
    IsUnknown(Box<Predicate>),
    Compare(Expr, &'static str, Expr),
    StartsWith(Expr, Expr),
    LikeRegex(Expr, Regex),
}

/// Reads a path: `lax` or `strict`, then the expression.
pub fn parse(text: &str) -> Result<Path, String> {
    let bad = |why: &str| format!("Invalid JSON path: '{text}': {why}");
    let tokens = tokens(text).map_err(|e| bad(&e))?;
    let mut p = Parser { tokens, at: 0 };
    let lax = match p.next() {
        Some(Token::Word(w)) if w == "lax" => true,
        Some(Token::Word(w)) if w == "strict" => false,
        _ => return Err(bad("the path starts with its mode, lax or strict")),
    };
    let expr = p.expr().map_err(|e| bad(&e))?;
    match p.peek() {
        None => Ok(Path { lax, expr }),
        Some(t) => Err(bad(&format!("unexpected {t:?}"))),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Dollar,
    At,
    Variable(String),
    Word(String),
    Str(String),
    Number(Item),
    Symbol(&'static str),
}

const SYMBOLS: [&str; 22] = [
    "..", "==", "!=", "<>", "<=", ">=", "&&", "||", ".", "*", "[", "]", "(", ")", ",", "?", "<", ">", "!", "+", "-",
    "/",
];

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else { return Ok(out) };
        let word_end = |s: &str| s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
        if c == '$' {
            let end = word_end(&rest[1..]);
            out.push(if end == 0 { Token::Dollar } else { Token::Variable(rest[1..=end].to_string()) });
            rest = &rest[1 + end..];
        } else if c == '@' {
            out.push(Token::At);
            rest = &rest[1..];
        } else if c == '%' {
            out.push(Token::Symbol("%"));
            rest = &rest[1..];
        } else if c == '"' {
            let mut end = 1;
            let bytes = rest.as_bytes();
            while end < bytes.len() && bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let quoted = rest.get(..=end).ok_or("an unclosed string")?;
            out.push(Token::Str(serde_json::from_str(quoted).map_err(|_| format!("a malformed string {quoted}"))?));
            rest = &rest[end + 1..];
        } else if c.is_ascii_digit() {
            let end = rest
                .char_indices()
                .find(|&(i, c)| {
                    !(c.is_ascii_digit()
                        || c == '.' && rest[i + 1..].starts_with(|d: char| d.is_ascii_digit())
                        || matches!(c, 'e' | 'E')
                        || matches!(c, '+' | '-') && matches!(rest[..i].chars().last(), Some('e' | 'E')))
                })
                .map_or(rest.len(), |(i, _)| i);
            let n = &rest[..end];
            let item = match n.parse::<i64>() {
                Ok(i) => Item::Int(i),
                Err(_) => Item::Double(n.parse().map_err(|_| format!("a malformed number {n}"))?),
            };
            out.push(Token::Number(item));
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' {
            let end = word_end(rest);
            out.push(Token::Word(rest[..end].to_string()));
            rest = &rest[end..];
        } else {
            let Some(s) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(format!("unexpected '{c}'"));
            };
            out.push(Token::Symbol(s));
            rest = &rest[s.len()..];
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn eat(&mut self, symbol: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol);
        self.at += usize::from(hit);
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Word(w)) if w == word);
        self.at += usize::from(hit);
        hit
    }

    fn expect(&mut self, symbol: &str) -> Result<(), String> {
        if self.eat(symbol) { Ok(()) } else { Err(format!("expected '{symbol}' at {:?}", self.peek())) }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat("+") {
                '+'
            } else if self.eat("-") {
                '-'
            } else {
                return Ok(left);
            };
            left = Expr::Arithmetic(Box::new(left), op, Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat("*") {
                '*'
            } else if self.eat("/") {
                '/'
            } else if self.eat("%") {
                '%'
            } else {
                return Ok(left);
            };
            left = Expr::Arithmetic(Box::new(left), op, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat("-") {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        if self.eat("+") {
            return self.unary();
        }
        self.accessors()
    }

    fn accessors(&mut self) -> Result<Expr, String> {
        let mut e = self.primary()?;
        loop {
            e = if self.eat("..") {
                Expr::Descendant(Box::new(e), self.key()?)
            } else if self.eat(".") {
                if self.eat("*") {
                    Expr::Member(Box::new(e), None)
                } else if matches!(self.tokens.get(self.at + 1), Some(Token::Symbol("(")))
                    && matches!(self.peek(), Some(Token::Word(_)))
                {
                    let Some(Token::Word(name)) = self.next() else { unreachable!() };
                    self.expect("(")?;
                    self.expect(")")?;
                    let method = match name.as_str() {
                        "double" => Method::Double,
                        "ceiling" => Method::Ceiling,
                        "floor" => Method::Floor,
                        "abs" => Method::Abs,
                        "keyvalue" => Method::KeyValue,
                        "type" => Method::Type,
                        "size" => Method::Size,
                        other => return Err(format!("the item method {other}() is not supported")),
                    };
                    Expr::Method(Box::new(e), method)
                } else {
                    Expr::Member(Box::new(e), Some(self.key()?))
                }
            } else if self.eat("[") {
                if self.eat("*") {
                    self.expect("]")?;
                    Expr::Subscripts(Box::new(e), None)
                } else {
                    let mut subscripts = Vec::new();
                    loop {
                        let from = self.expr()?;
                        let to = if self.eat_word("to") { Some(self.expr()?) } else { None };
                        subscripts.push((from, to));
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.expect("]")?;
                    Expr::Subscripts(Box::new(e), Some(subscripts))
                }
            } else if self.eat("?") {
                self.expect("(")?;
                let p = self.predicate()?;
                self.expect(")")?;
                Expr::Filter(Box::new(e), Box::new(p))
            } else {
                return Ok(e);
            };
        }
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) => Ok(w),
            Some(Token::Str(s)) => Ok(s),
            t => Err(format!("expected a member's name, found {t:?}")),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        Ok(match self.next() {
            Some(Token::Dollar) => Expr::Context,
            Some(Token::At) => Expr::Current,
            Some(Token::Variable(v)) => return Err(format!("no value passed for ${v} (PASSING is not supported)")),
            Some(Token::Number(n)) => Expr::Literal(n),
            Some(Token::Str(s)) => Expr::Literal(Item::Str(s)),
            Some(Token::Word(w)) => match w.as_str() {
                "last" => Expr::Last,
                "true" => Expr::Literal(Item::Bool(true)),
                "false" => Expr::Literal(Item::Bool(false)),
                "null" => Expr::Literal(Item::Null),
                other => return Err(format!("unexpected word {other}")),
            },
            Some(Token::Symbol("(")) => {
                let e = self.expr()?;
                self.expect(")")?;
                e
            }
            t => return Err(format!("unexpected {t:?}")),
        })
    }

    fn predicate(&mut self) -> Result<Predicate, String> {
        let mut left = self.conjunction()?;
        while self.eat("||") {
            left = Predicate::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Predicate, String> {
        let mut left = self.negation()?;
        while self.eat("&&") {
            left = Predicate::And(Box::new(left), Box::new(self.negation()?));
        }
        Ok(left)
    }

    fn negation(&mut self) -> Result<Predicate, String> {
        if self.eat("!") {
            return Ok(Predicate::Not(Box::new(self.delimited()?)));
        }
        self.delimited()
    }

    fn delimited(&mut self) -> Result<Predicate, String> {
        if self.eat_word("exists") {
            self.expect("(")?;
            let e = self.expr()?;
            self.expect(")")?;
            return Ok(Predicate::Exists(e));
        }
        if matches!(self.peek(), Some(Token::Symbol("("))) {
            // A predicate in parentheses, unless the parentheses hold a path compared after them.
            let start = self.at;
            self.at += 1;
            if let Ok(p) = self.predicate()
                && self.eat(")")
            {
                if self.eat_word("is") {
                    if !self.eat_word("unknown") {
                        return Err("expected 'unknown' after 'is'".into());
                    }
                    return Ok(Predicate::IsUnknown(Box::new(p)));
                }
                if !self.at_comparison() {
                    return Ok(p);
                }
            }
            self.at = start;
        }
        let left = self.expr()?;
        if self.eat_word("starts") {
            if !self.eat_word("with") {
                return Err("expected 'with' after 'starts'".into());
            }
            return Ok(Predicate::StartsWith(left, self.primary()?));
        }
        if self.eat_word("like_regex") {
            let Some(Token::Str(pattern)) = self.next() else { return Err("like_regex takes a string".into()) };
            let flags = if self.eat_word("flag") {
                match self.next() {
                    Some(Token::Str(f)) => f,
                    _ => return Err("flag takes a string".into()),
                }
            } else {
                String::new()
            };
            let mut inline = String::new();
            for f in flags.chars() {
                match f {
                    'i' | 'm' | 's' | 'x' => inline.push(f),
                    'q' => return Err("the flag q is not supported".into()),
                    other => return Err(format!("unknown flag {other}")),
                }
            }
            let full = if inline.is_empty() { pattern } else { format!("(?{inline}){pattern}") };
            return Regex::new(&full).map(|re| Predicate::LikeRegex(left, re)).map_err(|e| e.to_string());
        }
        let op = match self.next() {
            Some(Token::Symbol(s)) if ["==", "!=", "<>", "<", "<=", ">", ">="].contains(&s) => s,
            t => return Err(format!("expected a comparison, found {t:?}")),
        };
        Ok(Predicate::Compare(left, op, self.expr()?))
    }

    fn at_comparison(&self) -> bool {
        match self.peek() {
            Some(Token::Symbol(s)) => {
                ["==", "!=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", ".", "..", "[", "?"].contains(s)
            }
            Some(Token::Word(w)) => w == "starts" || w == "like_regex",
            _ => false,
        }
    }
}

/// What an expression is evaluated against: the document, the filter's current item, the
/// innermost array's last index.
#[derive(Clone, Copy)]
struct Scope<'a> {
    root: &'a Item,
    current: Option<&'a Item>,
    last: Option<i64>,
    lax: bool,
}

impl Path {
    /// The sequence of items the path gives on `document`.
    pub fn eval(&self, document: &Item) -> Result<Vec<Item>, Failed> {
        eval(&self.expr, Scope { root: document, current: None, last: None, lax: self.lax })
    }
}

/// In the lax mode, arrays in a sequence give their elements.
fn unwrapped(items: Vec<Item>, lax: bool) -> Vec<Item> {
    if !lax {
        return items;
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Array(elements) => out.extend(elements),
            other => out.push(other),
        }
    }
    out
}

fn eval(e: &Expr, s: Scope) -> Result<Vec<Item>, Failed> {
    Ok(match e {
        Expr::Context => vec![s.root.clone()],
        Expr::Current => vec![s.current.ok_or("@ outside a filter")?.clone()],
        Expr::Last => vec![Item::Int(s.last.ok_or("last outside an array's subscript")?)],
        Expr::Literal(item) => vec![item.clone()],
        Expr::Member(inner, key) => {
            let mut out = Vec::new();
            for item in unwrapped(eval(inner, s)?, s.lax) {
                match (item, key) {
                    (Item::Object(members), None) => out.extend(members.into_iter().map(|(_, v)| v)),
                    (Item::Object(members), Some(k)) => match members.into_iter().find(|(name, _)| name == k) {
                        Some((_, v)) => out.push(v),
                        None if s.lax => {}
                        None => return Err(format!("the member {k} is missing")),
                    },
                    _ if s.lax => {}
                    _ => return Err("a member accessor on something other than an object".into()),
                }
            }
            out
        }
        Expr::Descendant(inner, key) => {
            fn visit(item: &Item, key: &str, out: &mut Vec<Item>) {
                match item {
                    Item::Object(members) => {
                        out.extend(members.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()));
                        members.iter().for_each(|(_, v)| visit(v, key, out));
                    }
                    Item::Array(items) => items.iter().for_each(|v| visit(v, key, out)),
                    _ => {}
                }
            }
            let mut out = Vec::new();
            for item in eval(inner, s)? {
                visit(&item, key, &mut out);
            }
            out
        }
        Expr::Subscripts(inner, subscripts) => {
            let mut out = Vec::new();
            for item in eval(inner, s)? {
                let elements = match item {
                    Item::Array(elements) => elements,
                    other if s.lax => vec![other],
                    _ => return Err("an array accessor on something other than an array".into()),
                };
                let Some(subscripts) = subscripts else {
                    out.extend(elements);
                    continue;
                };
                let inside = Scope { last: Some(elements.len() as i64 - 1), ..s };
                for (from, to) in subscripts {
                    let from = index(from, inside)?;
                    let to = match to {
                        Some(to) => index(to, inside)?,
                        None => from,
                    };
                    if from > to && !s.lax {
                        return Err(format!("the range {from} to {to} is empty"));
                    }
                    for i in from..=to {
                        match usize::try_from(i).ok().and_then(|i| elements.get(i)) {
                            Some(v) => out.push(v.clone()),
                            None if s.lax => {}
                            None => return Err(format!("the index {i} is out of bounds")),
                        }
                    }
                }
            }
            out
        }
        Expr::Filter(inner, predicate) => {
            let mut out = Vec::new();
            for item in unwrapped(eval(inner, s)?, s.lax) {
                if test(predicate, Scope { current: Some(&item), ..s }) == Some(true) {
                    out.push(item);
                }
            }
            out
        }
        Expr::Method(inner, method) => {
            let items = eval(inner, s)?;
            let items = if matches!(method, Method::Type | Method::Size) { items } else { unwrapped(items, s.lax) };
            let mut out = Vec::with_capacity(items.len());
            for (id, item) in items.into_iter().enumerate() {
                apply(*method, item, id, s.lax, &mut out)?;
            }
            out
        }
        Expr::Arithmetic(left, op, right) => {
            let one = |e: &Expr| -> Result<Item, Failed> {
                match unwrapped(eval(e, s)?, s.lax).as_slice() {
                    [n @ (Item::Int(_) | Item::Double(_))] => Ok(n.clone()),
                    _ => Err(format!("the operands of {op} are not single numbers")),
                }
            };
            vec![arithmetic(&one(left)?, *op, &one(right)?)?]
        }
        Expr::Negate(inner) => unwrapped(eval(inner, s)?, s.lax)
            .into_iter()
            .map(|item| match item {
                Item::Int(n) => n.checked_neg().map(Item::Int).ok_or_else(|| "bigint overflow".to_string()),
                Item::Double(d) => Ok(Item::Double(-d)),
                _ => Err("a unary minus of something other than a number".into()),
            })
            .collect::<Result<_, _>>()?,
    })
}

/// A subscript's value: one integer.
fn index(e: &Expr, s: Scope) -> Result<i64, Failed> {
    match eval(e, s)?.as_slice() {
        [Item::Int(n)] => Ok(*n),
        [Item::Double(d)] if d.fract() == 0.0 => Ok(*d as i64),
        _ => Err("a subscript is not a single integer".into()),
    }
}

fn arithmetic(a: &Item, op: char, b: &Item) -> Result<Item, Failed> {
    if let (Item::Int(x), Item::Int(y)) = (a, b) {
        let v = match op {
            '+' => x.checked_add(*y),
            '-' => x.checked_sub(*y),
            '*' => x.checked_mul(*y),
            '/' | '%' if *y == 0 => return Err("Division by zero".into()),
            '/' => x.checked_div(*y),
            _ => x.checked_rem(*y),
        };
        return v.map(Item::Int).ok_or_else(|| "bigint overflow".into());
    }
    let (x, y) = (a.number().unwrap_or(f64::NAN), b.number().unwrap_or(f64::NAN));
    Ok(Item::Double(match op {
        '+' => x + y,
        '-' => x - y,
        '*' => x * y,
        '/' => x / y,
        _ => x % y,
    }))
}

fn apply(method: Method, item: Item, id: usize, lax: bool, out: &mut Vec<Item>) -> Result<(), Failed> {
    let not_number = || format!("{method:?}() of something other than a number").to_lowercase();
    out.push(match (method, item) {
        (Method::Double, Item::Int(n)) => Item::Double(n as f64),
        (Method::Double, Item::Double(d)) => Item::Double(d),
        (Method::Double, Item::Str(t)) => Item::Double(t.trim().parse().map_err(|_| format!("'{t}' is not a number"))?),
        (Method::Double, _) => return Err("double() of something other than a number or a string".into()),
        (Method::Ceiling, Item::Double(d)) => Item::Double(d.ceil()),
        (Method::Floor, Item::Double(d)) => Item::Double(d.floor()),
        (Method::Abs, Item::Double(d)) => Item::Double(d.abs()),
        (Method::Ceiling | Method::Floor, Item::Int(n)) => Item::Int(n),
        (Method::Abs, Item::Int(n)) => Item::Int(n.checked_abs().ok_or("bigint overflow")?),
        (Method::Ceiling | Method::Floor | Method::Abs, _) => return Err(not_number()),
        (Method::KeyValue, Item::Object(members)) => {
            for (name, value) in members {
                let member = vec![
                    ("name".into(), Item::Str(name)),
                    ("value".into(), value),
                    ("id".into(), Item::Int(id as i64)),
                ];
                out.push(Item::Object(member));
            }
            return Ok(());
        }
        (Method::KeyValue, _) => return Err("keyvalue() of something other than an object".into()),
        (Method::Type, item) => Item::Str(
            match item {
                Item::Null => "null",
                Item::Bool(_) => "boolean",
                Item::Int(_) | Item::Double(_) => "number",
                Item::Str(_) => "string",
                Item::Array(_) => "array",
                Item::Object(_) => "object",
            }
            .into(),
        ),
        (Method::Size, Item::Array(items)) => Item::Int(items.len() as i64),
        (Method::Size, _) if lax => Item::Int(1),
        (Method::Size, _) => return Err("size() of something other than an array".into()),
    });
    Ok(())
}

/// A predicate's value: `Some(true)`, `Some(false)` or `None` (unknown).
fn test(p: &Predicate, s: Scope) -> Option<bool> {
    match p {
        Predicate::And(a, b) => match (test(a, s), test(b, s)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Predicate::Or(a, b) => match (test(a, s), test(b, s)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Predicate::Not(a) => test(a, s).map(|v| !v),
        Predicate::IsUnknown(a) => Some(test(a, s).is_none()),
        Predicate::Exists(e) => eval(e, s).ok().map(|items| !items.is_empty()),
        Predicate::Compare(left, op, right) => {
            let (left, right) = (unwrapped(eval(left, s).ok()?, s.lax), unwrapped(eval(right, s).ok()?, s.lax));
            any(s.lax, left.iter().flat_map(|a| right.iter().map(move |b| compare(a, op, b))))
        }
        Predicate::StartsWith(left, prefix) => {
            let prefix = eval(prefix, s);
            let Ok([Item::Str(prefix)]) = prefix.as_deref() else { return None };
            let left = unwrapped(eval(left, s).ok()?, s.lax);
            any(
                s.lax,
                left.iter().map(|a| match a {
                    Item::Str(t) => Some(t.starts_with(prefix.as_str())),
                    _ => None,
                }),
            )
        }
        Predicate::LikeRegex(left, re) => {
            let left = unwrapped(eval(left, s).ok()?, s.lax);
            any(
                s.lax,
                left.iter().map(|a| match a {
                    Item::Str(t) => Some(re.is_match(t)),
                    _ => None,
                }),
            )
        }
    }
}

/// Trino's rule for a predicate over pairs: true if one is true; an error makes it unknown,
/// in the strict mode whatever else was found, in the lax mode if it came before a true.
fn any(lax: bool, results: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let (mut found, mut failed) = (false, false);
    for r in results {
        match r {
            Some(true) if lax => return Some(true),
            Some(true) => found = true,
            None if lax => return None,
            None => failed = true,
            Some(false) => {}
        }
    }
    if failed { None } else { Some(found) }
}

/// Two items compared as the documentation's comparison rules say (`None`: an error).
fn compare(a: &Item, op: &str, b: &Item) -> Option<bool> {
    use std::cmp::Ordering;
    let order = match (a, b) {
        (Item::Null, Item::Null) => return Some(op == "=="),
        (Item::Null, _) | (_, Item::Null) => return Some(false),
        (Item::Bool(x), Item::Bool(y)) => x.cmp(y),
        (Item::Str(x), Item::Str(y)) => x.cmp(y),
        (Item::Int(x), Item::Int(y)) => x.cmp(y),
        (x, y) => match (x.number(), y.number()) {
            (Some(x), Some(y)) => x.partial_cmp(&y)?,
            _ => return None,
        },
    };
    Some(match op {
        "==" => order == Ordering::Equal,
        "!=" | "<>" => order != Ordering::Equal,
        "<" => order == Ordering::Less,
        "<=" => order != Ordering::Greater,
        ">" => order == Ordering::Greater,
        _ => order != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(path: &str, doc: &str) -> Result<String, Failed> {
        let items = parse(path)?.eval(&Item::parse(doc)?)?;
        Ok(items.iter().map(Item::json).collect::<Vec<_>>().join(", "))
    }

    const CUSTOMERS: &str = r#"[{"customer" : 100, "region" : "AFRICA"}, {"region" : "ASIA"}, {"customer" : 300, "region" : "AFRICA", "comment" : null}]"#;

    #[test]
    fn the_documentations_accessors() {
        assert_eq!(run("lax $[*].customer", CUSTOMERS).unwrap(), "100, 300");
        assert!(run("strict $[*].customer", CUSTOMERS).is_err());
        assert_eq!(run("lax $[*].*", CUSTOMERS).unwrap(), r#"100, "AFRICA", "ASIA", 300, "AFRICA", null"#);
        let doc = r#"{"id" : 1, "notes" : [{"type" : 1, "comment" : "foo"}, {"type" : 2, "comment" : null}], "comment" : ["bar", "baz"]}"#;
        assert_eq!(run("lax $..comment", doc).unwrap(), r#"["bar","baz"], "foo", null"#);
        let arrays = r#"[[0, 1, 2], ["a", "b", "c", "d"], [null, null]]"#;
        assert_eq!(run("lax $[*][last]", arrays).unwrap(), r#"2, "d", null"#);
        assert_eq!(run("lax $[*][2 to 3]", arrays).unwrap(), r#"2, "c", "d""#);
        assert_eq!(run("lax $[*][1, 0, 0]", arrays).unwrap(), r#"1, 0, 0, "b", "a", "a", null, null, null"#);
        assert_eq!(run("lax $[*][*]", arrays).unwrap(), r#"0, 1, 2, "a", "b", "c", "d", null, null"#);
        assert!(run("strict $[*][2 to 3]", arrays).is_err());
    }

    #[test]
    fn the_documentations_filters_and_methods() {
        let filtered = run(r#"lax $[*]?(@.region != "ASIA")"#, CUSTOMERS).unwrap();
        assert_eq!(
            filtered,
            r#"{"customer":100,"region":"AFRICA"}, {"customer":300,"region":"AFRICA","comment":null}"#
        );
        assert_eq!(run("lax $[*]?(!exists(@.customer))", CUSTOMERS).unwrap(), r#"{"region":"ASIA"}"#);
        assert_eq!(run("lax $.double()", r#"[-1, 23e4, "5.6"]"#).unwrap(), "-1.0, 230000.0, 5.6");
        assert_eq!(run("lax $.ceiling()", "[-1.5, -1, 1.3]").unwrap(), "-1.0, -1, 2.0");
        assert_eq!(run("lax $.floor()", "[-1.5, -1, 1.3]").unwrap(), "-2.0, -1, 1.0");
        assert_eq!(run("lax $.abs()", "[-1.5, -1, 1.3]").unwrap(), "1.5, 1, 1.3");
        let kv = run("lax $[*].keyvalue()", CUSTOMERS).unwrap();
        assert!(kv.starts_with(r#"{"name":"customer","value":100,"id":0}, {"name":"region","value":"AFRICA","id":0}, {"name":"region","value":"ASIA","id":1}"#), "{kv}");
        let mixed = r#"[[1, "a", null], {"key1" : 1.0, "key2" : true}, -2e3]"#;
        assert_eq!(run("lax $[*][*]", mixed).unwrap(), r#"1, "a", null, {"key1":1.0,"key2":true}, -2000.0"#);
        assert_eq!(run("lax $[*].size()", mixed).unwrap(), "3, 1, 1");
        assert!(run("lax $[*].floor()", mixed).is_err());
        assert_eq!(run("lax $[*].type()", mixed).unwrap(), r#""array", "object", "number""#);
    }

    #[test]
    fn predicates_arithmetic_and_errors() {
        let doc = r#"{"price": 90, "tax": 10.5, "children": [10, 13, 16]}"#;
        assert_eq!(run("strict ($.price + $.tax)?(@ > 99.9)", doc).unwrap(), "100.5");
        assert_eq!(run("lax $.children[*]?(@ > 10 && @ < 16)", doc).unwrap(), "13");
        assert_eq!(run("lax $.children[0 to 1].floor()?(@ > 10)", doc).unwrap(), "13");
        assert_eq!(run(r#"lax $?(@.price starts with "9")"#, r#"{"price": "95"}"#).unwrap(), r#"{"price":"95"}"#);
        assert_eq!(run(r#"lax $[*]?(@ like_regex "^a" flag "i")"#, r#"["Abc", "b"]"#).unwrap(), r#""Abc""#);
        assert_eq!(run(r#"lax $[*]?((@ > 1) is unknown)"#, r#"[1, "x", 2]"#).unwrap(), r#""x""#);
        assert_eq!(run("lax $[last - 1]", "[1, 2, 3]").unwrap(), "2");
        assert_eq!(run("lax -$[0] * 2 % 3", "[4]").unwrap(), "-2");
        assert!(run("lax $[0] / 0", "[4]").is_err());
        assert!(run("lax $?(@ == null)", "null").unwrap() == "null");
        assert!(parse("$.a").is_err());
        assert!(parse("lax $.a.foo()").is_err());
        assert!(parse("lax $.a ?").is_err());
    }
}
