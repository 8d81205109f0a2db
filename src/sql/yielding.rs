//! Joins that yield: a join's output is made from memory (a cross join's from its build side
//! alone), so a query whose aggregate counts a large join never returns to the scheduler until
//! it ends. It then cannot be stopped (StopQueryExecution, Ctrl-C drop its future, which takes
//! effect at the next yield) and holds a worker thread that other queries wait for. DataFusion's
//! own `EnsureCooperative` rule makes the plan's sources and exchanges yield; this rule, run
//! after it, does the same above every join.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;

/// Wraps every join's output in [`CooperativeExec`], which spends the task's scheduling budget
/// on each batch.
#[derive(Debug, Default)]
pub struct YieldingJoins;

impl PhysicalOptimizerRule for YieldingJoins {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.name().contains("Join") {
                Ok(Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>))
            } else {
                Ok(Transformed::no(node))
            }
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "yielding_joins"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
