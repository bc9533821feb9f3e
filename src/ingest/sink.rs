//! The decoded batches as a DataFusion plan that delta-rs' writer consumes while they are produced:
//! Parquet files are written as batches arrive (memory stays bounded), and the commit happens
//! once, after the stream ends. A stream that ends with an error makes the write fail before the
//! commit; delta-rs aborts the files it was writing.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::datasource::provider_as_source;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use parking_lot::Mutex;

/// A single-use partition: the first `execute` takes the stream.
struct OneShot {
    schema: SchemaRef,
    stream: Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for OneShot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoadStream")
    }
}

impl PartitionStream for OneShot {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }
    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        match self.stream.lock().take() {
            Some(s) => s,
            None => Box::pin(RecordBatchStreamAdapter::new(
                self.schema.clone(),
                futures::stream::once(async {
                    Err(DataFusionError::Internal(
                        "the load stream was already consumed".into(),
                    ))
                }),
            )),
        }
    }
}

/// A logical plan scanning `stream` once.
pub fn plan(
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
) -> datafusion::error::Result<LogicalPlan> {
    let part = Arc::new(OneShot {
        schema: schema.clone(),
        stream: Mutex::new(Some(stream)),
    });
    let table = StreamingTable::try_new(schema, vec![part])?;
    LogicalPlanBuilder::scan("load", provider_as_source(Arc::new(table)), None)?.build()
}
