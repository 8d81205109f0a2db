//! The shape of a dialect function, written once: a type per function with its name, how it
//! reads its arguments' types, and a kernel over whole Arrow columns. DataFusion's
//! `ScalarUDFImpl` boilerplate (the signature, constants in and out) lives here, so a family
//! module holds only what differs from one function to the next.

use std::any::Any;
use std::borrow::Cow;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, BooleanArray, PrimitiveArray, StringArray, StringBuilder};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Field, FieldRef, Float32Type, Float64Type, Int32Type, Int64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// One of the dialect's scalar functions.
pub trait Function: Debug + PartialEq + Eq + Hash + Send + Sync + 'static {
    /// The name SQL calls it by.
    fn name(&self) -> &'static str;

    /// Other names SQL may call it by.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// The types the arguments are cast to, from those of the call; an error refuses the call
    /// while the statement is planned, naming the function.
    fn coerce(&self, args: &[DataType]) -> Result<Vec<DataType>>;

    /// The result's type, given the coerced arguments'.
    fn return_type(&self, args: &[DataType]) -> Result<DataType>;

    /// The result's field, for a result that carries more than its type (a timestamp's
    /// precision, which Arrow's type cannot say); `None` for a plain field of `return_type`.
    fn return_field(&self, _: &ReturnFieldArgs) -> Result<Option<Field>> {
        Ok(None)
    }

    /// Whether a call's answer depends on its arguments alone (`Immutable`, folded into a
    /// constant while planning), on the statement (`Stable`: `now()`, the same all through it),
    /// or on each call (`Volatile`: `random`, a value a row even when every argument is a
    /// constant).
    fn volatility(&self) -> Volatility {
        Volatility::Immutable
    }

    /// The kernel: the arguments, each a column or a constant, to a column of `args.rows` values.
    fn kernel(&self, args: &Args) -> Result<ArrayRef>;

    /// The call rewritten while the plan is simplified, for functions that are another
    /// expression in disguise (`if` is a `CASE`); the kernel still answers a plan that skipped it.
    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(ExprSimplifyResult::Original(args))
    }
}

/// The function a registered UDF is, when it is an `F`.
pub fn downcast<F: Function>(f: &ScalarUDF) -> Option<&F> {
    (f.inner().as_ref() as &dyn Any).downcast_ref::<Udf<F>>().map(|u| &u.f)
}

/// A call's arguments as the kernel sees them: which are constants (to be used once, not
/// expanded row by row), and the columns when it wants them.
pub struct Args<'a> {
    values: &'a [ColumnarValue],
    fields: &'a [FieldRef],
    /// The number of rows the result has (1 when every argument is a constant).
    pub rows: usize,
    /// The result's type.
    pub ret: &'a DataType,
}

impl Args<'_> {
    /// The number of arguments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Argument `i` when it is the same on every row (`None` as well when there is no such argument).
    pub fn constant(&self, i: usize) -> Option<&ScalarValue> {
        match self.values.get(i)? {
            ColumnarValue::Scalar(s) => Some(s),
            ColumnarValue::Array(_) => None,
        }
    }

    /// Argument `i` as a column of `rows` values (a constant repeated).
    pub fn column(&self, i: usize) -> Result<ArrayRef> {
        self.values[i].to_array(self.rows)
    }

    /// Argument `i`'s field: its type and what rides with it (a timestamp's precision).
    pub fn field(&self, i: usize) -> &Field {
        &self.fields[i]
    }

    /// Every argument as a column.
    pub fn columns(&self) -> Result<Vec<ArrayRef>> {
        (0..self.len()).map(|i| self.column(i)).collect()
    }
}

/// A text argument's values; a constant one is read once, not per row.
pub enum Text {
    /// The same value on every row.
    Constant(Option<String>),
    /// A value a row.
    Column(StringArray),
}

impl Text {
    /// Argument `i` of the call.
    pub fn new(args: &Args, i: usize) -> Result<Self> {
        Ok(match args.constant(i) {
            Some(v) => Text::Constant(v.try_as_str().flatten().map(str::to_string)),
            None => Text::Column(args.column(i)?.as_string::<i32>().clone()),
        })
    }

    /// The value on row `i` (`None` for NULL).
    pub fn get(&self, i: usize) -> Option<&str> {
        match self {
            Text::Constant(v) => v.as_deref(),
            Text::Column(c) => c.is_valid(i).then(|| c.value(i)),
        }
    }
}

/// A text argument read as something parsed from it (a pattern, a path): parsed once when the
/// argument is a constant, else row by row.
pub enum Parsed<T: Clone> {
    /// The constant's parse (`None` for NULL).
    Constant(Option<T>),
    /// A text a row, and how to parse it.
    Column(StringArray, fn(&str) -> Result<T>),
}

impl<T: Clone> Parsed<T> {
    /// Argument `i` of the call, parsed with `parse`.
    pub fn new(args: &Args, i: usize, parse: fn(&str) -> Result<T>) -> Result<Self> {
        Ok(match Text::new(args, i)? {
            Text::Constant(v) => Parsed::Constant(v.as_deref().map(parse).transpose()?),
            Text::Column(c) => Parsed::Column(c, parse),
        })
    }

    /// The parse on row `i` (`None` for NULL).
    pub fn get(&self, i: usize) -> Result<Option<Cow<'_, T>>> {
        Ok(match self {
            Parsed::Constant(v) => v.as_ref().map(Cow::Borrowed),
            Parsed::Column(c, parse) => {
                if c.is_valid(i) {
                    Some(Cow::Owned(parse(c.value(i))?))
                } else {
                    None
                }
            }
        })
    }
}

/// A function of one value, declared once: its type, SQL name, the argument it takes (`varchar`,
/// `binary`, `bytes`, `integer`, `bigint`, `real` or `double`, as `shared` coerces them), its
/// result type and column builder (`strings`, `ints`, `integers`, `reals`, `doubles`, `bools`,
/// `binaries`), and what it makes of one value (NULL gives NULL; after `nullable`, the body
/// answers an `Option` and may give NULL itself).
macro_rules! unary {
    ($(#[$doc:meta])* $type:ident, $name:literal, $arg:ident -> $ret:expr, $out:ident, |$v:ident| $body:expr) => {
        $crate::sql::dialect::function::unary!(
            $(#[$doc])* $type, $name, $arg -> $ret, $out, nullable |$v| $body.map(Some)
        );
    };
    ($(#[$doc:meta])* $type:ident, $name:literal, $arg:ident -> $ret:expr, $out:ident, nullable |$v:ident| $body:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        struct $type;

        impl $crate::sql::dialect::function::Function for $type {
            fn name(&self) -> &'static str {
                $name
            }
            fn coerce(&self, t: &[arrow::datatypes::DataType]) -> datafusion::common::Result<Vec<arrow::datatypes::DataType>> {
                $crate::sql::dialect::shared::arity($name, t, 1..=1)?;
                Ok(vec![$crate::sql::dialect::shared::$arg($name, &t[0])?])
            }
            fn return_type(&self, _: &[arrow::datatypes::DataType]) -> datafusion::common::Result<arrow::datatypes::DataType> {
                Ok($ret)
            }
            fn kernel(&self, args: &$crate::sql::dialect::function::Args) -> datafusion::common::Result<arrow::array::ArrayRef> {
                let column = args.column(0)?;
                let values = $crate::sql::dialect::function::unary!(@values $arg, column);
                $crate::sql::dialect::function::$out(values.map(|v| v.map(|$v| $body).transpose().map(Option::flatten)))
            }
        }
    };
    (@values varchar, $c:ident) => { arrow::array::AsArray::as_string::<i32>(&$c).iter() };
    (@values binary, $c:ident) => { arrow::array::AsArray::as_binary::<i32>(&$c).iter() };
    (@values bytes, $c:ident) => { arrow::array::AsArray::as_binary::<i32>(&$c).iter() };
    (@values integer, $c:ident) => { arrow::array::AsArray::as_primitive::<arrow::datatypes::Int32Type>(&$c).iter() };
    (@values bigint, $c:ident) => { arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(&$c).iter() };
    (@values real, $c:ident) => { arrow::array::AsArray::as_primitive::<arrow::datatypes::Float32Type>(&$c).iter() };
    (@values double, $c:ident) => { arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(&$c).iter() };
}
pub(super) use unary;

/// An integer (`bigint`) argument's value on row `i` (`None` for NULL).
pub fn int_at(a: &ArrayRef, i: usize) -> Option<i64> {
    let a = a.as_primitive::<Int64Type>();
    a.is_valid(i).then(|| a.value(i))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Udf<F> {
    f: F,
    aliases: Vec<String>,
    signature: Signature,
}

/// The function as DataFusion registers it.
pub fn udf(f: impl Function) -> ScalarUDF {
    let aliases = f.aliases().iter().map(|a| a.to_string()).collect();
    let signature = Signature::user_defined(f.volatility());
    ScalarUDF::new_from_impl(Udf { f, aliases, signature })
}

impl<F: Function> ScalarUDFImpl for Udf<F> {
    fn name(&self) -> &str {
        self.f.name()
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        self.f.coerce(types)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.f.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if let Some(field) = self.f.return_field(&args)? {
            return Ok(Arc::new(field));
        }
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        Ok(Arc::new(Field::new(self.name(), self.f.return_type(&types)?, true)))
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.f.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let volatile = self.f.volatility() == Volatility::Volatile;
        let constant = !volatile && args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if constant { 1 } else { args.number_rows };
        let out = self.f.kernel(&Args {
            values: &args.args,
            fields: &args.arg_fields,
            rows,
            ret: args.return_field.data_type(),
        })?;
        Ok(if constant {
            let scalar = ScalarValue::try_from_array(&out, 0)?;
            // A list's scalar is rebuilt with a plain element field: keep the kernel's (its metadata).
            if let (ScalarValue::List(_), Some(list)) = (&scalar, out.as_list_opt::<i32>()) {
                ColumnarValue::Scalar(ScalarValue::List(Arc::new(list.slice(0, 1))))
            } else {
                ColumnarValue::Scalar(scalar)
            }
        } else {
            ColumnarValue::Array(out)
        })
    }
}

/// A text column from its values in row order (NULL as `None`), written into one buffer.
pub fn strings<S: AsRef<str>>(values: impl Iterator<Item = Result<Option<S>>>) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    for v in values {
        out.append_option(v?);
    }
    Ok(Arc::new(out.finish()))
}

/// A column of Arrow's type `T` from its values in row order.
fn primitives<T: ArrowPrimitiveType>(values: impl Iterator<Item = Result<Option<T::Native>>>) -> Result<ArrayRef> {
    Ok(Arc::new(values.collect::<Result<PrimitiveArray<T>>>()?))
}

/// A `bigint` column from its values in row order.
pub fn ints(values: impl Iterator<Item = Result<Option<i64>>>) -> Result<ArrayRef> {
    primitives::<Int64Type>(values)
}

/// An `integer` column from its values in row order.
pub fn integers(values: impl Iterator<Item = Result<Option<i32>>>) -> Result<ArrayRef> {
    primitives::<Int32Type>(values)
}

/// A `real` column from its values in row order.
pub fn reals(values: impl Iterator<Item = Result<Option<f32>>>) -> Result<ArrayRef> {
    primitives::<Float32Type>(values)
}

/// A `double` column from its values in row order.
pub fn doubles(values: impl Iterator<Item = Result<Option<f64>>>) -> Result<ArrayRef> {
    primitives::<Float64Type>(values)
}

/// A `boolean` column from its values in row order.
pub fn bools(values: impl Iterator<Item = Result<Option<bool>>>) -> Result<ArrayRef> {
    Ok(Arc::new(values.collect::<Result<BooleanArray>>()?))
}

/// A `varbinary` column from its values in row order.
pub fn binaries<B: AsRef<[u8]>>(values: impl Iterator<Item = Result<Option<B>>>) -> Result<ArrayRef> {
    let mut out = BinaryBuilder::new();
    for v in values {
        out.append_option(v?);
    }
    Ok(Arc::new(out.finish()))
}
