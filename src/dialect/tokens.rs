//! Token-level rewrites, applied to each statement's tokens before sqlparser parses them. Used
//! for BigQuery syntax that sqlparser's grammar cannot express, keeping positions intact for
//! error carets.

use datafusion::sql::sqlparser::tokenizer::{Span, Token, TokenWithSpan, Word};

use super::functions::safe::safe_name;

/// All token rewrites, in order.
pub fn rewrite_tokens(tokens: &mut Vec<TokenWithSpan>) {
    safe_prefix(tokens);
    super::array_literals::typed_array_literals(tokens);
    super::functions::range::range_literals(tokens);
    super::pipe::rewrite_pipes(tokens);
}

/// `SAFE.F(` becomes one quoted identifier `"safe.f"` followed by `(`, so that even functions
/// sqlparser parses as keywords (`SAFE.SUBSTR`, `SAFE.CAST`...) are plain calls of the twin.
fn safe_prefix(tokens: &mut Vec<TokenWithSpan>) {
    let mut i = 0;
    while i + 3 < tokens.len() {
        let hit = matches!(&tokens[i].token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("safe"))
            && (i == 0 || tokens[i - 1].token != Token::Period)
            && tokens[i + 1].token == Token::Period
            && matches!(&tokens[i + 2].token, Token::Word(w) if w.quote_style.is_none())
            && tokens[i + 3].token == Token::LParen;
        if hit && let Token::Word(w) = &tokens[i + 2].token {
            let name = safe_name(&w.value.to_ascii_lowercase());
            let span = Span::new(tokens[i].span.start, tokens[i + 2].span.end);
            let word = Token::Word(Word {
                value: name,
                quote_style: Some('"'),
                keyword: datafusion::sql::sqlparser::keywords::Keyword::NoKeyword,
            });
            tokens.splice(i..i + 3, [TokenWithSpan::new(word, span)]);
        }
        i += 1;
    }
}
