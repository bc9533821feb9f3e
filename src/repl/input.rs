//! When is the typed input a whole statement? Decided with the SQL tokenizer, so semicolons inside
//! strings and comments don't count, and an unterminated string or comment keeps reading.

use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// What the REPL does with the text typed so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// Nothing but white space and comments.
    Empty,
    /// A backslash meta command (always one line).
    Meta,
    /// SQL ending with `;` outside strings and comments: run it.
    Complete,
    /// Keep reading lines.
    Incomplete,
}

pub fn classify(buffer: &str) -> Input {
    let trimmed = buffer.trim_start();
    if trimmed.starts_with('\\') {
        return Input::Meta;
    }
    let Ok(tokens) = Tokenizer::new(&BigQueryDialect, buffer).tokenize() else {
        // An unterminated string, quoted name or comment: the user is still typing it.
        return Input::Incomplete;
    };
    let last = tokens
        .iter()
        .rev()
        .find(|t| !matches!(t, Token::Whitespace(_) | Token::EOF));
    match last {
        None => Input::Empty,
        Some(Token::SemiColon) => Input::Complete,
        Some(_) => Input::Incomplete,
    }
}

#[cfg(test)]
mod tests {
    use super::{Input, classify};

    #[test]
    fn statements_end_at_a_semicolon_outside_strings_and_comments() {
        assert_eq!(classify("SELECT 1;"), Input::Complete);
        assert_eq!(classify("SELECT 1"), Input::Incomplete);
        assert_eq!(classify("SELECT 1;  -- done"), Input::Complete);
        assert_eq!(classify("SELECT ';'"), Input::Incomplete);
        assert_eq!(classify("SELECT 'a;\nb';"), Input::Complete);
        assert_eq!(classify("SELECT 1 /* ; */"), Input::Incomplete);
        assert_eq!(classify("SELECT '''x;\n"), Input::Incomplete);
        assert_eq!(classify("SELECT `a;b"), Input::Incomplete);
        assert_eq!(classify("SELECT 1; SELECT 2"), Input::Incomplete);
        assert_eq!(classify("SELECT 1; SELECT 2;"), Input::Complete);
    }

    #[test]
    fn blank_and_meta() {
        assert_eq!(classify("   \n"), Input::Empty);
        assert_eq!(classify("-- just a comment"), Input::Empty);
        assert_eq!(classify("  \\d sales"), Input::Meta);
    }
}
