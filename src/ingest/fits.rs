//! A cheap check that rows leave a detected schema unchanged, for loads whose schema was detected
//! from a sample (the first megabytes of each file).
//!
//! Detection folds every row's type into the schema in order ([`infer::Ty::absorb`]); a row whose
//! types conflict with the schema is left out of the fold. So a schema detected from a sample is
//! the schema of the whole input exactly when every later row either fits it or conflicts with
//! it. [`chunk_fits`] answers that for a chunk by walking each row's text once, with no
//! allocation for field names the schema already has, and without building the row's type.
//!
//! It may answer "changes" when unsure (the caller then scans the chunk exactly); it never
//! answers "fits" for a row that would change the schema.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::infer::{self, Path, Ty};
use super::source::{self, Chunk};

/// How one value (or row) relates to the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// Folding it in changes nothing.
    Fits,
    /// Folding it in would widen the schema or add a field.
    Changes,
    /// Its types conflict with the schema, so detection leaves the whole row out.
    Conflict,
}

impl Fit {
    /// The fit of a row from the fits of its values: one conflict leaves the whole row out.
    fn and(self, other: Fit) -> Fit {
        self.max(other)
    }
}

/// Whether every row of the chunk leaves `schema` (a [`Ty::Struct`]) unchanged.
pub fn chunk_fits(schema: &Ty, chunk: &Chunk) -> bool {
    source::lines(chunk).all(|(_, text)| row_fits(schema, text))
}

/// Whether one line leaves `schema` unchanged. Lines that are not JSON objects are left out of
/// detection, so they fit.
fn row_fits(schema: &Ty, text: &[u8]) -> bool {
    let mut de = serde_json::Deserializer::from_slice(text);
    match Seed(schema)
        .deserialize(&mut de)
        .and_then(|f| de.end().map(|()| f))
    {
        Ok(f) => f != Fit::Changes,
        // Malformed: detection skips it (decoding rejects it).
        Err(_) => true,
    }
}

/// Whether no value can change a field of this type: every value either folds in unchanged or
/// conflicts (any string, number, bool or NULL into STRING / FLOAT64 / BOOL, and arrays of those,
/// whose NULL or array elements are detection errors). Such values are skipped unread (a
/// conflict taken as a fit can only make the check more cautious).
fn takes_any(t: &Ty) -> bool {
    match t {
        Ty::String | Ty::Float | Ty::Bool => true,
        Ty::Array(e) => takes_any(e),
        _ => false,
    }
}

/// The fit of a scalar of detected type `t` against the schema's type `s`.
fn scalar(s: &Ty, t: Ty) -> Fit {
    if s.conflict(&t, &Path::root("")).is_some() {
        return Fit::Conflict;
    }
    let mut widened = s.clone();
    widened.absorb(t);
    if widened == *s {
        Fit::Fits
    } else {
        Fit::Changes
    }
}

struct Seed<'a>(&'a Ty);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Fit;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fit, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Fit;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Fit, E> {
        Ok(Fit::Fits)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Fit, E> {
        Ok(Fit::Fits)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Fit, E> {
        Ok(match self.0 {
            Ty::Bool => Fit::Fits,
            s => scalar(s, Ty::Bool),
        })
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Fit, E> {
        Ok(match self.0 {
            Ty::Int | Ty::Float => Fit::Fits,
            s => scalar(s, Ty::Int),
        })
    }
    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Fit, E> {
        if i64::try_from(n).is_ok() {
            self.visit_i64(0)
        } else {
            self.visit_f64(0.0)
        }
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Fit, E> {
        Ok(match self.0 {
            Ty::Float => Fit::Fits,
            s => scalar(s, Ty::Float),
        })
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Fit, E> {
        Ok(match self.0 {
            // Every string folds into STRING unchanged.
            Ty::String => Fit::Fits,
            s @ (Ty::Date | Ty::Timestamp) => match (s, infer::detect_string(v)) {
                (Ty::Date, Ty::Date) | (Ty::Timestamp, Ty::Date | Ty::Timestamp) => Fit::Fits,
                (s, t) => scalar(s, t),
            },
            // Any string conflicts with these (or widens NULL).
            s => scalar(s, Ty::String),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Fit, A::Error> {
        let elem = match self.0 {
            Ty::Array(e) => e.as_ref(),
            s => {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(match s {
                    Ty::Null => Fit::Changes,
                    _ => Fit::Conflict,
                });
            }
        };
        let mut fit = Fit::Fits;
        while let Some(f) = seq.next_element_seed(Elem(elem))? {
            fit = fit.and(f);
        }
        Ok(fit)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fit, A::Error> {
        let fields = match self.0 {
            Ty::Struct(f) => f,
            s => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(match s {
                    Ty::Null => Fit::Changes,
                    _ => Fit::Conflict,
                });
            }
        };
        let mut fit = Fit::Fits;
        let mut at = 0;
        while let Some(found) = map.next_key_seed(KeySeed { fields, hint: at })? {
            match found {
                Some(i) if takes_any(&fields[i].1) => {
                    at = i + 1;
                    map.next_value::<IgnoredAny>()?;
                }
                Some(i) => {
                    at = i + 1;
                    fit = fit.and(map.next_value_seed(Seed(&fields[i].1))?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    fit = fit.and(Fit::Changes);
                }
            }
        }
        Ok(fit)
    }
}

/// An array element: a NULL or array element makes the whole row a detection error (left out).
struct Elem<'a>(&'a Ty);

impl<'de> DeserializeSeed<'de> for Elem<'_> {
    type Value = Fit;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fit, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Elem<'_> {
    type Value = Fit;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Fit, E> {
        Ok(Fit::Conflict)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Fit, E> {
        Ok(Fit::Conflict)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Fit, E> {
        Seed(self.0).visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Fit, E> {
        Seed(self.0).visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Fit, E> {
        Seed(self.0).visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Fit, E> {
        Seed(self.0).visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Fit, E> {
        Seed(self.0).visit_str(v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Fit, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Fit::Conflict)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Fit, A::Error> {
        Seed(self.0).visit_map(map)
    }
}

/// Finds a key's field: by exact name (trying the field after the previous key's first), else as
/// detection matches it (sanitized, case-insensitive).
struct KeySeed<'a> {
    fields: &'a [(String, Ty)],
    hint: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        if let Some((n, _)) = self.fields.get(self.hint)
            && n == key
        {
            return Ok(Some(self.hint));
        }
        if let Some(i) = self.fields.iter().position(|(n, _)| n == key) {
            return Ok(Some(i));
        }
        let name = infer::sanitize(key);
        Ok(self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::json::Scan;

    /// The schema detected from `rows`, folded in order as detection does.
    fn detect(rows: &[&str]) -> Ty {
        let text = rows.join("\n");
        let chunk = Chunk {
            first_line: 1,
            bytes: text.into_bytes(),
        };
        let mut scan = Scan::default();
        crate::ingest::json::scan_lines(&mut scan, "t", &chunk);
        scan.ty
    }

    /// `row_fits` says "fits" only when folding the row in leaves the schema as it was.
    fn agrees(sample: &[&str], row: &str) -> bool {
        let schema = detect(sample);
        let mut all: Vec<&str> = sample.to_vec();
        all.push(row);
        let exact = detect(&all) == schema;
        let fits = row_fits(&schema, row.as_bytes());
        assert!(!fits || exact, "claims {row} fits {schema:?}");
        fits
    }

    #[test]
    fn fitting_rows() {
        let sample = [
            r#"{"a": 1, "b": "x", "c": 1.5, "d": "2024-01-02", "e": [1], "f": {"g": true}}"#,
            r#"{"a": 2, "t": "2024-01-02T03:04:05Z", "n": null, "l": [{"k": 1}]}"#,
        ];
        for row in [
            r#"{"a": 3}"#,
            r#"{"b": "2024-01-02", "c": 3, "t": "2024-01-02"}"#,
            r#"{"A": 3, "e": [], "f": {}, "l": [{"k": 2}, {}]}"#,
            r#"{"a": "not a number"}"#,
            r#"{"a": "x", "new": 1}"#,
            r#"[1, 2]"#,
            r#"{"a": "#,
            r#"{"e": [1, null], "new": 1}"#,
            r#"{"b": 1, "c": "x", "f": {"g": [1]}}"#,
            r#"{"b": {"x": 1}, "c": null}"#,
        ] {
            assert!(agrees(&sample, row), "{row} should fit");
        }
    }

    #[test]
    fn changing_rows() {
        let sample = [
            r#"{"a": 1, "b": "x", "c": 1.5, "d": "2024-01-02", "e": [1], "f": {"g": true}}"#,
            r#"{"a": 2, "t": "2024-01-02T03:04:05Z", "n": null, "l": [{"k": 1}]}"#,
        ];
        for row in [
            r#"{"a": 1.5}"#,
            r#"{"a": 18446744073709551615}"#,
            r#"{"d": "2024-01-02T00:00:00Z"}"#,
            r#"{"d": "soon"}"#,
            r#"{"t": "later"}"#,
            r#"{"n": 1}"#,
            r#"{"new": 1}"#,
            r#"{"first name": 1}"#,
            r#"{"e": [1.5]}"#,
            r#"{"f": {"h": 1}}"#,
            r#"{"l": [{"k": 1}, {"k2": 1}]}"#,
        ] {
            assert!(!agrees(&sample, row), "{row} should change the schema");
        }
    }
}
