//! Trino's cast of a row to a row type: field by field in order, whatever the names
//! (`CAST(ROW(1, 'a') AS ROW(id BIGINT, name VARCHAR))`), where Arrow casts structs only by
//! name. The cast becomes the target's fields built from the source's, each cast in turn
//! (rows inside rows too), and a NULL row stays NULL; under `TRY_CAST`, so does a row with a
//! field that does not convert. Rows inside arrays (`CAST(ARRAY[ROW(1, 'a')] AS ARRAY(ROW(x
//! INTEGER, y VARCHAR)))`) are cast by position by [`CastLike`], a kernel over their arrays.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StructArray};
use arrow::datatypes::{DataType, Fields};
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::functions::core::expr_fn::{get_field, named_struct};
use datafusion::logical_expr::{Cast, Expr, ExprSchemable, LogicalPlan, TryCast, lit, when};
use datafusion::optimizer::AnalyzerRule;

use super::function::{Args, Function, udf};
use super::shared::null_of;

/// Rewrites casts between row types of other field names (see the module's documentation).
#[derive(Debug)]
pub struct RowCasts;

impl AnalyzerRule for RowCasts {
    fn name(&self) -> &str {
        "athena_row_casts"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        super::shared::rewrite_expressions(plan, |e, schema| {
            let Some((inner, target, try_)) = super::shared::cast_of(&e) else { return Ok(Transformed::no(e)) };
            let source = inner.get_type(schema)?;
            let nested = matches!(
                (&source, target.data_type()),
                (DataType::List(_), DataType::List(_)) | (DataType::Map(..), DataType::Map(..))
            );
            // (Arrays and maps of JSON are read through their JSON text, by `json_cast`.)
            let reshaped = renamed_inside(&source, target.data_type()) || rounds_inside(&source, target.data_type());
            if nested && reshaped && !super::json_cast::json_inside(&source) {
                let like = null_of(target.data_type())?;
                return Ok(Transformed::yes(udf(BY_POSITION).call(vec![inner.clone(), like])));
            }
            // `TRY_CAST` of an array fails as a whole (Trino: NULL), not element by element.
            if try_
                && let (DataType::List(from), DataType::List(to)) = (&source, target.data_type())
                && from.data_type() != to.data_type()
                && !from.data_type().is_nested()
                && !to.data_type().is_nested()
                && !super::json_cast::json_inside(&source)
            {
                let like = null_of(target.data_type())?;
                return Ok(Transformed::yes(udf(CastLike { try_array: true }).call(vec![inner.clone(), like])));
            }
            match by_position(inner.clone(), &source, target.data_type(), try_)? {
                Some(rows) => Ok(Transformed::yes(rows)),
                None if !try_ && rekeyed(&source, target.data_type()) && !super::json_cast::json_inside(&source) => {
                    Ok(Transformed::yes(udf(UniqueKeys).call(vec![e])))
                }
                None => Ok(Transformed::no(e)),
            }
        })
    }
}

/// `expr` (of `source`) as `target`, field by field, when both are rows of as many fields
/// under other names; `None` when Arrow's cast does it.
fn by_position(expr: Expr, source: &DataType, target: &DataType, try_: bool) -> Result<Option<Expr>> {
    let (DataType::Struct(from), DataType::Struct(to)) = (source, target) else { return Ok(None) };
    // A JSON field cast to another type is cast on its own (a cast of JSON).
    let json_field =
        from.iter().zip(to.iter()).any(|(f, t)| super::json_cast::is_json(f) != super::json_cast::is_json(t));
    if from.len() != to.len() || !(renamed(from, to) || json_field) {
        return Ok(None);
    }
    let mut args = Vec::with_capacity(2 * to.len());
    // Under TRY_CAST a row any of whose fields fails to convert is NULL as a whole.
    let mut failed = expr.clone().is_null();
    for (f, t) in from.iter().zip(to.iter()) {
        let field = get_field(expr.clone(), f.name().as_str());
        let value = match by_position(field.clone(), f.data_type(), t.data_type(), try_)? {
            Some(rows) => rows,
            None if f.data_type() == t.data_type() => field.clone(),
            // An array of rows renamed (`ROW(a ARRAY(ROW(x INTEGER)))`): by the kernel.
            None if renamed_inside(f.data_type(), t.data_type()) => {
                udf(BY_POSITION).call(vec![field.clone(), null_of(t.data_type())?])
            }
            None if try_ => Expr::TryCast(TryCast::new(Box::new(field.clone()), t.data_type().clone())),
            None => Expr::Cast(Cast::new(Box::new(field.clone()), t.data_type().clone())),
        };
        if try_ {
            failed = failed.or(field.is_not_null().and(value.clone().is_null()));
        }
        args.extend([lit(t.name().as_str()), value]);
    }
    let null = null_of(target)?;
    Ok(Some(when(failed, null).otherwise(named_struct(args))?))
}

/// Whether any field, here or in a row inside, has another name in the target.
fn renamed(from: &Fields, to: &Fields) -> bool {
    from.iter().zip(to.iter()).any(|(f, t)| f.name() != t.name() || renamed_inside(f.data_type(), t.data_type()))
}

/// Whether rows inside these types (in arrays, to any depth) have fields of other names.
fn renamed_inside(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::Struct(a), DataType::Struct(b)) => a.len() == b.len() && renamed(a, b),
        (DataType::List(a), DataType::List(b)) => renamed_inside(a.data_type(), b.data_type()),
        _ => false,
    }
}

/// Whether a map's keys change type, and so may collide (`MAP(ARRAY[1, 2], ...)` as
/// `MAP(BOOLEAN, ...)`), which Trino's cast refuses.
fn rekeyed(from: &DataType, to: &DataType) -> bool {
    let key = |t: &DataType| match t {
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) => kv.first().map(|k| k.data_type().clone()),
            _ => None,
        },
        _ => None,
    };
    matches!((key(from), key(to)), (Some(a), Some(b)) if a != b)
}

/// `athena_unique_keys(map)`: the map of a cast whose keys changed type, once its keys are
/// checked as Trino's cast checks them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct UniqueKeys;

impl Function for UniqueKeys {
    fn name(&self) -> &'static str {
        "athena_unique_keys"
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 1..=1)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[0].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        let maps = args.column(0)?;
        unique_keys(maps.as_map())?;
        Ok(maps)
    }
}

/// A cast map's keys as Trino's cast checks them: none NULL, none twice in a map.
fn unique_keys(map: &MapArray) -> Result<()> {
    let keys = map.keys();
    if keys.null_count() > 0 {
        return datafusion::common::exec_err!("map key is null");
    }
    let [rows] = &super::shared::rows(std::slice::from_ref(keys))?[..] else { unreachable!("one column") };
    for (i, w) in map.offsets().windows(2).enumerate() {
        let mut seen = std::collections::HashSet::new();
        if map.is_valid(i) && !(w[0] as usize..w[1] as usize).all(|j| seen.insert(rows.row(j))) {
            return datafusion::common::exec_err!("duplicate keys");
        }
    }
    Ok(())
}

/// Whether numbers with a fraction inside these types (in arrays, maps and rows, to any depth)
/// become integers, which Trino rounds (half away from zero) and Arrow's cast truncates.
fn rounds_inside(from: &DataType, to: &DataType) -> bool {
    match (from, to) {
        (DataType::List(a), DataType::List(b)) => rounds_inside(a.data_type(), b.data_type()),
        (DataType::Map(a, _), DataType::Map(b, _)) => rounds_inside(a.data_type(), b.data_type()),
        (DataType::Struct(a), DataType::Struct(b)) => {
            a.len() == b.len() && a.iter().zip(b.iter()).any(|(f, t)| rounds_inside(f.data_type(), t.data_type()))
        }
        (DataType::Decimal128(_, s), t) => *s > 0 && t.is_integer(),
        (DataType::Float32 | DataType::Float64, t) => t.is_integer(),
        _ => false,
    }
}

/// `x` cast to the type of its second argument (a NULL of that type): by position, rows field
/// by field in order, in arrays and maps too, and numbers rounded to integers as Trino rounds
/// them; or, `try_array`, `TRY_CAST` of an array of scalars, NULL as a whole where an element
/// does not convert.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CastLike {
    try_array: bool,
}

const BY_POSITION: CastLike = CastLike { try_array: false };

impl Function for CastLike {
    fn name(&self) -> &'static str {
        if self.try_array { "athena_try_cast_array" } else { "athena_cast_by_position" }
    }
    fn coerce(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        super::shared::arity(self.name(), t, 2..=2)?;
        Ok(t.to_vec())
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t[1].clone())
    }
    fn kernel(&self, args: &Args) -> Result<ArrayRef> {
        if self.try_array {
            try_cast_array(&args.column(0)?, args.ret)
        } else {
            cast_by_position(&args.column(0)?, args.ret)
        }
    }
}

/// Each element cast; a row any of whose elements did not convert is NULL.
fn try_cast_array(column: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let DataType::List(field) = to else { return datafusion::common::exec_err!("an array, not {to}") };
    let list = column.as_list::<i32>();
    let options = arrow::compute::CastOptions { safe: true, ..Default::default() };
    let values = arrow::compute::cast_with_options(list.values(), field.data_type(), &options)?;
    // An element that was a value and is NULL now did not convert: its row fails.
    let failed: Vec<bool> = (0..values.len()).map(|i| list.values().is_valid(i) && values.is_null(i)).collect();
    let rows: Vec<bool> = list
        .offsets()
        .windows(2)
        .enumerate()
        .map(|(r, w)| list.is_valid(r) && !failed[w[0] as usize..w[1] as usize].contains(&true))
        .collect();
    let nulls = arrow::buffer::NullBuffer::from(rows);
    Ok(Arc::new(ListArray::try_new(field.clone(), list.offsets().clone(), values, Some(nulls))?))
}

fn cast_by_position(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    Ok(match (array.data_type(), to) {
        (DataType::Struct(_), DataType::Struct(fields)) if array.as_struct().num_columns() == fields.len() => {
            let rows = array.as_struct();
            let columns = rows
                .columns()
                .iter()
                .zip(fields.iter())
                .map(|(c, f)| cast_by_position(c, f.data_type()))
                .collect::<Result<Vec<_>>>()?;
            Arc::new(StructArray::try_new(fields.clone(), columns, rows.nulls().cloned())?)
        }
        (DataType::List(_), DataType::List(field)) => {
            let list = array.as_list::<i32>();
            let values = cast_by_position(list.values(), field.data_type())?;
            Arc::new(ListArray::try_new(field.clone(), list.offsets().clone(), values, list.nulls().cloned())?)
        }
        (DataType::Map(..), DataType::Map(field, sorted)) => {
            let map = array.as_map();
            let entries: ArrayRef = Arc::new(map.entries().clone());
            let entries = cast_by_position(&entries, field.data_type())?;
            let cast = MapArray::try_new(
                field.clone(),
                map.offsets().clone(),
                entries.as_struct().clone(),
                map.nulls().cloned(),
                *sorted,
            )?;
            unique_keys(&cast)?;
            Arc::new(cast)
        }
        // Half away from zero: a decimal through its whole digits, a double through `round`.
        (DataType::Decimal128(p, s), t) if *s > 0 && t.is_integer() => {
            let whole = arrow::compute::cast(array, &DataType::Decimal128((*p).min(38), 0))?;
            arrow::compute::cast(&whole, to)?
        }
        (DataType::Float32 | DataType::Float64, t) if t.is_integer() => {
            let doubles = arrow::compute::cast(array, &DataType::Float64)?;
            let rounded: ArrayRef = Arc::new(
                doubles
                    .as_primitive::<arrow::datatypes::Float64Type>()
                    .unary::<_, arrow::datatypes::Float64Type>(f64::round),
            );
            arrow::compute::cast(&rounded, to)?
        }
        _ => arrow::compute::cast(array, to)?,
    })
}
