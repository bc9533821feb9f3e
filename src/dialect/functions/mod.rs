//! BigQuery's function library, registered into DataFusion by
//! [`crate::dialect::BigQueryFeatures::with_bigquery_features`].
//!
//! One file per function or small family; each file cites the BigQuery reference page it follows
//! and has its sqllogictest file (`tests/slt/functions_<family>.slt`). A family exposes some of:
//! `scalar_functions()`, `aggregate_functions()`, `window_functions()`, `expr_planners()`; this
//! module collects them. Functions registered here replace DataFusion's built-ins of the same name.
//!
//! Errors that BigQuery raises at run time (overflow, division by zero, bad input) are
//! [`DataFusionError::Execution`](datafusion::error::DataFusionError::Execution) with BigQuery's
//! wording; the `SAFE.` prefix ([`safe`]) turns them into NULL.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-all>.

pub mod code_points;
pub mod format;
pub mod normalize;
pub mod regexp;
pub mod row_fn;
pub mod safe;
pub mod strings;

use std::sync::Arc;

use datafusion::logical_expr::planner::ExprPlanner;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

/// BigQuery scalar functions (each also gets a `SAFE.` twin, see [`safe`]).
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<ScalarUDF>> = Vec::new();
    all.extend(strings::scalar_functions());
    all.extend(code_points::scalar_functions());
    all.extend(regexp::scalar_functions());
    all.extend(normalize::scalar_functions());
    all.extend(format::scalar_functions());
    all
}

/// BigQuery aggregate functions.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<AggregateUDF>> = Vec::new();
    all
}

/// BigQuery window (analytic) functions.
pub fn window_functions() -> Vec<Arc<WindowUDF>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<WindowUDF>> = Vec::new();
    all
}

/// Expression planners (operators, field access); consulted before DataFusion's own.
pub fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<dyn ExprPlanner>> = Vec::new();
    all.extend([Arc::new(strings::SubstrPlanner) as Arc<dyn ExprPlanner>]);
    all
}

/// The error for a construct dap cannot evaluate exactly as BigQuery does: the statement fails
/// with `not supported: <what>` instead of returning different rows.
pub fn not_supported(what: impl Into<String>) -> datafusion::error::DataFusionError {
    crate::error::DapError::not_supported(what).into()
}

/// A run-time error BigQuery raises (overflow, division by zero, bad input), with its wording.
pub fn bq_error(message: impl Into<String>) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::Execution(message.into())
}
