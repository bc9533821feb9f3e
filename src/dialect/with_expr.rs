//! The `WITH(a AS e1, b AS e2, result)` expression, which sqlparser cannot parse: each variable
//! may use the earlier ones, and the whole is the value of `result`. It is rewritten at the token
//! level into `(result)` with every reference to a variable replaced by its parenthesized
//! definition (a reference: a name not after `.` or `AS` and not followed by `(`). A definition is then evaluated once per reference instead of once, which only
//! differs for volatile functions, so a WITH expression that calls one (RAND, GENERATE_UUID...)
//! is left alone (a syntax error).
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#with_expression>.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

const VOLATILE: [&str; 3] = ["rand", "generate_uuid", "session_user"];

/// Rewrites every WITH expression in `tokens`.
pub fn rewrite_with_expressions(tokens: &mut Vec<TokenWithSpan>) {
    let mut i = 0;
    while i < tokens.len() {
        if let Some((end, replacement)) = with_at(tokens, i) {
            tokens.splice(i..=end, replacement);
        }
        i += 1;
    }
}

fn significant(tokens: &[TokenWithSpan], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&j| !matches!(tokens[j].token, Token::Whitespace(_)))
}

fn is_kw(t: &Token, k: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.keyword == k)
}

fn name_of(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_none() || w.quote_style == Some('`') => {
            Some(w.value.to_ascii_lowercase())
        }
        _ => None,
    }
}

/// The WITH expression starting at `i`: the index of its closing parenthesis and the tokens
/// that replace it.
fn with_at(tokens: &[TokenWithSpan], i: usize) -> Option<(usize, Vec<TokenWithSpan>)> {
    if !is_kw(&tokens[i].token, Keyword::WITH) {
        return None;
    }
    let open = significant(tokens, i + 1)?;
    if tokens[open].token != Token::LParen {
        return None;
    }
    let first = significant(tokens, open + 1)?;
    let second = significant(tokens, first + 1)?;
    name_of(&tokens[first].token)?;
    if !is_kw(&tokens[second].token, Keyword::AS) {
        return None;
    }
    // Top-level parts up to the matching `)`.
    let mut depth = 0usize;
    let mut parts: Vec<Vec<TokenWithSpan>> = vec![Vec::new()];
    let mut close = None;
    for (j, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => {
                close = Some(j);
                break;
            }
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma if depth == 0 => {
                parts.push(Vec::new());
                continue;
            }
            _ => {}
        }
        parts.last_mut()?.push(t.clone());
    }
    let close = close?;
    let result = parts.pop()?;
    if parts.is_empty() {
        return None;
    }
    let mut defs: Vec<(String, Vec<TokenWithSpan>)> = Vec::new();
    for part in parts {
        let a = significant(&part, 0)?;
        let b = significant(&part, a + 1)?;
        let name = name_of(&part[a].token)?;
        if !is_kw(&part[b].token, Keyword::AS) {
            return None;
        }
        let body = substitute(&part[b + 1..], &defs);
        defs.push((name, body));
    }
    let volatile = tokens[open..close].iter().any(|t| {
        matches!(&t.token, Token::Word(w) if VOLATILE.contains(&w.value.to_ascii_lowercase().as_str()))
    });
    if volatile {
        return None;
    }
    // A bare, unaliased `SELECT WITH(...)` item: the reference pages show it named `result`,
    // not BigQuery's usual `f0_`; not knowing which, dap leaves it alone.
    let prev = (0..i)
        .rev()
        .find(|&k| !matches!(tokens[k].token, Token::Whitespace(_)));
    let item_start = prev.is_some_and(|k| {
        tokens[k].token == Token::Comma || is_kw(&tokens[k].token, Keyword::SELECT)
    });
    let item_end = significant(tokens, close + 1).is_none_or(|k| {
        matches!(
            tokens[k].token,
            Token::Comma | Token::EOF | Token::SemiColon
        ) || is_kw(&tokens[k].token, Keyword::FROM)
    });
    if item_start && item_end {
        return None;
    }
    let span = tokens[i].span;
    let mut out = vec![TokenWithSpan::new(Token::LParen, span)];
    out.extend(substitute(&result, &defs));
    out.push(TokenWithSpan::new(Token::RParen, span));
    Some((close, out))
}

fn substitute(expr: &[TokenWithSpan], defs: &[(String, Vec<TokenWithSpan>)]) -> Vec<TokenWithSpan> {
    let mut out = Vec::with_capacity(expr.len());
    for (j, t) in expr.iter().enumerate() {
        let prev = (0..j)
            .rev()
            .find(|&k| !matches!(expr[k].token, Token::Whitespace(_)));
        let next = significant(expr, j + 1);
        let after_dot = prev
            .is_some_and(|k| expr[k].token == Token::Period || is_kw(&expr[k].token, Keyword::AS));
        let call = next.is_some_and(|k| expr[k].token == Token::LParen);
        let def = name_of(&t.token)
            .filter(|_| !after_dot && !call)
            .and_then(|n| defs.iter().rev().find(|(d, _)| *d == n));
        match def {
            Some((_, body)) => {
                out.push(TokenWithSpan::new(Token::LParen, t.span));
                out.extend(body.iter().cloned());
                out.push(TokenWithSpan::new(Token::RParen, t.span));
            }
            None => out.push(t.clone()),
        }
    }
    out
}
