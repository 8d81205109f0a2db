//! A bound on how deeply a statement nests, checked before it is planned.
//!
//! Planning walks expressions recursively, and DataFusion's naming of nested expressions
//! makes it quadratic in their depth: `1+1+...` with 5,000 terms, or 3,000 `UNION ALL`s,
//! would exhaust the stack and abort the process. Trino refuses such statements too. The
//! check itself stops descending at the bound, so it runs in bounded stack and in time
//! linear in the statement.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Visit, Visitor};

/// Nested expressions (operators, function calls, subqueries) or set operations
/// (`UNION`, `INTERSECT`, `EXCEPT`) a statement may stack. Hand-written analyst SQL stays
/// far below; an `IN` list or a `CASE` with many branches is wide, not deep.
pub const MAX_DEPTH: usize = 1000;

/// What is too deep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooDeep {
    /// Expressions nested too deep.
    Expression,
    /// Too many `UNION`s (or `INTERSECT`s, `EXCEPT`s) in a row.
    SetOperations,
}

impl std::error::Error for TooDeep {}

impl std::fmt::Display for TooDeep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            TooDeep::Expression => "expressions nested",
            TooDeep::SetOperations => "UNION, INTERSECT or EXCEPT operations chained",
        };
        write!(
            f,
            "statement too deep to plan: more than {MAX_DEPTH} {what}; split it (an IN list instead of ORed \
             equalities, a table instead of a chain of UNIONs)"
        )
    }
}

/// Whether `statement` nests deeper than [`MAX_DEPTH`].
pub fn check(statement: &Statement) -> Result<(), TooDeep> {
    let mut depth = Depth { current: 0 };
    let flow = match statement {
        Statement::Statement(s) => s.visit(&mut depth),
        Statement::Explain(e) => return check(&e.statement),
        Statement::CopyTo(c) => match &c.source {
            datafusion::sql::parser::CopyToSource::Query(q) => q.visit(&mut depth),
            datafusion::sql::parser::CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    };
    match flow {
        ControlFlow::Break(too_deep) => Err(too_deep),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Depth {
    current: usize,
}

impl Visitor for Depth {
    type Break = TooDeep;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<TooDeep> {
        // The visitor has no hook per set operation: measure the chain here, without recursion.
        let mut stack = vec![(query.body.as_ref(), 1)];
        while let Some((body, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return ControlFlow::Break(TooDeep::SetOperations);
            }
            if let SetExpr::SetOperation { left, right, .. } = body {
                stack.push((left, depth + 1));
                stack.push((right, depth + 1));
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<TooDeep> {
        self.current += 1;
        if self.current > MAX_DEPTH { ControlFlow::Break(TooDeep::Expression) } else { ControlFlow::Continue(()) }
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<TooDeep> {
        self.current -= 1;
        ControlFlow::Continue(())
    }
}

/// Drops a statement that may be too deep for this thread's stack to drop recursively, on a
/// thread of its own with a deep stack. The caller does not wait for it (an async caller must
/// not block its worker); if no thread can be had, the statement is leaked rather than dropped
/// here, where its depth could overflow the stack.
pub fn drop_deep(statement: Statement) {
    let (tx, rx) = std::sync::mpsc::channel::<Statement>();
    let spawned = std::thread::Builder::new().stack_size(256 << 20).spawn(move || drop(rx.recv()));
    match spawned {
        Ok(_) => {
            let _ = tx.send(statement);
        }
        Err(_) => std::mem::forget(statement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn parse(sql: &str) -> Statement {
        DFParser::parse_sql(sql).unwrap().pop_front().unwrap()
    }

    fn deep_sum(terms: usize) -> String {
        format!("SELECT 1{}", "+1".repeat(terms - 1))
    }

    #[test]
    fn deep_statements_are_refused_and_wide_ones_are_not() {
        assert_eq!(check(&parse(&deep_sum(MAX_DEPTH / 2))), Ok(()));
        let deep = parse(&deep_sum(20_000));
        assert_eq!(check(&deep), Err(TooDeep::Expression));
        drop_deep(deep);
        let ors = format!("SELECT * FROM t WHERE {}", vec!["x = 1"; 5000].join(" OR "));
        assert_eq!(check(&parse(&ors)), Err(TooDeep::Expression));
        let unions = vec!["SELECT 1"; 3000].join(" UNION ALL ");
        assert_eq!(check(&parse(&unions)), Err(TooDeep::SetOperations));
        let wide = format!("SELECT * FROM t WHERE x IN ({})", vec!["1"; 50_000].join(", "));
        assert_eq!(check(&parse(&wide)), Ok(()));
        let explain = parse(&format!("EXPLAIN {}", deep_sum(5000)));
        assert_eq!(check(&explain), Err(TooDeep::Expression));
    }
}
