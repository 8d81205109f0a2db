//! Arrow types to Hive types and back. Athena and Glue speak Hive's type names; DataFusion
//! and the Parquet files speak Arrow's. Only the types a B3 table needs are mapped, and
//! anything else is refused by name rather than approximated.

use arrow::datatypes::{DataType, TimeUnit};
use datafusion::sql::sqlparser::ast::{DataType as SqlType, ExactNumberInfo};
use datafusion::sql::sqlparser::dialect::HiveDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// The Hive name of an Arrow type (`decimal(13,2)`, `bigint`, `string`, ...).
pub fn hive_type(data_type: &DataType) -> Result<String, String> {
    Ok(match data_type {
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        other => return Err(format!("no Hive type for {other}")),
    })
}

/// The Arrow type of a parsed SQL type.
pub fn arrow_type(sql: &SqlType) -> Result<DataType, String> {
    Ok(match sql {
        SqlType::Boolean | SqlType::Bool => DataType::Boolean,
        SqlType::TinyInt(_) => DataType::Int8,
        SqlType::SmallInt(_) => DataType::Int16,
        SqlType::Int(_) | SqlType::Integer(_) => DataType::Int32,
        SqlType::BigInt(_) => DataType::Int64,
        SqlType::Float(_) | SqlType::Real => DataType::Float32,
        SqlType::Double(_) | SqlType::DoublePrecision => DataType::Float64,
        SqlType::String(_) | SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Text => DataType::Utf8,
        SqlType::Binary(_) => DataType::Binary,
        SqlType::Date => DataType::Date32,
        SqlType::Timestamp(..) => DataType::Timestamp(TimeUnit::Microsecond, None),
        SqlType::Decimal(info) | SqlType::Numeric(info) => match info {
            ExactNumberInfo::PrecisionAndScale(p, s) => DataType::Decimal128(*p as u8, *s as i8),
            ExactNumberInfo::Precision(p) => DataType::Decimal128(*p as u8, 0),
            ExactNumberInfo::None => DataType::Decimal128(10, 0),
        },
        other => return Err(format!("unsupported column type {other}")),
    })
}

/// Parses a Hive type name as Glue stores it (`decimal(13,2)`).
pub fn parse_hive_type(text: &str) -> Result<DataType, String> {
    let dialect = HiveDialect {};
    let sql = Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_data_type())
        .map_err(|e| format!("type {text:?}: {e}"))?;
    arrow_type(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_names_round_trip() {
        for t in [
            DataType::Boolean,
            DataType::Int32,
            DataType::Int64,
            DataType::Float64,
            DataType::Utf8,
            DataType::Date32,
            DataType::Decimal128(13, 2),
            DataType::Decimal128(28, 8),
        ] {
            let name = hive_type(&t).unwrap();
            assert_eq!(parse_hive_type(&name).unwrap(), t, "{name}");
        }
        assert_eq!(hive_type(&DataType::Decimal128(18, 2)).unwrap(), "decimal(18,2)");
        assert!(hive_type(&DataType::Float16).is_err());
        assert!(parse_hive_type("map<string,int>").is_err());
    }
}
