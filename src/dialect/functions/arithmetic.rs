//! BigQuery arithmetic operators `+ - * /` on INT64 and FLOAT64.
//!
//! - INT64 `+ - *` that overflow raise `int64 overflow: <a> <op> <b>` (DataFusion would wrap).
//! - `/` always returns FLOAT64 for INT64 and FLOAT64 operands, and a zero divisor raises
//!   `division by zero: <a> / <b>`.
//! - FLOAT64 results that overflow to infinity from finite operands raise
//!   `floating point overflow: <a> <op> <b>`.
//!
//! An [`ExprPlanner`] sees each binary operator before DataFusion's planners and, when both
//! operands are INT64/FLOAT64, plans a call of one of this file's functions instead. Other
//! operand types (NUMERIC, dates, intervals) are left to the other planners.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#arithmetic_operators>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Builder, Int64Builder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, ScalarUDF};
use datafusion::sql::sqlparser::ast::BinaryOperator;

use super::bq_error;
use super::udf::Udf;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
        }
    }

    fn udf_name(self) -> &'static str {
        match self {
            Op::Add => "$bq_add",
            Op::Sub => "$bq_subtract",
            Op::Mul => "$bq_multiply",
            Op::Div => "$bq_divide",
        }
    }
}

/// The operator functions the planner calls.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    [Op::Add, Op::Sub, Op::Mul, Op::Div]
        .into_iter()
        .map(|op| {
            Udf::new(
                op.udf_name(),
                coerce_operands,
                ret_type(op),
                move |a, ret| eval(op, a, ret),
            )
            .build()
        })
        .collect()
}

/// The arithmetic planner.
pub fn expr_planners() -> Vec<Arc<dyn ExprPlanner>> {
    vec![Arc::new(ArithmeticPlanner)]
}

fn ret_type(op: Op) -> fn(&[DataType]) -> Result<DataType> {
    if op == Op::Div {
        |_| Ok(DataType::Float64)
    } else {
        |types| {
            Ok(if types.iter().all(|t| *t == DataType::Int64) {
                DataType::Int64
            } else {
                DataType::Float64
            })
        }
    }
}

fn is_int(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64
    )
}

fn coerce_operands(types: &[DataType]) -> Result<Vec<DataType>> {
    let to = if types.iter().all(is_int) {
        DataType::Int64
    } else {
        DataType::Float64
    };
    Ok(vec![to; types.len()])
}

fn eval(op: Op, a: &[ArrayRef], ret: &DataType) -> Result<ArrayRef> {
    if a[0].data_type() == &DataType::Int64 && op != Op::Div {
        let x = a[0].as_primitive::<Int64Type>();
        let y = a[1].as_primitive::<Int64Type>();
        let mut out = Int64Builder::with_capacity(x.len());
        for (x, y) in x.iter().zip(y.iter()) {
            let (Some(x), Some(y)) = (x, y) else {
                out.append_null();
                continue;
            };
            let r = match op {
                Op::Add => x.checked_add(y),
                Op::Sub => x.checked_sub(y),
                _ => x.checked_mul(y),
            };
            let r =
                r.ok_or_else(|| bq_error(format!("int64 overflow: {x} {} {y}", op.symbol())))?;
            out.append_value(r);
        }
        return Ok(Arc::new(out.finish()));
    }
    debug_assert_eq!(ret, &DataType::Float64);
    let (x, y) = (as_f64(&a[0])?, as_f64(&a[1])?);
    let (x, y) = (
        x.as_primitive::<Float64Type>(),
        y.as_primitive::<Float64Type>(),
    );
    let mut out = Float64Builder::with_capacity(x.len());
    for (x, y) in x.iter().zip(y.iter()) {
        let (Some(x), Some(y)) = (x, y) else {
            out.append_null();
            continue;
        };
        let r = match op {
            Op::Add => x + y,
            Op::Sub => x - y,
            Op::Mul => x * y,
            Op::Div => {
                if y == 0.0 {
                    return Err(bq_error(format!(
                        "division by zero: {} / {}",
                        show(x),
                        show(y)
                    )));
                }
                x / y
            }
        };
        if r.is_infinite() && x.is_finite() && y.is_finite() {
            return Err(bq_error(format!(
                "floating point overflow: {} {} {}",
                show(x),
                op.symbol(),
                show(y)
            )));
        }
        out.append_value(r);
    }
    Ok(Arc::new(out.finish()))
}

fn as_f64(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(a, &DataType::Float64)?)
}

/// A number in an error message: integral values without a fraction, like BigQuery.
fn show(x: f64) -> String {
    format!("{x}")
}

#[derive(Debug)]
struct ArithmeticPlanner;

impl ExprPlanner for ArithmeticPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        let op = match expr.op {
            BinaryOperator::Plus => Op::Add,
            BinaryOperator::Minus => Op::Sub,
            BinaryOperator::Multiply => Op::Mul,
            BinaryOperator::Divide => Op::Div,
            _ => return Ok(PlannerResult::Original(expr)),
        };
        let numeric = |e: &Expr| {
            e.get_type(schema)
                .map(|t| is_int(&t) || matches!(t, DataType::Float32 | DataType::Float64))
                .unwrap_or(false)
        };
        let is_date = |e: &Expr| matches!(e.get_type(schema), Ok(DataType::Date32));
        if matches!(op, Op::Sub) && is_date(&expr.left) && is_date(&expr.right) {
            // BigQuery returns an INTERVAL; DataFusion a day count.
            return Err(super::not_supported("DATE - DATE"));
        }
        if !(numeric(&expr.left) && numeric(&expr.right)) {
            return Ok(PlannerResult::Original(expr));
        }
        let udf = scalar_functions()
            .into_iter()
            .find(|f| f.name() == op.udf_name());
        let Some(udf) = udf else {
            return Ok(PlannerResult::Original(expr));
        };
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(udf, vec![expr.left, expr.right]),
        )))
    }
}
