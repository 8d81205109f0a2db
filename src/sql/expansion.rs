//! A bound on how large a statement grows once its CTEs and views are expanded, checked on
//! the statement as written, before it is planned.
//!
//! The planner plans a CTE (or inlines a view) once per reference, and every pass after it
//! rewrites the plan as a tree. A CTE that reads the one before it twice doubles the plan:
//! twenty such lines in a 1 KB statement make a million nodes, which take minutes and
//! gigabytes to plan, or abort the process; so do views defined the same way. Counted here
//! on the syntax, with each CTE and view sized once, the bound costs time linear in the
//! statement (and the views it reads).

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{ObjectName, Query, Visit, Visitor};

/// Table references (and queries) a statement may expand to. Analysts' queries and the
/// transform's have tens to hundreds; this many take about a second to plan.
pub const MAX_NODES: u64 = 20_000;

/// A statement that expands to too many table references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// What it expands to, at least (the count stops past the bound).
    pub nodes: u64,
}

impl std::error::Error for TooLarge {}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "statement too large to plan: its CTEs and views expand to more than {MAX_NODES} table references \
             ({} or more), each reference to a CTE or view being a copy of it; refer to a large CTE once (or write \
             it to a table with CREATE TABLE AS) instead of many times",
            self.nodes
        )
    }
}

/// What `statement` expands to: each query and table reference counts one, a reference to a
/// CTE what the CTE expands to, and one to a view `view(name)` (what the view expands to;
/// `None` for a table). Past [`MAX_NODES`], [`TooLarge`].
pub fn size(statement: &Statement, view: &dyn Fn(&str) -> Option<u64>) -> Result<u64, TooLarge> {
    let mut count = Expansion { scopes: vec![], total: 0, view };
    let flow = match statement {
        Statement::Statement(s) => s.visit(&mut count),
        Statement::Explain(e) => return size(&e.statement, view),
        Statement::CopyTo(_) | Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    };
    match flow {
        ControlFlow::Break(too_large) => Err(too_large),
        ControlFlow::Continue(()) => Ok(count.total),
    }
}

struct Expansion<'a> {
    /// The CTEs in scope, innermost last: name, and what it expands to.
    scopes: Vec<HashMap<String, u64>>,
    total: u64,
    view: &'a dyn Fn(&str) -> Option<u64>,
}

impl Expansion<'_> {
    fn add(&mut self, n: u64) -> ControlFlow<TooLarge> {
        self.total = self.total.saturating_add(n);
        if self.total > MAX_NODES {
            ControlFlow::Break(TooLarge { nodes: self.total })
        } else {
            ControlFlow::Continue(())
        }
    }
}

impl Visitor for Expansion<'_> {
    type Break = TooLarge;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<TooLarge> {
        self.scopes.push(HashMap::new());
        // Each CTE sized once, in order (one may read those before it); the walk then also
        // counts its definition once, where it stands.
        for cte in query.with.iter().flat_map(|w| &w.cte_tables) {
            let mut inner = Expansion { scopes: self.scopes.clone(), total: 0, view: self.view };
            cte.query.visit(&mut inner)?;
            let name = cte.alias.name.value.to_lowercase();
            self.scopes.last_mut().expect("pushed").insert(name, inner.total.saturating_add(1));
        }
        self.add(1)
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<TooLarge> {
        self.scopes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<TooLarge> {
        let name = relation.0.last().map(|part| part.to_string().trim_matches('"').to_lowercase()).unwrap_or_default();
        let single = relation.0.len() == 1;
        let cte = self.scopes.iter().rev().find_map(|s| s.get(&name).copied()).filter(|_| single);
        let n = cte.or_else(|| (self.view)(&name)).unwrap_or(1);
        self.add(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::parser::DFParser;

    fn parse(sql: &str) -> Statement {
        DFParser::parse_sql(sql).unwrap().pop_front().unwrap()
    }

    /// `n` CTEs, each the one before read twice.
    fn doubling(n: usize) -> String {
        let mut ctes = vec!["a0 AS (SELECT 1 AS x FROM t)".to_string()];
        ctes.extend((1..=n).map(|i| format!("a{i} AS (SELECT x FROM a{} UNION ALL SELECT x FROM a{})", i - 1, i - 1)));
        format!("WITH {} SELECT count(*) FROM a{n}", ctes.join(", "))
    }

    const NO_VIEWS: &dyn Fn(&str) -> Option<u64> = &|_| None;

    #[test]
    fn each_reference_to_a_cte_or_view_counts_what_it_expands_to() {
        let small = size(&parse(&doubling(3)), NO_VIEWS).unwrap();
        let larger = size(&parse(&doubling(4)), NO_VIEWS).unwrap();
        // One more level: about twice as much (the level below read twice, and defined once).
        assert!(larger > 2 * small && larger < 5 * small / 2, "{small} {larger}");
        assert!(size(&parse(&doubling(8)), NO_VIEWS).is_ok());
        // Sixty levels (2^60 copies) are counted without expanding anything, and refused.
        assert!(size(&parse(&doubling(60)), NO_VIEWS).unwrap_err().nodes > MAX_NODES);
        assert!(size(&parse(&format!("EXPLAIN {}", doubling(60))), NO_VIEWS).is_err());
        // A view's size as given; a CTE's name inside it is not the view.
        let views = |name: &str| (name == "v").then_some(MAX_NODES / 3);
        assert!(size(&parse("SELECT * FROM v, v"), &views).is_ok());
        assert!(size(&parse("SELECT * FROM v, v, v, (SELECT * FROM v)"), &views).is_err());
        assert_eq!(size(&parse("WITH v AS (SELECT 1) SELECT * FROM v"), &views), Ok(4));
        // A wide statement is not a large one.
        let union = vec!["SELECT x FROM t"; 500].join(" UNION ALL ");
        assert!(size(&parse(&union), NO_VIEWS).is_ok());
    }
}
