//! Command-line front end: flags, configuration precedence, exit codes, and the one place errors
//! become text. Data goes to stdout; messages, row counts and timings to stderr.
//! Exit codes: 0 ok, 1 failure, 2 usage, 130 interrupted.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::config::{DEFAULT_PROJECT, Project};
use crate::engine::{Engine, EngineOptions, StatementOutput};
use crate::error::{DapError, Location};
use crate::output::{self, Format};

#[derive(Debug, Parser)]
#[command(name = "dap", version, about = "An offline BigQuery in one binary")]
pub struct Cli {
    /// Warehouse directory or URL (file://, memory://).
    #[arg(long, global = true, env = "DAP_WAREHOUSE")]
    pub warehouse: Option<String>,
    /// BigQuery project id the warehouse stands for.
    #[arg(long, global = true, env = "GOOGLE_CLOUD_PROJECT")]
    pub project: Option<String>,
    /// Default dataset for unqualified table names.
    #[arg(long, global = true)]
    pub dataset: Option<String>,
    /// Memory the engine may use before spilling to disk (e.g. 512M, 2G).
    #[arg(long, global = true, value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run BigQuery SQL from files, stdin (`-`) or -c.
    Query {
        /// SQL files; `-` reads standard input.
        files: Vec<PathBuf>,
        /// SQL text to run (repeatable).
        #[arg(short = 'c', long = "command")]
        commands: Vec<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
        /// Rows printed per result set (default 40 for table and markdown, all otherwise).
        #[arg(long)]
        max_rows: Option<usize>,
    },
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim().to_ascii_uppercase();
    let (num, mult) = match t.trim_end_matches('B').chars().last() {
        Some('K') => (&t[..t.trim_end_matches('B').len() - 1], 1usize << 10),
        Some('M') => (&t[..t.trim_end_matches('B').len() - 1], 1 << 20),
        Some('G') => (&t[..t.trim_end_matches('B').len() - 1], 1 << 30),
        _ => (t.trim_end_matches('B'), 1),
    };
    num.trim()
        .parse::<f64>()
        .map(|n| (n * mult as f64) as usize)
        .map_err(|_| format!("invalid size `{s}` (use e.g. 512M or 2G)"))
}

/// Runs the CLI and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(async {
        tokio::select! {
            code = run_async(cli) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted");
                130
            }
        }
    })
}

struct Source {
    name: String,
    text: String,
}

async fn run_async(cli: Cli) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let project_file = match Project::discover(&cwd) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    let opts = EngineOptions {
        warehouse: cli
            .warehouse
            .clone()
            .or_else(|| project_file.as_ref().and_then(|p| p.warehouse())),
        project: cli
            .project
            .clone()
            .or_else(|| project_file.as_ref().and_then(|p| p.file.project.clone()))
            .unwrap_or_else(|| DEFAULT_PROJECT.to_string()),
        default_dataset: cli
            .dataset
            .clone()
            .or_else(|| project_file.as_ref().and_then(|p| p.file.dataset.clone())),
        memory_limit: cli.memory_limit,
    };
    match cli.command {
        Command::Query {
            files,
            commands,
            format,
            max_rows,
        } => {
            let mut sources = Vec::new();
            for f in &files {
                if f.as_os_str() == "-" {
                    let mut text = String::new();
                    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                        eprintln!("error: stdin: {e}");
                        return 1;
                    }
                    sources.push(Source {
                        name: "<stdin>".into(),
                        text,
                    });
                } else {
                    match std::fs::read_to_string(f) {
                        Ok(text) => sources.push(Source {
                            name: f.display().to_string(),
                            text,
                        }),
                        Err(e) => {
                            eprintln!("error: {}: {e}", f.display());
                            return 1;
                        }
                    }
                }
            }
            for (i, c) in commands.into_iter().enumerate() {
                sources.push(Source {
                    name: format!("-c #{}", i + 1),
                    text: c,
                });
            }
            if sources.is_empty() {
                if std::io::stdin().is_terminal() {
                    eprintln!(
                        "error: nothing to run: give FILE, `-` or -c SQL (see dap query --help)"
                    );
                    return 2;
                }
                let mut text = String::new();
                let _ = std::io::stdin().read_to_string(&mut text);
                sources.push(Source {
                    name: "<stdin>".into(),
                    text,
                });
            }
            let engine = match Engine::new(opts).await {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 1;
                }
            };
            let max_rows = max_rows.or(match format {
                Format::Table | Format::Markdown => Some(40),
                _ => None,
            });
            run_query(&engine, &sources, format, max_rows).await
        }
    }
}

async fn run_query(
    engine: &Engine,
    sources: &[Source],
    format: Format,
    max_rows: Option<usize>,
) -> i32 {
    let stdout = std::io::stdout();
    let mut warned_transient = false;
    for src in sources {
        let statements = match crate::engine::parse_script(&src.text) {
            Ok(s) => s,
            Err(e) => {
                report(src, &e, None);
                return 1;
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
                    let mut out = stdout.lock();
                    match output::write(&mut out, format, &schema, &batches, max_rows) {
                        Ok(shown) => {
                            let _ = out.flush();
                            if shown < total {
                                eprintln!(
                                    "(showing {shown} of {total} rows; use --max-rows to see more)"
                                );
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return 0,
                        Err(e) => {
                            eprintln!("error: writing output: {e}");
                            return 1;
                        }
                    }
                    eprintln!(
                        "({} {}, {:.3} s)",
                        total,
                        if total == 1 { "row" } else { "rows" },
                        started.elapsed().as_secs_f64()
                    );
                }
                Ok(StatementOutput::Message(m)) => {
                    eprintln!("{m}");
                    if engine.is_transient() && !is_query && !warned_transient {
                        warned_transient = true;
                        eprintln!(
                            "note: transient in-memory warehouse; use --warehouse DIR to keep tables"
                        );
                    }
                }
                Err(e) => {
                    report(src, &e, Some(start_loc));
                    return 1;
                }
            }
        }
    }
    0
}

/// Prints `error: <message>` and, when known, `--> file:line:column` with the line and a caret.
fn report(src: &Source, e: &DapError, statement: Option<Location>) {
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

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
    }
}
