//! Code points and encodings: ASCII, UNICODE, CHR, TO_CODE_POINTS, CODE_POINTS_TO_STRING,
//! CODE_POINTS_TO_BYTES, TO_BASE32/FROM_BASE32, TO_BASE64/FROM_BASE64, TO_HEX/FROM_HEX.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/string_functions>.

use std::sync::Arc;

use base64::Engine as _;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ScalarUDF;

use super::bq_error;
use super::row_fn::{
    Text, bytes_val, i64_val, int, int_list, list_val, ret_binary, ret_i64, ret_list_i64, ret_utf8,
    str_val, string, text, udf,
};

pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        udf("ascii", &[], ret_i64, ascii),
        udf("unicode", &[], ret_i64, unicode),
        udf("chr", &[], ret_utf8, chr),
        udf("to_code_points", &[], ret_list_i64, to_code_points),
        udf(
            "code_points_to_string",
            &[],
            ret_utf8,
            code_points_to_string,
        ),
        udf(
            "code_points_to_bytes",
            &[],
            ret_binary,
            code_points_to_bytes,
        ),
        udf("to_base32", &[], ret_utf8, to_base32),
        udf("from_base32", &[], ret_binary, from_base32),
        udf("to_base64", &[], ret_utf8, to_base64),
        udf("from_base64", &[], ret_binary, from_base64),
        udf("to_hex", &[], ret_utf8, to_hex),
        udf("from_hex", &[], ret_binary, from_hex),
    ]
}

fn ascii(a: &[ScalarValue]) -> Result<ScalarValue> {
    Ok(i64_val(match text(&a[0], "ASCII")? {
        Text::Str(s) => s.chars().next().map_or(0, |c| c as i64),
        Text::Bytes(b) => b.first().map_or(0, |c| *c as i64),
    }))
}

fn unicode(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "UNICODE")?;
    Ok(i64_val(s.chars().next().map_or(0, |c| c as i64)))
}

fn code_point(n: i64) -> Result<char> {
    u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .ok_or_else(|| bq_error(format!("Invalid code point: {n}")))
}

/// Appends a code point; code point 0 adds nothing (BigQuery's documented `CHR(0)` is `''`).
fn push_code_point(out: &mut String, n: i64) -> Result<()> {
    let c = code_point(n)?;
    if c != '\0' {
        out.push(c);
    }
    Ok(())
}

fn chr(a: &[ScalarValue]) -> Result<ScalarValue> {
    let n = int(&a[0], "CHR")?;
    let mut out = String::new();
    push_code_point(&mut out, n)?;
    Ok(str_val(out))
}

fn to_code_points(a: &[ScalarValue]) -> Result<ScalarValue> {
    let values: Vec<ScalarValue> = match text(&a[0], "TO_CODE_POINTS")? {
        Text::Str(s) => s.chars().map(|c| i64_val(c as i64)).collect(),
        Text::Bytes(b) => b.iter().map(|c| i64_val(*c as i64)).collect(),
    };
    Ok(list_val(values, &DataType::Int64))
}

fn code_points_to_string(a: &[ScalarValue]) -> Result<ScalarValue> {
    let mut out = String::new();
    for n in int_list(&a[0], "CODE_POINTS_TO_STRING")? {
        match n {
            Some(n) => push_code_point(&mut out, n)?,
            None => return Ok(ScalarValue::Utf8(None)),
        }
    }
    Ok(str_val(out))
}

fn code_points_to_bytes(a: &[ScalarValue]) -> Result<ScalarValue> {
    let mut out = Vec::new();
    for n in int_list(&a[0], "CODE_POINTS_TO_BYTES")? {
        match n {
            Some(n) => out
                .push(u8::try_from(n).map_err(|_| bq_error(format!("Invalid ASCII value: {n}")))?),
            None => return Ok(ScalarValue::Binary(None)),
        }
    }
    Ok(bytes_val(out))
}

fn bytes_arg<'a>(v: &'a ScalarValue, what: &str) -> Result<&'a [u8]> {
    match text(v, what)? {
        Text::Bytes(b) => Ok(b),
        Text::Str(_) => Err(bq_error(format!("{what} expects BYTES, got STRING"))),
    }
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn to_base32(a: &[ScalarValue]) -> Result<ScalarValue> {
    let b = bytes_arg(&a[0], "TO_BASE32")?;
    let mut out = String::new();
    for chunk in b.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, x| (acc << 8) | *x as u64);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(B32[((v >> (35 - 5 * i)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(str_val(out))
}

fn from_base32(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "FROM_BASE32")?;
    let bad = || bq_error(format!("Failed to decode invalid base32 string: {s}"));
    let body = s.trim_end_matches('=');
    let mut bits: u64 = 0;
    let mut n = 0;
    let mut out = Vec::new();
    for c in body.chars() {
        let v = B32
            .iter()
            .position(|x| *x as char == c.to_ascii_uppercase())
            .ok_or_else(bad)?;
        bits = (bits << 5) | v as u64;
        n += 5;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Ok(bytes_val(out))
}

fn to_base64(a: &[ScalarValue]) -> Result<ScalarValue> {
    let b = bytes_arg(&a[0], "TO_BASE64")?;
    Ok(str_val(base64::engine::general_purpose::STANDARD.encode(b)))
}

fn from_base64(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "FROM_BASE64")?;
    let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(clean.as_bytes())
        .map(bytes_val)
        .map_err(|_| bq_error(format!("Failed to decode invalid base64 string: {s}")))
}

fn to_hex(a: &[ScalarValue]) -> Result<ScalarValue> {
    let b = bytes_arg(&a[0], "TO_HEX")?;
    Ok(str_val(
        b.iter().map(|x| format!("{x:02x}")).collect::<String>(),
    ))
}

fn from_hex(a: &[ScalarValue]) -> Result<ScalarValue> {
    let s = string(&a[0], "FROM_HEX")?;
    let padded = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    let bad = || bq_error(format!("Failed to decode invalid hexadecimal string: {s}"));
    let digits: Vec<u32> = padded
        .chars()
        .map(|c| c.to_digit(16).ok_or_else(bad))
        .collect::<Result<_>>()?;
    Ok(bytes_val(
        digits.chunks(2).map(|p| (p[0] * 16 + p[1]) as u8).collect(),
    ))
}
