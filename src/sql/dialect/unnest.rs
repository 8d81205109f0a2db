//! Trino's `UNNEST`: a relation of the elements of arrays (zipped, the shorter padded with
//! NULLs), a map's entries as a key and a value column, a row element's fields as columns of
//! their own, and `WITH ORDINALITY`'s position from 1; joined to the relations before it
//! (`t CROSS JOIN UNNEST(t.a)`, `t LEFT JOIN UNNEST(t.a) ON true`) each row with its own
//! elements, as the lateral join it is.
//!
//! DataFusion plans an `UNNEST` of a column of an earlier relation as a subquery with outer
//! references, which it cannot run ("OuterReferenceColumn"): [`LateralUnnest`] runs that
//! unnest over the earlier relation's rows instead. [`TrinoUnnest`] plans the relation itself
//! where DataFusion's planner reads it otherwise (rows and maps, ordinality).

use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{
    Column, DFSchema, NullHandling, Result, ScalarValue, UnnestOptions, plan_datafusion_err, plan_err,
};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{PlannedRelation, RelationPlanner, RelationPlannerContext, RelationPlanning};
use datafusion::logical_expr::{
    Expr, ExprSchemable, JoinType, LogicalPlan, LogicalPlanBuilder, Projection, SubqueryAlias, lit,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::sql::sqlparser::ast::{Expr as SqlExpr, TableFactor, visit_expressions_mut};

/// The name of the column of `WITH ORDINALITY`'s positions before it takes its alias.
const ORDINALITY: &str = "__athena_unnest_ordinality";

/// Plans `UNNEST(…) [WITH ORDINALITY] [AS t(c, …)]` as Trino reads it.
#[derive(Debug)]
pub struct TrinoUnnest;

impl RelationPlanner for TrinoUnnest {
    fn plan_relation(&self, relation: TableFactor, ctx: &mut dyn RelationPlannerContext) -> Result<RelationPlanning> {
        let TableFactor::UNNEST { alias, array_exprs, with_offset: false, with_offset_alias: None, with_ordinality } =
            relation
        else {
            return Ok(RelationPlanning::Original(Box::new(relation)));
        };
        let function = |ctx: &dyn RelationPlannerContext, name: &str, args: Vec<Expr>| {
            let f = ctx.context_provider().get_function_meta(name).ok_or_else(|| plan_datafusion_err!("no {name}"))?;
            Ok::<_, datafusion::common::DataFusionError>(Expr::ScalarFunction(ScalarFunction::new_udf(f, args)))
        };
        let empty = DFSchema::empty();
        // The lists unnested side by side (under their own names), what each output column
        // reads of them, and each argument's length (when the ordinality counts them).
        let (mut lists, mut columns, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
        for mut sql in array_exprs {
            // DataFusion plans an array literal's elements without the columns of the relations
            // before (`UNNEST(ARRAY[t.a, t.b])` found no field); a call is planned with them.
            let _ = visit_expressions_mut(&mut sql, |e| {
                if let SqlExpr::Array(array) = e {
                    *e = super::syntax::call("make_array", std::mem::take(&mut array.elem));
                }
                ControlFlow::<()>::Continue(())
            });
            let e = ctx.sql_to_expr(sql, &empty)?;
            let mut list = |e: Expr| {
                let name = format!("__athena_unnest_{}", lists.len());
                lists.push(e.alias(&name));
                Expr::Column(Column::from_name(name))
            };
            let t = e.get_type(&empty)?;
            // (A type that is neither an array nor a map is refused below.)
            if with_ordinality {
                lengths.push(function(ctx, "cardinality", vec![e.clone()])?);
            }
            match t {
                DataType::Map(..) => {
                    columns.push((list(function(ctx, "map_keys", vec![e.clone()])?), None));
                    columns.push((list(function(ctx, "map_values", vec![e])?), None));
                }
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
                    let element = list(e);
                    match f.data_type() {
                        // A row's fields are columns, named as the fields are.
                        DataType::Struct(fields) => {
                            for field in fields {
                                let get =
                                    datafusion::functions::core::expr_fn::get_field(element.clone(), field.name());
                                columns.push((get, Some(field.name().clone())));
                            }
                        }
                        _ => columns.push((element, None)),
                    }
                }
                t => return plan_err!("Cannot unnest type: {}", super::scalar::trino_type(&t)),
            }
        }
        if with_ordinality {
            let longest = if lengths.len() == 1 { lengths.remove(0) } else { function(ctx, "greatest", lengths)? };
            let stop = Expr::Cast(datafusion::logical_expr::Cast::new(Box::new(longest), DataType::Int64)) + lit(1i64);
            lists.push(function(ctx, "range", vec![lit(1i64), stop])?.alias(ORDINALITY));
            columns.push((Expr::Column(Column::from_name(ORDINALITY)), None));
        }
        let aliases: Vec<String> =
            alias.iter().flat_map(|a| &a.columns).map(|c| ctx.normalize_ident(c.name.clone())).collect();
        if !aliases.is_empty() && aliases.len() != columns.len() {
            let name = alias.as_ref().map(|a| a.name.value.clone()).unwrap_or_default();
            return plan_err!(
                "Column alias list has {} entries but '{name}' has {} columns available",
                aliases.len(),
                columns.len()
            );
        }
        let outputs = columns.into_iter().enumerate().map(|(i, (e, field))| {
            let name = aliases.get(i).cloned().or(field).unwrap_or_else(|| format!("_col{i}"));
            e.alias(name)
        });
        let unnested = lists.iter().map(|e| Column::from_name(e.schema_name().to_string())).collect();
        let plan = LogicalPlanBuilder::empty(true)
            .project(lists)?
            .unnest_columns_with_options(unnested, UnnestOptions::new().with_preserve_nulls(false))?
            .project(outputs)?
            .build()?;
        let alias = alias.map(|mut a| {
            a.columns.clear();
            a
        });
        Ok(RelationPlanning::Planned(Box::new(PlannedRelation::new(plan, alias))))
    }
}

/// Runs an `UNNEST` of an earlier relation's columns over that relation's rows: `CROSS JOIN`
/// (a join without keys, a condition applied after) and `LEFT JOIN … ON true` (an empty or NULL
/// array keeps its row, with NULLs), as Trino's lateral join does.
#[derive(Debug)]
pub struct LateralUnnest;

impl AnalyzerRule for LateralUnnest {
    fn name(&self) -> &str {
        "athena_lateral_unnest"
    }

    fn analyze(&self, plan: LogicalPlan, _: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan.transform_up_with_subqueries(lateral)?.data)
    }
}

fn lateral(plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    let LogicalPlan::Join(join) = &plan else { return Ok(Transformed::no(plan)) };
    let always =
        |f: &Option<Expr>| f.as_ref().is_none_or(|f| matches!(f, Expr::Literal(ScalarValue::Boolean(Some(true)), _)));
    let keep_empty = match join.join_type {
        JoinType::Inner if join.on.is_empty() => false,
        JoinType::Left if join.on.is_empty() && always(&join.filter) => true,
        _ => return Ok(Transformed::no(plan)),
    };
    let (alias, inner) = match join.right.as_ref() {
        LogicalPlan::SubqueryAlias(SubqueryAlias { input, alias, .. }) => match input.as_ref() {
            LogicalPlan::Subquery(s) => (Some(alias.clone()), Arc::clone(&s.subquery)),
            _ => return Ok(Transformed::no(plan)),
        },
        LogicalPlan::Subquery(s) => (None, Arc::clone(&s.subquery)),
        _ => return Ok(Transformed::no(plan)),
    };
    if !unnest_alone(&inner) {
        return Ok(Transformed::no(plan));
    }
    let left: Vec<Expr> = join.left.schema().columns().into_iter().map(Expr::Column).collect();
    // Outer references to a query further out than the join's left are left as they were.
    let Ok(attached) = attach(&inner, &join.left, &left, keep_empty) else { return Ok(Transformed::no(plan)) };
    let mut exprs = left;
    for (qualifier, field) in inner.schema().iter() {
        let column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
        exprs.push(match &alias {
            Some(alias) => column.alias_qualified(Some(alias.clone()), field.name()),
            None => column,
        });
    }
    let mut out = LogicalPlanBuilder::from(attached).project(exprs)?;
    if let (false, Some(filter)) = (keep_empty, &join.filter) {
        out = out.filter(filter.clone())?;
    }
    Ok(Transformed::yes(out.build()?))
}

/// Whether a plan is an unnest of expressions of one row: projections and unnests over an
/// empty relation, as `UNNEST(…)` plans.
fn unnest_alone(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::EmptyRelation(e) => e.produce_one_row,
        LogicalPlan::Projection(p) => unnest_alone(&p.input),
        LogicalPlan::Unnest(u) => unnest_alone(&u.input),
        _ => false,
    }
}

/// `plan` (see [`unnest_alone`]) over the rows of `left` in place of its one empty row, the
/// left's columns carried through, its outer references read as the left's columns.
fn attach(plan: &LogicalPlan, left: &Arc<LogicalPlan>, columns: &[Expr], keep_empty: bool) -> Result<LogicalPlan> {
    match plan {
        LogicalPlan::Projection(p) => {
            let input = attach(&p.input, left, columns, keep_empty)?;
            let mut exprs = columns.to_vec();
            for (i, e) in p.expr.iter().enumerate() {
                let (qualifier, field) = p.schema.qualified_field(i);
                let e = e.clone().transform(|e| {
                    Ok(match e {
                        Expr::OuterReferenceColumn(_, c) => Transformed::yes(Expr::Column(c)),
                        e => Transformed::no(e),
                    })
                })?;
                exprs.push(e.data.unalias().alias_qualified(qualifier.cloned(), field.name()));
            }
            Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?))
        }
        LogicalPlan::Unnest(u) => {
            let input = attach(&u.input, left, columns, keep_empty)?;
            let mut options = u.options.clone();
            if keep_empty {
                options = options.with_null_handling(NullHandling::PreserveAndExpandEmpty);
            }
            LogicalPlanBuilder::from(input).unnest_columns_with_options(u.exec_columns.clone(), options)?.build()
        }
        _ => Ok(left.as_ref().clone()),
    }
}
