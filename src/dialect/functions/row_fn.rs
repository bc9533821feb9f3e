//! A scalar UDF defined by a function of one row's values: the building block of the string
//! family, where BigQuery's rules (character positions, NULL handling, errors) are easiest to
//! state one value at a time.
//!
//! A [`RowFn`] accepts any argument types and checks them when it runs; with `strict` set, a NULL
//! argument makes the result NULL without calling the function.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, new_empty_array};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::bq_error;

/// Computes the result type from the argument types.
pub type ReturnFn = fn(&[DataType]) -> Result<DataType>;
/// Computes one row's result from its argument values.
pub type EvalFn = fn(&[ScalarValue]) -> Result<ScalarValue>;

#[derive(Debug)]
pub struct RowFn {
    name: &'static str,
    aliases: Vec<String>,
    signature: Signature,
    strict: bool,
    ret: ReturnFn,
    eval: EvalFn,
}

impl PartialEq for RowFn {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RowFn {}
impl Hash for RowFn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// A NULL-propagating function (any NULL argument gives NULL).
pub fn udf(name: &'static str, aliases: &[&str], ret: ReturnFn, eval: EvalFn) -> Arc<ScalarUDF> {
    make(name, aliases, true, ret, eval)
}

/// A function that sees NULL arguments itself.
pub fn udf_nulls(
    name: &'static str,
    aliases: &[&str],
    ret: ReturnFn,
    eval: EvalFn,
) -> Arc<ScalarUDF> {
    make(name, aliases, false, ret, eval)
}

fn make(
    name: &'static str,
    aliases: &[&str],
    strict: bool,
    ret: ReturnFn,
    eval: EvalFn,
) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(RowFn {
        name,
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        signature: Signature::variadic_any(Volatility::Immutable),
        strict,
        ret,
        eval,
    }))
}

impl RowFn {
    fn one(&self, values: &[ScalarValue], rt: &DataType) -> Result<ScalarValue> {
        let out = if self.strict && values.iter().any(|v| v.is_null()) {
            ScalarValue::Null
        } else {
            (self.eval)(values)?
        };
        if out.is_null() {
            return ScalarValue::try_from(rt);
        }
        if &out.data_type() != rt {
            return out.cast_to(rt);
        }
        Ok(out)
    }
}

impl ScalarUDFImpl for RowFn {
    fn name(&self) -> &str {
        self.name
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rt = args.return_field.data_type().clone();
        if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            let values: Vec<ScalarValue> = args
                .args
                .iter()
                .map(|a| match a {
                    ColumnarValue::Scalar(s) => s.clone(),
                    ColumnarValue::Array(_) => ScalarValue::Null,
                })
                .collect();
            return Ok(ColumnarValue::Scalar(self.one(&values, &rt)?));
        }
        let n = args.number_rows;
        let arrays: Vec<ArrayRef> = ColumnarValue::values_to_arrays(&args.args)?;
        if n == 0 {
            return Ok(ColumnarValue::Array(new_empty_array(&rt)));
        }
        let mut out = Vec::with_capacity(n);
        for row in 0..n {
            let values = arrays
                .iter()
                .map(|a| ScalarValue::try_from_array(a.as_ref(), row))
                .collect::<Result<Vec<_>>>()?;
            out.push(self.one(&values, &rt)?);
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

// ---- helpers for argument values ----

/// A STRING or BYTES value.
pub enum Text<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

pub fn is_bytes_type(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

/// STRING unless the first argument is BYTES.
pub fn same_as_first(args: &[DataType]) -> Result<DataType> {
    Ok(match args.first() {
        Some(t) if is_bytes_type(t) => DataType::Binary,
        _ => DataType::Utf8,
    })
}

pub fn ret_utf8(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Utf8)
}
pub fn ret_binary(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Binary)
}
pub fn ret_i64(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Int64)
}
pub fn ret_bool(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Boolean)
}
pub fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(t, true)))
}
pub fn ret_list_i64(_: &[DataType]) -> Result<DataType> {
    Ok(list_of(DataType::Int64))
}
/// ARRAY<STRING> unless the first argument is BYTES.
pub fn ret_list_same(args: &[DataType]) -> Result<DataType> {
    Ok(list_of(same_as_first(args)?))
}

pub fn text<'a>(v: &'a ScalarValue, what: &str) -> Result<Text<'a>> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(Text::Str(s)),
        ScalarValue::Binary(Some(b))
        | ScalarValue::LargeBinary(Some(b))
        | ScalarValue::BinaryView(Some(b))
        | ScalarValue::FixedSizeBinary(_, Some(b)) => Ok(Text::Bytes(b)),
        other => Err(bq_error(format!(
            "{what} expects STRING or BYTES, got {}",
            other.data_type()
        ))),
    }
}

pub fn string<'a>(v: &'a ScalarValue, what: &str) -> Result<&'a str> {
    match text(v, what)? {
        Text::Str(s) => Ok(s),
        Text::Bytes(_) => Err(bq_error(format!("{what} expects STRING, got BYTES"))),
    }
}

pub fn int(v: &ScalarValue, what: &str) -> Result<i64> {
    let n = match v {
        ScalarValue::Int8(Some(x)) => *x as i64,
        ScalarValue::Int16(Some(x)) => *x as i64,
        ScalarValue::Int32(Some(x)) => *x as i64,
        ScalarValue::Int64(Some(x)) => *x,
        ScalarValue::UInt8(Some(x)) => *x as i64,
        ScalarValue::UInt16(Some(x)) => *x as i64,
        ScalarValue::UInt32(Some(x)) => *x as i64,
        ScalarValue::UInt64(Some(x)) => {
            i64::try_from(*x).map_err(|_| bq_error("int64 overflow"))?
        }
        other => {
            return Err(bq_error(format!(
                "{what} expects INT64, got {}",
                other.data_type()
            )));
        }
    };
    Ok(n)
}

/// The elements of an ARRAY<INT64> value (None for NULL elements).
pub fn int_list(v: &ScalarValue, what: &str) -> Result<Vec<Option<i64>>> {
    let arr: ArrayRef = match v {
        ScalarValue::List(l) => l.value(0),
        ScalarValue::LargeList(l) => l.value(0),
        ScalarValue::FixedSizeList(l) => l.value(0),
        other => {
            return Err(bq_error(format!(
                "{what} expects ARRAY<INT64>, got {}",
                other.data_type()
            )));
        }
    };
    (0..arr.len())
        .map(|i| {
            let s = ScalarValue::try_from_array(arr.as_ref(), i)?;
            if s.is_null() {
                Ok(None)
            } else {
                int(&s, what).map(Some)
            }
        })
        .collect()
}

pub fn str_val(s: impl Into<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(s.into()))
}
pub fn bytes_val(b: Vec<u8>) -> ScalarValue {
    ScalarValue::Binary(Some(b))
}
pub fn i64_val(n: i64) -> ScalarValue {
    ScalarValue::Int64(Some(n))
}
pub fn list_val(values: Vec<ScalarValue>, t: &DataType) -> ScalarValue {
    ScalarValue::List(ScalarValue::new_list_nullable(&values, t))
}
