//! The interactive shell (`dap` with no subcommand, or `dap shell`): a rustyline REPL over the
//! current warehouse. Statements run through the same path as `dap query`
//! ([`crate::cli::run_source`]).
//!
//! - Input is read line by line until a `;` outside strings and comments ([`input`]); the prompt
//!   names the default dataset, continuation lines show `->`.
//! - History in `$DAP_HISTORY`, else `$XDG_STATE_HOME/dap/history`, else
//!   `~/.local/state/dap/history`; Ctrl-R searches it.
//! - Tab completes keywords, functions, datasets, tables and columns ([`complete`]); keywords,
//!   strings and numbers are coloured on a TTY unless `NO_COLOR` is set ([`highlight`]).
//! - Backslash meta commands ([`commands`]); `~/.daprc` (or `--init FILE`) runs at start-up.
//! - Ctrl-C cancels a running statement and keeps the session; at the prompt it clears the input;
//!   Ctrl-D exits. Statements running over 2 s show a spinner on stderr.

pub mod commands;
pub mod complete;
pub mod highlight;
pub mod input;
mod describe;

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use rustyline::completion::Completer;
use rustyline::config::Configurer;
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::{DefaultHistory, History};
use rustyline::validate::Validator;
use rustyline::{CompletionType, Context, Editor, Helper};

use crate::cli::{Printer, Source, Stop, run_source};
use crate::engine::Engine;
use crate::output::Format;
use commands::Meta;
use complete::Snapshot;
use input::Input;

/// Start-up options.
#[derive(Debug, Default)]
pub struct ReplOptions {
    /// Statements to run first; `None` runs `~/.daprc` when it exists.
    pub init: Option<PathBuf>,
}

struct DapHelper {
    snapshot: Arc<RwLock<Snapshot>>,
    colour: bool,
}

impl Completer for DapHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        Ok(complete::complete(&self.snapshot.read(), line, pos))
    }
}

impl Highlighter for DapHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if self.colour {
            Cow::Owned(highlight::highlight(line))
        } else {
            Cow::Borrowed(line)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        self.colour && kind != CmdKind::MoveCursor
    }
}

impl Hinter for DapHelper {
    type Hint = String;
}

impl Validator for DapHelper {}

impl Helper for DapHelper {}

/// Where history is kept.
pub fn history_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DAP_HISTORY") {
        return Some(PathBuf::from(p));
    }
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("dap").join("history"))
}

struct Session {
    engine: Engine,
    format: Format,
    max_rows: Option<usize>,
    timing: bool,
    output: Option<(PathBuf, std::fs::File)>,
    snapshot: Arc<RwLock<Snapshot>>,
    warned_transient: bool,
}

/// Runs the shell until `\q` or Ctrl-D; returns the exit code.
pub async fn run(engine: Engine, opts: ReplOptions) -> i32 {
    let interactive = std::io::stdin().is_terminal();
    let colour = interactive
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let snapshot = Arc::new(RwLock::new(Snapshot::default()));
    let mut session = Session {
        engine,
        format: Format::Table,
        max_rows: Some(40),
        timing: true,
        output: None,
        snapshot: snapshot.clone(),
        warned_transient: false,
    };
    session.refresh().await;

    let mut editor: Editor<DapHelper, DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return 1;
        }
    };
    editor.set_helper(Some(DapHelper {
        snapshot: snapshot.clone(),
        colour,
    }));
    editor.set_completion_type(CompletionType::List);
    editor.set_auto_add_history(false);
    let _ = editor.set_max_history_size(10_000);
    let history = history_path();
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }

    let init = opts.init.clone().or_else(|| {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".daprc"))
            .filter(|p| p.is_file())
    });
    if let Some(init) = init {
        session.include(&init).await;
    }
    if interactive {
        eprintln!(
            "dap {} — BigQuery SQL on {}. End statements with `;`, \\? for help, Ctrl-D to quit.",
            env!("CARGO_PKG_VERSION"),
            session.warehouse_label()
        );
    }

    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            format!("{}> ", session.engine.default_dataset().unwrap_or("dap"))
        } else {
            let width = session.engine.default_dataset().unwrap_or("dap").len();
            format!("{:>width$}> ", "->")
        };
        let line = tokio::task::block_in_place(|| editor.readline(&prompt));
        match line {
            Ok(line) => {
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(ReadlineError::Eof) => {
                if !buffer.trim().is_empty() {
                    eprintln!("(discarded an unfinished statement)");
                }
                break;
            }
            Err(e) => {
                eprintln!("error: reading input: {e}");
                break;
            }
        }
        match input::classify(&buffer) {
            Input::Incomplete => continue,
            Input::Empty => {
                buffer.clear();
                continue;
            }
            Input::Meta => {
                let text = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(text.trim());
                match commands::parse(&text) {
                    Ok(Meta::Quit) => break,
                    Ok(meta) => session.meta(meta).await,
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            Input::Complete => {
                let text = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(text.trim());
                session
                    .run_text(Source {
                        name: "<input>".into(),
                        text,
                    })
                    .await;
            }
        }
        if let Some(h) = &history {
            save_history(&mut editor, h);
        }
    }
    if let Some(h) = &history {
        save_history(&mut editor, h);
    }
    0
}

fn save_history(editor: &mut Editor<DapHelper, DefaultHistory>, path: &Path) {
    if editor.history().is_empty() {
        return;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.save_history(path) {
        eprintln!("warning: cannot save history to {}: {e}", path.display());
    }
}

impl Session {
    fn warehouse_label(&self) -> String {
        if self.engine.is_transient() {
            "a transient in-memory warehouse".into()
        } else {
            match self.engine.warehouse().local_dir() {
                Some(d) => d.display().to_string(),
                None => self.engine.warehouse().root().to_string(),
            }
        }
    }

    /// Runs SQL text; Ctrl-C cancels it and returns to the prompt.
    async fn run_text(&mut self, src: Source) {
        let stdout = std::io::stdout();
        let mut lock;
        let out: &mut dyn Write = match &mut self.output {
            Some((_, f)) => f,
            None => {
                lock = stdout.lock();
                &mut lock
            }
        };
        let mut printer = Printer {
            format: self.format,
            max_rows: self.max_rows,
            out,
            timing: self.timing,
            warned_transient: self.warned_transient,
            more_rows_hint: "\\maxrows N to see more",
        };
        let spinner = Spinner::start();
        let outcome = tokio::select! {
            r = run_source(&self.engine, &src, &mut printer) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        };
        spinner.stop();
        self.warned_transient = printer.warned_transient;
        match outcome {
            None => eprintln!("cancelled"),
            Some(Ok(())) | Some(Err(Stop::Failed)) | Some(Err(Stop::ClosedOutput)) => {}
        }
        // DDL may have changed what completion should offer.
        self.refresh().await;
    }

    async fn include(&mut self, path: &Path) {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                self.run_text(Source {
                    name: path.display().to_string(),
                    text,
                })
                .await
            }
            Err(e) => eprintln!("error: {}: {e}", path.display()),
        }
    }

    async fn meta(&mut self, meta: Meta) {
        match meta {
            Meta::Quit => {}
            Meta::Help => eprint!("{}", commands::help()),
            Meta::Timing(on) => {
                self.timing = on.unwrap_or(!self.timing);
                eprintln!("timing {}", if self.timing { "on" } else { "off" });
            }
            Meta::Format(f) => {
                self.format = f;
                eprintln!("format {f:?}");
            }
            Meta::MaxRows(n) => {
                self.max_rows = n;
                match n {
                    Some(n) => eprintln!("showing up to {n} rows"),
                    None => eprintln!("showing all rows"),
                }
            }
            Meta::Include(p) => Box::pin(self.include(&p)).await,
            Meta::Output(None) => {
                if let Some((p, _)) = self.output.take() {
                    eprintln!("results go to the terminal again (were going to {})", p.display());
                }
            }
            Meta::Output(Some(p)) => match std::fs::File::create(&p) {
                Ok(f) => {
                    eprintln!("results go to {}", p.display());
                    self.output = Some((p, f));
                }
                Err(e) => eprintln!("error: {}: {e}", p.display()),
            },
            Meta::Describe(name) => {
                let text = match name {
                    None => describe::overview(&self.engine).await,
                    Some(n) => describe::object(&self.engine, &n).await,
                };
                match text {
                    Ok(t) => print!("{t}"),
                    Err(e) => eprintln!("error: {e}"),
                }
            }
            Meta::History(name) => match describe::history(&self.engine, &name).await {
                Ok(t) => print!("{t}"),
                Err(e) => eprintln!("error: {e}"),
            },
        }
        let _ = std::io::stdout().flush();
    }

    async fn refresh(&mut self) {
        match describe::snapshot(&self.engine).await {
            Ok(s) => *self.snapshot.write() = s,
            Err(e) => log::debug!("completion catalog not refreshed: {e}"),
        }
    }
}

/// A spinner on stderr for statements running longer than 2 s (only on a terminal).
struct Spinner {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    fn start() -> Spinner {
        if !std::io::stderr().is_terminal() {
            return Spinner { task: None };
        }
        let task = tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message("running… (Ctrl-C cancels)");
            bar.enable_steady_tick(Duration::from_millis(120));
            // Runs until aborted; the bar clears itself when dropped.
            let _guard = ClearOnDrop(bar);
            std::future::pending::<()>().await;
        });
        Spinner { task: Some(task) }
    }

    fn stop(self) {
        if let Some(t) = self.task {
            t.abort();
        }
    }
}

struct ClearOnDrop(indicatif::ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
