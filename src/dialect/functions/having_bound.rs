//! `AGG(x HAVING MAX|MIN h)`: the aggregate over only the rows of the group whose `h` is the
//! group's maximum (minimum). [`crate::dialect::having_bound`] rewrites the call to
//! `"$having_max_agg"(x, h)`, a wrapper around the registered aggregate `agg` that keeps the
//! best `h` seen so far next to an inner accumulator: a row with a better `h` starts a fresh
//! inner accumulator, a row with the same `h` is fed to it, others are skipped. Rows whose `h`
//! is NULL are skipped; with no non-NULL `h` the result is the aggregate of no rows.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/aggregate-function-calls#max_min_clause>.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray};
use datafusion::arrow::compute::filter;
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::PhysicalSortExpr;

/// The aggregates that take a HAVING MAX/MIN clause in dap.
pub const WRAPPED: [&str; 5] = ["avg", "sum", "count", "min", "max"];

/// The wrapper's name for `agg` (lower case) and the bound.
pub fn wrapper_name(agg: &str, max: bool) -> String {
    format!("$having_{}_{agg}", if max { "max" } else { "min" })
}

/// HAVING MAX and HAVING MIN wrappers of the registered aggregates named in [`WRAPPED`].
pub fn wrap_aggregates(registered: &[Arc<AggregateUDF>]) -> Vec<Arc<AggregateUDF>> {
    let mut out = Vec::new();
    for name in WRAPPED {
        // Later registrations win, as in the session.
        let Some(inner) = registered.iter().rev().find(|u| u.name() == name) else {
            continue;
        };
        for max in [true, false] {
            out.push(Arc::new(AggregateUDF::new_from_impl(HavingBound {
                name: wrapper_name(name, max),
                inner: Arc::clone(inner),
                max,
                signature: Signature::user_defined(Volatility::Immutable),
            })));
        }
    }
    out
}

#[derive(Debug)]
struct HavingBound {
    name: String,
    inner: Arc<AggregateUDF>,
    max: bool,
    signature: Signature,
}

impl PartialEq for HavingBound {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for HavingBound {}

impl Hash for HavingBound {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

fn split<T>(all: &[T]) -> Result<(&[T], &T)> {
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => Ok((rest, last)),
        _ => exec_err!("HAVING MAX/MIN needs the aggregate's argument and the bound"),
    }
}

impl AggregateUDFImpl for HavingBound {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let (args, bound) = split(arg_types)?;
        let fields: Vec<FieldRef> = args
            .iter()
            .enumerate()
            .map(|(i, t)| Arc::new(Field::new(format!("c{i}"), t.clone(), true)))
            .collect();
        let mut out: Vec<DataType> = fields_with_udf(&fields, self.inner.as_ref())?
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        out.push(bound.clone());
        Ok(out)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let (args, _) = split(arg_types)?;
        self.inner.return_type(args)
    }

    fn return_field(&self, arg_fields: &[FieldRef]) -> Result<FieldRef> {
        let (args, _) = split(arg_fields)?;
        let f = self.inner.return_field(args)?;
        Ok(Arc::new(f.as_ref().clone().with_name(self.name())))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let (inputs, bound) = split(args.input_fields)?;
        let mut fields = vec![Arc::new(Field::new(
            format!("{}[bound]", args.name),
            bound.data_type().clone(),
            true,
        ))];
        fields.extend(self.inner.state_fields(StateFieldsArgs {
            name: args.name,
            input_fields: inputs,
            return_field: args.return_field,
            ordering_fields: args.ordering_fields,
            is_distinct: args.is_distinct,
        })?);
        Ok(fields)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let (exprs, _) = split(args.exprs)?;
        let (fields, bound_field) = split(args.expr_fields)?;
        let owned = OwnedArgs {
            return_field: args.return_field.clone(),
            schema: args.schema.clone(),
            ignore_nulls: args.ignore_nulls,
            order_bys: args.order_bys.to_vec(),
            is_reversed: args.is_reversed,
            name: args.name.to_string(),
            is_distinct: args.is_distinct,
            exprs: exprs.to_vec(),
            expr_fields: fields.to_vec(),
        };
        let inner = owned.make(&self.inner)?;
        Ok(Box::new(BoundAccumulator {
            udf: Arc::clone(&self.inner),
            args: owned,
            inner,
            bound: None,
            bound_type: bound_field.data_type().clone(),
            max: self.max,
        }))
    }
}

/// The inner aggregate's accumulator arguments, kept to start fresh accumulators.
#[derive(Debug)]
struct OwnedArgs {
    return_field: FieldRef,
    schema: Schema,
    ignore_nulls: bool,
    order_bys: Vec<PhysicalSortExpr>,
    is_reversed: bool,
    name: String,
    is_distinct: bool,
    exprs: Vec<Arc<dyn PhysicalExpr>>,
    expr_fields: Vec<FieldRef>,
}

impl OwnedArgs {
    fn make(&self, udf: &AggregateUDF) -> Result<Box<dyn Accumulator>> {
        udf.accumulator(AccumulatorArgs {
            return_field: Arc::clone(&self.return_field),
            schema: &self.schema,
            ignore_nulls: self.ignore_nulls,
            order_bys: &self.order_bys,
            is_reversed: self.is_reversed,
            name: &self.name,
            is_distinct: self.is_distinct,
            exprs: &self.exprs,
            expr_fields: &self.expr_fields,
        })
    }
}

#[derive(Debug)]
struct BoundAccumulator {
    udf: Arc<AggregateUDF>,
    args: OwnedArgs,
    inner: Box<dyn Accumulator>,
    /// The best bound seen so far (None: no row with a non-NULL bound yet).
    bound: Option<ScalarValue>,
    bound_type: DataType,
    max: bool,
}

impl BoundAccumulator {
    /// Whether `candidate` beats, ties or loses to the current bound; a better one resets the
    /// inner accumulator.
    fn offer(&mut self, candidate: ScalarValue) -> Result<bool> {
        if candidate.is_null() {
            return Ok(false);
        }
        let order = match &self.bound {
            None => Ordering::Greater,
            Some(b) => match candidate.partial_cmp(b) {
                Some(o) => o,
                None => return exec_err!("HAVING MAX/MIN: bounds of different types"),
            },
        };
        let better = if self.max {
            order == Ordering::Greater
        } else {
            order == Ordering::Less
        };
        if better || self.bound.is_none() {
            self.inner = self.args.make(&self.udf)?;
            self.bound = Some(candidate);
            return Ok(true);
        }
        Ok(order == Ordering::Equal)
    }

    /// The rows of `bounds` equal to the current bound.
    fn mask(&self, bounds: &ArrayRef) -> Result<BooleanArray> {
        let Some(b) = &self.bound else {
            return Ok(BooleanArray::from(vec![false; bounds.len()]));
        };
        Ok(eq(bounds, &b.to_scalar()?)?)
    }
}

impl Accumulator for BoundAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let (args, bounds) = split(values)?;
        let mut best: Option<ScalarValue> = None;
        for row in 0..bounds.len() {
            let v = ScalarValue::try_from_array(bounds, row)?;
            if v.is_null() {
                continue;
            }
            let wins = match &best {
                None => true,
                Some(b) => {
                    let o = v.partial_cmp(b);
                    if self.max {
                        o == Some(Ordering::Greater)
                    } else {
                        o == Some(Ordering::Less)
                    }
                }
            };
            if wins {
                best = Some(v);
            }
        }
        let Some(best) = best else {
            return Ok(());
        };
        if !self.offer(best)? {
            return Ok(());
        }
        let mask = self.mask(bounds)?;
        let kept = args
            .iter()
            .map(|a| filter(a, &mask).map_err(Into::into))
            .collect::<Result<Vec<_>>>()?;
        self.inner.update_batch(&kept)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some((bounds, inner)) = states.split_first() else {
            return Ok(());
        };
        for row in 0..bounds.len() {
            let b = ScalarValue::try_from_array(bounds, row)?;
            if self.offer(b)? {
                let one = inner.iter().map(|a| a.slice(row, 1)).collect::<Vec<_>>();
                self.inner.merge_batch(&one)?;
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let bound = match &self.bound {
            Some(b) => b.clone(),
            None => ScalarValue::try_from(&self.bound_type)?,
        };
        let mut out = vec![bound];
        out.extend(self.inner.state()?);
        Ok(out)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.inner.evaluate()
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.inner.size()
    }
}
