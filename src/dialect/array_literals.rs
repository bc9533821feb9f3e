//! Typed array literals `ARRAY<T>[e1, e2]` (and `ARRAY<T>[]`), which sqlparser's grammar does not
//! accept. They become `CAST(ARRAY[e1, e2] AS ARRAY<T>)` at the token level, so the element type
//! is exactly `T` even for an empty array; positions are kept for error carets.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#constructing_an_array>.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Word};

/// Rewrites every `ARRAY<T>[...]` in `tokens` into `CAST(ARRAY[...] AS ARRAY<T>)`.
pub fn typed_array_literals(tokens: &mut Vec<TokenWithSpan>) {
    let mut i = 0;
    while i < tokens.len() {
        if let Some((type_end, bracket_end)) = typed_literal_at(tokens, i) {
            let span = tokens[i].span;
            // ARRAY < ... > [ ... ]  =>  CAST ( ARRAY [ ... ] AS ARRAY < ... > )
            let type_tokens: Vec<TokenWithSpan> = tokens[i..=type_end].to_vec();
            let elems: Vec<TokenWithSpan> = tokens[type_end + 1..=bracket_end].to_vec();
            let mut out = vec![
                TokenWithSpan::new(word("CAST", Keyword::CAST), span),
                TokenWithSpan::new(Token::LParen, span),
                tokens[i].clone(),
            ];
            out.extend(elems);
            out.push(TokenWithSpan::new(Token::Whitespace(ws()), span));
            out.push(TokenWithSpan::new(word("AS", Keyword::AS), span));
            out.push(TokenWithSpan::new(Token::Whitespace(ws()), span));
            out.extend(type_tokens);
            out.push(TokenWithSpan::new(Token::RParen, span));
            let added = out.len();
            tokens.splice(i..=bracket_end, out);
            i += added;
            continue;
        }
        i += 1;
    }
}

fn ws() -> datafusion::sql::sqlparser::tokenizer::Whitespace {
    datafusion::sql::sqlparser::tokenizer::Whitespace::Space
}

fn word(value: &str, keyword: Keyword) -> Token {
    Token::Word(Word {
        value: value.to_string(),
        quote_style: None,
        keyword,
    })
}

fn is_array_word(t: &Token) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("array"))
}

/// If `ARRAY<...>[` starts at `i`, returns the index of the closing `>` of the type and of the
/// closing `]` of the elements. `>>` closes two levels (`ARRAY<STRUCT<a INT64>>[...]`).
fn typed_literal_at(tokens: &[TokenWithSpan], i: usize) -> Option<(usize, usize)> {
    if !is_array_word(&tokens[i].token) || tokens.get(i + 1)?.token != Token::Lt {
        return None;
    }
    let mut depth = 0i32;
    let mut j = i + 1;
    let type_end = loop {
        match &tokens.get(j)?.token {
            Token::Lt => depth += 1,
            Token::Gt => depth -= 1,
            Token::ShiftRight => depth -= 2,
            Token::LBracket | Token::RBracket | Token::SemiColon | Token::LParen => return None,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
        if depth == 0 {
            break j;
        }
        j += 1;
    };
    // `>>` closing more than this ARRAY's level is handled by the caller's outer ARRAY.
    let mut k = type_end + 1;
    while matches!(tokens.get(k)?.token, Token::Whitespace(_)) {
        k += 1;
    }
    if tokens[k].token != Token::LBracket {
        return None;
    }
    let mut level = 0i32;
    let mut m = k;
    loop {
        match &tokens.get(m)?.token {
            Token::LBracket => level += 1,
            Token::RBracket => {
                level -= 1;
                if level == 0 {
                    return Some((type_end, m));
                }
            }
            Token::SemiColon => return None,
            _ => {}
        }
        m += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::BigQueryDialect;
    use datafusion::sql::sqlparser::tokenizer::Tokenizer;

    fn rewrite(sql: &str) -> String {
        let mut tokens = Tokenizer::new(&BigQueryDialect, sql)
            .tokenize_with_location()
            .unwrap_or_default();
        typed_array_literals(&mut tokens);
        tokens.iter().map(|t| t.token.to_string()).collect()
    }

    #[test]
    fn typed_array_becomes_cast() {
        assert_eq!(
            rewrite("SELECT ARRAY<INT64>[1, 2]"),
            "SELECT CAST(ARRAY[1, 2] AS ARRAY<INT64>)"
        );
        assert_eq!(
            rewrite("SELECT ARRAY<STRING>[]"),
            "SELECT CAST(ARRAY[] AS ARRAY<STRING>)"
        );
        assert_eq!(rewrite("SELECT ARRAY[1]"), "SELECT ARRAY[1]");
    }
}
