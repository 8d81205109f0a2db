//! The casts Trino has no conversion for, refused as Trino refuses them.
//!
//! Arrow casts a number to a date or a timestamp by counting days or seconds from 1970, and a
//! date back to its day number: `CAST(1 AS TIMESTAMP)` was 1970-01-01 00:00:00.001 here where
//! Athena says "Cannot cast integer to timestamp(3)". A query moved from Athena must fail the
//! same way rather than answer something Athena never would. Casts DataFusion adds itself while
//! coercing types are of other kinds, so every cast this rule sees is one a statement asked for.

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

/// Refuses a cast between a number or a boolean and a date, time or timestamp, at any depth of
/// arrays, maps and rows.
#[derive(Debug)]
pub struct RefusedCasts;

impl AnalyzerRule for RefusedCasts {
    fn name(&self) -> &str {
        "athena_refused_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::shared::rewrite_expressions(plan, |e, schema| {
            if let Some((inner, field, _)) = super::shared::cast_of(&e) {
                let from = inner.get_type(schema)?;
                if refused(&from, field.data_type()) {
                    let name = super::scalar::trino_type;
                    return plan_err!("Cannot cast {} to {}", name(&from), name(field.data_type()));
                }
            }
            Ok(Transformed::no(e))
        })
    }
}

/// Whether Trino has no cast from `from` to `to`.
fn refused(from: &DataType, to: &DataType) -> bool {
    let temporal = |t: &DataType| {
        matches!(
            t,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_)
        )
    };
    let scalar = |t: &DataType| t.is_numeric() || t == &DataType::Boolean;
    match (from, to) {
        (DataType::List(a), DataType::List(b)) | (DataType::LargeList(a), DataType::LargeList(b)) => {
            refused(a.data_type(), b.data_type())
        }
        (DataType::Map(a, _), DataType::Map(b, _)) => refused(a.data_type(), b.data_type()),
        (DataType::Struct(a), DataType::Struct(b)) if a.len() == b.len() => {
            a.iter().zip(b.iter()).any(|(a, b)| refused(a.data_type(), b.data_type()))
        }
        _ => (scalar(from) && temporal(to)) || (temporal(from) && scalar(to)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{Field, TimeUnit};

    use super::*;

    #[test]
    fn numbers_and_instants_do_not_cast() {
        let ts = DataType::Timestamp(TimeUnit::Millisecond, None);
        let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        assert!(refused(&DataType::Int32, &ts));
        assert!(refused(&DataType::Date32, &DataType::Int64));
        assert!(refused(&DataType::Boolean, &DataType::Date32));
        assert!(refused(&list(DataType::Int32), &list(ts.clone())));
        assert!(!refused(&DataType::Utf8, &ts));
        assert!(!refused(&DataType::Date32, &ts));
        assert!(!refused(&ts, &DataType::Utf8));
        assert!(!refused(&DataType::Int32, &DataType::Float64));
    }
}
