//! BigQuery's string, bytes and integer literals, decoded by dap instead of by sqlparser.
//!
//! The tokenizer runs with unescaping off, so each literal token still holds the text the user
//! wrote; [`rewrite_literal_tokens`] decodes it with BigQuery's rules and hands sqlparser a plain
//! literal:
//! - quoted strings `'..'`, `".."`, `'''..'''`, `"""..."""` with escapes `\n \t \\ \' \x41 \101
//!   \u00e9 \U0001F600` (and the rest of the table) become one single-quoted string;
//! - raw strings `r'..'` keep every backslash;
//! - bytes `b'..'` (and raw bytes `rb'..'`) become a hex literal `X'..'`, so any byte survives;
//! - `0x1F` is an INT64, not bytes.
//!
//! An invalid escape is a syntax error at the literal.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#literals>.

use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::error::{DapError, Location};

/// Decodes every literal token of a statement in place.
pub fn rewrite_literal_tokens(tokens: &mut Vec<TokenWithSpan>) -> Result<(), DapError> {
    let mut i = 0;
    while i < tokens.len() {
        // `rb'..'` / `br'..'`: sqlparser reads a word followed by a quoted string.
        let raw_bytes = matches!(&tokens[i].token, Token::Word(w) if w.quote_style.is_none()
            && (w.value.eq_ignore_ascii_case("rb") || w.value.eq_ignore_ascii_case("br")))
            && i + 1 < tokens.len()
            && tokens[i + 1].span.start == tokens[i].span.end
            && string_body(&tokens[i + 1].token).is_some();
        if raw_bytes {
            let body = string_body(&tokens[i + 1].token)
                .map(str::to_string)
                .unwrap_or_default();
            let span = tokens[i].span.union(&tokens[i + 1].span);
            tokens.splice(
                i..i + 2,
                [TokenWithSpan::new(
                    Token::HexStringLiteral(hex(body.as_bytes())),
                    span,
                )],
            );
            i += 1;
            continue;
        }
        let at = Location {
            line: tokens[i].span.start.line,
            column: tokens[i].span.start.column,
        };
        let err = |message: String| DapError::Syntax {
            message,
            location: Some(at),
        };
        let new = match &tokens[i].token {
            Token::SingleQuotedString(s) => Some(Token::SingleQuotedString(
                decode_string(&undouble(s, '\'')).map_err(err)?,
            )),
            Token::DoubleQuotedString(s) => Some(Token::SingleQuotedString(
                decode_string(&undouble(s, '"')).map_err(err)?,
            )),
            Token::TripleSingleQuotedString(s) | Token::TripleDoubleQuotedString(s) => {
                Some(Token::SingleQuotedString(decode_string(s).map_err(err)?))
            }
            Token::SingleQuotedRawStringLiteral(s)
            | Token::DoubleQuotedRawStringLiteral(s)
            | Token::TripleSingleQuotedRawStringLiteral(s)
            | Token::TripleDoubleQuotedRawStringLiteral(s) => {
                Some(Token::SingleQuotedString(s.clone()))
            }
            Token::SingleQuotedByteStringLiteral(s)
            | Token::DoubleQuotedByteStringLiteral(s)
            | Token::TripleSingleQuotedByteStringLiteral(s)
            | Token::TripleDoubleQuotedByteStringLiteral(s) => {
                Some(Token::HexStringLiteral(hex(&decode(s).map_err(err)?)))
            }
            // `0xF9B5` (the tokenizer calls it hex bytes; X'..' is three characters longer).
            Token::HexStringLiteral(s)
                if tokens[i].span.start.line == tokens[i].span.end.line
                    && tokens[i].span.end.column - tokens[i].span.start.column
                        == s.len() as u64 + 2 =>
            {
                let n = i64::from_str_radix(s, 16)
                    .map_err(|_| err(format!("Invalid hex integer literal: 0x{s}")))?;
                Some(Token::Number(n.to_string(), false))
            }
            _ => None,
        };
        if let Some(t) = new {
            tokens[i].token = t;
        }
        i += 1;
    }
    Ok(())
}

fn string_body(t: &Token) -> Option<&str> {
    match t {
        Token::SingleQuotedString(s)
        | Token::DoubleQuotedString(s)
        | Token::TripleSingleQuotedString(s)
        | Token::TripleDoubleQuotedString(s) => Some(s),
        _ => None,
    }
}

/// With unescaping off the tokenizer keeps a doubled quote (`'it''s'`) as two characters.
fn undouble(s: &str, quote: char) -> String {
    let pair: String = [quote, quote].iter().collect();
    s.replace(&pair, &quote.to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn decode_string(s: &str) -> Result<String, String> {
    String::from_utf8(decode(s)?)
        .map_err(|_| "String literal contains invalid UTF-8 (use a BYTES literal)".to_string())
}

/// BigQuery's escape sequences; the result is bytes (`\x` and octal escapes are single bytes).
fn decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let take = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize, radix: u32| {
        let mut v: u32 = 0;
        for _ in 0..n {
            let d = chars.next().and_then(|c| c.to_digit(radix));
            v = v * radix + d?;
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("Illegal escape sequence: string ends with a backslash".into());
        };
        let byte = |b: u8, out: &mut Vec<u8>| out.push(b);
        match e {
            'a' => byte(7, &mut out),
            'b' => byte(8, &mut out),
            'f' => byte(12, &mut out),
            'n' => byte(b'\n', &mut out),
            'r' => byte(b'\r', &mut out),
            't' => byte(b'\t', &mut out),
            'v' => byte(11, &mut out),
            '\\' | '?' | '"' | '\'' | '`' => byte(e as u8, &mut out),
            '0'..='7' => {
                let rest = take(&mut chars, 2, 8)
                    .ok_or("Illegal escape sequence: octal escapes need 3 digits")?;
                let v = (e as u32 - '0' as u32) * 64 + rest;
                let b =
                    u8::try_from(v).map_err(|_| "Illegal escape sequence: octal value > \\377")?;
                out.push(b);
            }
            'x' | 'X' => {
                let v = take(&mut chars, 2, 16)
                    .ok_or("Illegal escape sequence: hex escapes need 2 hex digits")?;
                out.push(v as u8);
            }
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let v = take(&mut chars, n, 16).ok_or(format!(
                    "Illegal escape sequence: \\{e} needs {n} hex digits"
                ))?;
                let ch = char::from_u32(v)
                    .ok_or(format!("Illegal escape sequence: invalid code point {v:X}"))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => return Err(format!("Illegal escape sequence: \\{other}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            decode_string(r"a\n\t\\\'\x41\101\u00e9\U0001F600").as_deref(),
            Ok("a\n\t\\'AAé😀")
        );
        assert_eq!(decode(r"\377\xFF"), Ok(vec![255, 255]));
        assert!(decode(r"\q").is_err());
    }
}
