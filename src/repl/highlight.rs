//! Syntax colouring of the input line: keywords, strings, numbers, comments. Off when `NO_COLOR`
//! is set or the terminal is not a TTY (the caller decides).

use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

const KEYWORD: &str = "\x1b[1;34m";
const STRING: &str = "\x1b[32m";
const NUMBER: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// `line` with ANSI colours; unchanged when it doesn't tokenize (e.g. an unterminated string).
pub fn highlight(line: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&BigQueryDialect, line).tokenize_with_location() else {
        return line.to_string();
    };
    // Token spans are 1-based (line, column in characters); map them to byte offsets.
    let mut line_starts = vec![0usize];
    line_starts.extend(line.match_indices('\n').map(|(i, _)| i + 1));
    let offset = |l: u64, c: u64| -> Option<usize> {
        let start = *line_starts.get(l.checked_sub(1)? as usize)?;
        let rest = &line[start..];
        let col = c.checked_sub(1)? as usize;
        Some(
            start
                + rest
                    .char_indices()
                    .nth(col)
                    .map(|(i, _)| i)
                    .unwrap_or(rest.len()),
        )
    };
    let mut out = String::with_capacity(line.len() + 32);
    let mut done = 0usize;
    for t in &tokens {
        let colour = match &t.token {
            Token::Word(w) if w.quote_style.is_none() && w.keyword != Keyword::NoKeyword => {
                KEYWORD
            }
            Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_) => STRING,
            Token::Number(_, _) => NUMBER,
            Token::Whitespace(Whitespace::SingleLineComment { .. })
            | Token::Whitespace(Whitespace::MultiLineComment(_)) => COMMENT,
            _ => continue,
        };
        let (Some(a), Some(b)) = (
            offset(t.span.start.line, t.span.start.column),
            offset(t.span.end.line, t.span.end.column),
        ) else {
            continue;
        };
        if a < done || b <= a {
            continue;
        }
        out.push_str(&line[done..a]);
        out.push_str(colour);
        out.push_str(&line[a..b]);
        out.push_str(RESET);
        done = b;
    }
    out.push_str(&line[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn colours_keywords_strings_numbers() {
        let line = "select 'é;' , 42 from t -- note";
        let h = highlight(line);
        assert_eq!(strip(&h), line);
        assert!(h.contains(&format!("{KEYWORD}select{RESET}")));
        assert!(h.contains(&format!("{STRING}'é;'{RESET}")));
        assert!(h.contains(&format!("{NUMBER}42{RESET}")));
        assert!(h.contains(&format!("{COMMENT}-- note{RESET}")));
        assert!(!h.contains(&format!("{KEYWORD}t")));
    }

    #[test]
    fn unterminated_input_is_left_alone() {
        assert_eq!(highlight("select 'abc"), "select 'abc");
    }
}
