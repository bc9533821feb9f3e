//! BigQuery's JSONPath: `$`, `.key`, `[index]`, and quoted keys.
//!
//! Standard functions (JSON_QUERY, JSON_VALUE, JSON_SET...) quote keys with double quotes:
//! `$."a.b".c`. The legacy functions (JSON_EXTRACT, JSON_EXTRACT_SCALAR...) use `$['a.b'].c`
//! (single or double quotes inside brackets). Wildcards and filters are not supported.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#JSONPath_format>.

use datafusion::error::Result;

use super::bq_error;
use super::json_value::Json;

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// Which quoting a function's paths use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Syntax {
    Standard,
    Legacy,
}

fn invalid(path: &str, why: &str) -> datafusion::error::DataFusionError {
    bq_error(format!("Invalid JSONPath: {path} ({why})"))
}

/// Parses a JSONPath.
pub fn parse(path: &str, syntax: Syntax) -> Result<Vec<Step>> {
    let b = path.as_bytes();
    if b.first() != Some(&b'$') {
        return Err(invalid(path, "must start with '$'"));
    }
    let mut i = 1;
    let mut steps = Vec::new();
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                if syntax == Syntax::Standard && b.get(i) == Some(&b'"') {
                    let end = path[i + 1..]
                        .find('"')
                        .ok_or_else(|| invalid(path, "unterminated quote"))?;
                    steps.push(Step::Key(path[i + 1..i + 1 + end].to_string()));
                    i += end + 2;
                } else {
                    let start = i;
                    while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                        i += 1;
                    }
                    if i == start {
                        return Err(invalid(path, "empty key"));
                    }
                    let key = &path[start..i];
                    if key.contains(['*', '"', '\'', ' ']) {
                        return Err(invalid(path, "unsupported key"));
                    }
                    steps.push(Step::Key(key.to_string()));
                }
            }
            b'[' => {
                i += 1;
                let close = path[i..]
                    .find(']')
                    .ok_or_else(|| invalid(path, "missing ']'"))?;
                let inner = path[i..i + close].trim();
                let quoted = inner.len() >= 2
                    && ((inner.starts_with('\'') && inner.ends_with('\''))
                        || (inner.starts_with('"') && inner.ends_with('"')));
                if quoted && syntax == Syntax::Legacy {
                    steps.push(Step::Key(inner[1..inner.len() - 1].to_string()));
                } else if let Ok(n) = inner.parse::<usize>() {
                    steps.push(Step::Index(n));
                } else {
                    return Err(invalid(path, "unsupported subscript"));
                }
                i += close + 1;
            }
            _ => return Err(invalid(path, "unexpected character")),
        }
    }
    Ok(steps)
}

/// The value at `steps`, if any.
pub fn get<'a>(root: &'a Json, steps: &[Step]) -> Option<&'a Json> {
    let mut cur = root;
    for s in steps {
        cur = match s {
            Step::Key(k) => cur.member(k)?,
            Step::Index(i) => cur.element(*i)?,
        };
    }
    Some(cur)
}

/// The value at `steps` for modification, if any.
pub fn get_mut<'a>(root: &'a mut Json, steps: &[Step]) -> Option<&'a mut Json> {
    let mut cur = root;
    for s in steps {
        cur = match (s, cur) {
            (Step::Key(k), Json::Obj(m)) => m.iter_mut().find(|(n, _)| n == k).map(|(_, v)| v)?,
            (Step::Index(i), Json::Arr(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Inserts `key` into a sorted object (the `JSON` type keeps keys sorted).
pub fn insert_sorted(members: &mut Vec<(String, Json)>, key: String, value: Json) {
    let at = members.partition_point(|(k, _)| *k < key);
    members.insert(at, (key, value));
}
