//! Changing JSON: JSON_SET, JSON_REMOVE, JSON_STRIP_NULLS, JSON_ARRAY_APPEND, JSON_ARRAY_INSERT.
//!
//! Paths apply left to right, each to the result of the previous one; a path that cannot apply
//! (it crosses a scalar, or a key meets an array) is skipped. Options given by name arrive as
//! trailing positional arguments ([`crate::dialect::json_syntax`] appends them).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_set>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_remove>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_strip_nulls>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_array_append>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_array_insert>.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::json_path::{self, Step, Syntax, insert_sorted};
use super::json_udf::{Arg, Out, Ret, ToJson, udf};
use super::json_value::{Json, WideNumbers};
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("json_set", Ret::Json, json_set),
        udf("json_remove", Ret::Json, json_remove),
        udf("json_strip_nulls", Ret::Json, json_strip_nulls),
        udf("json_array_append", Ret::Json, |a| array_add(a, false)),
        udf("json_array_insert", Ret::Json, |a| array_add(a, true)),
    ]
}

/// The JSON value to write for an argument.
fn new_value(a: &Arg) -> Result<Json> {
    a.to_json(ToJson::default())?.normalize(WideNumbers::Round)
}

/// The path and value pairs between the JSON input and `options` trailing options.
fn pairs<'a, 'b>(args: &'a [Arg<'b>], options: usize, what: &str) -> Result<&'a [Arg<'b>]> {
    if args.len() < 1 + options || !(args.len() - 1 - options).is_multiple_of(2) {
        return Err(not_supported(format!("{what} with these arguments")));
    }
    Ok(&args[1..args.len() - options])
}

fn path_steps(a: &Arg) -> Result<Option<Vec<Step>>> {
    match a.str()? {
        Some(p) => json_path::parse(&p, Syntax::Standard).map(Some),
        None => Err(bq_error("The JSONPath cannot be NULL")),
    }
}

fn set(node: &mut Json, steps: &[Step], value: Json, create: bool) {
    let Some((first, rest)) = steps.split_first() else {
        *node = value;
        return;
    };
    if create && *node == Json::Null {
        *node = match first {
            Step::Key(_) => Json::Obj(Vec::new()),
            Step::Index(_) => Json::Arr(Vec::new()),
        };
    }
    match (first, node) {
        (Step::Key(k), Json::Obj(members)) => {
            if let Some((_, v)) = members.iter_mut().find(|(n, _)| n == k) {
                set(v, rest, value, create);
            } else if create {
                let mut v = Json::Null;
                set(&mut v, rest, value, create);
                insert_sorted(members, k.clone(), v);
            }
        }
        (Step::Index(i), Json::Arr(items)) => {
            if *i < items.len() {
                set(&mut items[*i], rest, value, create);
            } else if create {
                items.resize(*i + 1, Json::Null);
                set(&mut items[*i], rest, value, create);
            }
        }
        _ => {}
    }
}

fn json_set(args: &[Arg]) -> Result<Out> {
    let pairs = pairs(args, 1, "JSON_SET")?;
    let create = args[args.len() - 1].bool()?.unwrap_or(true);
    let Some(mut root) = args[0].json()? else {
        return Ok(Out::Null);
    };
    for pair in pairs.chunks(2) {
        let Some(steps) = path_steps(&pair[0])? else {
            continue;
        };
        set(&mut root, &steps, new_value(&pair[1])?, create);
    }
    Ok(Out::Json(root))
}

fn json_remove(args: &[Arg]) -> Result<Out> {
    let Some(mut root) = args
        .first()
        .ok_or_else(|| bq_error("JSON_REMOVE needs arguments"))?
        .json()?
    else {
        return Ok(Out::Null);
    };
    for p in &args[1..] {
        let Some(steps) = path_steps(p)? else {
            continue;
        };
        let Some((last, parent)) = steps.split_last() else {
            return Err(bq_error("The JSONPath cannot be '$' in JSON_REMOVE"));
        };
        match (last, json_path::get_mut(&mut root, parent)) {
            (Step::Key(k), Some(Json::Obj(m))) => m.retain(|(n, _)| n != k),
            (Step::Index(i), Some(Json::Arr(items))) if *i < items.len() => {
                items.remove(*i);
            }
            _ => {}
        }
    }
    Ok(Out::Json(root))
}

fn is_empty(j: &Json) -> bool {
    matches!(j, Json::Obj(m) if m.is_empty()) || matches!(j, Json::Arr(a) if a.is_empty())
}

/// Strips nulls below `j`; returns whether `j` itself should be removed.
fn strip(j: &mut Json, arrays: bool, empty: bool) -> bool {
    match j {
        Json::Obj(members) => {
            members.retain_mut(|(_, v)| !strip(v, arrays, empty));
            empty && members.is_empty()
        }
        Json::Arr(items) => {
            if arrays {
                items.retain_mut(|v| !strip(v, arrays, empty));
                empty && items.is_empty()
            } else {
                for v in items.iter_mut() {
                    if matches!(v, Json::Obj(_)) {
                        strip(v, arrays, empty);
                    }
                }
                false
            }
        }
        Json::Null => true,
        _ => false,
    }
}

fn json_strip_nulls(args: &[Arg]) -> Result<Out> {
    let [input, arrays, empty] = args else {
        return Err(not_supported("JSON_STRIP_NULLS with these arguments"));
    };
    let arrays = arrays.bool()?.unwrap_or(true);
    let empty = empty.bool()?.unwrap_or(false);
    let Some(mut root) = input.json()? else {
        return Ok(Out::Null);
    };
    let remove = strip(&mut root, arrays, empty);
    if remove && (empty && is_empty(&root)) {
        root = Json::Null;
    }
    Ok(Out::Json(root))
}

/// The values an argument adds: each element of an ARRAY when `each`, else the value itself.
fn added_values(a: &Arg, each: bool) -> Result<Vec<Json>> {
    let v = new_value(a)?;
    Ok(match v {
        Json::Arr(items) if each && matches!(a.array.data_type(), DataType::List(_)) => items,
        other => vec![other],
    })
}

/// JSON_ARRAY_APPEND (`insert` false) and JSON_ARRAY_INSERT (`insert` true).
fn array_add(args: &[Arg], insert: bool) -> Result<Out> {
    let what = if insert {
        "JSON_ARRAY_INSERT"
    } else {
        "JSON_ARRAY_APPEND"
    };
    let pairs = pairs(args, 1, what)?;
    let each = args[args.len() - 1].bool()?.unwrap_or(true);
    let Some(mut root) = args[0].json()? else {
        return Ok(Out::Null);
    };
    for pair in pairs.chunks(2) {
        let Some(steps) = path_steps(&pair[0])? else {
            continue;
        };
        let values = added_values(&pair[1], each)?;
        if insert {
            let Some((Step::Index(at), parent)) = steps.split_last() else {
                continue;
            };
            let Some(target) = json_path::get_mut(&mut root, parent) else {
                continue;
            };
            if *target == Json::Null {
                *target = Json::Arr(Vec::new());
            }
            if let Json::Arr(items) = target {
                if items.len() < *at {
                    items.resize(*at, Json::Null);
                }
                for (n, v) in values.into_iter().enumerate() {
                    items.insert(at + n, v);
                }
            }
        } else if let Some(Json::Arr(items)) = json_path::get_mut(&mut root, &steps) {
            items.extend(values);
        }
    }
    Ok(Out::Json(root))
}
