//! Command-line front end: flags, configuration precedence, exit codes, and the one place errors
//! become text. Data goes to stdout; messages, row counts and timings to stderr.
//! Exit codes: 0 ok, 1 failure, 2 usage, 130 interrupted.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod extract;
mod load;
mod models;
mod runner;

pub use runner::{Printer, Source, Stop, report, run_source};

use crate::config::{DEFAULT_PROJECT, Project};
use crate::engine::{Engine, EngineOptions};
use crate::output::Format;

#[derive(Debug, Parser)]
#[command(name = "dap", version, about = "An offline BigQuery in one binary")]
pub struct Cli {
    /// Warehouse directory or URL (file://, memory://, s3://bucket/prefix, gs://bucket/prefix).
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
    /// Without a subcommand, dap opens the interactive shell.
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// Load JSON, CSV or Parquet files into a table (one atomic commit, schema autodetected).
    Load {
        /// Destination table, `dataset.table`.
        table: String,
        /// Files, directories, globs or file:// URLs.
        #[arg(required = true)]
        uris: Vec<String>,
        /// Source format: JSON (newline-delimited, a JSON array, or an envelope with --json-path),
        /// NEWLINE_DELIMITED_JSON, CSV, PARQUET, or AUTO (by file extension).
        #[arg(long, alias = "source-format", default_value = "JSON")]
        format: String,
        /// Replace the table's rows and schema instead of appending.
        #[arg(long)]
        replace: bool,
        /// Dotted path of the rows array inside each file (a response envelope), e.g. `data`.
        #[arg(long)]
        json_path: Option<String>,
        /// Bad records tolerated (they go to the warehouse's _quarantine/); more fails the load.
        #[arg(long, default_value_t = 0)]
        max_bad_records: u64,
        /// Add _source_file, _source_line and _loaded_at columns.
        #[arg(long)]
        source_columns: bool,
        /// CSV: rows to skip at the top of each file (default: autodetect a header row).
        #[arg(long)]
        skip_leading_rows: Option<u64>,
        /// CSV: the field delimiter (one character, `\t` or `tab`).
        #[arg(long, default_value = ",")]
        field_delimiter: String,
        /// CSV: the quote character (empty: no quoting).
        #[arg(long, default_value = "\"")]
        quote: String,
        /// CSV: allow quoted fields that hold newlines.
        #[arg(long)]
        allow_quoted_newlines: bool,
        /// CSV: the text that means NULL (default: an empty field).
        #[arg(long, default_value = "")]
        null_marker: String,
        /// An explicit schema instead of autodetection: `name:TYPE,...` or a BigQuery JSON
        /// schema file.
        #[arg(long)]
        schema: Option<String>,
    },
    /// Pull JSON pages from an HTTP API into the warehouse's landing zone (and optionally a table).
    Extract(extract::ExtractArgs),
    #[command(flatten)]
    Models(models::ModelCommand),
    /// The interactive SQL shell (also what `dap` alone opens).
    Shell {
        /// Statements to run at start-up (default: ~/.daprc when it exists).
        #[arg(long)]
        init: Option<PathBuf>,
    },
}

/// Opens the engine, printing the error (the caller exits 1 on `Err`).
pub(crate) async fn start_engine(opts: EngineOptions) -> Result<Engine, ()> {
    Engine::new(opts).await.map_err(|e| eprintln!("error: {e}"))
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
    // The shell handles Ctrl-C itself (it cancels the running statement, not the process).
    let shell = matches!(cli.command, None | Some(Command::Shell { .. }));
    runtime.block_on(async {
        if shell {
            return run_async(cli).await;
        }
        tokio::select! {
            code = run_async(cli) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("interrupted");
                130
            }
        }
    })
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
    match cli.command.unwrap_or(Command::Shell { init: None }) {
        Command::Models(cmd) => {
            let dir = project_file
                .as_ref()
                .map(|p| p.dir.clone())
                .unwrap_or_else(|| cwd.clone());
            models::run_command(cmd, &dir, opts).await
        }
        Command::Extract(args) => {
            extract::run(args, project_file.as_ref().map(|p| p.dir.as_path()), opts).await
        }
        Command::Shell { init } => match Engine::new(opts).await {
            Ok(engine) => crate::repl::run(engine, crate::repl::ReplOptions { init }).await,
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
        Command::Load {
            table,
            uris,
            format,
            replace,
            json_path,
            max_bad_records,
            source_columns,
            skip_leading_rows,
            field_delimiter,
            quote,
            allow_quoted_newlines,
            null_marker,
            schema,
        } => {
            let parsed = crate::ingest::SourceFormat::parse(&format).and_then(|f| {
                Ok((
                    f,
                    crate::ingest::csv::CsvOptions {
                        skip_leading_rows,
                        field_delimiter: crate::ingest::csv::CsvOptions::delimiter(
                            &field_delimiter,
                        )?,
                        quote: crate::ingest::csv::CsvOptions::quote_char(&quote)?,
                        allow_quoted_newlines,
                        null_marker,
                    },
                ))
            });
            let (format, csv_options) = match parsed {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let schema = match schema.as_deref().map(crate::ingest::schema::parse) {
                None => None,
                Some(Ok(s)) => Some(s),
                Some(Err(e)) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let Ok(engine) = start_engine(opts).await else {
                return 1;
            };
            let mut req = crate::ingest::LoadRequest::new(table, uris)
                .format(format)
                .write_mode(if replace {
                    crate::ingest::WriteMode::Replace
                } else {
                    crate::ingest::WriteMode::Append
                })
                .max_bad_records(max_bad_records)
                .source_columns(source_columns)
                .csv(csv_options);
            req.json_path = json_path;
            req.schema = schema;
            req.progress = std::io::stderr().is_terminal();
            match crate::ingest::load(&engine, &req).await {
                Ok(summary) => {
                    eprintln!("{summary}");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
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
            let Ok(engine) = start_engine(opts).await else {
                return 1;
            };
            let max_rows = max_rows.or(match format {
                Format::Table | Format::Markdown => Some(40),
                _ => None,
            });
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let mut printer = Printer {
                format,
                max_rows,
                out: &mut out,
                timing: true,
                warned_transient: false,
                more_rows_hint: "use --max-rows to see more",
            };
            for src in &sources {
                match run_source(&engine, src, &mut printer).await {
                    Ok(()) => {}
                    Err(Stop::ClosedOutput) => return 0,
                    Err(Stop::Failed) => return 1,
                }
            }
            0
        }
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
