//! Converting JSON to SQL values: the strict BOOL, INT64, FLOAT64 and STRING (an error when the
//! JSON value has another type) and the lax LAX_BOOL, LAX_INT64, LAX_FLOAT64 and LAX_STRING
//! (NULL when no conversion applies).
//!
//! STRING is one function for JSON and for TIMESTAMP (`STRING(ts[, zone])`, evaluated by
//! `format_elements`); other argument types are `not supported`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#bool_for_json>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#lax_int64>.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;

use super::json_udf::{Arg, Out, Ret, udf};
use super::json_value::Json;
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("bool", Ret::Bool, strict_bool),
        udf("int64", Ret::Int, strict_int64),
        udf("float64", Ret::Float, strict_float64),
        udf("string", Ret::Str, strict_string),
        udf("lax_bool", Ret::Bool, lax_bool),
        udf("lax_int64", Ret::Int, lax_int64),
        udf("lax_float64", Ret::Float, lax_float64),
        udf("lax_string", Ret::Str, lax_string),
    ]
}

/// The single JSON argument of a conversion.
fn json_arg(args: &[Arg], name: &str) -> Result<Option<Json>> {
    match args {
        [a] if a.is_json() => a.json(),
        [a] if a.is_null() => Ok(None),
        [a] => Err(not_supported(format!(
            "{name} of a {} argument",
            a.array.data_type()
        ))),
        _ => Err(not_supported(format!(
            "{name} with {} arguments",
            args.len()
        ))),
    }
}

fn strict_bool(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "BOOL")? {
        None => Out::Null,
        Some(Json::Bool(b)) => Out::Bool(b),
        Some(j) => {
            return Err(bq_error(format!(
                "The provided JSON input is not a boolean: {}",
                j.to_text()
            )));
        }
    })
}

fn strict_int64(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "INT64")? {
        None => Out::Null,
        Some(Json::Num(t)) => match number_to_int(&t, false) {
            Some(i) => Out::Int(i),
            None => {
                return Err(bq_error(format!(
                    "The provided JSON number: {t} cannot be converted to an int64"
                )));
            }
        },
        Some(j) => {
            return Err(bq_error(format!(
                "The provided JSON input is not an integer: {}",
                j.to_text()
            )));
        }
    })
}

fn strict_float64(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "FLOAT64")? {
        None => Out::Null,
        Some(Json::Num(t)) => {
            let f: f64 = t
                .parse()
                .map_err(|_| bq_error(format!("Invalid number {t}")))?;
            if t.parse::<i128>().is_ok_and(|i| i.unsigned_abs() > 1 << 53) {
                return Err(not_supported("FLOAT64 of a JSON integer beyond 2^53"));
            }
            Out::Float(f)
        }
        Some(j) => {
            return Err(bq_error(format!(
                "The provided JSON input is not a number: {}",
                j.to_text()
            )));
        }
    })
}

fn strict_string(args: &[Arg]) -> Result<Out> {
    if args.first().is_some_and(|a| {
        matches!(
            a.array.data_type(),
            datafusion::arrow::datatypes::DataType::Timestamp(_, Some(_))
        )
    }) {
        // STRING(timestamp[, time_zone]) is format_elements' STRING.
        let vals = args
            .iter()
            .map(|a| datafusion::common::ScalarValue::try_from_array(a.array, a.row))
            .collect::<Result<Vec<_>>>()?;
        if vals.iter().any(|v| v.is_null()) {
            return Ok(Out::Null);
        }
        return match super::format_elements::string_of_timestamp(&vals)? {
            datafusion::common::ScalarValue::Utf8(Some(s)) => Ok(Out::Str(s)),
            _ => Ok(Out::Null),
        };
    }
    Ok(match json_arg(args, "STRING")? {
        None => Out::Null,
        Some(Json::Str(s)) => Out::Str(s),
        Some(j) => {
            return Err(bq_error(format!(
                "The provided JSON input is not a string: {}",
                j.to_text()
            )));
        }
    })
}

/// A JSON number's text as INT64: exact integers always; with `round`, other values rounded half
/// away from zero. `None` when out of range (or not integral without `round`).
fn number_to_int(text: &str, round: bool) -> Option<i64> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = text.trim_start_matches('+').parse().ok()?;
    if !f.is_finite() || (!round && f.fract() != 0.0) {
        return None;
    }
    let r = f.round();
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&r) {
        Some(r as i64)
    } else {
        None
    }
}

/// Number text as JSON would accept it, with an optional leading `+` (LAX_INT64('"+1.5"')).
fn is_number_text(t: &str) -> bool {
    let t = t.strip_prefix('+').unwrap_or(t);
    matches!(Json::parse(t), Ok(Json::Num(_)))
}

fn lax_bool(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "LAX_BOOL")? {
        Some(Json::Bool(b)) => Out::Bool(b),
        Some(Json::Str(s)) if s.eq_ignore_ascii_case("true") => Out::Bool(true),
        Some(Json::Str(s)) if s.eq_ignore_ascii_case("false") => Out::Bool(false),
        Some(Json::Num(t)) => match t.parse::<f64>() {
            Ok(f) => Out::Bool(f != 0.0),
            Err(_) => Out::Null,
        },
        _ => Out::Null,
    })
}

fn lax_int64(args: &[Arg]) -> Result<Out> {
    let int = |t: &str| number_to_int(t, true).map_or(Out::Null, Out::Int);
    Ok(match json_arg(args, "LAX_INT64")? {
        Some(Json::Bool(b)) => Out::Int(b.into()),
        Some(Json::Num(t)) => int(&t),
        Some(Json::Str(s)) if is_number_text(&s) => int(&s),
        _ => Out::Null,
    })
}

fn lax_float64(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "LAX_FLOAT64")? {
        Some(Json::Num(t)) => t.parse::<f64>().map_or(Out::Null, Out::Float),
        Some(Json::Str(s)) if is_number_text(&s) => s
            .trim_start_matches('+')
            .parse::<f64>()
            .map_or(Out::Null, Out::Float),
        Some(Json::Str(s)) => match s.to_ascii_lowercase().as_str() {
            "nan" | "+nan" | "-nan" => Out::Float(f64::NAN),
            "inf" | "+inf" | "infinity" | "+infinity" => Out::Float(f64::INFINITY),
            "-inf" | "-infinity" => Out::Float(f64::NEG_INFINITY),
            _ => Out::Null,
        },
        _ => Out::Null,
    })
}

fn lax_string(args: &[Arg]) -> Result<Out> {
    Ok(match json_arg(args, "LAX_STRING")? {
        Some(Json::Str(s)) => Out::Str(s),
        Some(Json::Bool(b)) => Out::Str(b.to_string()),
        Some(Json::Num(t)) => Out::Str(t),
        _ => Out::Null,
    })
}
