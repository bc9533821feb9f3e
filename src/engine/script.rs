//! Splitting a script into statements with the tokenizer (never on `;` in text) and parsing them
//! with the BigQuery dialect. Token locations are kept, so every position in an error points into
//! the text the user wrote.
//!
//! Like BigQuery, a whole script is parsed before anything runs: a syntax error in statement 3
//! means statements 1 and 2 do not run either.

use datafusion::sql::sqlparser::ast::{ColumnDef, Expr, ObjectName, Statement};
use datafusion::sql::sqlparser::dialect::BigQueryDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::error::{DapError, Location, Result};

/// One statement of a script, parsed.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    pub statement: Statement,
    /// Where the statement starts in the script.
    pub location: Location,
    /// `DROP EXTERNAL TABLE` (sqlparser has no such statement; dap reads it as a DROP TABLE that
    /// must find an external table).
    pub drop_external: bool,
    /// `LOAD DATA ... FROM FILES (...)` (sqlparser cannot parse it; dap reads it itself and runs it
    /// through [`crate::ingest::load`]). When set, `statement` is a placeholder.
    pub load: Option<LoadData>,
}

/// A parsed `LOAD DATA [OVERWRITE | INTO] table [(columns)] FROM FILES (options)`
/// (<https://cloud.google.com/bigquery/docs/reference/standard-sql/load-statements>).
#[derive(Debug, Clone)]
pub struct LoadData {
    pub overwrite: bool,
    pub table: ObjectName,
    pub columns: Option<Vec<ColumnDef>>,
    /// `name = value` options, names lower-cased.
    pub options: Vec<(String, Expr)>,
}

/// Parses every statement of a script.
pub fn parse_script(sql: &str) -> Result<Vec<ParsedStatement>> {
    let tokens = Tokenizer::new(&BigQueryDialect, sql)
        .with_unescape(false)
        .tokenize_with_location()
        .map_err(|e| DapError::Syntax {
            message: e.message.clone(),
            location: Some(Location {
                line: e.location.line,
                column: e.location.column,
            }),
        })?;
    let mut out = Vec::new();
    for chunk in split(tokens) {
        out.push(parse_chunk(chunk)?);
    }
    Ok(out)
}

/// Parses a script that must hold exactly one statement.
pub fn parse_one(sql: &str) -> Result<Statement> {
    let mut stmts = parse_script(sql)?;
    match stmts.len() {
        1 => Ok(stmts.remove(0).statement),
        n => Err(DapError::Syntax {
            message: format!("expected one statement, found {n}"),
            location: None,
        }),
    }
}

fn is_trivia(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

/// Splits tokens on top-level semicolons, dropping chunks that hold only whitespace/comments.
fn split(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut chunks = Vec::new();
    let mut current = Vec::new();
    for t in tokens {
        if t.token == Token::SemiColon {
            chunks.push(std::mem::take(&mut current));
        } else if t.token != Token::EOF {
            current.push(t);
        }
    }
    chunks.push(current);
    chunks
        .into_iter()
        .filter(|c| c.iter().any(|t| !is_trivia(&t.token)))
        .collect()
}

fn keyword_at(tokens: &[TokenWithSpan], i: usize) -> Option<Keyword> {
    tokens
        .iter()
        .filter(|t| !is_trivia(&t.token))
        .nth(i)
        .and_then(|t| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
            _ => None,
        })
}

fn parse_chunk(mut tokens: Vec<TokenWithSpan>) -> Result<ParsedStatement> {
    let first = tokens
        .iter()
        .find(|t| !is_trivia(&t.token))
        .map(|t| Location {
            line: t.span.start.line,
            column: t.span.start.column,
        })
        .unwrap_or(Location { line: 1, column: 1 });
    let drop_external = keyword_at(&tokens, 0) == Some(Keyword::DROP)
        && keyword_at(&tokens, 1) == Some(Keyword::EXTERNAL)
        && keyword_at(&tokens, 2) == Some(Keyword::TABLE);
    if drop_external {
        let idx = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| !is_trivia(&t.token))
            .nth(1)
            .map(|(i, _)| i);
        if let Some(i) = idx {
            tokens[i].token = Token::Whitespace(Whitespace::Space);
        }
    }
    let is_load = keyword_at(&tokens, 0) == Some(Keyword::LOAD)
        && keyword_at(&tokens, 1) == Some(Keyword::DATA);
    let end = tokens
        .last()
        .map(|t| t.span.end)
        .unwrap_or(datafusion::sql::sqlparser::tokenizer::Location { line: 1, column: 1 });
    tokens.push(TokenWithSpan::at(Token::EOF, end, end));
    crate::dialect::literals::rewrite_literal_tokens(&mut tokens)?;
    crate::dialect::tokens::rewrite_tokens(&mut tokens);
    let mut parser = Parser::new(&BigQueryDialect).with_tokens_with_locations(tokens);
    let mut load = None;
    let statement = if is_load {
        load = Some(parse_load_data(&mut parser).map_err(syntax_error)?);
        Parser::new(&BigQueryDialect)
            .try_with_sql("SELECT NULL")
            .and_then(|mut p| p.parse_statement())
            .map_err(syntax_error)?
    } else {
        parser.parse_statement().map_err(syntax_error)?
    };
    if parser.peek_token().token != Token::EOF {
        let t = parser.peek_token();
        return Err(DapError::Syntax {
            message: format!("Expected end of statement but got {}", t.token),
            location: Some(Location {
                line: t.span.start.line,
                column: t.span.start.column,
            }),
        });
    }
    Ok(ParsedStatement {
        statement,
        location: first,
        drop_external,
        load,
    })
}

fn parse_load_data(p: &mut Parser) -> Result<LoadData, ParserError> {
    p.expect_keywords(&[Keyword::LOAD, Keyword::DATA])?;
    let overwrite = match p.parse_one_of_keywords(&[Keyword::OVERWRITE, Keyword::INTO]) {
        Some(Keyword::OVERWRITE) => true,
        Some(_) => false,
        None => return p.expected("INTO or OVERWRITE", p.peek_token()),
    };
    let table = p.parse_object_name(false)?;
    let columns = if p.peek_token().token == Token::LParen {
        let (cols, constraints) = p.parse_columns()?;
        if !constraints.is_empty() {
            return Err(ParserError::ParserError(
                "not supported: constraints in LOAD DATA".into(),
            ));
        }
        Some(cols)
    } else {
        None
    };
    p.expect_keyword(Keyword::FROM)?;
    let files = p.parse_identifier()?;
    if !files.value.eq_ignore_ascii_case("FILES") {
        return Err(ParserError::ParserError(format!(
            "Expected FILES, found {files}"
        )));
    }
    p.expect_token(&Token::LParen)?;
    let mut options = Vec::new();
    loop {
        let name = p.parse_identifier()?;
        p.expect_token(&Token::Eq)?;
        let value = p.parse_expr()?;
        options.push((name.value.to_ascii_lowercase(), value));
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen)?;
    Ok(LoadData {
        overwrite,
        table,
        columns,
        options,
    })
}

/// sqlparser puts the position into the message ("... at Line: 2, Column: 5"); lift it out.
fn syntax_error(e: ParserError) -> DapError {
    let text = match &e {
        ParserError::ParserError(s) | ParserError::TokenizerError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => "statement nested too deeply".to_string(),
    };
    let (message, location) = match text.rfind(" at Line: ") {
        Some(i) => {
            let pos = &text[i + " at Line: ".len()..];
            let mut nums = pos
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse::<u64>().ok());
            match (nums.next(), nums.next()) {
                (Some(line), Some(column)) => {
                    (text[..i].to_string(), Some(Location { line, column }))
                }
                _ => (text.clone(), None),
            }
        }
        None => (text.clone(), None),
    };
    DapError::Syntax { message, location }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolons_in_strings_and_comments_do_not_split() {
        let s = parse_script("SELECT ';' AS a; -- x; y\nSELECT 2 /* ; */;\n\n").expect("parses");
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].location, Location { line: 2, column: 1 });
    }

    #[test]
    fn syntax_errors_carry_positions() {
        let e = parse_script("SELECT 1;\nSELECT FROM WHERE").expect_err("fails");
        let loc = e.location().expect("has a location");
        assert_eq!(loc.line, 2);
    }

    #[test]
    fn load_data() {
        let s = parse_script(
            "LOAD DATA OVERWRITE ds.t (a INT64) FROM FILES (format = 'JSON', uris = ['x.json'])",
        )
        .expect("parses");
        let load = s[0].load.as_ref().expect("a LOAD DATA");
        assert!(load.overwrite);
        assert_eq!(load.options.len(), 2);
        assert_eq!(load.columns.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn drop_external_table() {
        let s = parse_script("DROP EXTERNAL TABLE ds.t").expect("parses");
        assert!(s[0].drop_external);
    }
}
