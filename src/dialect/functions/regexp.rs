//! Regular expressions on STRING: REGEXP_CONTAINS, REGEXP_EXTRACT (= REGEXP_SUBSTR),
//! REGEXP_EXTRACT_ALL, REGEXP_INSTR, REGEXP_REPLACE. BigQuery uses RE2; the `regex` crate has
//! the same syntax family and the same leftmost-first semantics. Positions are in characters.
//! Extraction returns the capturing group when the pattern has one, and errors with more than one.
//! BYTES patterns are not supported yet (an error, not a different answer).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions#regexp_contains>.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;
use regex::Regex;

use super::row_fn::{
    Text, i64_val, int, list_val, ret_bool, ret_i64, ret_list_same, ret_utf8, str_val, text, udf,
};
use super::{bq_error, not_supported};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("regexp_contains", &[], ret_bool, contains),
        udf("regexp_extract", &["regexp_substr"], ret_utf8, extract),
        udf("regexp_extract_all", &[], ret_list_same, extract_all),
        udf("regexp_instr", &[], ret_i64, instr),
        udf("regexp_replace", &[], ret_utf8, replace),
    ]
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

fn compile(pattern: &str) -> Result<Regex> {
    if let Some(r) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(r);
    }
    let r = Regex::new(pattern)
        .map_err(|e| bq_error(format!("Cannot parse regular expression: {e}")))?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() > 256 {
            c.clear();
        }
        c.insert(pattern.to_string(), r.clone());
    });
    Ok(r)
}

/// The value and compiled pattern (STRING only).
fn args<'a>(a: &'a [ScalarValue], what: &str) -> Result<(&'a str, Regex)> {
    match (text(&a[0], what)?, text(&a[1], what)?) {
        (Text::Str(s), Text::Str(p)) => Ok((s, compile(p)?)),
        _ => Err(not_supported(format!("{what} on BYTES"))),
    }
}

fn contains(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (s, re) = args(a, "REGEXP_CONTAINS")?;
    Ok(ScalarValue::Boolean(Some(re.is_match(s))))
}

/// The byte offset where character `pos` (1-based) starts, None past the end.
fn byte_at(s: &str, pos: i64) -> Option<usize> {
    let i = usize::try_from(pos - 1).ok()?;
    if i == s.chars().count() {
        return Some(s.len());
    }
    s.char_indices().nth(i).map(|(b, _)| b)
}

fn chars_before(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

fn group_count_ok(re: &Regex, what: &str) -> Result<()> {
    if re.captures_len() > 2 {
        return Err(bq_error(format!(
            "{what}: regular expressions passed into extraction functions must not have more than 1 capturing group"
        )));
    }
    Ok(())
}

/// Matches from byte `start`, non-overlapping: (whole match range, group-or-whole range).
fn matches_from(
    s: &str,
    re: &Regex,
    start: usize,
) -> Vec<(std::ops::Range<usize>, Option<std::ops::Range<usize>>)> {
    re.captures_iter(&s[start..])
        .map(|c| {
            let whole = c.get(0).map(|m| m.range()).unwrap_or(0..0);
            let part = if re.captures_len() > 1 {
                c.get(1).map(|m| m.range())
            } else {
                Some(whole.clone())
            };
            (
                whole.start + start..whole.end + start,
                part.map(|r| r.start + start..r.end + start),
            )
        })
        .collect()
}

fn pos_occ(a: &[ScalarValue], what: &str) -> Result<(i64, i64)> {
    let pos = a.get(2).map(|v| int(v, what)).transpose()?.unwrap_or(1);
    let occ = a.get(3).map(|v| int(v, what)).transpose()?.unwrap_or(1);
    if pos <= 0 {
        return Err(bq_error(format!(
            "{what}: the position argument must be positive"
        )));
    }
    if occ <= 0 {
        return Err(bq_error(format!(
            "{what}: the occurrence argument must be positive"
        )));
    }
    Ok((pos, occ))
}

fn extract(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (s, re) = args(a, "REGEXP_EXTRACT")?;
    group_count_ok(&re, "REGEXP_EXTRACT")?;
    let (pos, occ) = pos_occ(a, "REGEXP_EXTRACT")?;
    let Some(start) = byte_at(s, pos) else {
        return Ok(ScalarValue::Utf8(None));
    };
    if start >= s.len() && !s.is_empty() {
        return Ok(ScalarValue::Utf8(None));
    }
    let hit = matches_from(s, &re, start)
        .into_iter()
        .nth(occ as usize - 1);
    Ok(match hit {
        Some((_, Some(r))) => str_val(&s[r]),
        _ => ScalarValue::Utf8(None),
    })
}

fn extract_all(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (s, re) = args(a, "REGEXP_EXTRACT_ALL")?;
    group_count_ok(&re, "REGEXP_EXTRACT_ALL")?;
    let values: Vec<ScalarValue> = matches_from(s, &re, 0)
        .into_iter()
        .map(|(_, part)| match part {
            Some(r) => str_val(&s[r]),
            None => str_val(""),
        })
        .collect();
    Ok(list_val(values, &DataType::Utf8))
}

fn instr(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (s, re) = args(a, "REGEXP_INSTR")?;
    group_count_ok(&re, "REGEXP_INSTR")?;
    let (pos, occ) = pos_occ(a, "REGEXP_INSTR")?;
    let after = match a.get(4) {
        None => false,
        Some(v) => match int(v, "REGEXP_INSTR")? {
            0 => false,
            1 => true,
            _ => {
                return Err(bq_error("REGEXP_INSTR: occurrence_position must be 0 or 1"));
            }
        },
    };
    let Some(start) = byte_at(s, pos) else {
        return Ok(i64_val(0));
    };
    let hit = matches_from(s, &re, start)
        .into_iter()
        .nth(occ as usize - 1);
    Ok(i64_val(match hit {
        Some((_, Some(r))) => {
            if after {
                chars_before(s, r.end) + 1
            } else {
                chars_before(s, r.start) + 1
            }
        }
        _ => 0,
    }))
}

fn replace(a: &[ScalarValue]) -> Result<ScalarValue> {
    let (s, re) = args(a, "REGEXP_REPLACE")?;
    let rep = match a.get(2).map(|v| text(v, "REGEXP_REPLACE")).transpose()? {
        Some(Text::Str(r)) => r,
        _ => return Err(bq_error("REGEXP_REPLACE expects a STRING replacement")),
    };
    // BigQuery's replacement: \0..\9 refer to groups, \\ is a backslash.
    let mut bad: Option<String> = None;
    let out = re.replace_all(s, |caps: &regex::Captures| {
        let mut out = String::new();
        let mut chars = rep.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some(d) if d.is_ascii_digit() => {
                    let g = d as usize - '0' as usize;
                    if g >= caps.len() {
                        bad = Some(format!(
                            "Rewrite string references group {g}, the pattern has only {} groups",
                            caps.len() - 1
                        ));
                    } else if let Some(m) = caps.get(g) {
                        out.push_str(m.as_str());
                    }
                }
                _ => {
                    bad = Some("Invalid REGEXP_REPLACE pattern: a backslash must be followed by a digit or backslash".into());
                }
            }
        }
        out
    });
    if let Some(b) = bad {
        return Err(bq_error(b));
    }
    Ok(str_val(out.into_owned()))
}
