//! BigQuery's JSON values: parsing, normalisation and the compact text form.
//!
//! A BigQuery `JSON` value sorts object keys, keeps the first of duplicate keys and stores numbers
//! as INT64, UINT64 or FLOAT64. JSON held in a `STRING` is not normalised: JSON_QUERY and friends
//! read it as written (duplicates, key order, number text) and do not validate what they skip.
//! dap keeps JSON as its compact text in a Utf8 column tagged `arrow.json` (see
//! [`crate::dialect::types::is_json`]).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#json_type>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions>.

use std::fmt::Write;

use datafusion::error::Result;

use super::bq_error;

/// One JSON value. Objects keep their members in order (and duplicates) until [`Json::normalize`].
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number's text (as written, or canonical after normalisation).
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
    /// A container whose text ended early (lenient parsing of STRING input only).
    Incomplete(Box<Json>),
}

/// How numbers that FLOAT64 cannot hold exactly are treated (PARSE_JSON's `wide_number_mode`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WideNumbers {
    Exact,
    Round,
}

impl Json {
    /// Parses JSON text strictly (the `JSON` type).
    pub fn parse(text: &str) -> Result<Json> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        let v = p.value().map_err(|e| invalid_json(text, &e))?;
        p.ws();
        if p.i != p.s.len() {
            return Err(invalid_json(text, "unexpected trailing characters"));
        }
        Ok(v)
    }

    /// Parses JSON held in a STRING the way BigQuery's extraction functions read it: a value cut
    /// short keeps what was complete. `None` when nothing could be read.
    pub fn parse_lenient(text: &str) -> Option<Json> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        p.lenient_value()
    }

    /// The `JSON` type form: sorted keys, first of duplicate keys, canonical numbers.
    pub fn normalize(self, mode: WideNumbers) -> Result<Json> {
        Ok(match self {
            Json::Num(t) => Json::Num(canonical_number(&t, mode)?),
            Json::Arr(items) => Json::Arr(
                items
                    .into_iter()
                    .map(|v| v.normalize(mode))
                    .collect::<Result<_>>()?,
            ),
            Json::Obj(members) => {
                let mut out: Vec<(String, Json)> = Vec::with_capacity(members.len());
                for (k, v) in members {
                    if !out.iter().any(|(seen, _)| *seen == k) {
                        out.push((k, v.normalize(mode)?));
                    }
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Obj(out)
            }
            Json::Incomplete(inner) => inner.normalize(mode)?,
            other => other,
        })
    }

    /// Compact text: no white space, members in the value's order.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None, 0);
        out
    }

    /// TO_JSON_STRING's pretty form: two-space indentation.
    pub fn to_pretty_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(2), 0);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>, depth: usize) {
        let newline = |out: &mut String, d: usize| {
            if let Some(n) = indent {
                out.push('\n');
                out.push_str(&" ".repeat(n * d));
            }
        };
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(t) => out.push_str(t),
            Json::Str(s) => write_string(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    v.write(out, indent, depth + 1);
                }
                if !items.is_empty() {
                    newline(out, depth);
                }
                out.push(']');
            }
            Json::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    write_string(out, k);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    v.write(out, indent, depth + 1);
                }
                if !members.is_empty() {
                    newline(out, depth);
                }
                out.push('}');
            }
            Json::Incomplete(inner) => inner.write(out, indent, depth),
        }
    }

    /// JSON_TYPE's name of the value's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "boolean",
            Json::Num(_) => "number",
            Json::Str(_) => "string",
            Json::Arr(_) => "array",
            Json::Obj(_) => "object",
            Json::Incomplete(inner) => inner.type_name(),
        }
    }

    /// The first member named `key` of an object.
    pub fn member(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            Json::Incomplete(inner) => inner.member(key),
            _ => None,
        }
    }

    /// Element `i` of an array.
    pub fn element(&self, i: usize) -> Option<&Json> {
        match self {
            Json::Arr(items) => items.get(i),
            Json::Incomplete(inner) => inner.element(i),
            _ => None,
        }
    }

    /// A string's value, a number's or boolean's text — JSON_VALUE's scalar; `None` otherwise.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Json::Str(s) => Some(s.clone()),
            Json::Num(t) => Some(t.clone()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

fn invalid_json(text: &str, why: &str) -> datafusion::error::DataFusionError {
    let shown: String = text.chars().take(64).collect();
    bq_error(format!("Invalid JSON input: {why}: {shown}"))
}

/// Writes `s` as a JSON string literal (BigQuery escapes control characters, quote and backslash).
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A FLOAT64 in BigQuery's JSON text: shortest round-trip digits, exponent form from 1e15 up and
/// below 1e-4 (`9.007199254740992e+15`, `1e+100`), integral values without a fraction (`10`).
pub fn format_double(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-5..15).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let s = format!("{f}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// Splits a JSON number into (negative, significant digits, exponent of the first digit).
fn decimal_parts(text: &str) -> Option<(bool, String, i64)> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mant, exp) = match rest.find(['e', 'E']) {
        Some(p) => (&rest[..p], rest[p + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if !(int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let all = format!("{int}{frac}");
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0').to_string();
    let point = int.len() as i64 + exp;
    Some((neg, digits, point - lead as i64 - 1))
}

/// The canonical text of a JSON number stored in the `JSON` type.
pub fn canonical_number(text: &str, mode: WideNumbers) -> Result<String> {
    let bad = || bq_error(format!("Invalid JSON number: {text}"));
    let (neg, digits, exp) = decimal_parts(text).ok_or_else(bad)?;
    if digits.is_empty() {
        return Ok("0".into());
    }
    // Integral values that fit INT64 or UINT64 stay integers.
    if exp >= digits.len() as i64 - 1 && exp < 20 {
        let int = format!("{digits}{}", "0".repeat((exp + 1) as usize - digits.len()));
        let fits = if neg {
            format!("-{int}").parse::<i64>().is_ok()
        } else {
            int.parse::<u64>().is_ok()
        };
        if fits && !text.contains(['.', 'e', 'E']) {
            return Ok(if neg { format!("-{int}") } else { int });
        }
    }
    let f: f64 = text.trim_start_matches('+').parse().map_err(|_| bad())?;
    if !f.is_finite() {
        return Err(bq_error(format!(
            "Failed to parse JSON number {text}: out of range"
        )));
    }
    if mode == WideNumbers::Exact {
        let back = decimal_parts(&format!("{f:e}")).ok_or_else(bad)?;
        if back.1 != digits || back.2 != exp {
            return Err(bq_error(format!(
                "Input number: {text} cannot round-trip through string representation"
            )));
        }
    }
    Ok(format_double(f))
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> std::result::Result<Json, String> {
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat(b'}') {
                    return Ok(Json::Obj(members));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    if !self.eat(b':') {
                        return Err("expected ':'".into());
                    }
                    self.ws();
                    let v = self.value()?;
                    members.push((k, v));
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(Json::Obj(members));
                    }
                    return Err("expected ',' or '}'".into());
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b']') {
                    return Ok(Json::Arr(items));
                }
                loop {
                    self.ws();
                    items.push(self.value()?);
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(b']') {
                        return Ok(Json::Arr(items));
                    }
                    return Err("expected ',' or ']'".into());
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err("unexpected character".into()),
            None => Err("unexpected end of input".into()),
        }
    }

    /// Like [`Self::value`], but a container cut short keeps its complete members.
    fn lenient_value(&mut self) -> Option<Json> {
        let start = self.i;
        match self.peek()? {
            open @ (b'{' | b'[') => {
                self.i += 1;
                let close = if open == b'{' { b'}' } else { b']' };
                let mut members: Vec<(String, Json)> = Vec::new();
                let mut items: Vec<Json> = Vec::new();
                let build = |members: Vec<(String, Json)>, items: Vec<Json>| {
                    if open == b'{' {
                        Json::Obj(members)
                    } else {
                        Json::Arr(items)
                    }
                };
                self.ws();
                if self.eat(close) {
                    return Some(build(members, items));
                }
                loop {
                    self.ws();
                    if open == b'{' {
                        let Ok(k) = self.string() else {
                            return Some(Json::Incomplete(Box::new(build(members, items))));
                        };
                        self.ws();
                        if !self.eat(b':') {
                            return Some(Json::Incomplete(Box::new(build(members, items))));
                        }
                        self.ws();
                        match self.lenient_value() {
                            Some(Json::Incomplete(v)) => {
                                members.push((k, Json::Incomplete(v)));
                                return Some(Json::Incomplete(Box::new(build(members, items))));
                            }
                            Some(v) => members.push((k, v)),
                            None => {
                                return Some(Json::Incomplete(Box::new(build(members, items))));
                            }
                        }
                    } else {
                        match self.lenient_value() {
                            Some(Json::Incomplete(v)) => {
                                items.push(Json::Incomplete(v));
                                return Some(Json::Incomplete(Box::new(build(members, items))));
                            }
                            Some(v) => items.push(v),
                            None => {
                                return Some(Json::Incomplete(Box::new(build(members, items))));
                            }
                        }
                    }
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    if self.eat(close) {
                        return Some(build(members, items));
                    }
                    return Some(Json::Incomplete(Box::new(build(members, items))));
                }
            }
            _ => {
                self.i = start;
                self.value().ok()
            }
        }
    }

    fn word(&mut self, w: &str, v: Json) -> std::result::Result<Json, String> {
        if self.s[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(v)
        } else {
            Err("invalid literal".into())
        }
    }

    fn number(&mut self) -> std::result::Result<Json, String> {
        let start = self.i;
        self.eat(b'-');
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.i += 1;
            }
            p.i > s
        };
        if !digits(self) {
            return Err("invalid number".into());
        }
        if self.eat(b'.') && !digits(self) {
            return Err("invalid number".into());
        }
        if self.peek().is_some_and(|b| b == b'e' || b == b'E') {
            self.i += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !digits(self) {
                return Err("invalid number".into());
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?;
        Ok(Json::Num(text.to_string()))
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        if !self.eat(b'"') {
            return Err("expected string".into());
        }
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err("unterminated string".into());
                    };
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return Err("invalid surrogate".into());
                                }
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or("invalid escape")?
                        }
                        _ => return Err("invalid escape".into()),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b if b < 0x20 => return Err("control character in string".into()),
                b => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> std::result::Result<u32, String> {
        let h = self.s.get(self.i..self.i + 4).ok_or("invalid escape")?;
        let h = std::str::from_utf8(h).map_err(|e| e.to_string())?;
        let v = u32::from_str_radix(h, 16).map_err(|e| e.to_string())?;
        self.i += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = std::result::Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn numbers() -> R {
        let c = |t| canonical_number(t, WideNumbers::Exact);
        assert_eq!(c("10")?, "10");
        assert_eq!(c("10.0")?, "10");
        assert_eq!(c("3.14")?, "3.14");
        assert_eq!(c("1e100")?, "1e+100");
        assert_eq!(c("-0.5")?, "-0.5");
        assert!(canonical_number("922337203685477580701", WideNumbers::Exact).is_err());
        assert_eq!(
            canonical_number("922337203685477580701", WideNumbers::Round)?,
            "9.223372036854776e+20"
        );
        assert_eq!(format_double(9007199254740992.0), "9.007199254740992e+15");
        Ok(())
    }

    #[test]
    fn normalize_sorts_and_keeps_first() -> R {
        let j = Json::parse(r#"{"b": 1, "a": [1, 2.50], "b": 2}"#)?;
        let n = j.normalize(WideNumbers::Exact)?;
        assert_eq!(n.to_text(), r#"{"a":[1,2.5],"b":1}"#);
        Ok(())
    }

    #[test]
    fn lenient() {
        let j = Json::parse_lenient(r#"{"hello": "world""#);
        assert_eq!(
            j.as_ref().and_then(|j| j.member("hello")),
            Some(&Json::Str("world".into()))
        );
    }
}
