//! Reading JSON: JSON_QUERY, JSON_VALUE, JSON_QUERY_ARRAY, JSON_VALUE_ARRAY, the legacy
//! JSON_EXTRACT, JSON_EXTRACT_SCALAR, JSON_EXTRACT_ARRAY, JSON_EXTRACT_STRING_ARRAY, JSON_TYPE,
//! and field access on JSON (`j.a.b`, `j['k']`, `j[0]`).
//!
//! On a `JSON` value JSON_QUERY returns JSON (a JSON `null` stays JSON `null`); on a STRING it
//! returns STRING, reads the text leniently and keeps it as written (duplicate keys, key order),
//! and a JSON `null` becomes SQL NULL.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#json_subscript_operator>.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, ListArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Column, DFSchema, Result, ScalarValue, TableReference};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawFieldAccessExpr};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, GetFieldAccess, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, lit,
};

use super::json_path::{self, Step, Syntax};
use super::json_udf::{Arg, Out, Ret, udf};
use super::json_value::Json;
use crate::dialect::types::{is_json, json_metadata};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("json_query", Ret::JsonOrString, |a| {
            query(a, Syntax::Standard)
        }),
        udf("json_extract", Ret::JsonOrString, |a| {
            query(a, Syntax::Legacy)
        }),
        udf("json_value", Ret::Str, |a| value(a, Syntax::Standard)),
        udf("json_extract_scalar", Ret::Str, |a| {
            value(a, Syntax::Legacy)
        }),
        udf("json_query_array", Ret::JsonOrStringList, |a| {
            query_array(a, Syntax::Standard)
        }),
        udf("json_extract_array", Ret::JsonOrStringList, |a| {
            query_array(a, Syntax::Legacy)
        }),
        udf("json_value_array", Ret::StrList, |a| {
            value_array(a, Syntax::Standard)
        }),
        udf("json_extract_string_array", Ret::StrList, |a| {
            value_array(a, Syntax::Legacy)
        }),
        udf("json_type", Ret::Str, json_type),
        udf(FIELD_FN, Ret::Json, field),
    ]
}

/// The internal function behind `j.k`, `j['k']` and `j[i]`.
pub const FIELD_FN: &str = "$json_field";

/// The value a path selects in the first argument; `None` for SQL NULL or no match.
/// Also returns whether the input was a `JSON` value.
fn select(args: &[Arg], syntax: Syntax) -> Result<Option<(Json, bool)>> {
    let Some(input) = args.first() else {
        return Err(super::bq_error("JSON function needs an argument"));
    };
    let path = match args.get(1) {
        Some(p) => match p.str()? {
            Some(p) => p,
            None => return Ok(None),
        },
        None => "$".to_string(),
    };
    let steps = json_path::parse(&path, syntax)?;
    let json = input.is_json();
    let root = if json {
        input.json()?
    } else {
        input.str()?.and_then(|t| Json::parse_lenient(&t))
    };
    let Some(root) = root else { return Ok(None) };
    Ok(match json_path::get(&root, &steps) {
        Some(Json::Incomplete(_)) | None => None,
        Some(v) => Some((v.clone(), json)),
    })
}

fn query(args: &[Arg], syntax: Syntax) -> Result<Out> {
    Ok(match select(args, syntax)? {
        None => Out::Null,
        Some((v, true)) => Out::Json(v),
        Some((Json::Null, false)) => Out::Null,
        Some((v, false)) => Out::Str(v.to_text()),
    })
}

fn value(args: &[Arg], syntax: Syntax) -> Result<Out> {
    Ok(
        match select(args, syntax)?.and_then(|(v, _)| v.scalar_text()) {
            Some(s) => Out::Str(s),
            None => Out::Null,
        },
    )
}

fn query_array(args: &[Arg], syntax: Syntax) -> Result<Out> {
    Ok(match select(args, syntax)? {
        Some((Json::Arr(items), _)) => {
            if items.iter().any(|i| matches!(i, Json::Incomplete(_))) {
                Out::Null
            } else {
                Out::List(items.iter().map(|i| Some(i.to_text())).collect())
            }
        }
        _ => Out::Null,
    })
}

fn value_array(args: &[Arg], syntax: Syntax) -> Result<Out> {
    let Some((Json::Arr(items), _)) = select(args, syntax)? else {
        return Ok(Out::Null);
    };
    let mut out = Vec::with_capacity(items.len());
    for i in &items {
        match i {
            Json::Null => out.push(None),
            Json::Str(_) | Json::Num(_) | Json::Bool(_) => out.push(i.scalar_text()),
            _ => return Ok(Out::Null),
        }
    }
    Ok(Out::List(out))
}

fn json_type(args: &[Arg]) -> Result<Out> {
    let Some(a) = args.first() else {
        return Err(super::bq_error("JSON_TYPE needs an argument"));
    };
    Ok(match a.json()? {
        Some(j) => Out::Str(j.type_name().into()),
        None => Out::Null,
    })
}

fn field(args: &[Arg]) -> Result<Out> {
    let (Some(j), Some(k)) = (args.first(), args.get(1)) else {
        return Err(super::bq_error("JSON subscript needs two arguments"));
    };
    let Some(root) = j.json()? else {
        return Ok(Out::Null);
    };
    if k.is_null() {
        return Ok(Out::Null);
    }
    let step = match k.array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Step::Key(k.str()?.unwrap_or_default())
        }
        DataType::Int64 => {
            let i = k
                .array
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(k.row);
            match usize::try_from(i) {
                Ok(i) => Step::Index(i),
                Err(_) => return Ok(Out::Null),
            }
        }
        other => {
            return Err(super::not_supported(format!(
                "JSON subscript of type {other}"
            )));
        }
    };
    Ok(match json_path::get(&root, &[step]) {
        Some(v) => Out::Json(v.clone()),
        None => Out::Null,
    })
}

fn field_udf() -> Arc<ScalarUDF> {
    scalar_functions()
        .into_iter()
        .find(|f| f.name() == FIELD_FN)
        .unwrap_or_else(|| udf(FIELD_FN, Ret::Json, field))
}

/// Field access on JSON and array literals that keep their elements' JSON tag.
#[derive(Debug, Default)]
pub struct JsonPlanner;

fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

impl ExprPlanner for JsonPlanner {
    fn plan_field_access(
        &self,
        expr: RawFieldAccessExpr,
        schema: &DFSchema,
    ) -> Result<PlannerResult<RawFieldAccessExpr>> {
        let Ok((_, f)) = expr.expr.to_field(schema) else {
            return Ok(PlannerResult::Original(expr));
        };
        if !is_string(f.data_type()) {
            return Ok(PlannerResult::Original(expr));
        }
        let key = match &expr.field_access {
            GetFieldAccess::NamedStructField { name } => match name {
                ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => lit(s.clone()),
                _ => return Ok(PlannerResult::Original(expr)),
            },
            GetFieldAccess::ListIndex { key } => key.as_ref().clone(),
            GetFieldAccess::ListRange { .. } => return Ok(PlannerResult::Original(expr)),
        };
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(field_udf(), vec![expr.expr, key]),
        )))
    }

    fn plan_compound_identifier(
        &self,
        field: &Field,
        qualifier: Option<&TableReference>,
        nested_names: &[String],
    ) -> Result<PlannerResult<Vec<Expr>>> {
        if !is_string(field.data_type()) {
            return Ok(PlannerResult::Original(vec![]));
        }
        let mut expr = Expr::Column(Column::from((qualifier, field)));
        for name in nested_names {
            expr = Expr::ScalarFunction(ScalarFunction::new_udf(
                field_udf(),
                vec![expr, lit(name.clone())],
            ));
        }
        Ok(PlannerResult::Planned(expr))
    }

    fn plan_array_literal(
        &self,
        exprs: Vec<Expr>,
        schema: &DFSchema,
    ) -> Result<PlannerResult<Vec<Expr>>> {
        let any_json = exprs
            .iter()
            .any(|e| e.to_field(schema).is_ok_and(|(_, f)| is_json(&f)));
        if !any_json {
            return Ok(PlannerResult::Original(exprs));
        }
        let inner = datafusion::functions_nested::make_array::make_array_udf();
        let udf = Arc::new(ScalarUDF::new_from_impl(JsonArrayLiteral {
            signature: inner.signature().clone(),
            inner,
        }));
        Ok(PlannerResult::Planned(Expr::ScalarFunction(
            ScalarFunction::new_udf(udf, exprs),
        )))
    }
}

/// `[JSON '1', JSON '"a"']`: DataFusion's make_array, with the elements' JSON tag kept.
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonArrayLiteral {
    inner: Arc<ScalarUDF>,
    signature: Signature,
}

fn json_list(dt: &DataType) -> DataType {
    match dt {
        DataType::List(item) => DataType::List(Arc::new(
            item.as_ref().clone().with_metadata(json_metadata()),
        )),
        other => other.clone(),
    }
}

impl ScalarUDFImpl for JsonArrayLiteral {
    fn name(&self) -> &str {
        "$json_array_literal"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(json_list(&self.inner.return_type(arg_types)?))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let f = self.inner.return_field_from_args(args)?;
        Ok(Arc::new(Field::new(
            f.name(),
            json_list(f.data_type()),
            true,
        )))
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        // DataFusion's make_array promises a plain element field.
        if let DataType::List(item) = args.return_field.data_type() {
            let plain = DataType::List(Arc::new(
                item.as_ref().clone().with_metadata(Default::default()),
            ));
            args.return_field = Arc::new(args.return_field.as_ref().clone().with_data_type(plain));
        }
        let out = self.inner.invoke_with_args(args)?.into_array(rows)?;
        let DataType::List(_) = out.data_type() else {
            return Ok(ColumnarValue::Array(out));
        };
        let (item, offsets, values, nulls) = out.as_list::<i32>().clone().into_parts();
        let item = Arc::new(item.as_ref().clone().with_metadata(json_metadata()));
        Ok(ColumnarValue::Array(Arc::new(ListArray::try_new(
            item, offsets, values, nulls,
        )?)))
    }
}
