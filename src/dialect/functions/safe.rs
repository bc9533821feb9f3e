//! The `SAFE.` prefix: `SAFE.f(args)` returns NULL where `f(args)` would raise an error.
//!
//! Every registered scalar function `f` gets a twin named `safe.f` ([`with_safe_twins`]); the
//! token rewrite in [`crate::dialect::tokens`] turns `SAFE.F(...)` into a call of it. The twin evaluates the whole
//! batch first and, only if that fails, evaluates row by row so that just the failing rows
//! become NULL.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/functions-reference#safe_prefix>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, new_null_array};
use datafusion::arrow::compute::concat;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// The name of the `SAFE.` twin of a function.
pub fn safe_name(name: &str) -> String {
    format!("safe.{name}")
}

/// `functions` plus a `SAFE.` twin of each.
pub fn with_safe_twins(functions: Vec<Arc<ScalarUDF>>) -> Vec<Arc<ScalarUDF>> {
    let twins: Vec<Arc<ScalarUDF>> = functions
        .iter()
        .map(|f| Arc::new(ScalarUDF::new_from_impl(SafeUdf::new(f.clone()))))
        .collect();
    functions.into_iter().chain(twins).collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SafeUdf {
    name: String,
    aliases: Vec<String>,
    inner: Arc<ScalarUDF>,
}

impl SafeUdf {
    fn new(inner: Arc<ScalarUDF>) -> Self {
        SafeUdf {
            name: safe_name(inner.name()),
            aliases: inner.aliases().iter().map(|a| safe_name(a)).collect(),
            inner,
        }
    }
}

impl ScalarUDFImpl for SafeUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let field = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(field.as_ref().clone().with_nullable(true)))
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ScalarFunctionArgs {
            args: values,
            arg_fields,
            number_rows,
            return_field,
            config_options,
        } = args;
        let call = |values: Vec<ColumnarValue>, rows: usize| {
            self.inner.invoke_with_args(ScalarFunctionArgs {
                args: values,
                arg_fields: arg_fields.clone(),
                number_rows: rows,
                return_field: return_field.clone(),
                config_options: config_options.clone(),
            })
        };
        if let Ok(out) = call(values.clone(), number_rows) {
            return Ok(out);
        }
        let all_scalar = values.iter().all(|v| matches!(v, ColumnarValue::Scalar(_)));
        if all_scalar {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(
                return_field.data_type(),
            )?));
        }
        // Row by row: only the rows that fail become NULL.
        let mut parts: Vec<ArrayRef> = Vec::with_capacity(number_rows);
        for row in 0..number_rows {
            let one: Vec<ColumnarValue> = values
                .iter()
                .map(|v| match v {
                    ColumnarValue::Array(a) => ColumnarValue::Array(a.slice(row, 1)),
                    ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.clone()),
                })
                .collect();
            let part = match call(one, 1) {
                Ok(out) => out.into_array(1)?,
                Err(_) => new_null_array(return_field.data_type(), 1),
            };
            parts.push(part);
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
        if refs.is_empty() {
            return Ok(ColumnarValue::Array(new_null_array(
                return_field.data_type(),
                0,
            )));
        }
        Ok(ColumnarValue::Array(concat(&refs)?))
    }
}
