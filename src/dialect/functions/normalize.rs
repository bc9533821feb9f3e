//! NORMALIZE and NORMALIZE_AND_CASEFOLD with the modes NFC (default), NFKC, NFD, NFKD. The mode is
//! written as a bare word (`NORMALIZE(s, NFKC)`); [`mode_arguments`] turns it into a string
//! literal before planning.
//!
//! CONTAINS_SUBSTR(value, search) compares NFKC-normalized, case-folded text and looks inside
//! arrays and structs; other leaf values are compared in their CAST(... AS STRING) form. A
//! missing match where some searched value is NULL gives NULL.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#normalize>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#contains_substr>.

use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Statement, Value, visit_expressions_mut,
};
use unicode_normalization::UnicodeNormalization;

use super::bq_error;
use super::row_fn::{ret_utf8, str_val, string, udf, udf_nulls};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("normalize", &[], ret_utf8, normalize),
        udf(
            "normalize_and_casefold",
            &[],
            ret_utf8,
            normalize_and_casefold,
        ),
        udf_nulls(
            "contains_substr",
            &[],
            super::row_fn::ret_bool,
            contains_substr,
        ),
    ]
}

fn apply(s: &str, mode: &str) -> Result<String> {
    Ok(match mode.to_ascii_uppercase().as_str() {
        "NFC" => s.nfc().collect(),
        "NFKC" => s.nfkc().collect(),
        "NFD" => s.nfd().collect(),
        "NFKD" => s.nfkd().collect(),
        other => return Err(bq_error(format!("Invalid normalization mode: {other}"))),
    })
}

fn mode(a: &[ScalarValue], what: &str) -> Result<String> {
    match a.get(1) {
        Some(m) => Ok(string(m, what)?.to_string()),
        None => Ok("NFC".into()),
    }
}

fn normalize(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "NORMALIZE")?;
    Ok(str_val(apply(s, &mode(a, "NORMALIZE")?)?))
}

/// Unicode full case folding: lowercase, plus the characters whose folding is not their
/// lowercase form.
fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'ς' => out.push('σ'),
            'ﬀ' => out.push_str("ff"),
            'ﬁ' => out.push_str("fi"),
            'ﬂ' => out.push_str("fl"),
            'ﬃ' => out.push_str("ffi"),
            'ﬄ' => out.push_str("ffl"),
            'ﬅ' | 'ﬆ' => out.push_str("st"),
            'ſ' => out.push('s'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

fn normalize_and_casefold(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "NORMALIZE_AND_CASEFOLD")?;
    let m = mode(a, "NORMALIZE_AND_CASEFOLD")?;
    Ok(str_val(apply(&casefold(&apply(s, &m)?), &m)?))
}

/// `NORMALIZE(x, NFKC)`: the bare mode word becomes the string `'NFKC'`.
pub fn mode_arguments(stmt: &mut Statement) {
    let _ = visit_expressions_mut(stmt, |e| {
        if let Expr::Function(f) = e {
            let name = f.name.to_string().to_ascii_lowercase();
            let name = name.trim_start_matches("\"safe.").trim_end_matches('"');
            if (name == "normalize" || name == "normalize_and_casefold" || name == "safe.normalize")
                && let FunctionArguments::List(list) = &mut f.args
                && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))) = list.args.get_mut(1)
                && let Expr::Identifier(id) = arg
                && id.quote_style.is_none()
                && ["NFC", "NFKC", "NFD", "NFKD"].contains(&id.value.to_ascii_uppercase().as_str())
            {
                *arg = Expr::value(Value::SingleQuotedString(id.value.to_ascii_uppercase()));
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
}

fn fold(s: &str) -> String {
    casefold(&s.nfkc().collect::<String>()).nfkc().collect()
}

/// Some(true) on a match, None when no match but a NULL was searched.
fn search(v: &ScalarValue, needle: &str) -> Result<Option<bool>> {
    if v.is_null() {
        return Ok(None);
    }
    let mut saw_null = false;
    let mut nested = |children: Vec<ScalarValue>| -> Result<Option<bool>> {
        for c in children {
            match search(&c, needle)? {
                Some(true) => return Ok(Some(true)),
                None => saw_null = true,
                Some(false) => {}
            }
        }
        Ok(if saw_null { None } else { Some(false) })
    };
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Ok(Some(fold(s).contains(needle))),
        ScalarValue::List(l) => {
            let arr = l.value(0);
            let items = (0..arr.len())
                .map(|i| ScalarValue::try_from_array(arr.as_ref(), i))
                .collect::<Result<Vec<_>>>()?;
            nested(items)
        }
        ScalarValue::Struct(s) => {
            let items = s
                .columns()
                .iter()
                .map(|c| ScalarValue::try_from_array(c.as_ref(), 0))
                .collect::<Result<Vec<_>>>()?;
            nested(items)
        }
        ScalarValue::Binary(_) | ScalarValue::LargeBinary(_) | ScalarValue::BinaryView(_) => {
            Err(super::not_supported("CONTAINS_SUBSTR on BYTES"))
        }
        other => {
            let arr = other.to_array()?;
            let text = crate::output::value::text(arr.as_ref(), 0).unwrap_or_default();
            Ok(Some(fold(&text).contains(needle)))
        }
    }
}

fn contains_substr(a: &[ScalarValue]) -> Result<ScalarValue> {
    if a.len() != 2 {
        return Err(super::not_supported("CONTAINS_SUBSTR with json_scope"));
    }
    if a[1].is_null() {
        return Ok(ScalarValue::Boolean(None));
    }
    let needle = fold(string(&a[1], "CONTAINS_SUBSTR")?);
    Ok(ScalarValue::Boolean(search(&a[0], &needle)?))
}
