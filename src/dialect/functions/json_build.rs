//! Making JSON: PARSE_JSON (and the `JSON '...'` literal), TO_JSON, TO_JSON_STRING, JSON_ARRAY,
//! JSON_OBJECT (pairs and the two-array form) and JSON_FLATTEN.
//!
//! Options given by name (`wide_number_mode=>'round'`) arrive as trailing positional arguments;
//! [`crate::dialect::json_syntax`] appends them, defaults included.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#parse_json>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#to_json>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_object>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::json_udf::{Arg, Out, Ret, ToJson, cell_to_json, udf};
use super::json_value::{Json, WideNumbers};
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("parse_json", Ret::Json, parse_json),
        udf("to_json", Ret::Json, to_json),
        udf("to_json_string", Ret::Str, to_json_string),
        udf("json_array", Ret::Json, json_array),
        udf("json_object", Ret::Json, json_object),
        udf("json_flatten", Ret::JsonOrStringList, json_flatten),
    ]
}

fn parse_json(args: &[Arg]) -> Result<Out> {
    let [text, mode] = args else {
        return Err(not_supported("PARSE_JSON with these arguments"));
    };
    let mode = match mode
        .str()?
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("exact") => WideNumbers::Exact,
        Some("round") => WideNumbers::Round,
        Some(other) => {
            return Err(bq_error(format!("Invalid wide_number_mode: {other}")));
        }
        None => return Ok(Out::Null),
    };
    Ok(match text.str()? {
        Some(t) => Out::Json(Json::parse(&t)?.normalize(mode)?),
        None => Out::Null,
    })
}

fn to_json(args: &[Arg]) -> Result<Out> {
    let [v, stringify] = args else {
        return Err(not_supported("TO_JSON with these arguments"));
    };
    let opts = ToJson {
        stringify_wide_numbers: stringify.bool()?.unwrap_or(false),
    };
    Ok(Out::Json(v.to_json(opts)?.normalize(WideNumbers::Round)?))
}

fn to_json_string(args: &[Arg]) -> Result<Out> {
    let (v, pretty) = match args {
        [v] => (v, false),
        [v, p] => (v, p.bool()?.unwrap_or(false)),
        _ => return Err(not_supported("TO_JSON_STRING with these arguments")),
    };
    let j = v.to_json(ToJson::default())?;
    Ok(Out::Str(if pretty {
        j.to_pretty_text()
    } else {
        j.to_text()
    }))
}

fn json_array(args: &[Arg]) -> Result<Out> {
    let items = args
        .iter()
        .map(|a| a.to_json(ToJson::default()))
        .collect::<Result<Vec<_>>>()?;
    Ok(Out::Json(Json::Arr(items).normalize(WideNumbers::Round)?))
}

fn key_text(a: &Arg) -> Result<String> {
    match a.str()? {
        Some(k) => Ok(k),
        None => Err(bq_error("A key cannot be NULL")),
    }
}

fn json_object(args: &[Arg]) -> Result<Out> {
    let mut members = Vec::new();
    let is_list = |a: &Arg| matches!(a.array.data_type(), DataType::List(_));
    if let [keys, values] = args
        && is_list(keys)
        && is_list(values)
    {
        if keys.is_null() || values.is_null() {
            return Err(bq_error(
                "JSON_OBJECT: the keys and values arrays cannot be NULL",
            ));
        }
        let (kl, vl) = (keys.array.as_list::<i32>(), values.array.as_list::<i32>());
        let (ks, vs) = (kl.value(keys.row), vl.value(values.row));
        if ks.len() != vs.len() {
            return Err(bq_error(
                "The number of keys and values must match in JSON_OBJECT",
            ));
        }
        let DataType::List(kf) = keys.array.data_type() else {
            return Err(not_supported("JSON_OBJECT keys"));
        };
        let DataType::List(vf) = values.array.data_type() else {
            return Err(not_supported("JSON_OBJECT values"));
        };
        for i in 0..ks.len() {
            let k = Arg {
                array: ks.as_ref(),
                row: i,
                field: kf.as_ref(),
            };
            members.push((
                key_text(&k)?,
                cell_to_json(vs.as_ref(), i, vf, ToJson::default())?,
            ));
        }
    } else {
        if !args.len().is_multiple_of(2) {
            return Err(bq_error(
                "JSON_OBJECT needs an even number of arguments (key, value pairs)",
            ));
        }
        for pair in args.chunks(2) {
            members.push((key_text(&pair[0])?, pair[1].to_json(ToJson::default())?));
        }
    }
    Ok(Out::Json(Json::Obj(members).normalize(WideNumbers::Round)?))
}

fn flatten(j: Json, out: &mut Vec<Option<String>>) {
    match j {
        Json::Arr(items) => items.into_iter().for_each(|i| flatten(i, out)),
        other => out.push(Some(other.to_text())),
    }
}

fn json_flatten(args: &[Arg]) -> Result<Out> {
    let [a] = args else {
        return Err(not_supported("JSON_FLATTEN with these arguments"));
    };
    Ok(match a.json()? {
        None => Out::Null,
        Some(j) => {
            let mut out = Vec::new();
            flatten(j, &mut out);
            Out::List(out)
        }
    })
}
