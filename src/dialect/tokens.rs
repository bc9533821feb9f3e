//! Token-level rewrites, applied to each statement's tokens before sqlparser parses them. Used
//! for BigQuery syntax that sqlparser's grammar cannot express, keeping positions intact for
//! error carets.

use datafusion::sql::sqlparser::tokenizer::{Span, Token, TokenWithSpan, Word};

use super::functions::safe::safe_name;

/// All token rewrites, in order.
pub fn rewrite_tokens(tokens: &mut Vec<TokenWithSpan>) {
    safe_prefix(tokens);
    table_as_name(tokens);
    super::with_expr::rewrite_with_expressions(tokens);
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

/// `FROM table` / `JOIN table`: BigQuery reads the keyword TABLE as a table name there (the
/// reference pages use `WITH table AS (...) SELECT ... FROM table`); sqlparser would expect a
/// table function `TABLE(...)`. Such a `table` not followed by `(` becomes a quoted name.
fn table_as_name(tokens: &mut [TokenWithSpan]) {
    use datafusion::sql::sqlparser::keywords::Keyword;
    let significant: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    for w in significant.windows(3) {
        let [prev, i, next] = [w[0], w[1], w[2]];
        let after_from = matches!(&tokens[prev].token, Token::Word(p) if p.quote_style.is_none()
            && matches!(p.keyword, Keyword::FROM | Keyword::JOIN));
        if after_from
            && tokens[next].token != Token::LParen
            && let Token::Word(t) = &mut tokens[i].token
            && t.quote_style.is_none()
            && t.keyword == Keyword::TABLE
        {
            t.quote_style = Some('`');
            t.keyword = Keyword::NoKeyword;
        }
    }
}
