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
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
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
    pub fn merge(mut self, other: Ty, path: &str) -> Result<Ty, String> {
        let root = Path::root(path);
        if let Some(e) = self.conflict(&other, &root) {
            return Err(e);
        }
        self.absorb(other);
        Ok(self)
    }

    /// Why `other` cannot be merged into `self` (naming the field), or `None` when it can.
    /// Never allocates when the types agree.
    pub fn conflict(&self, other: &Ty, path: &Path<'_>) -> Option<String> {
        use Ty::*;
        match (self, other) {
            (Null, _) | (_, Null) => None,
            (Int, Float) | (Float, Int) => None,
            (Date, Timestamp) | (Timestamp, Date) => None,
            (Date | Timestamp, String) | (String, Date | Timestamp) => None,
            (Array(a), Array(b)) => a.conflict(b, path),
            (Struct(a), Struct(b)) => b.iter().find_map(|(name, t)| {
                a.iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .and_then(|(_, existing)| existing.conflict(t, &Path::child(path, name)))
            }),
            (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) => None,
            (a, b) => Some(format!(
                "field `{path}` is {} in some rows and {} in others",
                a.name(),
                b.name()
            )),
        }
    }

    /// Merges `other` into `self`; call only when [`Ty::conflict`] found none.
    pub fn absorb(&mut self, other: Ty) {
        use Ty::*;
        match (&mut *self, other) {
            (_, Null) => {}
            (Null, t) => *self = t,
            (Int, Float) => *self = Float,
            (Date, Timestamp) => *self = Timestamp,
            (Date | Timestamp, String) => *self = String,
            (Array(a), Array(b)) => a.absorb(*b),
            (Struct(a), Struct(b)) => {
                for (name, t) in b {
                    match a.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                        Some((_, existing)) => existing.absorb(t),
                        None => a.push((name, t)),
                    }
                }
            }
            _ => {}
        }
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

/// A field path, built only when an error names it.
pub struct Path<'a> {
    name: &'a str,
    parent: Option<&'a Path<'a>>,
}

impl<'a> Path<'a> {
    pub fn root(name: &'a str) -> Path<'a> {
        Path { name, parent: None }
    }
    fn child(parent: &'a Path<'a>, name: &'a str) -> Path<'a> {
        Path {
            name,
            parent: Some(parent),
        }
    }
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = self.parent {
            write!(f, "{p}")?;
            if !p.to_string().is_empty() && !self.name.is_empty() {
                f.write_str(".")?;
            }
        }
        f.write_str(self.name)
    }
}

/// The detected type of one JSON value read straight from its text (no `serde_json::Value`), with
/// object keys sanitized and kept in the order they appear. An error names the field.
pub struct Scanned(pub Result<Ty, String>);

impl<'de> Deserialize<'de> for Scanned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TyVisitor)
            .map(|r| Scanned(r.map_err(|e| e.render())))
    }
}

impl Scanned {
    /// The detected type of an object whose opening brace was already read.
    pub fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Scanned, A::Error> {
        TyVisitor
            .visit_map(map)
            .map(|r| Scanned(r.map_err(ScanError::render)))
    }
}

/// A detection error whose path is collected on the way out (innermost name first).
struct ScanError {
    rev_path: Vec<String>,
    msg: String,
}

impl ScanError {
    fn new(msg: impl Into<String>) -> Self {
        ScanError {
            rev_path: Vec::new(),
            msg: msg.into(),
        }
    }
    fn render(self) -> String {
        let path: Vec<&str> = self.rev_path.iter().rev().map(String::as_str).collect();
        self.msg.replace("{path}", &path.join("."))
    }
}

struct ScannedInner(Result<Ty, ScanError>);

impl<'de> Deserialize<'de> for ScannedInner {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TyVisitor).map(ScannedInner)
    }
}

struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(Key(sanitize(s)))
            }
        }
        d.deserialize_str(V)
    }
}

struct TyVisitor;

impl<'de> Visitor<'de> for TyVisitor {
    type Value = Result<Ty, ScanError>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(Ty::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(Ty::Null))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Ok(Ty::Bool))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Ok(Ty::Int))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Ok(if i64::try_from(n).is_ok() {
            Ty::Int
        } else {
            Ty::Float
        }))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Ok(Ty::Float))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Ok(detect_string(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elem = Ty::Null;
        let mut err: Option<ScanError> = None;
        while let Some(ScannedInner(item)) = seq.next_element::<ScannedInner>()? {
            if err.is_some() {
                continue;
            }
            match item {
                Ok(Ty::Null) => {
                    err = Some(ScanError::new(
                        "field `{path}`: an ARRAY cannot have a NULL element",
                    ))
                }
                Ok(Ty::Array(_)) => {
                    err = Some(ScanError::new(
                        "field `{path}`: an ARRAY cannot directly contain an ARRAY",
                    ))
                }
                Ok(t) => match elem.conflict(&t, &Path::root("{path}")) {
                    Some(e) => err = Some(ScanError::new(e)),
                    None => elem.absorb(t),
                },
                Err(e) => err = Some(e),
            }
        }
        Ok(match err {
            Some(e) => Err(e),
            None => Ok(Ty::Array(Box::new(elem))),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields: Vec<(String, Ty)> = Vec::new();
        let mut err: Option<ScanError> = None;
        while let Some(Key(name)) = map.next_key::<Key>()? {
            let ScannedInner(t) = map.next_value::<ScannedInner>()?;
            if err.is_some() {
                continue;
            }
            match t {
                Err(mut e) => {
                    e.rev_path.push(name);
                    err = Some(e);
                }
                Ok(t) => match fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                    Some((_, existing)) => {
                        let differ = if *existing == t {
                            ""
                        } else {
                            "; types also differ"
                        };
                        let mut e = ScanError::new(format!(
                            "field `{{path}}` appears twice in one object (names are case-insensitive{differ})"
                        ));
                        e.rev_path.push(name);
                        err = Some(e);
                    }
                    None => fields.push((name, t)),
                },
            }
        }
        Ok(match err {
            Some(e) => Err(e),
            None => Ok(Ty::Struct(fields)),
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
pub fn detect_string(s: &str) -> Ty {
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
        // The digits were checked above (what `%Y-%m-%d` parses them as).
        let num =
            |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
        let valid = i32::try_from(num(0..4))
            .is_ok_and(|y| chrono::NaiveDate::from_ymd_opt(y, num(5..7), num(8..10)).is_some());
        return if valid { Ty::Date } else { Ty::String };
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
        assert_eq!(ty(json!("2023-02-29")), Ty::String);
        assert_eq!(ty(json!("2024-13-01")), Ty::String);
        assert_eq!(ty(json!("0000-01-01")), Ty::Date);
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
