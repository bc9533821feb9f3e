//! `UNION ALL` keeps its branches in order.
//!
//! BigQuery's documented results list the rows of `SELECT ... UNION ALL SELECT ...` branch by
//! branch, and order-sensitive aggregates over such inputs (`ARRAY_AGG(x)`, `STRING_AGG(x)`,
//! `ARRAY_CONCAT_AGG(x LIMIT n)`) see the rows in that order. DataFusion runs the branches as
//! separate partitions and merges them in arrival order, so the same query could return
//! different arrays from run to run.
//!
//! [`OrderedUnion`] is a physical optimizer rule, run after DataFusion's own rules, that
//! replaces every unordered `UnionExec` with [`OrderedUnionExec`]: one output partition that
//! yields its inputs' partitions one after the other (input 0 partition 0, input 0 partition 1,
//! …, input 1 partition 0, …). The inputs still run concurrently, each into a small bounded
//! buffer. Round-robin repartitions inside a union's inputs and on the path above it are
//! removed, since they would shuffle the order again (they only exist for parallelism; hash
//! repartitions, needed for correctness, stay and keep the order of their single input within
//! each output partition). Sorts are then enforced again (DataFusion's `ensure_sorting` step), since
//! a sort-preserving merge above a union may have relied on each branch being sorted. Plans
//! without a `UNION` are returned unchanged.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/query-syntax#union>.

use std::fmt;
use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::enforce_sorting::{PlanWithCorrespondingSort, ensure_sorting};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::union::UnionExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt;

/// Batches buffered per input partition while an earlier input is still being read.
const BUFFERED_BATCHES: usize = 2;

/// The physical optimizer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct OrderedUnion;

impl PhysicalOptimizerRule for OrderedUnion {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if !contains_unordered_union(&plan)? {
            return Ok(plan);
        }
        let plan = plan
            .transform_up(|node| {
                if let Some(union) = node.downcast_ref::<UnionExec>()
                    && union.properties().output_ordering().is_none()
                {
                    let inputs = union
                        .inputs()
                        .iter()
                        .map(|input| strip_round_robin(Arc::clone(input)))
                        .collect::<Result<Vec<_>>>()?;
                    return Ok(Transformed::yes(Arc::new(OrderedUnionExec::new(inputs))));
                }
                if is_round_robin(&node) && contains_ordered_union(&node)? {
                    let input = Arc::clone(node.children()[0]);
                    return Ok(Transformed::yes(input));
                }
                Ok(Transformed::no(node))
            })
            .map(|t| t.data)?;
        // A sort-preserving merge (or window, ...) above the union relied on each branch being
        // sorted; the concatenation is not, so sorts are added back where needed.
        let plan = PlanWithCorrespondingSort::new_default(plan)
            .transform_up(ensure_sorting)?
            .data
            .plan;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "bigquery_ordered_union"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

fn contains_unordered_union(plan: &Arc<dyn ExecutionPlan>) -> Result<bool> {
    let mut found = false;
    plan.apply(|node| {
        if let Some(union) = node.downcast_ref::<UnionExec>()
            && union.properties().output_ordering().is_none()
        {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(found)
}

fn contains_ordered_union(plan: &Arc<dyn ExecutionPlan>) -> Result<bool> {
    let mut found = false;
    plan.apply(|node| {
        if node.is::<OrderedUnionExec>() {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(found)
}

fn is_round_robin(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.downcast_ref::<RepartitionExec>()
        .is_some_and(|r| matches!(r.partitioning(), Partitioning::RoundRobinBatch(_)))
}

/// Removes the round-robin repartitions of `plan` (they reorder rows across partitions).
fn strip_round_robin(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if is_round_robin(&node) {
            Ok(Transformed::yes(Arc::clone(node.children()[0])))
        } else {
            Ok(Transformed::no(node))
        }
    })
    .map(|t| t.data)
}

/// A `UNION ALL` with one output partition that yields its inputs in order.
#[derive(Debug)]
pub struct OrderedUnionExec {
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
}

impl OrderedUnionExec {
    pub fn new(inputs: Vec<Arc<dyn ExecutionPlan>>) -> Self {
        let schema = inputs
            .first()
            .map(|i| i.schema())
            .unwrap_or_else(|| Arc::new(datafusion::arrow::datatypes::Schema::empty()));
        let boundedness = if inputs
            .iter()
            .all(|i| i.properties().boundedness == Boundedness::Bounded)
        {
            Boundedness::Bounded
        } else {
            Boundedness::Unbounded {
                requires_infinite_memory: false,
            }
        };
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            boundedness,
        );
        Self {
            inputs,
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for OrderedUnionExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OrderedUnionExec")
    }
}

impl ExecutionPlan for OrderedUnionExec {
    fn name(&self) -> &str {
        "OrderedUnionExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false; self.inputs.len()]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false; self.inputs.len()]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(OrderedUnionExec::new(children)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("OrderedUnionExec has one partition, asked for {partition}");
        }
        let mut receivers = Vec::new();
        let mut tasks = Vec::new();
        for input in &self.inputs {
            for p in 0..input.output_partitioning().partition_count() {
                let mut stream = input.execute(p, Arc::clone(&context))?;
                let (tx, rx) = tokio::sync::mpsc::channel(BUFFERED_BATCHES);
                tasks.push(SpawnedTask::spawn(async move {
                    while let Some(batch) = stream.next().await {
                        let failed = batch.is_err();
                        if tx.send(batch).await.is_err() || failed {
                            break;
                        }
                    }
                }));
                receivers.push(rx);
            }
        }
        let batches = futures::stream::iter(receivers)
            .flat_map(tokio_stream_of)
            // The tasks live as long as the stream; dropping it aborts them.
            .map(move |b| {
                let _keep = &tasks;
                b
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}

fn tokio_stream_of<T: Send + 'static>(
    rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}
