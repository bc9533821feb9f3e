//! Runs SQL text through the engine and prints what each statement produced: result sets to the
//! output (stdout or a file), messages, row counts and timings to stderr, errors with a caret. Used
//! by `dap query` and the REPL alike.

use std::io::Write;
use std::time::Instant;

use crate::engine::{Engine, StatementOutput};
use crate::error::{DapError, Location};
use crate::output::{self, Format};

/// SQL text and the name errors point at (a file, `-c #1`, `<stdin>`, `<input>`).
pub struct Source {
    pub name: String,
    pub text: String,
}

/// How results are printed.
pub struct Printer<'a> {
    pub format: Format,
    pub max_rows: Option<usize>,
    pub out: &'a mut dyn Write,
    /// Print `(N rows, T s)` and messages' timings.
    pub timing: bool,
    /// Say once that the warehouse is transient when something is created in it.
    pub warned_transient: bool,
    /// Hint printed after a truncated result.
    pub more_rows_hint: &'static str,
}

/// Why a script stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// A statement failed (already reported on stderr).
    Failed,
    /// The reader of the output went away (a closed pipe): stop quietly.
    ClosedOutput,
}

/// Parses and runs every statement of `src` in order, stopping at the first error.
pub async fn run_source(engine: &Engine, src: &Source, p: &mut Printer<'_>) -> Result<(), Stop> {
    let statements = match crate::engine::parse_script(&src.text) {
        Ok(s) => s,
        Err(e) => {
            report(src, &e, None);
            return Err(Stop::Failed);
        }
    };
    for stmt in statements {
        let start_loc = stmt.location;
        let is_query = matches!(
            stmt.statement,
            datafusion::sql::sqlparser::ast::Statement::Query(_)
        );
        let started = Instant::now();
        match engine.execute(stmt).await {
            Ok(StatementOutput::Rows { schema, batches }) => {
                let total: usize = batches.iter().map(|b| b.num_rows()).sum();
                match output::write(p.out, p.format, &schema, &batches, p.max_rows) {
                    Ok(shown) => {
                        let _ = p.out.flush();
                        if shown < total {
                            eprintln!("(showing {shown} of {total} rows; {})", p.more_rows_hint);
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                        return Err(Stop::ClosedOutput);
                    }
                    Err(e) => {
                        eprintln!("error: writing output: {e}");
                        return Err(Stop::Failed);
                    }
                }
                if p.timing {
                    eprintln!(
                        "({} {}, {:.3} s)",
                        total,
                        if total == 1 { "row" } else { "rows" },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Ok(StatementOutput::Message(m)) => {
                if p.timing {
                    eprintln!("{m} ({:.3} s)", started.elapsed().as_secs_f64());
                } else {
                    eprintln!("{m}");
                }
                if engine.is_transient() && !is_query && !p.warned_transient {
                    p.warned_transient = true;
                    eprintln!(
                        "note: transient in-memory warehouse; use --warehouse DIR to keep tables"
                    );
                }
            }
            Err(e) => {
                report(src, &e, Some(start_loc));
                return Err(Stop::Failed);
            }
        }
    }
    Ok(())
}

/// Prints `error: <message>` and, when known, `--> file:line:column` with the line and a caret.
pub fn report(src: &Source, e: &DapError, statement: Option<Location>) {
    eprintln!("error: {e}");
    let Some(loc) = e.location().or(statement) else {
        return;
    };
    eprintln!("  --> {}:{}:{}", src.name, loc.line, loc.column);
    if let Some(line) = src.text.lines().nth(loc.line.saturating_sub(1) as usize) {
        let width = loc.line.to_string().len();
        eprintln!("{:width$} |", "");
        eprintln!("{} | {line}", loc.line);
        let caret_pad: String = line
            .chars()
            .take(loc.column.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        eprintln!("{:width$} | {caret_pad}^", "");
    }
}
