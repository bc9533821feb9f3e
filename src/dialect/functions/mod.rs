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

pub mod arithmetic;
pub mod array_elements;
pub mod array_subscript;
pub mod bucket;
pub mod cast;
pub mod cast_format;
pub mod civil_math;
pub mod code_points;
pub mod corr;
pub mod empty_array;
pub mod format;
pub mod format_elements;
pub mod generate;
pub mod hash;
pub mod having_bound;
pub mod interval;
pub mod json_build;
pub mod json_extract;
pub mod json_lax;
pub mod json_mutate;
pub mod json_path;
pub mod json_udf;
pub mod json_value;
pub mod like_quantified;
pub mod math;
pub mod normalize;
pub mod numeric_format;
pub mod parse_numeric;
pub mod percentile;
pub mod range;
pub mod regexp;
pub mod row_fn;
pub mod rowwise;
pub mod safe;
pub mod strings;
pub mod temporal;
pub mod udf;

use std::sync::Arc;

use datafusion::logical_expr::planner::ExprPlanner;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

/// BigQuery scalar functions (each also gets a `SAFE.` twin, see [`safe`]).
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<ScalarUDF>> = Vec::new();
    all.extend(civil_math::scalar_functions());
    all.extend(format_elements::scalar_functions());
    all.extend(interval::scalar_functions());
    all.extend(strings::scalar_functions());
    all.extend(code_points::scalar_functions());
    all.extend(regexp::scalar_functions());
    all.extend(normalize::scalar_functions());
    all.extend(format::scalar_functions());
    all.extend(hash::scalar_functions());
    all.extend(math::scalar_functions());
    all.extend(parse_numeric::scalar_functions());
    all.extend(arithmetic::scalar_functions());
    all.extend(cast::scalar_functions());
    all.extend(cast_format::scalar_functions());
    all.extend(json_extract::scalar_functions());
    all.extend(json_lax::scalar_functions());
    all.extend(json_build::scalar_functions());
    all.extend(json_mutate::scalar_functions());
    all.extend(array_elements::scalar_functions());
    all.extend(array_subscript::scalar_functions());
    all.extend(generate::scalar_functions());
    all.extend(range::scalar_functions());
    all.extend(bucket::scalar_functions());
    all.extend(like_quantified::scalar_functions());
    all
}

/// BigQuery aggregate functions.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    #[allow(unused_mut)]
    let mut all: Vec<Arc<AggregateUDF>> = Vec::new();
    all.extend(corr::aggregate_functions());
    all.extend(percentile::aggregate_functions());
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
    all.push(Arc::new(strings::SubstrPlanner));
    all.extend(interval::expr_planners());
    all.extend(arithmetic::expr_planners());
    all.push(Arc::new(json_extract::JsonPlanner));
    all.extend(array_subscript::expr_planners());
    all.extend(empty_array::expr_planners());
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
