//! Athena's syntax: DataFusion's generic SQL dialect plus Trino's lambda expressions
//! (`x -> x + 1`, `(k, v) -> v > 0`), which the generic dialect reads as a JSON operator.
//!
//! Once parsed, a statement is rewritten where Trino reads the same text otherwise
//! ([`rewrite`]): a number with a point is an exact `DECIMAL` of its own digits, a
//! `DECIMAL '...'` or `TIMESTAMP '...'` literal keeps the precision its digits give it,
//! compound interval literals (`'42-07' YEAR TO MONTH`) are spelled out, `JSON '...'` is
//! parsed JSON text, and a result column
//! that is not a column or aliased is named `_col<position>`, as Athena names it.
//!
//! The parser asks a dialect what it is by type (`dialect_of!`) as well as through its
//! methods, so [`Athena`] answers as the generic dialect and forwards every method the
//! generic dialect overrides: the only difference left is the lambdas.

use std::any::TypeId;
use std::ops::ControlFlow;

use datafusion::common::Result;
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::helpers::attached_token::AttachedToken;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, ArrayElemTypeDef, BinaryOperator, CaseWhen, CastKind, CharacterLength, DataType, DateTimeField,
    ExactNumberInfo, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArgumentList,
    FunctionArguments, GroupByExpr, Ident, Interval, LambdaFunction, LambdaFunctionParameter, LambdaSyntax,
    LimitClause, NamedWindowDefinition, NamedWindowExpr, ObjectName, OneOrManyWithParens, OrderBy, OrderByKind, Query,
    Select, SelectItem, SetExpr, StructBracketKind, StructField, Subscript, TimezoneInfo, TypedString, UnaryOperator,
    Value, ValueWithSpan, VisitMut, VisitorMut, WindowFrameBound, WindowSpec, WindowType,
};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect};
use datafusion::sql::sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use super::precision;

/// The parser's dialect for Athena's SQL.
#[derive(Debug, Default)]
pub struct Athena(GenericDialect);

macro_rules! forward {
    ($($method:ident),* $(,)?) => {
        $(fn $method(&self) -> bool { self.0.$method() })*
    };
}

impl Dialect for Athena {
    fn dialect(&self) -> TypeId {
        self.0.dialect()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.0.is_delimited_identifier_start(ch)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.0.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.0.is_identifier_part(ch)
    }

    fn supports_lambda_functions(&self) -> bool {
        true
    }

    forward!(
        supports_unicode_string_literal,
        supports_partition_by_after_order_by,
        supports_array_join_syntax,
        supports_group_by_expr,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
        supports_connect_by,
        supports_match_recognize,
        supports_pipe_operator,
        supports_start_transaction_modifier,
        supports_window_function_null_treatment_arg,
        supports_dictionary_syntax,
        supports_window_clause_named_window_reference,
        supports_parenthesized_set_variables,
        supports_select_wildcard_except,
        support_map_literal_syntax,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        supports_create_view_comment_syntax,
        supports_parens_around_table_factor,
        supports_values_as_table_factor,
        supports_create_index_with_clause,
        supports_explain_with_utility_options,
        supports_limit_comma,
        supports_update_order_by,
        supports_from_first_select,
        supports_projection_trailing_commas,
        supports_asc_desc_in_column_definition,
        supports_try_convert,
        supports_bitwise_shift_operators,
        supports_comment_on,
        supports_load_extension,
        supports_named_fn_args_with_assignment_operator,
        supports_struct_literal,
        supports_empty_projections,
        supports_nested_comments,
        supports_multiline_comment_hints,
        supports_user_host_grantee,
        supports_string_escape_constant,
        supports_array_typedef_with_brackets,
        supports_match_against,
        supports_set_names,
        supports_comma_separated_set_assignments,
        supports_filter_during_aggregation,
        supports_select_wildcard_exclude,
        supports_data_type_signed_suffix,
        supports_interval_options,
        supports_quote_delimited_string,
        supports_select_wildcard_replace,
        supports_select_wildcard_ilike,
        supports_select_wildcard_rename,
        supports_optimize_table,
        supports_install,
        supports_detach,
        supports_prewhere,
        supports_with_fill,
        supports_limit_by,
        supports_interpolate,
        supports_settings,
        supports_select_format,
        supports_comment_optimizer_hint,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_comma_separated_trim,
        supports_cte_without_as,
        supports_select_item_multi_column_alias,
        supports_xml_expressions,
    );
}

/// Parses one statement of Athena's SQL, as [`datafusion::execution::SessionState::sql_to_statement`]
/// does with the session's dialect.
pub fn parse(sql: &str, recursion_limit: usize) -> Result<Statement> {
    let dialect = Athena::default();
    let sql = angle_array_types(sql);
    let sql = angle_map_types(&sql);
    let sql = row_types(&sql);
    let sql = quantified_values(&sql);
    let sql = bare_values(&sql);
    let sql = bare_trim(&sql);
    let sql = group_by_quantifier(&sql);
    let sql = json_clauses(&sql);
    let sql = json_constructors(&sql);
    let mut statements = DFParserBuilder::new(sql.as_ref())
        .with_dialect(&dialect)
        .with_recursion_limit(recursion_limit)
        .build()?
        .parse_statements()?;
    match (statements.pop_front(), statements.is_empty()) {
        (Some(mut statement), true) => {
            rewrite(&mut statement);
            Ok(statement)
        }
        (None, _) => datafusion::common::plan_err!("no SQL statement"),
        (Some(_), false) => datafusion::common::not_impl_err!("one statement at a time"),
    }
}

/// A statement's tokens without whitespace and comments, with their locations (`None` when
/// it does not tokenize: the parser then reports the error).
fn tokens(sql: &str) -> Option<Vec<TokenWithSpan>> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql).tokenize_with_location().ok()?;
    Some(tokens.into_iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect())
}

/// Token `i` when it is an unquoted word, in capitals.
fn bare_word(tokens: &[TokenWithSpan], i: usize) -> Option<String> {
    match tokens.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// The arguments of the call whose parenthesis opens at token `open` (token ranges between its
/// own commas, empty ones included), and where it closes.
fn call_arguments(tokens: &[TokenWithSpan], open: usize) -> Option<(Vec<std::ops::Range<usize>>, usize)> {
    let (mut depth, mut pieces, mut start) = (0, Vec::new(), open + 1);
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 1 => {
                pieces.push(start..j);
                start = j + 1;
            }
            _ => {}
        }
        if depth == 0 {
            pieces.push(start..j);
            return Some((pieces, j));
        }
    }
    None
}

/// Trino's `ARRAY(T)` type as the parser reads it, `ARRAY<T>`: the same characters at the
/// same places, so errors still point at the text as written. `ARRAY(` is a type wherever
/// it is not a subquery (`ARRAY(SELECT ...)`, which Trino does not have either).
fn angle_array_types(sql: &str) -> std::borrow::Cow<'_, str> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    if !sql.to_ascii_uppercase().contains("ARRAY") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let mut swaps = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let is_array = matches!(&t.token, Token::Word(w) if w.keyword == Keyword::ARRAY);
        let opens = tokens.get(i + 1).is_some_and(|t| t.token == Token::LParen);
        let subquery =
            matches!(tokens.get(i + 2).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == Keyword::SELECT);
        if !(is_array && opens) || subquery {
            continue;
        }
        let mut depth = 0;
        for close in &tokens[i + 1..] {
            match close.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                swaps.push((tokens[i + 1].span.start, '<'));
                swaps.push((close.span.start, '>'));
                break;
            }
        }
    }
    let swaps = swaps.into_iter().map(|(at, with)| (at, Edit::Swap(with))).collect();
    edited(sql, swaps)
}

/// Trino's legacy `MAP<K, V>` type as `MAP(K, V)`, which the parser reads (`ARRAY<T>` it reads
/// as it is). A `>>` closing two types at once is two closings.
fn angle_map_types(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_uppercase().contains("MAP") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let mut swaps = Vec::new();
    for i in 0..tokens.len() {
        if bare_word(&tokens, i).as_deref() != Some("MAP") || tokens.get(i + 1).map(|t| &t.token) != Some(&Token::Lt) {
            continue;
        }
        let mut depth = 0;
        'close: for t in &tokens[i + 1..] {
            let closings = match t.token {
                Token::Lt => {
                    depth += 1;
                    continue;
                }
                Token::Gt => 1,
                Token::ShiftRight => 2,
                _ => continue,
            };
            for k in 0..closings {
                depth -= 1;
                if depth == 0 {
                    swaps.push((tokens[i + 1].span.start, Edit::Swap('(')));
                    let at = Location { line: t.span.start.line, column: t.span.start.column + k };
                    swaps.push((at, Edit::Swap(')')));
                    break 'close;
                }
            }
        }
    }
    edited(sql, swaps)
}

/// Trino's `ROW(...)` types as the `STRUCT<...>` the parser reads: it keeps a lone
/// `ROW(name type, ...)` as a custom type's words (commas and parentheses lost), so neither a
/// row type nested in another (`ROW(x INTEGER, y ROW(z VARCHAR))`), nor one of unnamed fields
/// (`ROW(INTEGER, ARRAY(INTEGER))`), nor a field of a type of several words could be read. A
/// `ROW(` is a type where a row constructor cannot be: opening with a name and a type
/// (`ROW(x INTEGER`; a constructor opens with an expression, `ROW(1, 'a')`, `ROW(x, y)`), after
/// `AS` (`CAST(v AS ROW(...))`), as an array's element type (`ARRAY(ROW(...))`, already
/// `ARRAY<ROW(...)>` here) or a map's, or inside another row type.
fn row_types(sql: &str) -> std::borrow::Cow<'_, str> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    if !sql.to_ascii_uppercase().contains("ROW") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let word = |i: usize| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(_)));
    let keyword =
        |i: usize, k: Keyword| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k);
    // Each `ROW(`: where it is, where its parenthesis closes, and whether it is surely a type.
    let mut rows: Vec<(usize, usize, bool)> = Vec::new();
    for i in 0..tokens.len() {
        if bare_word(&tokens, i).as_deref() != Some("ROW")
            || tokens.get(i + 1).map(|t| &t.token) != Some(&Token::LParen)
        {
            continue;
        }
        let Some((_, close)) = call_arguments(&tokens, i + 1) else { continue };
        let element = i >= 2 && tokens[i - 1].token == Token::Lt && keyword(i - 2, Keyword::ARRAY);
        // A map type's key or value (`MAP(VARCHAR, ROW(...))`): the map function takes arrays.
        let mut depth = 0;
        let opener = (0..i).rev().find(|&j| {
            match tokens[j].token {
                Token::RParen | Token::RBracket => depth += 1,
                Token::LParen | Token::LBracket if depth == 0 => return true,
                Token::LParen | Token::LBracket => depth -= 1,
                _ => {}
            }
            false
        });
        let in_map = opener.is_some_and(|j| j >= 1 && bare_word(&tokens, j - 1).as_deref() == Some("MAP"));
        let typed = (word(i + 2) && word(i + 3)) || (i >= 1 && keyword(i - 1, Keyword::AS)) || element || in_map;
        rows.push((i, close, typed));
    }
    // A `ROW(` inside a row type is a type too.
    loop {
        let inside = |i: usize| rows.iter().any(|&(j, end, typed)| typed && j < i && i < end);
        let more: Vec<usize> = (0..rows.len()).filter(|&k| !rows[k].2 && inside(rows[k].0)).collect();
        if more.is_empty() {
            break;
        }
        more.into_iter().for_each(|k| rows[k].2 = true);
    }
    let mut edits = Vec::new();
    for &(i, close, _) in rows.iter().filter(|r| r.2) {
        edits.push((tokens[i].span.start, Edit::Insert("STRUCT".into())));
        edits.push((tokens[i].span.start, Edit::Blank(tokens[i].span.end)));
        edits.push((tokens[i + 1].span.start, Edit::Swap('<')));
        edits.push((tokens[close].span.start, Edit::Swap('>')));
    }
    edited(sql, edits)
}

/// A change to a statement's text, at a token's location.
enum Edit {
    /// Another character in its place.
    Swap(char),
    /// Text before it.
    Insert(String),
    /// Spaces in place of the text from it up to a location (line breaks kept).
    Blank(Location),
}

/// `sql` with `edits` made.
fn edited(sql: &str, edits: Vec<(Location, Edit)>) -> std::borrow::Cow<'_, str> {
    if edits.is_empty() {
        return sql.into();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let (mut line, mut column) = (1, 1);
    let mut blank_until: Option<Location> = None;
    let inserts = |out: &mut String, line: u64, column: u64| {
        for (_, edit) in edits.iter().filter(|(at, _)| at.line == line && at.column == column) {
            if let Edit::Insert(text) = edit {
                out.push_str(text);
            }
        }
    };
    for c in sql.chars() {
        inserts(&mut out, line, column);
        let mut with = c;
        for (_, edit) in edits.iter().filter(|(at, _)| at.line == line && at.column == column) {
            match edit {
                Edit::Swap(other) => with = *other,
                Edit::Blank(until) => blank_until = Some(*until),
                Edit::Insert(_) => {}
            }
        }
        if blank_until.is_some_and(|u| (line, column) < (u.line, u.column)) && c != '\n' {
            with = ' ';
        }
        out.push(with);
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    // Insertions after the last character.
    inserts(&mut out, line, column);
    out.into()
}

/// The clauses of Trino's `json_exists`, `json_value` and `json_query` (`RETURNING BIGINT`,
/// `WITH ARRAY WRAPPER`, `DEFAULT -1 ON EMPTY`, ...), which the parser does not know, as
/// arguments it reads: a string of the clauses' words, then each `DEFAULT`'s expression
/// (`json_value(j, 'lax $.a', 'RETURNING BIGINT DEFAULT ON EMPTY', -1)`). `FORMAT JSON`
/// after the input goes.
fn json_clauses(sql: &str) -> std::borrow::Cow<'_, str> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    if !sql.to_ascii_lowercase().contains("json_") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let word = |i: usize| bare_word(&tokens, i);
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        let is_call = matches!(word(i).as_deref(), Some("JSON_EXISTS" | "JSON_VALUE" | "JSON_QUERY"))
            && tokens.get(i + 1).is_some_and(|t| t.token == Token::LParen);
        if !is_call {
            continue;
        }
        let Some((arguments, close)) = call_arguments(&tokens, i + 1) else { continue };
        let [input, ..] = arguments.as_slice() else { continue };
        let comma = input.end;
        if comma == close {
            continue;
        }
        if let Some(format) =
            (i + 2..comma).find(|&k| word(k).as_deref() == Some("FORMAT") && word(k + 1).as_deref() == Some("JSON"))
        {
            edits.push((tokens[format].span.start, Edit::Blank(tokens[comma].span.start)));
        }
        // The path is one string; what follows it up to the parenthesis, the clauses.
        let first = comma + 2;
        if first >= close || tokens[first].token == Token::Comma {
            continue;
        }
        let (mut words, mut defaults) = (Vec::new(), Vec::new());
        let mut k = first;
        while k < close {
            if word(k).as_deref() == Some("DEFAULT") {
                words.push("DEFAULT".to_string());
                let (mut depth, mut expr) = (0, Vec::new());
                k += 1;
                while k < close {
                    let ends = matches!(word(k + 1).as_deref(), Some("EMPTY" | "ERROR"));
                    match &tokens[k].token {
                        Token::LParen | Token::LBracket => depth += 1,
                        Token::RParen | Token::RBracket => depth -= 1,
                        Token::Word(w) if depth == 0 && w.keyword == Keyword::ON && ends => break,
                        _ => {}
                    }
                    expr.push(tokens[k].token.to_string());
                    k += 1;
                }
                defaults.push(expr.join(" "));
            } else {
                words.push(tokens[k].token.to_string());
                k += 1;
            }
        }
        let mut text = format!(", '{}'", words.join(" ").replace('\'', "''"));
        defaults.iter().for_each(|d| text.push_str(&format!(", {d}")));
        edits.push((tokens[first].span.start, Edit::Insert(text)));
        edits.push((tokens[first].span.start, Edit::Blank(tokens[close].span.start)));
    }
    edited(sql, edits)
}

/// Trino's `json_array(v, ... [ABSENT ON NULL] [RETURNING t])` and `json_object('k' : v,
/// KEY 'k' VALUE v, 'k' VALUE v, ... [clauses])` as calls the parser reads: the clauses' words
/// as a string first, then the values (an object's keys and values in turn); a value marked
/// `FORMAT JSON` is read by `json_parse`.
fn json_constructors(sql: &str) -> std::borrow::Cow<'_, str> {
    let lower = sql.to_ascii_lowercase();
    if !lower.contains("json_array") && !lower.contains("json_object") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let word = |i: usize| bare_word(&tokens, i);
    let text =
        |range: std::ops::Range<usize>| tokens[range].iter().map(|t| t.token.to_string()).collect::<Vec<_>>().join(" ");
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        let object = match word(i).as_deref() {
            Some("JSON_OBJECT") => true,
            Some("JSON_ARRAY") => false,
            _ => continue,
        };
        if tokens.get(i + 1).is_none_or(|t| t.token != Token::LParen) {
            continue;
        }
        let Some((mut pieces, close)) = call_arguments(&tokens, i + 1) else { continue };
        pieces.retain(|r| !r.is_empty());
        // The clauses: from the first of NULL/ABSENT ON, WITH/WITHOUT UNIQUE or RETURNING at the
        // last argument's own depth.
        let mut clauses = String::new();
        if let Some(last) = pieces.last_mut() {
            let mut depth = 0;
            for k in last.clone() {
                match tokens[k].token {
                    Token::LParen | Token::LBracket => depth += 1,
                    Token::RParen | Token::RBracket => depth -= 1,
                    _ => {}
                }
                let starts = matches!(
                    (word(k).as_deref(), word(k + 1).as_deref()),
                    (Some("NULL" | "ABSENT"), Some("ON"))
                        | (Some("WITH" | "WITHOUT"), Some("UNIQUE"))
                        | (Some("RETURNING"), _)
                );
                if depth == 0 && starts {
                    clauses = text(k..last.end);
                    *last = last.start..k;
                    break;
                }
            }
        }
        pieces.retain(|r| !r.is_empty());
        // A value, `json_parse`d when it is marked FORMAT JSON (and the encoding dropped).
        let value = |r: std::ops::Range<usize>| match (r.start..r.end)
            .find(|&k| word(k).as_deref() == Some("FORMAT") && word(k + 1).as_deref() == Some("JSON"))
        {
            Some(k) => format!("json_parse({})", text(r.start..k)),
            None => text(r),
        };
        let mut args = vec![format!("'{}'", clauses.replace('\'', "''"))];
        for r in pieces {
            if !object {
                args.push(value(r));
                continue;
            }
            let r = if word(r.start).as_deref() == Some("KEY") { r.start + 1..r.end } else { r };
            let mut depth = 0;
            let separator = r.clone().find(|&k| {
                match tokens[k].token {
                    Token::LParen | Token::LBracket => depth += 1,
                    Token::RParen | Token::RBracket => depth -= 1,
                    _ => {}
                }
                depth == 0 && (tokens[k].token == Token::Colon || word(k).as_deref() == Some("VALUE"))
            });
            match separator {
                Some(k) => {
                    args.push(text(r.start..k));
                    args.push(value(k + 1..r.end));
                }
                None => args.push(text(r)),
            }
        }
        let at = tokens[i + 2].span.start;
        edits.push((at, Edit::Insert(args.join(", "))));
        edits.push((at, Edit::Blank(tokens[close].span.start)));
    }
    edited(sql, edits)
}

/// Trino's `VALUES 1, 2` (a row of one column needs no parentheses) as the parser reads it,
/// `VALUES (1), (2)`. A row that is already in parentheses, or `ROW(...)`, stays as it is.
fn bare_values(sql: &str) -> std::borrow::Cow<'_, str> {
    use datafusion::sql::sqlparser::keywords::Keyword;
    if !sql.to_ascii_uppercase().contains("VALUES") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let word = |i: usize, k: Keyword| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.keyword == k);
    let ends = [
        Keyword::ORDER,
        Keyword::LIMIT,
        Keyword::OFFSET,
        Keyword::FETCH,
        Keyword::UNION,
        Keyword::EXCEPT,
        Keyword::INTERSECT,
    ];
    let mut edits = Vec::new();
    for start in (0..tokens.len()).filter(|&i| word(i, Keyword::VALUES)) {
        // The rows: from one comma at the list's own depth to the next, up to the list's end.
        let mut i = start + 1;
        loop {
            let first = i;
            let (mut depth, mut closed_at) = (0i32, None);
            while let Some(t) = tokens.get(i) {
                match &t.token {
                    Token::LParen | Token::LBracket => depth += 1,
                    Token::RParen | Token::RBracket if depth == 0 => break,
                    Token::RParen | Token::RBracket => {
                        depth -= 1;
                        if depth == 0 && closed_at.is_none() {
                            closed_at = Some(i);
                        }
                    }
                    Token::Comma | Token::SemiColon | Token::EOF if depth == 0 => break,
                    Token::Word(w) if depth == 0 && ends.contains(&w.keyword) => break,
                    _ => {}
                }
                i += 1;
            }
            let parenthesized = matches!(tokens[first].token, Token::LParen) && closed_at == Some(i - 1);
            if i > first && !parenthesized && !word(first, Keyword::ROW) {
                edits.push((tokens[first].span.start, Edit::Insert("(".into())));
                edits.push((tokens[i - 1].span.end, Edit::Insert(")".into())));
            }
            if tokens.get(i).map(|t| &t.token) != Some(&Token::Comma) {
                break;
            }
            i += 1;
        }
    }
    edited(sql, edits)
}

/// `x = ANY (VALUES 1, 2)` (also SOME and ALL): the parser takes a query there only when it
/// starts with SELECT, so the rows are read as `(SELECT * FROM (VALUES ...))`.
fn quantified_values(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_uppercase().contains("VALUES") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let mut edits = Vec::new();
    for i in 0..tokens.len() {
        let quantifier = matches!(bare_word(&tokens, i).as_deref(), Some("ANY" | "SOME" | "ALL"));
        if quantifier
            && tokens.get(i + 1).map(|t| &t.token) == Some(&Token::LParen)
            && bare_word(&tokens, i + 2).as_deref() == Some("VALUES")
            && let Some((_, close)) = call_arguments(&tokens, i + 1)
        {
            edits.push((tokens[i + 2].span.start, Edit::Insert("SELECT * FROM (".into())));
            edits.push((tokens[close].span.start, Edit::Insert(")".into())));
        }
    }
    edited(sql, edits)
}

/// What `GROUP BY DISTINCT` becomes in the text the parser reads: a first grouping element
/// that [`distinct_grouping_sets`] takes away.
const DISTINCT_SETS: &str = "athena_distinct_grouping_sets";

/// Trino's set quantifier of `GROUP BY`, which the parser does not read: `ALL` (the default)
/// is dropped, `DISTINCT` marked for [`distinct_grouping_sets`].
fn group_by_quantifier(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_uppercase().contains("GROUP") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let mut edits = Vec::new();
    for i in (0..tokens.len()).filter(|&i| bare_word(&tokens, i).as_deref() == Some("GROUP")) {
        if bare_word(&tokens, i + 1).as_deref() != Some("BY") {
            continue;
        }
        // `GROUP BY ALL` alone is not Trino's (a set quantifier is followed by the elements).
        let followed = tokens
            .get(i + 3)
            .is_some_and(|t| !matches!(t.token, Token::EOF | Token::SemiColon | Token::RParen))
            && !matches!(
                bare_word(&tokens, i + 3).as_deref(),
                Some("ORDER" | "HAVING" | "LIMIT" | "OFFSET" | "FETCH" | "WINDOW" | "UNION" | "EXCEPT" | "INTERSECT")
            );
        let word = &tokens[(i + 2).min(tokens.len() - 1)];
        match bare_word(&tokens, i + 2).as_deref() {
            Some("ALL") if followed => edits.push((word.span.start, Edit::Blank(word.span.end))),
            Some("DISTINCT") if followed => {
                edits.push((word.span.start, Edit::Insert(format!("{DISTINCT_SETS}, "))));
                edits.push((word.span.start, Edit::Blank(word.span.end)));
            }
            _ => {}
        }
    }
    edited(sql, edits)
}

/// `GROUP BY DISTINCT …`: the grouping sets the elements make (the cross product of each
/// element's sets: a column's one, `ROLLUP`'s prefixes, `CUBE`'s subsets, `GROUPING SETS`'
/// own), each once, as Trino drops the duplicates (`ROLLUP(a, t.a)` is `(a), ()`). A column
/// is known by its name alone, qualified or not.
fn distinct_grouping_sets(items: &mut Vec<Expr>) {
    let marker = |e: &Expr| matches!(e, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(DISTINCT_SETS));
    let Some(at) = items.iter().position(marker) else { return };
    items.remove(at);
    let mut sets: Vec<Vec<Expr>> = vec![vec![]];
    for item in items.iter() {
        let own: Vec<Vec<Expr>> = match item {
            Expr::GroupingSets(sets) => sets.clone(),
            Expr::Rollup(parts) => (0..=parts.len()).rev().map(|n| parts[..n].concat()).collect(),
            Expr::Cube(parts) => (0..1usize << parts.len())
                .rev()
                .map(|mask| {
                    (0..parts.len())
                        .filter(|b| mask >> (parts.len() - 1 - b) & 1 == 1)
                        .flat_map(|b| parts[b].clone())
                        .collect()
                })
                .collect(),
            e => vec![vec![e.clone()]],
        };
        sets = sets.iter().flat_map(|s| own.iter().map(move |o| [s.as_slice(), o.as_slice()].concat())).collect();
    }
    let key = |set: &[Expr]| {
        let mut names: Vec<String> = set
            .iter()
            .map(|e| match e {
                Expr::CompoundIdentifier(parts) => parts.last().map(|p| p.value.to_lowercase()).unwrap_or_default(),
                Expr::Identifier(i) => i.value.to_lowercase(),
                e => e.to_string(),
            })
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let mut kept: Vec<Vec<Expr>> = Vec::new();
    for set in sets {
        if !kept.iter().any(|k| key(k) == key(&set)) {
            kept.push(set);
        }
    }
    *items = vec![Expr::GroupingSets(kept)];
}

/// Trino's `trim(LEADING FROM s)` (a side without characters, which the parser refuses) as
/// `ltrim(s)`; `TRAILING` as `rtrim`, `BOTH` or no side as `trim(s)`: whitespace either way.
fn bare_trim(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.to_ascii_uppercase().contains("TRIM") {
        return sql.into();
    }
    let Some(tokens) = tokens(sql) else { return sql.into() };
    let mut edits = Vec::new();
    for i in (0..tokens.len()).filter(|&i| bare_word(&tokens, i).as_deref() == Some("TRIM")) {
        if tokens.get(i + 1).map(|t| &t.token) != Some(&Token::LParen) {
            continue;
        }
        let side = bare_word(&tokens, i + 2);
        let from = match side.as_deref() {
            Some("LEADING" | "TRAILING" | "BOTH") => i + 3,
            _ => i + 2,
        };
        if bare_word(&tokens, from).as_deref() != Some("FROM") {
            continue;
        }
        match side.as_deref() {
            Some("LEADING") => edits.push((tokens[i].span.start, Edit::Insert("l".into()))),
            Some("TRAILING") => edits.push((tokens[i].span.start, Edit::Insert("r".into()))),
            _ => {}
        }
        edits.push((tokens[i + 2].span.start, Edit::Blank(tokens[from].span.end)));
    }
    edited(sql, edits)
}

/// Trino's `ROW(name type, ...)`, which the parser keeps as a custom type with its words, as
/// the `STRUCT` DataFusion plans (fields of one-word types).
fn row_type(t: &mut DataType) {
    match t {
        DataType::Custom(name, words) if name.to_string().eq_ignore_ascii_case("row") && words.len() % 2 == 0 => {
            let dialect = GenericDialect {};
            let fields: Option<Vec<StructField>> = words
                .chunks(2)
                .map(|pair| {
                    let mut parser =
                        datafusion::sql::sqlparser::parser::Parser::new(&dialect).try_with_sql(&pair[1]).ok()?;
                    let field_type = parser.parse_data_type().ok()?;
                    Some(StructField { field_name: Some(Ident::new(&pair[0])), field_type, options: None })
                })
                .collect();
            if let Some(fields) = fields {
                *t = DataType::Struct(fields, StructBracketKind::Parentheses);
            }
        }
        DataType::Array(ArrayElemTypeDef::AngleBracket(inner)) => row_type(inner),
        _ => {}
    }
}

/// Rewrites a parsed statement where Trino reads the text otherwise than DataFusion.
pub fn rewrite(statement: &mut Statement) {
    match statement {
        Statement::Statement(s) => {
            let _ = s.visit(&mut Trino::default());
            opposite_aggregate_orders(s);
        }
        Statement::Explain(e) => rewrite(&mut e.statement),
        _ => {}
    }
}

/// NULLs sort last either way here, as in Trino; but DataFusion runs two aggregates of one
/// statement ordered opposite ways (`listagg(x) WITHIN GROUP (ORDER BY x)` beside `... ORDER
/// BY x DESC`) only when one order is the other reversed, NULLs included. Such a statement's
/// aggregate orders keep NULLs where reversing puts them (last ascending, first descending).
fn opposite_aggregate_orders(statement: &mut datafusion::sql::sqlparser::ast::Statement) {
    use datafusion::sql::sqlparser::ast::{OrderByExpr, visit_expressions_mut};
    /// A call's ORDER BY items without NULLS FIRST/LAST: `WITHIN GROUP` and inside the arguments.
    fn unplaced(f: &mut Function) -> Vec<&mut OrderByExpr> {
        let clauses = match &mut f.args {
            FunctionArguments::List(list) => list.clauses.iter_mut().collect(),
            _ => Vec::new(),
        };
        let within = clauses.into_iter().filter_map(|c| match c {
            FunctionArgumentClause::OrderBy(items) => Some(items.iter_mut()),
            _ => None,
        });
        f.within_group.iter_mut().chain(within.flatten()).filter(|o| o.options.nulls_first.is_none()).collect()
    }
    let (mut ascending, mut descending) = (false, false);
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Function(f) = e {
            for o in unplaced(f) {
                if o.options.asc == Some(false) { descending = true } else { ascending = true }
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if !(ascending && descending) {
        return;
    }
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Function(f) = e {
            for o in unplaced(f) {
                o.options.nulls_first = Some(o.options.asc == Some(false));
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The rewriting visitor; `lambdas` holds the parameters of the lambdas it is inside.
#[derive(Default)]
struct Trino {
    lambdas: Vec<String>,
}

/// `.field` as the subscript DataFusion reads on a row (`['field']`).
fn field_subscript(field: &Ident) -> AccessExpr {
    // An unquoted name is case-insensitive, as the row type's field names are (lower case).
    let name = if field.quote_style.is_none() { field.value.to_lowercase() } else { field.value.clone() };
    AccessExpr::Subscript(Subscript::Index { index: Expr::value(Value::SingleQuotedString(name)) })
}

impl VisitorMut for Trino {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Lambda(l) = expr {
            self.lambdas.extend(l.params.iter().map(|p| p.name.value.to_ascii_lowercase()));
        }
        // `-9223372036854775808` is the least bigint, not the negation of a decimal (its digits
        // alone are past a bigint): one literal, before the digits are read.
        if let Expr::UnaryOp { op: UnaryOperator::Minus, expr: inner } = expr
            && let Expr::Value(ValueWithSpan { value: Value::Number(n, false), .. }) = inner.as_ref()
            && n.parse::<u64>().is_ok_and(|n| n == i64::MIN.unsigned_abs())
        {
            *expr = Expr::value(Value::Number(i64::MIN.to_string(), false));
        }
        ControlFlow::Continue(())
    }

    fn post_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
        if let GroupByExpr::Expressions(items, _) = &mut select.group_by {
            items.iter_mut().for_each(number);
            distinct_grouping_sets(items);
            // HAVING makes a query one group even without aggregates (`SELECT 'x' FROM t HAVING
            // true` is one row), which DataFusion plans only with one: the empty grouping set.
            let calls = |e: &Expr| {
                let mut found = false;
                let _ = datafusion::sql::sqlparser::ast::visit_expressions(e, |e| {
                    found |= matches!(e, Expr::Function(_));
                    ControlFlow::<()>::Continue(())
                });
                found
            };
            let projected = || {
                select.projection.iter().any(|p| match p {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => calls(e),
                    _ => true,
                })
            };
            if items.is_empty() && select.having.as_ref().is_some_and(|h| !calls(h)) && !projected() {
                items.push(Expr::GroupingSets(vec![vec![]]));
            }
        }
        for NamedWindowDefinition(_, window) in &mut select.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = window {
                frame_numbers(spec);
            }
        }
        for (i, item) in select.projection.iter_mut().enumerate() {
            if let SelectItem::UnnamedExpr(expr) = item
                && !matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_))
            {
                let expr = std::mem::replace(expr, Expr::value(Value::Null));
                *item = SelectItem::ExprWithAlias { expr, alias: Ident::new(format!("_col{i}")) };
            }
        }
        ControlFlow::Continue(())
    }

    /// An ORDER BY item written as an unnamed result column is that column by its new name
    /// (`SELECT DISTINCT x + 1 … ORDER BY x + 1` still finds it).
    fn post_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(OrderBy { kind: OrderByKind::Expressions(items), .. }) = &mut query.order_by {
            items.iter_mut().for_each(|item| number(&mut item.expr));
        }
        match &mut query.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, limit_by }) => {
                limit.iter_mut().chain(offset.as_mut().map(|o| &mut o.value)).chain(limit_by).for_each(number);
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => [offset, limit].into_iter().for_each(number),
            None => {}
        }
        if let Some(fetch) = &mut query.fetch {
            fetch.quantity.iter_mut().for_each(number);
        }
        let (Some(order), SetExpr::Select(select)) = (query.order_by.as_mut(), query.body.as_ref()) else {
            return ControlFlow::Continue(());
        };
        let OrderByKind::Expressions(items) = &mut order.kind else { return ControlFlow::Continue(()) };
        for item in items {
            let named = select.projection.iter().find_map(|p| match p {
                SelectItem::ExprWithAlias { expr, alias } if alias.value.starts_with("_col") && *expr == item.expr => {
                    Some(alias.clone())
                }
                _ => None,
            });
            if let Some(alias) = named {
                item.expr = Expr::Identifier(alias);
            }
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        let replacement = match expr {
            // `U&'\0041'`: the parser has read the escapes; the planner takes only plain text.
            Expr::Value(ValueWithSpan { value: Value::UnicodeStringLiteral(text), .. }) => {
                Some(Expr::value(Value::SingleQuotedString(std::mem::take(text))))
            }
            Expr::Value(ValueWithSpan { value: Value::Number(n, false), .. }) => decimal_type(n)
                .or_else(|| whole_decimal_type(n))
                .map(|t| typed_literal(n.clone(), t))
                .or_else(|| integer(n)),
            Expr::TypedString(t) => typed_string(t),
            Expr::Substring { .. } => Some(substring(expr)),
            Expr::Overlay { .. } => Some(overlay(expr)),
            Expr::Cast { kind, expr: inner, data_type, format: None, .. } => {
                row_type(data_type);
                match data_type {
                    // Trino's TIMESTAMP is TIMESTAMP(3).
                    DataType::Timestamp(p, TimezoneInfo::None) if p.is_none_or(|p| p <= 9) => {
                        let p = p.unwrap_or(3);
                        // A literal's text as Trino reads it (`2020-5-1 12:00`), padded for Arrow;
                        // a finer fraction than the type's rounds, as from a finer timestamp.
                        if let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) =
                            inner.as_mut()
                            && let Some((padded, fraction)) = timestamp(text)
                        {
                            let text = Expr::value(Value::SingleQuotedString(padded));
                            **inner = if fraction > p { timestamp_cast(CastKind::Cast, text, fraction) } else { text };
                        }
                        Some(timestamp_cast(kind.clone(), take(inner), p))
                    }
                    // A text with a zone cast to a zoned timestamp keeps the zone, as Trino's
                    // does (`CAST('1969-07-20 16:17:00 America/New_York' AS timestamp with time
                    // zone)`; the cast read it in UTC).
                    DataType::Timestamp(p, TimezoneInfo::WithTimeZone) if *kind == CastKind::Cast => {
                        zoned_text(inner, p.unwrap_or(3))
                    }
                    // Trino's TIME is TIME(3); a cast rounds to its precision.
                    DataType::Time(p, TimezoneInfo::None) => {
                        let time = cast_kind(kind.clone(), take(inner), DataType::Time(None, TimezoneInfo::None));
                        Some(precise(time, p.unwrap_or(3)))
                    }
                    // Trino's bare DECIMAL is decimal(38, 0) (DataFusion's, decimal(38, 10)).
                    DataType::Decimal(info @ ExactNumberInfo::None) => {
                        *info = ExactNumberInfo::PrecisionAndScale(38, 0);
                        None
                    }
                    // Trino's char(n) holds n characters, its trailing spaces insignificant: a cast
                    // keeps the first n (`CHAR` is `CHAR(1)`) without them, so that `CAST('a ' AS
                    // CHAR(2)) = CAST('a' AS CHAR(2))`.
                    DataType::Char(length) | DataType::Character(length) => {
                        let n = match length {
                            Some(CharacterLength::IntegerLength { length, .. }) => *length,
                            None => 1,
                            Some(CharacterLength::Max) => return ControlFlow::Continue(()),
                        };
                        let text = cast_kind(kind.clone(), take(inner), DataType::Varchar(None));
                        let kept = call("substr", vec![text, number_literal("1"), number_literal(&n.to_string())]);
                        Some(call("rtrim", vec![kept, Expr::value(Value::SingleQuotedString(" ".into()))]))
                    }
                    // A cast to varchar(n): text keeps its first n characters, another value must
                    // fit (the value itself tells the function its type).
                    DataType::Varchar(Some(CharacterLength::IntegerLength { length, .. })) => {
                        let n = number_literal(&length.to_string());
                        let value = take(inner);
                        let text = cast_kind(kind.clone(), value.clone(), DataType::Varchar(None));
                        let name =
                            if *kind == CastKind::TryCast { super::text::TRY_BOUNDED } else { super::text::BOUNDED };
                        Some(call(name, vec![text, n, value]))
                    }
                    _ => None,
                }
            }
            Expr::BinaryOp { left, op: op @ (BinaryOperator::Multiply | BinaryOperator::Divide), right }
                if is_interval(left) || (is_interval(right) && *op == BinaryOperator::Multiply) =>
            {
                Some(interval_scale(left, *op == BinaryOperator::Divide, right))
            }
            Expr::Extract { field, expr: from, .. } => extract(field, from),
            Expr::Array(array) => {
                typed_nulls(array.elem.iter_mut().collect());
                // DataFusion plans an array literal's elements without the lambda's parameters
                // (`x -> ARRAY[x]` found no field x); the call is planned with them.
                (!self.lambdas.is_empty()).then(|| call("make_array", std::mem::take(&mut array.elem)))
            }
            Expr::Like { pattern, escape_char, .. } => like(pattern, escape_char),
            Expr::AnyOp { left, compare_op, right, .. } => quantified(left, compare_op, right, false),
            Expr::AllOp { left, compare_op, right } => quantified(left, compare_op, right, true),
            // `ts AT TIME ZONE zone` is `at_timezone(ts, zone)` (DataFusion's cast reads a
            // timestamp without a zone as local to the new one; Trino reads it as UTC).
            // Trino's `localtimestamp` and `localtime` are functions without parentheses (the
            // session's zone is UTC: its local time is DataFusion's `current_time`).
            Expr::Identifier(Ident { value, quote_style: None, .. })
                if value.eq_ignore_ascii_case("localtimestamp") =>
            {
                Some(call("localtimestamp", vec![]))
            }
            // `localtime` is a time(3), `localtime(p)` a time(p).
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("localtime") => {
                let p = match &mut f.args {
                    FunctionArguments::None => Some(3),
                    FunctionArguments::List(list) => match list.args.as_mut_slice() {
                        [FunctionArg::Unnamed(FunctionArgExpr::Expr(p))] => {
                            number(p);
                            match p {
                                Expr::Value(ValueWithSpan { value: Value::Number(p, _), .. }) => p.parse().ok(),
                                _ => None,
                            }
                        }
                        _ => None,
                    },
                    FunctionArguments::Subquery(_) => None,
                };
                p.map(|p| precise(call("current_time", vec![]), p))
            }
            Expr::AtTimeZone { timestamp, time_zone } => {
                Some(call("at_timezone", vec![take(timestamp), take(time_zone)]))
            }
            Expr::Function(f) => function(f),
            // DataFusion's tuples take literals only: a row's integers stay bigint. A tuple that
            // opens with another expression (`(MAP(...), 'x')`) is planned only as a row.
            Expr::Tuple(items) => {
                items.iter_mut().for_each(number);
                let plain =
                    matches!(items.first(), Some(Expr::Identifier(_) | Expr::Value(_) | Expr::CompoundIdentifier(_)));
                (!plain && !items.is_empty()).then(|| call("struct", std::mem::take(items)))
            }
            Expr::Lambda(l) => {
                let n = self.lambdas.len() - l.params.len();
                self.lambdas.truncate(n);
                None
            }
            // `s.sum` of a lambda's row parameter `s`: a field of it, not a table's column.
            Expr::CompoundIdentifier(parts)
                if parts.len() > 1 && self.lambdas.contains(&parts[0].value.to_ascii_lowercase()) =>
            {
                Some(Expr::CompoundFieldAccess {
                    root: Box::new(Expr::Identifier(parts[0].clone())),
                    access_chain: parts[1..].iter().map(field_subscript).collect(),
                })
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                // A name's dots are the planner's to read (`t.x[1]`: table t's column x), up to
                // its first subscript (`a[1].x`: field x of the element).
                let mut named = matches!(root.as_ref(), Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                for access in access_chain {
                    match access {
                        AccessExpr::Subscript(Subscript::Index { index }) => {
                            number(index);
                            named = false;
                        }
                        // `(row).field`, `CAST(... AS ROW(...)).field`.
                        AccessExpr::Dot(Expr::Identifier(field)) if !named => *access = field_subscript(field),
                        _ => {}
                    }
                }
                None
            }
            Expr::Interval(i) => {
                number(&mut i.value);
                if let Some(spelled) = compound_interval(i) {
                    *i = spelled;
                    None
                } else {
                    invalid_interval(i)
                }
            }
            _ => None,
        };
        if let Some(replacement) = replacement {
            *expr = replacement;
        }
        ControlFlow::Continue(())
    }
}

/// A bare integer literal that fits 32 bits is Trino's `integer` (`typeof(1)` is `integer`,
/// `2147483647 + 1` overflows); wider ones stay `bigint`.
fn integer(n: &str) -> Option<Expr> {
    n.parse::<i32>().ok()?;
    Some(cast(Expr::value(Value::Number(n.into(), false)), DataType::Integer(None)))
}

/// Where a number is a position or a count rather than a value (an ORDER BY or GROUP BY
/// ordinal, LIMIT, a window's offsets, a subscript), the literal `integer` gives it back.
fn number(e: &mut Expr) {
    if let Expr::UnaryOp { op: UnaryOperator::Minus, expr } = e {
        return number(expr);
    }
    if let Expr::Cast { kind: CastKind::Cast, expr, data_type: DataType::Integer(None), format: None, .. } = e
        && matches!(**expr, Expr::Value(ValueWithSpan { value: Value::Number(..), .. }))
    {
        *e = take(expr);
    }
}

/// A window frame's offsets are numbers (`ROWS BETWEEN 19 PRECEDING AND CURRENT ROW`).
fn frame_numbers(spec: &mut WindowSpec) {
    if let Some(frame) = &mut spec.window_frame {
        for bound in std::iter::once(&mut frame.start_bound).chain(frame.end_bound.as_mut()) {
            if let WindowFrameBound::Preceding(Some(e)) | WindowFrameBound::Following(Some(e)) = bound {
                number(e);
            }
        }
    }
}

/// `text` read as a literal of `data_type`.
fn typed_literal(text: String, data_type: DataType) -> Expr {
    cast(Expr::value(Value::SingleQuotedString(text)), data_type)
}

/// `CAST(expr AS data_type)`.
fn cast(expr: Expr, data_type: DataType) -> Expr {
    cast_kind(CastKind::Cast, expr, data_type)
}

/// `CAST` or `TRY_CAST` (`kind`) of `expr` to `data_type`.
fn cast_kind(kind: CastKind, expr: Expr, data_type: DataType) -> Expr {
    Expr::Cast { kind, expr: Box::new(expr), data_type, array: false, format: None }
}

/// A literal that fails while the statement is planned, with Trino's `message`.
fn invalid_literal(message: String) -> Expr {
    call("athena_invalid_literal", vec![Expr::value(Value::SingleQuotedString(message))])
}

/// `DECIMAL '1.5'` with the literal's own precision and scale, `TIMESTAMP '...'` with its
/// precision, and `JSON '[1, 2]'` as `json_parse('[1, 2]')` (JSON is text here).
fn typed_string(t: &TypedString) -> Option<Expr> {
    let text = t.value.value.clone().into_string()?;
    // A literal that is none fails in Trino's words for a literal, not a cast's.
    let invalid = |kind: &str, text: String| Some(invalid_literal(format!("'{text}' is not a valid {kind} literal")));
    let (text, data_type) = match &t.data_type {
        DataType::Date if super::text_time::parse_date(&text).is_none() => return invalid("date", text),
        // Numbers as Trino's casts from text read them (around spaces allowed), a boolean
        // exactly as written.
        DataType::TinyInt(_) if text.trim().parse::<i8>().is_err() => return invalid("tinyint", text),
        DataType::SmallInt(_) if text.trim().parse::<i16>().is_err() => return invalid("smallint", text),
        DataType::Int(_) | DataType::Integer(_) if text.trim().parse::<i32>().is_err() => {
            return invalid("integer", text);
        }
        DataType::BigInt(_) if text.trim().parse::<i64>().is_err() => return invalid("bigint", text),
        DataType::Double(_) | DataType::DoublePrecision if text.trim().parse::<f64>().is_err() => {
            return invalid("double", text);
        }
        DataType::Real if text.trim().parse::<f32>().is_err() => return invalid("real", text),
        DataType::Boolean | DataType::Bool if super::text::boolean(&text).is_none() => return invalid("boolean", text),
        DataType::Decimal(ExactNumberInfo::None) => {
            let text = text.trim();
            let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
            let point = if digits.contains('.') { digits.to_string() } else { format!("{digits}.") };
            (text.to_string(), decimal_type(&point)?)
        }
        DataType::Timestamp(None, TimezoneInfo::None) => {
            // `TIMESTAMP '2012-10-31 01:00 America/Sao_Paulo'`: that local time there.
            return match zoned(&text) {
                Some((local, zone)) => {
                    let (text, p) = timestamp(local)?;
                    Some(in_zone(timestamp_cast(CastKind::Cast, Expr::value(Value::SingleQuotedString(text)), p), zone))
                }
                None if super::text_time::parse_timestamp(&text).is_none() => invalid("timestamp", text),
                None => {
                    let (text, p) = timestamp(&text)?;
                    Some(timestamp_cast(CastKind::Cast, Expr::value(Value::SingleQuotedString(text)), p))
                }
            };
        }
        DataType::JSON => return Some(call("json_parse", vec![Expr::value(Value::SingleQuotedString(text))])),
        // `TIME '12:34:56.1'` is a time(1): the precision of its digits.
        DataType::Time(None, TimezoneInfo::None) => {
            // (A zone after the time is a time with a time zone, which is not read here.)
            let zoned = text.trim().contains([' ', '+', '-']);
            let Some((nanos, p)) = time_literal(&text) else { return if zoned { None } else { invalid("time", text) } };
            let text = super::text::time(nanos, 9);
            let time = cast(Expr::value(Value::SingleQuotedString(text)), DataType::Time(None, TimezoneInfo::None));
            return Some(precise(time, p));
        }
        _ => return None,
    };
    Some(typed_literal(text, data_type))
}

/// A time of day as Trino's literal writes it (`H:M[:S[.fraction]]`): its nanoseconds since
/// midnight (a fraction past the ninth digit rounded half up, a day's end wrapping) and its
/// precision (the fraction's digits). `None` for a text that is not one.
fn time_literal(text: &str) -> Option<(i64, u64)> {
    let text = text.trim();
    let (hms, fraction) = text.split_once('.').map_or((text, None), |(hms, f)| (hms, Some(f)));
    let fields: Vec<&str> = hms.split(':').collect();
    let digits_of = |f: &str| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit());
    // Seconds are optional, a fraction only after them.
    if !(fields.len() == 3 || (fields.len() == 2 && fraction.is_none())) || !fraction.is_none_or(digits_of) {
        return None;
    }
    let field = |i: usize, most: i64| {
        let f = fields.get(i).copied().unwrap_or("0");
        (f.len() <= 2 && digits_of(f)).then(|| f.parse::<i64>().ok()).flatten().filter(|v| *v <= most)
    };
    let (h, m, sec) = (field(0, 23)?, field(1, 59)?, field(2, 59)?);
    let fraction = fraction.unwrap_or("");
    let digits = fraction.len() as u32;
    let ninth: i64 = format!("{:0<9}", &fraction[..fraction.len().min(9)]).parse().ok()?;
    let carry = fraction.as_bytes().get(9).is_some_and(|d| *d >= b'5') as i64;
    let nanos = ((h * 60 + m) * 60 + sec) * 1_000_000_000 + ninth + carry;
    Some((nanos % super::shared::DAY_NANOS, u64::from(digits)))
}

/// A timestamp or a time as Trino's `timestamp(p)` or `time(p)`: rounded and typed by the
/// precision function.
fn precise(value: Expr, p: u64) -> Expr {
    call(precision::NAME, vec![value, Expr::value(Value::Number(p.to_string(), false))])
}

/// A timestamp's text split into its local part and the zone that closes it, if one does
/// (`'2012-10-31 01:00 America/Sao_Paulo'`, `'... +07:09'`, or an offset right after the date
/// or the time, as Trino reads `'2001-1-2 3:4:5.321+07:09'` and `'2001-1-2+07:09'`).
fn zoned(text: &str) -> Option<(&str, &str)> {
    let text = text.trim();
    let spaced = text
        .rsplit_once(' ')
        .filter(|(_, zone)| zone.starts_with(|c: char| c.is_ascii_alphabetic() || c == '+' || c == '-'));
    spaced.or_else(|| {
        // The first sign past the date's two dashes (and a year's own sign) opens an offset.
        let lead = usize::from(text.starts_with(['+', '-']));
        let date_end = lead + text[lead..].match_indices('-').nth(1)?.0 + 1;
        let at = date_end + text[date_end..].find(['+', '-'])?;
        Some((text[..at].trim_end(), &text[at..]))
    })
}

/// A text literal as a `timestamp(p) with time zone` in the zone it names, or the session's.
fn zoned_text(text: &Expr, p: u64) -> Option<Expr> {
    let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) = text else { return None };
    // A text without a zone is a local time in the session's.
    let (local, zone) = zoned(text).unwrap_or((text.trim(), super::zone::SESSION));
    let (padded, fraction) = timestamp(local)?;
    if p > 9 {
        return None;
    }
    let mut literal = Expr::value(Value::SingleQuotedString(padded));
    // A finer fraction than the type's rounds, as from a finer timestamp.
    if fraction > p {
        literal = timestamp_cast(CastKind::Cast, literal, fraction);
    }
    Some(in_zone(timestamp_cast(CastKind::Cast, literal, p), zone))
}

/// A local timestamp read in a zone, which it keeps.
fn in_zone(local: Expr, zone: &str) -> Expr {
    call("with_timezone", vec![local, Expr::value(Value::SingleQuotedString(zone.to_string()))])
}

/// Takes an expression out of the tree, leaving a NULL in its place.
fn take(e: &mut Expr) -> Expr {
    std::mem::replace(e, Expr::value(Value::Null))
}

/// `SUBSTRING(s FROM a FOR b)` is Trino's `substr`, not DataFusion's.
fn substring(expr: &mut Expr) -> Expr {
    let Expr::Substring { expr: text, substring_from, substring_for, .. } = expr else { unreachable!("matched") };
    let mut args = vec![take(text)];
    args.extend(substring_from.take().map(|e| *e));
    args.extend(substring_for.take().map(|e| *e));
    call("substr", args)
}

/// `OVERLAY(s PLACING r FROM a FOR b)` is Trino's `overlay`, not DataFusion's.
fn overlay(expr: &mut Expr) -> Expr {
    let Expr::Overlay { expr: text, overlay_what, overlay_from, overlay_for } = expr else { unreachable!("matched") };
    let mut args = vec![take(text), take(overlay_what), take(overlay_from)];
    args.extend(overlay_for.take().map(|e| *e));
    call("overlay", args)
}

/// An interval literal times or over a number (DataFusion's planner has no such operator).
fn interval_scale(left: &mut Expr, divide: bool, right: &mut Expr) -> Expr {
    let (l, r) = (take(left), take(right));
    let (interval, factor) = if is_interval(&l) { (l, r) } else { (r, l) };
    call("athena_interval_scale", vec![interval, factor, Expr::value(Value::Boolean(divide))])
}

/// A NULL beside a varbinary literal (`ARRAY[X'01', NULL]`, `coalesce(NULL, X'01')`) typed as
/// one: DataFusion finds no common type of the two while it plans.
fn typed_nulls(items: Vec<&mut Expr>) {
    let binary = |e: &Expr| matches!(e, Expr::Value(ValueWithSpan { value: Value::HexStringLiteral(_), .. }));
    if !items.iter().any(|e| binary(e)) {
        return;
    }
    for e in items.into_iter().filter(|e| matches!(e, Expr::Value(ValueWithSpan { value: Value::Null, .. }))) {
        *e = cast(take(e), DataType::Varbinary(None));
    }
}

/// A call's arguments when each is a plain expression (none named, no `*`).
fn plain_arguments(args: &mut [FunctionArg]) -> Option<Vec<&mut Expr>> {
    args.iter_mut()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
            _ => None,
        })
        .collect()
}

/// `x op ANY (subquery)` and `x op ALL (subquery)` (SOME is ANY), which DataFusion does not
/// run (nor `IN (subquery)` outside a filter): `= ANY` counts the equal values, `<> ALL` too,
/// an order comparison compares with the subquery's
/// least or greatest value, `= ALL` with both; an empty subquery answers false for ANY and
/// true for ALL. (A NULL among the values answers as if it were absent, where Trino may
/// answer NULL.)
fn quantified(left: &Expr, op: &BinaryOperator, right: &Expr, all: bool) -> Option<Expr> {
    let Expr::Subquery(query) = right else { return None };
    let extreme = |f: &str| format!("(SELECT {f}(athena_value) FROM ({query}) AS athena_values(athena_value))");
    let matches =
        format!("(SELECT count(*) FROM ({query}) AS athena_values(athena_value) WHERE athena_value = {left})");
    let test = match (all, op) {
        (false, BinaryOperator::Eq) => format!("{matches} > 0"),
        (true, BinaryOperator::NotEq) => format!("{matches} = 0"),
        (false, BinaryOperator::Lt | BinaryOperator::LtEq) | (true, BinaryOperator::Gt | BinaryOperator::GtEq) => {
            format!("{left} {op} {}", extreme("max"))
        }
        (false, BinaryOperator::Gt | BinaryOperator::GtEq) | (true, BinaryOperator::Lt | BinaryOperator::LtEq) => {
            format!("{left} {op} {}", extreme("min"))
        }
        (true, BinaryOperator::Eq) => format!("{left} = {} AND {left} = {}", extreme("min"), extreme("max")),
        (false, BinaryOperator::NotEq) => format!("NOT ({left} = {} AND {left} = {})", extreme("min"), extreme("max")),
        _ => return None,
    };
    // A count, not EXISTS: DataFusion plans EXISTS only as a filter.
    let text = format!("CASE WHEN (SELECT count(*) FROM ({query}) AS athena_any) > 0 THEN {test} ELSE {all} END");
    let dialect = Athena::default();
    datafusion::sql::sqlparser::parser::Parser::new(&dialect).try_with_sql(&text).ok()?.parse_expr().ok()
}

/// Trino's LIKE has no escape character unless `ESCAPE` names one (`'\_a' LIKE '\_a'` is true:
/// the backslash is a character); DataFusion's escapes with a backslash, and takes no other
/// escape. A constant pattern with a valid escape is spelled for DataFusion here; any other
/// pattern with an escape is spelled when run (`athena_like_pattern`), which refuses a bad
/// escape or pattern in Trino's words. `ESCAPE NULL` makes the predicate NULL.
fn like(pattern: &mut Expr, escape_char: &mut Option<ValueWithSpan>) -> Option<Expr> {
    let escape = match escape_char.as_ref().map(|v| &v.value) {
        None => None,
        Some(Value::Null) => return Some(cast(Expr::value(Value::Null), DataType::Boolean)),
        Some(Value::SingleQuotedString(e)) => Some(e.clone()),
        Some(_) => return None,
    };
    let single = escape.as_deref().and_then(|e| super::string::like_escape(e).ok());
    match (&mut *pattern, &escape) {
        (Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }), _)
            if escape.is_none() || single.is_some() =>
        {
            let Ok(spelled) = super::string::like_pattern(text, single) else {
                return spelled_when_run(pattern, escape_char, escape);
            };
            *text = spelled;
            *escape_char = None;
        }
        (_, Some(_)) => return spelled_when_run(pattern, escape_char, escape),
        // A pattern computed per row without an escape: each backslash stands for itself.
        (_, None) => {
            let backslash = |n: usize| Expr::value(Value::SingleQuotedString("\\".repeat(n)));
            *pattern = call("replace", vec![take(pattern), backslash(1), backslash(2)]);
        }
    }
    None
}

/// The pattern spelled for DataFusion by `athena_like_pattern` as the statement runs.
fn spelled_when_run(
    pattern: &mut Expr,
    escape_char: &mut Option<ValueWithSpan>,
    escape: Option<String>,
) -> Option<Expr> {
    let escape = Expr::value(Value::SingleQuotedString(escape.unwrap_or_default()));
    *pattern = call(super::string::LIKE_PATTERN, vec![take(pattern), escape]);
    *escape_char = None;
    None
}

/// `EXTRACT(field FROM x)` is the function of that field, with Trino's numbering.
fn extract(field: &DateTimeField, from: &mut Expr) -> Option<Expr> {
    let name = match field.to_string().to_ascii_uppercase().as_str() {
        "YEAR" => "year",
        "QUARTER" => "quarter",
        "MONTH" => "month",
        "WEEK" => "week",
        "DAY" | "DAY_OF_MONTH" => "day",
        "DOW" | "DAY_OF_WEEK" => "day_of_week",
        "DOY" | "DAY_OF_YEAR" => "day_of_year",
        "YOW" | "YEAR_OF_WEEK" => "year_of_week",
        "HOUR" => "hour",
        "MINUTE" => "minute",
        "SECOND" => "second",
        "TIMEZONE_HOUR" => "timezone_hour",
        "TIMEZONE_MINUTE" => "timezone_minute",
        _ => return None,
    };
    Some(call(name, vec![take(from)]))
}

/// Calls Trino spells otherwise: `date(x)` is a cast; `max(x, n)`, `min(x, n)`, `max_by(x,
/// y, n)`, `min_by(x, y, n)` are the n best, by name; `listagg(x, sep) WITHIN GROUP (ORDER BY
/// ...)` is `string_agg(x, sep ORDER BY ...)`; `map()` is the empty map.
fn function(f: &mut Function) -> Option<Expr> {
    let name = f.name.to_string().to_ascii_lowercase();
    let FunctionArguments::List(list) = &mut f.args else { return None };
    // lag and lead refuse an offset that is NULL or negative, as Trino's do (DataFusion's
    // reads NULL as 0 and a negative offset as the other direction).
    if matches!(name.as_str(), "lag" | "lead")
        && f.over.is_some()
        && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(offset))) = list.args.get_mut(1)
    {
        let bare = |mut e: &Expr| {
            while let Expr::Cast { expr, .. } | Expr::Nested(expr) = e {
                e = expr;
            }
            e.clone()
        };
        let refusal = match bare(offset) {
            Expr::Value(ValueWithSpan { value: Value::Null, .. }) => Some("Offset must not be null"),
            Expr::UnaryOp { op: UnaryOperator::Minus, expr } => match bare(&expr) {
                Expr::Value(ValueWithSpan { value: Value::Number(n, _), .. })
                    if !n.trim_matches(['0', '.']).is_empty() =>
                {
                    Some("Offset must be at least 0")
                }
                _ => None,
            },
            _ => None,
        };
        if let Some(refusal) = refusal {
            return Some(invalid_literal(refusal.to_string()));
        }
    }
    // A window function's offsets and its frame's bounds are numbers.
    if let Some(over) = &mut f.over {
        for arg in &mut list.args {
            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
                number(e);
            }
        }
        if let WindowType::WindowSpec(spec) = over {
            frame_numbers(spec);
        }
    }
    if matches!(name.as_str(), "coalesce" | "greatest" | "least" | "nullif" | "if")
        && let Some(args) = plain_arguments(&mut list.args)
    {
        typed_nulls(args);
    }
    match (name.as_str(), list.args.len()) {
        ("date", 1) => match &mut list.args[0] {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(cast(take(x), DataType::Date)),
            _ => None,
        },
        // The offset's hours and minutes, a precision: constants the result's type is made of.
        ("from_unixtime", 3) | ("current_timestamp" | "localtimestamp", 1) => {
            for arg in &mut list.args[usize::from(name == "from_unixtime")..] {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = arg {
                    number(e);
                }
            }
            None
        }
        // `reduce_agg(x, s0, f, combine)` is `f` folded over the group's non-NULL values from
        // `s0` (the combining function only joins partial states, which one fold has none of).
        ("reduce_agg", 4) => {
            let [x, initial, step, _] = <[&mut Expr; 4]>::try_from(plain_arguments(&mut list.args)?).ok()?;
            let (x, initial, step) = (take(x), take(initial), take(step));
            let lambda = |name: &str, body: fn(Expr) -> Expr| {
                let param = Ident::new(name);
                Expr::Lambda(LambdaFunction {
                    params: OneOrManyWithParens::One(LambdaFunctionParameter { name: param.clone(), data_type: None }),
                    body: Box::new(body(Expr::Identifier(param))),
                    syntax: LambdaSyntax::Arrow,
                })
            };
            let mut values = call("array_agg", vec![x.clone()]);
            let Expr::Function(agg) = &mut values else { return None };
            // Over a window the values are the frame's (a window takes no FILTER: its NULLs
            // are dropped from the array).
            let values = match f.over.take() {
                Some(over) => {
                    agg.over = Some(over);
                    call("filter", vec![values, lambda("athena_value", |v| Expr::IsNotNull(Box::new(v)))])
                }
                None => {
                    agg.filter = Some(Box::new(Expr::IsNotNull(Box::new(x))));
                    values
                }
            };
            Some(call("reduce", vec![values, initial, step, lambda("athena_state", |s| s)]))
        }
        // `entropy(c)`, Σ c/S·log2(S/c) over the counts c > 0 of a sum S, is
        // log2(S) - Σ c·log2(c) / S; 0 without counts (Trino's definition).
        ("entropy", 1) => {
            let FunctionArg::Unnamed(FunctionArgExpr::Expr(c)) = &mut list.args[0] else { return None };
            let c = take(c);
            let total = || call("sum", vec![c.clone()]);
            let positive = Expr::BinaryOp {
                left: Box::new(c.clone()),
                op: BinaryOperator::Gt,
                right: Box::new(number_literal("0")),
            };
            let term = Expr::BinaryOp {
                left: Box::new(c.clone()),
                op: BinaryOperator::Multiply,
                right: Box::new(call("log2", vec![c.clone()])),
            };
            let terms = call(
                "sum",
                vec![Expr::Case {
                    case_token: AttachedToken::empty(),
                    end_token: AttachedToken::empty(),
                    operand: None,
                    conditions: vec![CaseWhen { condition: positive, result: term }],
                    else_result: Some(Box::new(number_literal("0e0"))),
                }],
            );
            let entropy = Expr::BinaryOp {
                left: Box::new(call("log2", vec![total()])),
                op: BinaryOperator::Minus,
                right: Box::new(Expr::BinaryOp {
                    left: Box::new(terms),
                    op: BinaryOperator::Divide,
                    right: Box::new(total()),
                }),
            };
            let empty = Expr::BinaryOp {
                left: Box::new(call("coalesce", vec![total(), number_literal("0")])),
                op: BinaryOperator::Eq,
                right: Box::new(number_literal("0")),
            };
            Some(Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen { condition: empty, result: number_literal("0e0") }],
                else_result: Some(Box::new(entropy)),
            })
        }
        // `nullif(a, b)` is a's type, compared as the two's common type (DataFusion's is the
        // common type): `CASE WHEN a = b THEN NULL ELSE a END`.
        ("nullif", 2) => {
            let [a, b] = <[&mut Expr; 2]>::try_from(plain_arguments(&mut list.args)?).ok()?;
            let (a, b) = (take(a), take(b));
            let equal = Expr::BinaryOp { left: Box::new(a.clone()), op: BinaryOperator::Eq, right: Box::new(b) };
            Some(Expr::Case {
                case_token: AttachedToken::empty(),
                end_token: AttachedToken::empty(),
                operand: None,
                conditions: vec![CaseWhen { condition: equal, result: Expr::value(Value::Null) }],
                else_result: Some(Box::new(a)),
            })
        }
        // With a function of the groups in place of a replacement text: the lambda form.
        ("regexp_replace", 3)
            if matches!(list.args[2], FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(_)))) =>
        {
            f.name = ObjectName::from(vec![Ident::new(super::lambda::REGEXP_REPLACE)]);
            None
        }
        ("max" | "min", 2) | ("max_by" | "min_by", 3) => {
            f.name = ObjectName::from(vec![Ident::new(format!("{name}_n"))]);
            None
        }
        ("listagg", _) if !f.within_group.is_empty() => {
            // ON OVERFLOW says what to do past Trino's limit of 1 MB, which a local result of
            // memory's size does not have: ERROR and TRUNCATE answer as without the clause.
            list.clauses.retain(|c| !matches!(c, FunctionArgumentClause::OnOverflow(_)));
            let mut order = std::mem::take(&mut f.within_group);
            // The value must be text, as Trino's listagg takes no other type (an ORDER BY of the
            // value itself names it as the argument does, as DISTINCT requires).
            if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(value))) = list.args.first_mut() {
                let sql = Expr::value(Value::SingleQuotedString(value.to_string()));
                let checked = call(super::string::LISTAGG_VALUE, vec![value.clone(), sql]);
                for item in order.iter_mut().filter(|item| item.expr == *value) {
                    item.expr = checked.clone();
                }
                *value = checked;
            }
            list.clauses.push(FunctionArgumentClause::OrderBy(order));
            // Without a separator the values are joined with none.
            if list.args.len() == 1 {
                let nothing = Expr::value(Value::SingleQuotedString(String::new()));
                list.args.push(FunctionArg::Unnamed(FunctionArgExpr::Expr(nothing)));
            }
            f.name = ObjectName::from(vec![Ident::new("string_agg")]);
            None
        }
        // normalize(s, NFD): the form is a keyword in Trino, text here.
        ("normalize", 2) => {
            if let FunctionArg::Unnamed(FunctionArgExpr::Expr(form)) = &mut list.args[1]
                && let Expr::Identifier(ident) = form
            {
                let text = ident.value.clone();
                *form = Expr::value(Value::SingleQuotedString(text));
            }
            None
        }
        ("map", 0) => {
            let empty = || Expr::Array(datafusion::sql::sqlparser::ast::Array { elem: vec![], named: true });
            Some(call("map", vec![empty(), empty()]))
        }
        _ => None,
    }
}

/// Whether an expression is an interval literal (negated or in parentheses).
fn is_interval(e: &Expr) -> bool {
    match e {
        Expr::Interval(_) => true,
        Expr::Nested(e) | Expr::UnaryOp { expr: e, .. } => is_interval(e),
        Expr::Function(f) => f.name.to_string() == "athena_interval_scale",
        _ => false,
    }
}

/// A call of the function `name`.
fn number_literal(n: &str) -> Expr {
    Expr::value(Value::Number(n.to_string(), false))
}

pub(super) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args.into_iter().map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e))).collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// The `DECIMAL(p, s)` Trino gives a number written with a point (none with an exponent).
fn decimal_type(number: &str) -> Option<DataType> {
    let (int, frac) = number.split_once('.')?;
    if !(int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let (precision, scale) = ((int.len() + frac.len()).max(1) as u64, frac.len() as i64);
    (precision <= 38).then_some(DataType::Decimal(ExactNumberInfo::PrecisionAndScale(precision, scale)))
}

/// An integer literal past a bigint: Trino's is a decimal of its digits (DataFusion's, a
/// double or an unsigned bigint).
fn whole_decimal_type(number: &str) -> Option<DataType> {
    let digits = number.trim_start_matches('0');
    let whole = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    (whole && number.parse::<i64>().is_err() && digits.len() <= 38)
        .then_some(DataType::Decimal(ExactNumberInfo::PrecisionAndScale(digits.len() as u64, 0)))
}

/// `CAST(expr AS TIMESTAMP(p))`: a p that Arrow's units lack (1, 2, 4, 5, 7, 8) is a cast to
/// the unit that holds it, rounded and typed by the precision function.
fn timestamp_cast(kind: CastKind, expr: Expr, p: u64) -> Expr {
    let held = precision::natural(&precision::unit(p as u32)) as u64;
    let data_type = DataType::Timestamp(Some(held), TimezoneInfo::None);
    let cast = cast_kind(kind, expr, data_type);
    if held == p { cast } else { precise(cast, p) }
}

/// A timestamp literal padded as Arrow reads it (`2001-1-2 3:04:05` is Trino's too), with the
/// precision of its fraction.
fn timestamp(text: &str) -> Option<(String, u64)> {
    let text = text.trim();
    let (date, time) = text.split_once([' ', 'T']).unwrap_or((text, "00:00:00"));
    let mut d = date.splitn(3, '-');
    let (y, m, dd) = (d.next()?, d.next()?, d.next()?);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.splitn(3, ':');
    let (h, mi, sec) = (t.next()?, t.next()?, t.next().unwrap_or("0"));
    let all = [y, m, dd, h, mi, sec, fraction];
    if all.iter().any(|p| !p.chars().all(|c| c.is_ascii_digit())) || fraction.len() > 9 {
        return None;
    }
    let mut padded = format!("{y:0>4}-{m:0>2}-{dd:0>2} {h:0>2}:{mi:0>2}:{sec:0>2}");
    if !fraction.is_empty() {
        padded.push('.');
        padded.push_str(fraction);
    }
    Some((padded, fraction.len() as u64))
}

/// An interval literal whose text its fields cannot read (`INTERVAL '12X' DAY`, `INTERVAL '12 -10'
/// DAY TO HOUR`): a failure in Trino's words, `Invalid INTERVAL DAY value: 12X`.
fn invalid_interval(interval: &Interval) -> Option<Expr> {
    let lead = interval.leading_field.as_ref()?;
    let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) = interval.value.as_ref() else {
        return None;
    };
    let fields = match &interval.last_field {
        // (A compound literal that reads was spelled out already.)
        Some(last) => format!("{lead} TO {last}"),
        None => {
            let number = text.trim().strip_prefix(['-', '+']).unwrap_or(text.trim());
            let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if digits(whole) && digits(fraction) {
                return None;
            }
            lead.to_string()
        }
    };
    Some(invalid_literal(format!("Invalid INTERVAL {fields} value: {text}")))
}

/// `INTERVAL '42-07' YEAR TO MONTH`, `'2 10:30:00.5' DAY TO SECOND` and their shorter ranges,
/// spelled as DataFusion reads them (`'42 years 7 months'`).
fn compound_interval(interval: &Interval) -> Option<Interval> {
    const YEAR_MONTH: [(&str, &DateTimeField); 2] =
        [("years", &DateTimeField::Year), ("months", &DateTimeField::Month)];
    const DAY_SECOND: [(&str, &DateTimeField); 4] = [
        ("days", &DateTimeField::Day),
        ("hours", &DateTimeField::Hour),
        ("minutes", &DateTimeField::Minute),
        ("seconds", &DateTimeField::Second),
    ];
    let (lead, last) = (interval.leading_field.as_ref()?, interval.last_field.as_ref()?);
    let Expr::Value(ValueWithSpan { value: Value::SingleQuotedString(text), .. }) = interval.value.as_ref() else {
        return None;
    };
    let units = [&YEAR_MONTH[..], &DAY_SECOND[..]].into_iter().find_map(|units| {
        let from = units.iter().position(|(_, f)| *f == lead)?;
        let to = units.iter().position(|(_, f)| *f == last)?;
        (from < to).then(|| &units[from..=to])
    })?;
    let text = text.trim();
    let (sign, text) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(text)),
    };
    // The leading fields may come alone (`'12 10' DAY TO SECOND`), each after its separator.
    let mut parts = Vec::new();
    let mut rest = text;
    for (i, (unit, _)) in units.iter().enumerate() {
        if i > 0 {
            let separator = match *unit {
                "months" => '-',
                "hours" => ' ',
                _ => ':',
            };
            match rest.strip_prefix(separator) {
                Some(r) => rest = r,
                None => break,
            }
        }
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        parts.push(&rest[..end]);
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        return None;
    }
    let spelled: Vec<String> = parts.iter().zip(units).map(|(p, (unit, _))| format!("{sign}{p} {unit}")).collect();
    Some(Interval {
        value: Box::new(Expr::value(Value::SingleQuotedString(spelled.join(" ")))),
        leading_field: None,
        leading_precision: None,
        last_field: None,
        fractional_seconds_precision: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_values_rows_get_parentheses_and_the_rest_is_left_alone() {
        assert_eq!(bare_values("VALUES 1, 'a'"), "VALUES (1), ('a')");
        assert_eq!(
            bare_values("SELECT * FROM (VALUES 1,\n 2) t(x) UNION VALUES 3"),
            "SELECT * FROM (VALUES (1),\n (2)) t(x) UNION VALUES (3)"
        );
        assert_eq!(bare_values("VALUES (1, 2), ROW(3, 4)"), "VALUES (1, 2), ROW(3, 4)");
        assert_eq!(bare_values("VALUES (1) + 2, f(1, 2) ORDER BY 1"), "VALUES ((1) + 2), (f(1, 2)) ORDER BY 1");
        assert_eq!(bare_values("SELECT 'VALUES 1'"), "SELECT 'VALUES 1'");
    }

    #[test]
    fn lambdas_parse_and_the_rest_reads_as_the_generic_dialect() {
        let statement =
            parse("SELECT transform(ARRAY[1, 2], x -> x + 1), reduce(a, 0, (s, x) -> s + x, s -> s) FROM t", 50)
                .unwrap()
                .to_string();
        assert!(statement.contains("x -> x + CAST(1 AS INTEGER)"), "{statement}");
        assert!(statement.contains("(s, x) -> s + x"), "{statement}");
        assert!(parse("SELECT 1; SELECT 2", 50).is_err());
        // A generic-only form still parses.
        parse("SELECT * EXCLUDE (a) FROM t", 50).unwrap();
    }

    #[test]
    fn literals_are_typed_as_trino_types_them() {
        let sql = |s: &str| parse(s, 50).unwrap().to_string();
        assert_eq!(
            sql("SELECT 1.5, 0.0123, DECIMAL ' 0.1234567890123456', 1e3, 7, a"),
            "SELECT CAST('1.5' AS DECIMAL(2,1)) AS _col0, CAST('0.0123' AS DECIMAL(4,4)) AS _col1, \
             CAST('0.1234567890123456' AS DECIMAL(16,16)) AS _col2, 1e3 AS _col3, CAST(7 AS INTEGER) AS _col4, a"
        );
        // A literal too wide for an integer is a bigint; a number that is a position stays a number.
        assert_eq!(
            sql("SELECT 2147483648, x FROM t GROUP BY 2 ORDER BY 2 LIMIT 3"),
            "SELECT 2147483648 AS _col0, x FROM t GROUP BY 2 ORDER BY 2 LIMIT 3"
        );
        assert_eq!(
            sql("SELECT TIMESTAMP '2001-1-22 3:04:05.321' AS t, TIMESTAMP '2001-08-22'"),
            "SELECT CAST('2001-01-22 03:04:05.321' AS TIMESTAMP(3)) AS t, CAST('2001-08-22 00:00:00' AS TIMESTAMP(0)) AS _col1"
        );
        assert_eq!(
            sql("SELECT DISTINCT x + 1 FROM t ORDER BY x + 1 DESC"),
            "SELECT DISTINCT x + CAST(1 AS INTEGER) AS _col0 FROM t ORDER BY _col0 DESC"
        );
        assert_eq!(
            sql("SELECT INTERVAL '42-07' YEAR TO MONTH AS a, INTERVAL '-2 10:30:00.5' DAY TO SECOND AS b"),
            "SELECT INTERVAL '42 years 07 months' AS a, INTERVAL '-2 days -10 hours -30 minutes -00.5 seconds' AS b"
        );
    }

    #[test]
    fn time_literals_read_as_trino_reads_them() {
        const S: i64 = 1_000_000_000;
        assert_eq!(time_literal("12:34:56"), Some(((12 * 3600 + 34 * 60 + 56) * S, 0)));
        assert_eq!(time_literal(" 1:2 "), Some((3720 * S, 0)));
        assert_eq!(time_literal("12:34:56.1"), Some(((12 * 3600 + 34 * 60 + 56) * S + S / 10, 1)));
        // Past nine digits: rounded half up into the nanosecond, a day's end wrapping.
        assert_eq!(time_literal("00:00:00.5555555555"), Some((555_555_556, 10)));
        assert_eq!(time_literal("23:59:59.999999999999"), Some((0, 12)));
        for bad in ["25:00:00", "12:65:00", "12:00:65", "xxx", "12:34.5", "12:34:56.", "12:34:56:01", "123:00"] {
            assert_eq!(time_literal(bad), None, "{bad}");
        }
    }
}
