//! Arrow's failures in Trino's words. The casts that Trino's rules do not change (text to a
//! number or a boolean, a number to a narrower integer), integer division and negation are
//! Arrow's, whose failures name Arrow's types (`Cannot cast string 'abc' to value of Int64
//! type`, `Divide by zero error`); a user who moved a query from Athena looks for Trino's
//! message (`Cannot cast 'abc' to BIGINT`, `Division by zero`), and so do the tools that read
//! it. The engine's error is rewritten once, where it leaves the SQL layer; any other error is
//! kept whole. DataFusion's own `map` constructor is worded so too (`Duplicate map keys (2)
//! are not allowed`), and a function's refusal of its arguments is its own words, not the
//! planner's list of candidate signatures.

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;

use super::text::{Double, float};

/// `error` in Trino's words when its cause is a failure Trino names otherwise; else as it is.
pub fn trino(error: DataFusionError) -> DataFusionError {
    match reason(&error) {
        Some(m) => DataFusionError::Execution(m),
        None => error,
    }
}

/// Trino's words for the cause of `error`, when it is a failure Trino names otherwise.
pub(super) fn reason(error: &DataFusionError) -> Option<String> {
    match error.find_root() {
        DataFusionError::ArrowError(e, _) => match e.as_ref() {
            ArrowError::CastError(m) => message(m),
            ArrowError::DivideByZero => Some("Division by zero".into()),
            ArrowError::ArithmeticOverflow(m) => negation(m),
            _ => None,
        },
        DataFusionError::Execution(m) => engine(m),
        DataFusionError::Plan(m) if m == "Aggregate ORDER BY is not implemented for window functions" => {
            Some("Window function with ORDER BY is not supported".into())
        }
        DataFusionError::Plan(m) => refused_arguments(m).or_else(|| ungrouped(m)),
        _ => None,
    }
}

/// A column a grouped query names outside its aggregates and its groups, as Trino words it
/// (`'v' must be an aggregate expression or appear in GROUP BY clause`).
fn ungrouped(m: &str) -> Option<String> {
    let rest = m.strip_prefix("Column in SELECT must be in GROUP BY or an aggregate function: ")?;
    let (_, rest) = rest.split_once("column \"")?;
    let (column, _) = rest.split_once('"')?;
    let name = column.rsplit('.').next()?;
    Some(format!("'{name}' must be an aggregate expression or appear in GROUP BY clause"))
}

/// A function's own refusal of its arguments (`There must be two or more concatenation
/// arguments`), without the planner's wrapping around it (`Function 'concat' user-defined
/// coercion failed with: …. No function matches the given name and argument types …`).
fn refused_arguments(m: &str) -> Option<String> {
    let (_, refusal) = m.split_once("user-defined coercion failed with: ")?;
    let (refusal, _) = refusal.split_once(". No function matches the given name and argument types")?;
    let refusal = ["Error during planning: ", "Execution error: "]
        .iter()
        .find_map(|kind| refusal.strip_prefix(kind))
        .unwrap_or(refusal);
    Some(refusal.to_string())
}

/// Trino's message for Arrow's cast error text `m` (without Arrow's `Cast error: `), when it
/// is one of the failures Trino names.
fn message(m: &str) -> Option<String> {
    // Text that is no number or boolean (VarcharOperators' casts).
    if let Some((value, to)) = between(m, "Cannot cast string '", "' to value of ", " type")
        .or_else(|| between(m, "Cannot cast value '", "' to value of ", " type"))
    {
        let to = match to {
            "Int64" => "BIGINT",
            "Int32" => "INT",
            "Int16" => "SMALLINT",
            "Int8" => "TINYINT",
            "Float64" => "DOUBLE",
            "Float32" => "REAL",
            "Boolean" => "BOOLEAN",
            _ => return None,
        };
        return Some(format!("Cannot cast '{value}' to {to}"));
    }
    // A number past a narrower integer: an integer's digits, a double as Java spells it.
    if let Some((value, to)) = between(m, "Can't cast value ", " to type ", "") {
        let to = integer(to)?;
        let whole = value.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
        if whole {
            return Some(format!("Out of range for {to}: {value}"));
        }
        let v: f64 = value.parse().ok()?;
        if v.is_nan() {
            return Some(format!("Cannot cast double NaN to {to}"));
        }
        return Some(format!("Out of range for {to}: {}", float(v, Double::Shown)));
    }
    // A decimal past an integer, once rounded (DecimalCasts).
    if let Some((value, to)) = between(m, "value of ", " is out of range ", "") {
        return Some(format!("Cannot cast '{value}' to {}", integer(to)?.to_uppercase()));
    }
    None
}

/// Trino's message for Arrow's overflow of a unary minus (`Overflow happened on: - -128`):
/// only the least value of a type overflows, so the value names the type.
fn negation(m: &str) -> Option<String> {
    let value = m.strip_prefix("Overflow happened on: - ")?;
    let ty = match value {
        "-128" => "tinyint",
        "-32768" => "smallint",
        "-2147483648" => "integer",
        "-9223372036854775808" => "bigint",
        _ => return None,
    };
    Some(format!("{ty} negation overflow: {value}"))
}

/// Trino's message for DataFusion's execution error `m` (its `map` constructor's).
fn engine(m: &str) -> Option<String> {
    if let Some(key) = m.strip_prefix("map key must be unique, duplicate key found: ") {
        return Some(format!("Duplicate map keys ({key}) are not allowed"));
    }
    match m {
        "map requires key and value lists to have the same length" => {
            Some("Key and value arrays must be the same length".into())
        }
        "In an aggregate with DISTINCT, ORDER BY expressions must appear in argument list" => {
            Some("For aggregate function with DISTINCT, ORDER BY expressions must appear in arguments".into())
        }
        _ => None,
    }
}

/// Trino's name of an integer type that Arrow's message names (`Int32` is `integer`).
fn integer(arrow: &str) -> Option<String> {
    let t: arrow::datatypes::DataType = arrow.parse().ok()?;
    t.is_signed_integer().then(|| super::scalar::trino_type(&t))
}

/// The two parts of `m` when it is `open` + value + `middle` + type + `close`.
fn between<'a>(m: &'a str, open: &str, middle: &str, close: &str) -> Option<(&'a str, &'a str)> {
    let rest = m.strip_prefix(open)?.strip_suffix(close)?;
    rest.rsplit_once(middle)
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn a_functions_refusal_of_its_arguments_is_its_own_words() {
        let planner = "Execution error: Function 'concat' user-defined coercion failed with: Error during planning: \
                       There must be two or more concatenation arguments. No function matches the given name and \
                       argument types 'concat(Binary)'. You might need to add explicit type casts.";
        assert_eq!(
            super::refused_arguments(planner).as_deref(),
            Some("There must be two or more concatenation arguments")
        );
        assert_eq!(super::refused_arguments("Failed to coerce arguments to satisfy a call to 'f' function"), None);
        let planner = "Column in SELECT must be in GROUP BY or an aggregate function: While expanding wildcard, \
                       column \"t.v\" must appear in the GROUP BY clause or must be part of an aggregate function, \
                       currently only \"t.k\" appears in the SELECT clause satisfies this requirement";
        assert_eq!(
            super::ungrouped(planner).as_deref(),
            Some("'v' must be an aggregate expression or appear in GROUP BY clause")
        );
    }

    #[test]
    fn arrows_cast_failures_read_as_trinos() {
        let cases = [
            ("Cannot cast string 'abc' to value of Int64 type", "Cannot cast 'abc' to BIGINT"),
            ("Cannot cast string 'a' to value of Int32 type", "Cannot cast 'a' to INT"),
            ("Cannot cast string 'x' to value of Float64 type", "Cannot cast 'x' to DOUBLE"),
            ("Cannot cast value 'abc' to value of Boolean type", "Cannot cast 'abc' to BOOLEAN"),
            ("Can't cast value 3000000000 to type Int32", "Out of range for integer: 3000000000"),
            ("Can't cast value -300 to type Int8", "Out of range for tinyint: -300"),
            ("Can't cast value 1000000000000.0 to type Int32", "Out of range for integer: 1.0E12"),
            ("Can't cast value 1e20 to type Int64", "Out of range for bigint: 1.0E20"),
            ("Can't cast value NaN to type Int32", "Cannot cast double NaN to integer"),
            ("value of 12345678902 is out of range Int32", "Cannot cast '12345678902' to INTEGER"),
        ];
        for (arrow, trino) in cases {
            assert_eq!(message(arrow).as_deref(), Some(trino), "{arrow}");
        }
        assert_eq!(message("Cannot cast string 'a' to value of Decimal128(38, 10) type"), None);
        assert_eq!(message("Unsupported cast"), None);
        assert_eq!(
            super::negation("Overflow happened on: - -32768").as_deref(),
            Some("smallint negation overflow: -32768")
        );
        assert_eq!(super::negation("Overflow happened on: 5 - -32768"), None);
        assert_eq!(
            super::engine("map key must be unique, duplicate key found: [1, 2]").as_deref(),
            Some("Duplicate map keys ([1, 2]) are not allowed")
        );
        assert_eq!(
            super::engine("In an aggregate with DISTINCT, ORDER BY expressions must appear in argument list")
                .as_deref(),
            Some("For aggregate function with DISTINCT, ORDER BY expressions must appear in arguments")
        );
    }
}
