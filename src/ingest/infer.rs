//! Schema autodetection for JSON records, following BigQuery's rules
//! (<https://cloud.google.com/bigquery/docs/schema-detect>):
//! objects become STRUCT, arrays ARRAY, integers INT64 (FLOAT64 once any value of the field is
//! fractional or too large), `YYYY-MM-DD` strings DATE, date-time strings TIMESTAMP, other strings
//! STRING; a field that is only ever NULL is STRING. Field names are sanitized like BigQuery's
//! (invalid characters become `_`, a leading digit gets a `_` prefix) and matched
//! case-insensitively.
//!
//! Conflicts widen (INT64+FLOAT64 → FLOAT64, DATE+TIMESTAMP → TIMESTAMP, DATE/TIMESTAMP+STRING →
//! STRING) or fail with the field's path; they never silently coerce other kinds.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use serde_json::Value;

use crate::dialect::types::timestamp_type;

/// A detected type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// Only NULLs seen so far.
    Null,
    Bool,
    Int,
    Float,
    Date,
    Timestamp,
    String,
    Array(Box<Ty>),
    /// Fields in order of first appearance, names already sanitized.
    Struct(Vec<(String, Ty)>),
}

impl Ty {
    fn name(&self) -> String {
        match self {
            Ty::Null | Ty::String => "STRING".into(),
            Ty::Bool => "BOOL".into(),
            Ty::Int => "INT64".into(),
            Ty::Float => "FLOAT64".into(),
            Ty::Date => "DATE".into(),
            Ty::Timestamp => "TIMESTAMP".into(),
            Ty::Array(t) => format!("ARRAY<{}>", t.name()),
            Ty::Struct(_) => "STRUCT".into(),
        }
    }

    /// The detected type of one JSON value. `path` names the value in errors.
    pub fn of(value: &Value, path: &str) -> Result<Ty, String> {
        Ok(match value {
            Value::Null => Ty::Null,
            Value::Bool(_) => Ty::Bool,
            Value::Number(n) => {
                if n.is_i64() {
                    Ty::Int
                } else {
                    Ty::Float
                }
            }
            Value::String(s) => detect_string(s),
            Value::Array(items) => {
                let mut elem = Ty::Null;
                for item in items {
                    match item {
                        Value::Null => {
                            return Err(format!(
                                "field `{path}`: an ARRAY cannot have a NULL element"
                            ));
                        }
                        Value::Array(_) => {
                            return Err(format!(
                                "field `{path}`: an ARRAY cannot directly contain an ARRAY"
                            ));
                        }
                        _ => {}
                    }
                    elem = elem.merge(Ty::of(item, path)?, path)?;
                }
                Ty::Array(Box::new(elem))
            }
            Value::Object(map) => {
                let mut fields: Vec<(String, Ty)> = Vec::with_capacity(map.len());
                for (key, v) in map {
                    let name = sanitize(key);
                    let child = format!("{path}{}{name}", if path.is_empty() { "" } else { "." });
                    let t = Ty::of(v, &child)?;
                    match fields
                        .iter_mut()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                    {
                        Some((_, existing)) => {
                            return Err(format!(
                                "field `{child}` appears twice in one object (names are case-insensitive{})",
                                if *existing == t {
                                    ""
                                } else {
                                    "; types also differ"
                                }
                            ));
                        }
                        None => fields.push((name, t)),
                    }
                }
                Ty::Struct(fields)
            }
        })
    }

    /// Widens two detected types into one, or explains the conflict.
    pub fn merge(self, other: Ty, path: &str) -> Result<Ty, String> {
        use Ty::*;
        Ok(match (self, other) {
            (Null, t) | (t, Null) => t,
            (a, b) if a == b => a,
            (Int, Float) | (Float, Int) => Float,
            (Date, Timestamp) | (Timestamp, Date) => Timestamp,
            (Date | Timestamp, String) | (String, Date | Timestamp) => String,
            (Array(a), Array(b)) => Array(Box::new(a.merge(*b, path)?)),
            (Struct(mut a), Struct(b)) => {
                for (name, t) in b {
                    let child = format!("{path}{}{name}", if path.is_empty() { "" } else { "." });
                    match a.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        Some((_, existing)) => {
                            let prev = std::mem::replace(existing, Null);
                            *existing = prev.merge(t, &child)?;
                        }
                        None => a.push((name, t)),
                    }
                }
                Struct(a)
            }
            (a, b) => {
                return Err(format!(
                    "field `{path}` is {} in some rows and {} in others",
                    a.name(),
                    b.name()
                ));
            }
        })
    }

    /// The Arrow type a detected type is stored as.
    pub fn data_type(&self) -> Result<DataType, String> {
        Ok(match self {
            Ty::Null | Ty::String => DataType::Utf8,
            Ty::Bool => DataType::Boolean,
            Ty::Int => DataType::Int64,
            Ty::Float => DataType::Float64,
            Ty::Date => DataType::Date32,
            Ty::Timestamp => timestamp_type(),
            Ty::Array(t) => DataType::List(Arc::new(Field::new("element", t.data_type()?, true))),
            Ty::Struct(fields) => {
                if fields.is_empty() {
                    return Err("a STRUCT field with no fields (an empty JSON object)".into());
                }
                DataType::Struct(struct_fields(fields)?)
            }
        })
    }
}

fn struct_fields(fields: &[(String, Ty)]) -> Result<Fields, String> {
    fields
        .iter()
        .map(|(n, t)| {
            t.data_type()
                .map_err(|e| format!("field `{n}`: {e}"))
                .map(|dt| Field::new(n, dt, true))
        })
        .collect()
}

/// The table schema for detected top-level fields (all columns NULLABLE, as BigQuery detects).
pub fn schema_of(fields: &[(String, Ty)]) -> Result<Schema, String> {
    Ok(Schema::new(struct_fields(fields)?))
}

/// DATE for `YYYY-MM-DD`, TIMESTAMP for a date-time the loader parses exactly, else STRING.
fn detect_string(s: &str) -> Ty {
    let b = s.as_bytes();
    let date_shape = b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit);
    if !date_shape {
        return Ty::String;
    }
    if b.len() == 10 {
        return if chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() {
            Ty::Date
        } else {
            Ty::String
        };
    }
    let time_shape = b.len() >= 19
        && (b[10] == b'T' || b[10] == b' ')
        && b[11..13].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
        && b[14..16].iter().all(u8::is_ascii_digit)
        && b[16] == b':'
        && b[17..19].iter().all(u8::is_ascii_digit);
    if time_shape && parse_timestamp_micros(s).is_some() {
        Ty::Timestamp
    } else {
        Ty::String
    }
}

/// Microseconds since the epoch of a date-time string, as the loader reads it (no zone = UTC).
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    use datafusion::arrow::compute::kernels::cast_utils::string_to_datetime;
    string_to_datetime(&chrono::Utc, s)
        .ok()
        .map(|d| d.timestamp_micros())
}

/// BigQuery's autodetect column-name rule: letters, digits and `_`; no leading digit.
pub fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.as_bytes()[0].is_ascii_digit() {
        out.insert(0, '_');
    }
    out.truncate(300);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(v: Value) -> Ty {
        Ty::of(&v, "").expect("detects")
    }

    #[test]
    fn scalars() {
        assert_eq!(ty(json!(1)), Ty::Int);
        assert_eq!(ty(json!(1.5)), Ty::Float);
        assert_eq!(ty(json!("2024-02-29")), Ty::Date);
        assert_eq!(ty(json!("2024-02-30")), Ty::String);
        assert_eq!(ty(json!("2024-02-29T10:00:00Z")), Ty::Timestamp);
        assert_eq!(ty(json!("2024-02-29 10:00:00.123+02:00")), Ty::Timestamp);
        assert_eq!(ty(json!("hello")), Ty::String);
    }

    #[test]
    fn widening_and_conflicts() {
        assert_eq!(Ty::Int.merge(Ty::Float, "a"), Ok(Ty::Float));
        assert_eq!(Ty::Date.merge(Ty::Timestamp, "a"), Ok(Ty::Timestamp));
        assert_eq!(Ty::Date.merge(Ty::String, "a"), Ok(Ty::String));
        let err = Ty::Int.merge(Ty::String, "a.b").expect_err("conflict");
        assert!(err.contains("`a.b`"), "{err}");
    }

    #[test]
    fn names() {
        assert_eq!(sanitize("first name"), "first_name");
        assert_eq!(sanitize("1st"), "_1st");
        assert_eq!(sanitize("a-b.c"), "a_b_c");
    }

    #[test]
    fn null_array_element_is_an_error() {
        assert!(Ty::of(&json!({"a": [1, null]}), "").is_err());
    }
}
