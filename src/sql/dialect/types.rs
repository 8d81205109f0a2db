//! Trino's type names as Arrow fields, where DataFusion's planner has none or another
//! meaning: the SQL planner asks [`TrinoTypes`] first, anywhere a type is written (`CAST`,
//! `TRY_CAST`, inside `ARRAY(...)` and `ROW(...)`).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::planner::TypePlanner;
use datafusion::sql::sqlparser::ast::{DataType as SqlType, TimezoneInfo};

/// Trino's type names DataFusion does not plan, or plans otherwise: `JSON` (text marked as
/// JSON), `MAP(K, V)` as Arrow's map, `TIMESTAMP(p) WITH TIME ZONE` in the session's zone, and
/// `VARBINARY`.
#[derive(Debug)]
pub struct TrinoTypes;

impl TypePlanner for TrinoTypes {
    fn plan_type_field(&self, t: &SqlType) -> Result<Option<FieldRef>> {
        use datafusion::sql::sqlparser::ast::ExactNumberInfo;
        // A decimal type that cannot exist is refused in Trino's words (DataFusion's name
        // Arrow's limits: `should satisfy 0 < precision <= 76`).
        if let SqlType::Decimal(n) | SqlType::Numeric(n) | SqlType::Dec(n) = t {
            let (p, s) = match n {
                ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
                ExactNumberInfo::Precision(p) => (*p, 0),
                ExactNumberInfo::None => (38, 0),
            };
            if !(1..=38).contains(&p) {
                return plan_err!("DECIMAL precision must be in range [1, 38]: {p}");
            }
            if s < 0 || s > p as i64 {
                return plan_err!("DECIMAL scale must be in range [0, precision ({p})]: {s}");
            }
        }
        // Other types as DataFusion plans them: a JSON inside an array or a row comes back here.
        Ok(match t {
            SqlType::JSON
            | SqlType::Map(..)
            | SqlType::Timestamp(_, TimezoneInfo::WithTimeZone)
            | SqlType::Varbinary(_)
            | SqlType::Binary(_)
            | SqlType::Uuid => plan(t).map(Arc::new),
            _ => None,
        })
    }
}

/// The field of one of these types, or of a type a map may hold (DataFusion plans no map
/// types of its own).
fn plan(t: &SqlType) -> Option<Field> {
    use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, ExactNumberInfo};
    let plain = |t: DataType| Some(Field::new("", t, true));
    match t {
        SqlType::JSON => Some(super::json_cast::field("")),
        // A UUID is its text (as `uuid()` answers it).
        SqlType::Uuid => plain(DataType::Utf8),
        // The session's zone, UTC, as Trino's is; precision 3 unless another is given.
        SqlType::Timestamp(p, TimezoneInfo::WithTimeZone) => {
            let unit = super::precision::unit(p.unwrap_or(3).min(9) as u32);
            plain(DataType::Timestamp(unit, Some(super::zone::SESSION.into())))
        }
        SqlType::Map(key, value) => {
            let (key, value) = (plan(key)?, plan(value)?);
            plain(map_type(key.data_type().clone(), value))
        }
        SqlType::Array(ArrayElemTypeDef::AngleBracket(inner) | ArrayElemTypeDef::Parenthesis(inner)) => {
            plain(DataType::List(Arc::new(plan(inner)?.with_name("item"))))
        }
        // A row (a map's value): an unnamed field is c0, c1, ... as DataFusion names them.
        SqlType::Struct(fields, _) => {
            let fields: Option<Vec<Field>> = fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let name = f.field_name.as_ref().map_or_else(|| format!("c{i}"), |n| n.value.clone());
                    Some(plan(&f.field_type)?.with_name(name))
                })
                .collect();
            plain(DataType::Struct(fields?.into()))
        }
        SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Text | SqlType::String(_) => plain(DataType::Utf8),
        SqlType::Boolean | SqlType::Bool => plain(DataType::Boolean),
        SqlType::TinyInt(_) => plain(DataType::Int8),
        SqlType::SmallInt(_) => plain(DataType::Int16),
        SqlType::Int(_) | SqlType::Integer(_) => plain(DataType::Int32),
        SqlType::BigInt(_) => plain(DataType::Int64),
        SqlType::Real | SqlType::Float(_) => plain(DataType::Float32),
        SqlType::Double(_) | SqlType::DoublePrecision => plain(DataType::Float64),
        SqlType::Date => plain(DataType::Date32),
        // `VARBINARY` (and Hive's `BINARY`): a text cast to it is its UTF-8 bytes.
        SqlType::Bytea | SqlType::Varbinary(_) | SqlType::Binary(_) => plain(DataType::Binary),
        SqlType::Decimal(ExactNumberInfo::PrecisionAndScale(p, s)) => plain(DataType::Decimal128(*p as u8, *s as i8)),
        SqlType::Decimal(ExactNumberInfo::Precision(p)) => plain(DataType::Decimal128(*p as u8, 0)),
        _ => None,
    }
}

/// The Arrow map of `key` to `value` (a key is never NULL).
fn map_type(key: DataType, value: Field) -> DataType {
    let entries = Fields::from(vec![Field::new("key", key, false), value.with_name("value")]);
    DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
}
