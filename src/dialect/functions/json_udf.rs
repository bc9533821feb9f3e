//! The machinery shared by dap's JSON functions: a row-at-a-time scalar UDF ([`JsonUdf`]) whose
//! arguments arrive as [`Arg`] cells that know whether they hold a `JSON` value, and the
//! conversion of any SQL value to JSON (TO_JSON's rules).
//!
//! A JSON result is a Utf8 column tagged `arrow.json` ([`crate::dialect::types::json_metadata`]).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_encodings>.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Float64Builder, Int64Builder, ListArray, ListBuilder,
    StringBuilder,
};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Decimal256Type, DecimalType, Field, FieldRef,
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};

use super::json_value::{Json, WideNumbers, format_double};
use super::not_supported;
use crate::dialect::types::{is_json, json_metadata};

/// What a JSON function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    Json,
    /// JSON when the first argument is JSON, STRING otherwise (JSON_QUERY on a STRING).
    JsonOrString,
    Str,
    Bool,
    Int,
    Float,
    StrList,
    /// ARRAY<JSON> when the first argument is JSON, ARRAY<STRING> otherwise.
    JsonOrStringList,
}

/// One result cell.
pub enum Out {
    Null,
    Json(Json),
    Str(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    List(Vec<Option<String>>),
}

/// One argument cell.
pub struct Arg<'a> {
    pub array: &'a dyn Array,
    pub row: usize,
    pub field: &'a Field,
}

pub type Eval = fn(&[Arg]) -> Result<Out>;

/// A JSON function evaluated row by row.
#[derive(Debug)]
pub struct JsonUdf {
    name: &'static str,
    signature: Signature,
    ret: Ret,
    eval: Eval,
}

impl PartialEq for JsonUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ret == other.ret
    }
}
impl Eq for JsonUdf {}
impl std::hash::Hash for JsonUdf {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// A JSON function `name` returning `ret`, computed by `eval`.
pub fn udf(name: &'static str, ret: Ret, eval: Eval) -> Arc<ScalarUDF> {
    Arc::new(ScalarUDF::new_from_impl(JsonUdf {
        name,
        signature: Signature::one_of(
            vec![TypeSignature::Nullary, TypeSignature::VariadicAny],
            Volatility::Immutable,
        ),
        ret,
        eval,
    }))
}

fn list_of_strings() -> DataType {
    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
}

fn list_of_json() -> DataType {
    DataType::List(Arc::new(
        Field::new("item", DataType::Utf8, true).with_metadata(json_metadata()),
    ))
}

impl JsonUdf {
    fn effective(&self, first_is_json: bool) -> Ret {
        match (self.ret, first_is_json) {
            (Ret::JsonOrString, true) => Ret::Json,
            (Ret::JsonOrString, false) => Ret::Str,
            (Ret::JsonOrStringList, true) => Ret::JsonOrStringList,
            (Ret::JsonOrStringList, false) => Ret::StrList,
            (r, _) => r,
        }
    }
}

fn data_type(ret: Ret) -> DataType {
    match ret {
        Ret::Json | Ret::JsonOrString | Ret::Str => DataType::Utf8,
        Ret::Bool => DataType::Boolean,
        Ret::Int => DataType::Int64,
        Ret::Float => DataType::Float64,
        Ret::StrList => list_of_strings(),
        Ret::JsonOrStringList => list_of_json(),
    }
}

impl ScalarUDFImpl for JsonUdf {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(data_type(self.effective(false)))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let first_is_json = args.arg_fields.first().is_some_and(|f| is_json(f));
        let ret = self.effective(first_is_json);
        let field = Field::new(self.name, data_type(ret), true);
        Ok(Arc::new(if ret == Ret::Json {
            field.with_metadata(json_metadata())
        } else {
            field
        }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let ret = match args.return_field.data_type() {
            DataType::List(f) if is_json(f) => Ret::JsonOrStringList,
            DataType::List(_) => Ret::StrList,
            _ => self.effective(is_json(args.return_field.as_ref())),
        };
        let mut outs = Vec::with_capacity(rows);
        for row in 0..rows {
            let cells: Vec<Arg> = arrays
                .iter()
                .zip(&args.arg_fields)
                .map(|(a, f)| Arg {
                    array: a.as_ref(),
                    row,
                    field: f.as_ref(),
                })
                .collect();
            outs.push((self.eval)(&cells)?);
        }
        let array: ArrayRef = match ret {
            Ret::Json | Ret::JsonOrString | Ret::Str => {
                let mut b = StringBuilder::new();
                for o in outs {
                    match o {
                        Out::Json(j) => b.append_value(j.to_text()),
                        Out::Str(s) => b.append_value(s),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Ret::Bool => {
                let mut b = BooleanBuilder::new();
                for o in outs {
                    b.append_option(if let Out::Bool(v) = o { Some(v) } else { None });
                }
                Arc::new(b.finish())
            }
            Ret::Int => {
                let mut b = Int64Builder::new();
                for o in outs {
                    b.append_option(if let Out::Int(v) = o { Some(v) } else { None });
                }
                Arc::new(b.finish())
            }
            Ret::Float => {
                let mut b = Float64Builder::new();
                for o in outs {
                    b.append_option(if let Out::Float(v) = o { Some(v) } else { None });
                }
                Arc::new(b.finish())
            }
            Ret::StrList | Ret::JsonOrStringList => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for o in outs {
                    if let Out::List(items) = o {
                        for i in items {
                            b.values().append_option(i);
                        }
                        b.append(true);
                    } else {
                        b.append(false);
                    }
                }
                let list = b.finish();
                if ret == Ret::JsonOrStringList {
                    let (_, offsets, values, nulls) = list.into_parts();
                    let item = Arc::new(
                        Field::new("item", DataType::Utf8, true).with_metadata(json_metadata()),
                    );
                    Arc::new(ListArray::try_new(item, offsets, values, nulls)?)
                } else {
                    Arc::new(list)
                }
            }
        };
        Ok(ColumnarValue::Array(array))
    }
}

/// TO_JSON's options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ToJson {
    /// Numbers outside FLOAT64's exact range become strings.
    pub stringify_wide_numbers: bool,
}

const EXACT_IN_DOUBLE: i128 = 9_007_199_254_740_992;

impl Arg<'_> {
    pub fn is_null(&self) -> bool {
        self.array.is_null(self.row) || self.array.data_type() == &DataType::Null
    }

    pub fn is_json(&self) -> bool {
        is_json(self.field)
    }

    /// A STRING argument.
    pub fn str(&self) -> Result<Option<String>> {
        if self.is_null() {
            return Ok(None);
        }
        Ok(Some(match self.array.data_type() {
            DataType::Utf8 => self.array.as_string::<i32>().value(self.row).to_string(),
            DataType::LargeUtf8 => self.array.as_string::<i64>().value(self.row).to_string(),
            DataType::Utf8View => self.array.as_string_view().value(self.row).to_string(),
            other => {
                return Err(not_supported(format!(
                    "{other} argument where STRING is expected"
                )));
            }
        }))
    }

    /// A BOOL argument.
    pub fn bool(&self) -> Result<Option<bool>> {
        if self.is_null() {
            return Ok(None);
        }
        match self.array.data_type() {
            DataType::Boolean => Ok(Some(self.array.as_boolean().value(self.row))),
            other => Err(not_supported(format!(
                "{other} argument where BOOL is expected"
            ))),
        }
    }

    /// A JSON argument (a STRING that reached here untagged is read as JSON text).
    pub fn json(&self) -> Result<Option<Json>> {
        match self.str()? {
            None => Ok(None),
            Some(t) => Ok(Some(Json::parse(&t)?.normalize(WideNumbers::Exact)?)),
        }
    }

    /// The argument as a JSON value by TO_JSON's rules (SQL NULL is JSON null).
    pub fn to_json(&self, opts: ToJson) -> Result<Json> {
        cell_to_json(self.array, self.row, self.field, opts)
    }
}

fn int_json(v: i128, opts: ToJson) -> Json {
    if opts.stringify_wide_numbers && !(-EXACT_IN_DOUBLE..=EXACT_IN_DOUBLE).contains(&v) {
        Json::Str(v.to_string())
    } else {
        Json::Num(v.to_string())
    }
}

fn float_json(f: f64) -> Json {
    if f.is_nan() {
        Json::Str("NaN".into())
    } else if f.is_infinite() {
        Json::Str(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        Json::Num(format_double(f))
    }
}

fn decimal_json(text: String, opts: ToJson) -> Json {
    let t = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    let exact = t
        .parse::<f64>()
        .is_ok_and(|f| format_double(f) == t && f.abs() <= EXACT_IN_DOUBLE as f64);
    if opts.stringify_wide_numbers && !exact {
        Json::Str(t)
    } else {
        Json::Num(t)
    }
}

/// One cell of any supported type as JSON.
pub fn cell_to_json(array: &dyn Array, row: usize, field: &Field, opts: ToJson) -> Result<Json> {
    if array.is_null(row) || array.data_type() == &DataType::Null {
        return Ok(Json::Null);
    }
    Ok(match array.data_type() {
        DataType::Boolean => Json::Bool(array.as_boolean().value(row)),
        DataType::Int8 => int_json(array.as_primitive::<Int8Type>().value(row).into(), opts),
        DataType::Int16 => int_json(array.as_primitive::<Int16Type>().value(row).into(), opts),
        DataType::Int32 => int_json(array.as_primitive::<Int32Type>().value(row).into(), opts),
        DataType::Int64 => int_json(array.as_primitive::<Int64Type>().value(row).into(), opts),
        DataType::UInt8 => int_json(array.as_primitive::<UInt8Type>().value(row).into(), opts),
        DataType::UInt16 => int_json(array.as_primitive::<UInt16Type>().value(row).into(), opts),
        DataType::UInt32 => int_json(array.as_primitive::<UInt32Type>().value(row).into(), opts),
        DataType::UInt64 => int_json(array.as_primitive::<UInt64Type>().value(row).into(), opts),
        DataType::Float32 => float_json(array.as_primitive::<Float32Type>().value(row).into()),
        DataType::Float64 => float_json(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, s) => {
            let v = array.as_primitive::<Decimal128Type>().value(row);
            decimal_json(Decimal128Type::format_decimal(v, 38, *s), opts)
        }
        DataType::Decimal256(_, s) => {
            let v = array.as_primitive::<Decimal256Type>().value(row);
            decimal_json(Decimal256Type::format_decimal(v, 76, *s), opts)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = Arg { array, row, field }.str()?.unwrap_or_default();
            if is_json(field) {
                Json::parse(&text)?
            } else {
                Json::Str(text)
            }
        }
        DataType::Date32 => {
            let d = array.as_primitive::<Date32Type>().value(row);
            let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(d.into())))
                .ok_or_else(|| not_supported("DATE out of range in JSON"))?;
            Json::Str(date.format("%Y-%m-%d").to_string())
        }
        DataType::List(item) => {
            let list = array.as_list::<i32>();
            let values = list.value(row);
            let mut out = Vec::with_capacity(values.len());
            for i in 0..values.len() {
                out.push(cell_to_json(values.as_ref(), i, item, opts)?);
            }
            Json::Arr(out)
        }
        DataType::LargeList(item) => {
            let list = array.as_list::<i64>();
            let values = list.value(row);
            let mut out = Vec::with_capacity(values.len());
            for i in 0..values.len() {
                out.push(cell_to_json(values.as_ref(), i, item, opts)?);
            }
            Json::Arr(out)
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut out = Vec::with_capacity(fields.len());
            for (i, f) in fields.iter().enumerate() {
                out.push((
                    f.name().clone(),
                    cell_to_json(s.column(i).as_ref(), row, f, opts)?,
                ));
            }
            Json::Obj(out)
        }
        other => return Err(not_supported(format!("{other} values in JSON"))),
    })
}
