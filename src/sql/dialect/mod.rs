//! Athena's SQL (Trino's functions and rules) on DataFusion, so that a query written for
//! Athena runs unchanged on a laptop and gives Athena's answer.
//!
//! DataFusion already has many of Trino's functions under the same name and meaning
//! (`strpos`, `regexp_like`, `cardinality`, `approx_distinct`, `try_cast`, window functions);
//! this module adds the ones it lacks and replaces the ones whose meaning differs, all in
//! [`context`]. The pieces, in the order a statement meets them:
//!
//! - [`syntax`]: the parser's dialect (lambdas) and the rewrites of the parsed text where
//!   Trino reads it otherwise (decimal literals, timestamp precision, `_col0` names, ...);
//! - function rewrites before types are coerced (`try`, interval arithmetic, a decimal beside a
//!   double is a double: `float_decimal`, an array subscript that fails outside the array:
//!   `subscript`);
//! - the functions, one module a family: `scalar` and `datetime` (dates, conditionals),
//!   `numeric`, `string` (`format` with `java_format`, Java's formatter), `binary`, `regexp`, `json` (with `json_path`), `sqljson` (with `sqljson_path`, the SQL/JSON path language), `json_construct`, `array`, `map`, `lambda`, `url`, `interval`,
//!   `zone` (timestamps with a time zone);
//!   aggregates in `aggregate` (rewritten into DataFusion's own while the plan is simplified,
//!   so they run as fast as the native form), `map`, `accumulate` and `percentile`;
//! - analyzer rules once types are coerced: casts Trino has none of refused
//!   (`refused_casts`), exact arithmetic that fails on overflow
//!   (`overflow`), casts to and from JSON (`json_cast`; `types` plans Trino's `JSON`, `MAP(K, V)` and
//!   `TIMESTAMP WITH TIME ZONE`), casts between rows by position (`row_cast`), Trino's decimal scales and roundings (`decimal`), NaN comparisons (`nan`),
//!   a timestamp's precision where Trino keeps it (`precision`), Trino's spelling of
//!   `CAST(x AS VARCHAR)` ([`text`], which also spells results).

mod accumulate;
mod aggregate;
mod array;
mod arrow_messages;
mod binary;
mod datetime;
mod decimal;
mod float_decimal;
mod function;
mod interval;
mod java_format;
mod json;
mod json_cast;
mod json_construct;
mod json_path;
mod lambda;
mod map;
mod nan;
mod numeric;
mod overflow;
mod pattern;
mod percentile;
mod precision;
mod refused_casts;
mod regexp;
mod row_cast;
mod row_order;
mod scalar;
mod shared;
mod spooky;
mod sqljson;
mod sqljson_path;
mod statistics;
mod string;
mod subscript;
pub mod syntax;
pub mod text;
mod text_time;
mod time;
mod types;
mod units;
mod unnest;
mod url;
mod zone;

pub use arrow_messages::trino as trino_error;
pub use json_cast::{field as json_field, is_json};
pub use syntax::{Athena, parse};

use std::sync::Arc;

use datafusion::execution::{FunctionRegistry, SessionStateBuilder};
use datafusion::prelude::SessionContext;

/// The names (and aliases) of every function [`context`] puts on a session, for the docs
/// and the tests: what b3lake adds to DataFusion or replaces in it.
pub fn names(ctx: &SessionContext) -> Vec<String> {
    let fresh = SessionContext::new();
    let (base, state) = (fresh.state(), ctx.state());
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str, ours: bool| {
        if ours {
            names.push(name.to_string());
        }
    };
    for (name, f) in state.scalar_functions() {
        add(name, base.scalar_functions().get(name).is_none_or(|b| b != f));
    }
    for (name, f) in state.aggregate_functions() {
        // DataFusion's own aggregate under more names (Trino's) is still DataFusion's.
        let same = |b: &Arc<datafusion::logical_expr::AggregateUDF>| {
            b == f || (b.name() == f.name() && b.signature() == f.signature())
        };
        add(name, base.aggregate_functions().get(name).is_none_or(|b| !same(b)));
    }
    for (name, f) in state.higher_order_functions() {
        add(name, base.higher_order_functions().get(name).is_none_or(|b| b != f));
    }
    names.sort();
    names.dedup();
    names
}

/// A session speaking Athena's dialect, from a state being built (with the caller's config
/// and rules): Trino's types planned, its functions in place of DataFusion's where they differ.
pub fn context(state: SessionStateBuilder) -> SessionContext {
    // Before the analyzer's own rules: the planner's widening of VALUES and UNION columns is
    // undone before type coercion casts to it.
    let mut rules = datafusion::optimizer::Analyzer::new().rules;
    rules.insert(0, Arc::new(float_decimal::FloatOverDecimalRows));
    let mut state = state
        .with_analyzer_rules(rules)
        .with_type_planner(Arc::new(types::TrinoTypes))
        .with_relation_planners(vec![Arc::new(unnest::TrinoUnnest)]);
    // Trino sorts NULLs last in either direction (`ORDER BY x DESC` too), where DataFusion
    // follows Postgres (NULL as the greatest value: first when descending).
    let config = state.config().get_or_insert_with(datafusion::prelude::SessionConfig::new);
    config.options_mut().sql_parser.default_null_ordering = "nulls_last".into();
    if let Some(planners) = state.expr_planners() {
        planners.insert(0, Arc::new(array::ArrayConcat { concat: Arc::new(string::concat()) }));
        planners.insert(0, Arc::new(subscript::RowIndex));
        planners.insert(0, Arc::new(time::TimeComparisons));
        planners.insert(0, Arc::new(row_order::RowOrdering));
        planners.insert(0, Arc::new(decimal::DecimalOperators));
    }
    let ctx = SessionContext::new_with_state(state.build());
    register(&ctx);
    ctx
}

/// Registers the Athena functions on a session, replacing DataFusion's where they differ.
fn register(ctx: &SessionContext) {
    let udfs = [
        scalar::functions(),
        datetime::functions(),
        numeric::functions(),
        regexp::functions(),
        json::functions(),
        sqljson::functions(),
        json_construct::functions(),
        string::functions(),
        binary::functions(),
        array::functions(),
        map::functions(),
        interval::functions(),
        url::functions(),
        statistics::functions(),
        units::functions(),
        precision::functions(),
        text::functions(),
        text_time::functions(),
        zone::functions(),
    ];
    for udf in udfs.into_iter().flatten() {
        ctx.register_udf(udf);
    }
    for hof in lambda::functions() {
        // Trino's array_sort takes a comparator: DataFusion's scalar one would shadow it.
        ctx.deregister_udf(hof.name());
        ctx.register_higher_order_function(hof);
    }
    let udafs = aggregate::functions().into_iter().chain(map::aggregates()).chain(accumulate::functions());
    for udaf in udafs.chain([percentile::function()]) {
        ctx.register_udaf(udaf);
    }
    // DataFusion's aggregates under Trino's names as well.
    use datafusion::functions_aggregate as agg;
    let aliases = [
        (agg::bool_and_or::bool_and_udaf(), &["every"][..]),
        (agg::variance::var_samp_udaf(), &["variance"]),
        (agg::bit_and_or_xor::bit_and_udaf(), &["bitwise_and_agg"]),
        (agg::bit_and_or_xor::bit_or_udaf(), &["bitwise_or_agg"]),
        (agg::bit_and_or_xor::bit_xor_udaf(), &["bitwise_xor_agg"]),
        (agg::string_agg::string_agg_udaf(), &["listagg"]),
    ];
    for (udaf, names) in aliases {
        ctx.register_udaf(udaf.as_ref().clone().with_aliases(names.iter().copied()));
    }
    ctx.register_udaf(overflow::checked_sum());
    ctx.register_udaf(decimal::avg());
    // Before the rules that read casts (decimal scales, `CAST(x AS VARCHAR)`'s spelling).
    ctx.add_analyzer_rule(Arc::new(unnest::LateralUnnest));
    ctx.add_analyzer_rule(Arc::new(refused_casts::RefusedCasts));
    // Rows first: a row's JSON fields become casts of JSON, which the next rule reads.
    ctx.add_analyzer_rule(Arc::new(row_cast::RowCasts));
    ctx.add_analyzer_rule(Arc::new(json_cast::JsonCasts));
    ctx.add_analyzer_rule(Arc::new(text_time::TextTimes));
    ctx.add_analyzer_rule(Arc::new(zone::LocalTimes));
    ctx.add_analyzer_rule(Arc::new(overflow::CheckedArithmetic));
    ctx.add_analyzer_rule(Arc::new(decimal::DecimalRules));
    ctx.add_analyzer_rule(Arc::new(nan::NanComparisons));
    ctx.add_analyzer_rule(Arc::new(array::ArrayComparisons));
    ctx.add_analyzer_rule(Arc::new(map::MapComparisons));
    ctx.add_analyzer_rule(Arc::new(precision::KeptPrecision));
    ctx.add_analyzer_rule(Arc::new(text::SpelledCasts));
    let state = ctx.state_ref();
    let mut state = state.write();
    state.register_function_rewrite(Arc::new(scalar::TryRewrite)).expect("a session takes function rewrites");
    state.register_function_rewrite(Arc::new(interval::IntervalArithmetic)).expect("a session takes function rewrites");
    state.register_function_rewrite(Arc::new(time::TimeArithmetic)).expect("a session takes function rewrites");
    // Before the map subscripts, whose lookup of a column key is an `array_element` of its own.
    state
        .register_function_rewrite(Arc::new(subscript::StrictSubscripts::default()))
        .expect("a session takes function rewrites");
    state.register_function_rewrite(Arc::new(map::Subscripts::default())).expect("a session takes function rewrites");
    state
        .register_function_rewrite(Arc::new(float_decimal::FloatOverDecimal))
        .expect("a session takes function rewrites");
    let extreme = array::ExtremeOfRow {
        greatest: state.udf("greatest").expect("greatest is registered above"),
        least: state.udf("least").expect("least is registered above"),
    };
    state.register_function_rewrite(Arc::new(extreme)).expect("a session takes function rewrites");
}
