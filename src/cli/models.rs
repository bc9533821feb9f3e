//! `dap init | run | test | build | dag | compile | check`: the project commands. They find the
//! project (`dap.toml` in the current directory or a parent), read `sql/` and `assertions/`, and
//! print summaries on stderr; `dag`, `compile` (without --out) and `check` print to stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Subcommand};

use crate::engine::{Engine, EngineOptions};
use crate::models::assertions::{self, Assertion, AssertionResult};
use crate::models::project::Materialized;
use crate::models::sqlgen::{self, Target};
use crate::models::{Dag, ModelResult, RunOptions, Status, check, discover, init, run};

/// Which models a command applies to.
#[derive(Debug, Clone, Args)]
pub struct Selection {
    /// Models to include: `model`, `+model` (and ancestors), `model+` (and descendants),
    /// `dataset.*`, `tag:x` (repeatable, or space/comma separated).
    #[arg(long, short = 's')]
    pub select: Vec<String>,
    /// Models to leave out (same syntax).
    #[arg(long)]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Rebuild incremental models from scratch.
    #[arg(long)]
    pub full_refresh: bool,
    /// Models run at the same time.
    #[arg(long, default_value_t = 4)]
    pub threads: usize,
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Scaffold a project (dap.toml, sql/, datasets/, .gitignore) in DIR (default: .).
    Init { dir: Option<PathBuf> },
    /// Run the models in dependency order.
    Run(RunArgs),
    /// Run model assertions and assertions/*.sql.
    Test(Selection),
    /// Load datasets/, run the models and their assertions in DAG order, print a summary.
    Build(RunArgs),
    /// Show the model graph.
    Dag {
        #[arg(long, value_parser = ["text", "dot", "mermaid"], default_value = "text")]
        format: String,
    },
    /// Write each model's fully qualified BigQuery SQL (to stdout, or DIR/<dataset>/<table>.sql).
    Compile {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Plan every model without running it; list what dap does not support.
    Check,
}

fn load_dag(
    dir: &Path,
    opts: &EngineOptions,
) -> Result<(Dag, Vec<crate::models::project::AssertionFile>), i32> {
    let models = discover(dir, opts.default_dataset.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        1
    })?;
    let dag = Dag::new(models.models).map_err(|e| {
        eprintln!("error: {e}");
        1
    })?;
    Ok((dag, models.assertions))
}

/// Runs a project command; `dir` is the project directory.
pub async fn run_command(cmd: ModelCommand, dir: &Path, opts: EngineOptions) -> i32 {
    match cmd {
        ModelCommand::Init { dir: target } => {
            let target = target.unwrap_or_else(|| PathBuf::from("."));
            match init::init(&target) {
                Ok(files) => {
                    for f in files {
                        eprintln!("created {}", f.display());
                    }
                    eprintln!("next: cd {} && dap build", target.display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        ModelCommand::Dag { format } => match load_dag(dir, &opts) {
            Ok((dag, _)) => {
                print!("{}", dag.render(&format));
                0
            }
            Err(code) => code,
        },
        ModelCommand::Compile { out } => compile(dir, opts, out).await,
        ModelCommand::Check => {
            let Ok((dag, _)) = load_dag(dir, &opts) else {
                return 1;
            };
            let Ok(engine) = super::start_engine(opts).await else {
                return 1;
            };
            let problems = check::check(&engine, &dag).await;
            for p in &problems {
                println!("{}", relative(p, dir));
            }
            eprintln!(
                "checked {} models: {} problem{}",
                dag.models.len(),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            i32::from(!problems.is_empty())
        }
        ModelCommand::Run(args) => run_models(dir, opts, args, false).await,
        ModelCommand::Build(args) => run_models(dir, opts, args, true).await,
        ModelCommand::Test(sel) => {
            let Ok((dag, files)) = load_dag(dir, &opts) else {
                return 1;
            };
            let selected = match dag.select(&sel.select, &sel.exclude) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let Ok(engine) = super::start_engine(opts).await else {
                return 1;
            };
            let mut list: Vec<Assertion> = Vec::new();
            for &i in &dag.order {
                if selected.contains(&i) {
                    list.extend(assertions::for_model(&dag.models[i]));
                }
            }
            list.extend(file_assertions(&dag, &files, &selected, dir));
            let mut failed = 0;
            for a in &list {
                let r = assertions::run(&engine, a).await;
                failed += usize::from(!r.passed());
                print_assertion(&r);
            }
            eprintln!(
                "{} assertions: {} passed, {} failed",
                list.len(),
                list.len() - failed,
                failed
            );
            i32::from(failed > 0)
        }
    }
}

fn relative(p: &check::Problem, dir: &Path) -> String {
    let mut p = p.clone();
    if let Ok(r) = p.path.strip_prefix(dir) {
        p.path = r.to_path_buf();
    }
    p.to_string()
}

/// SQL assertion files that read a selected model (all of them when everything is selected).
fn file_assertions(
    dag: &Dag,
    files: &[crate::models::project::AssertionFile],
    selected: &std::collections::BTreeSet<usize>,
    dir: &Path,
) -> Vec<Assertion> {
    files
        .iter()
        .filter(|f| {
            selected.len() == dag.models.len()
                || selected
                    .iter()
                    .any(|&i| f.refs.contains(&dag.models[i].name))
        })
        .map(|f| Assertion {
            name: f
                .path
                .strip_prefix(dir)
                .unwrap_or(&f.path)
                .display()
                .to_string(),
            sql: f.sql.clone(),
        })
        .collect()
}

fn print_assertion(r: &AssertionResult) {
    match &r.violations {
        Ok(0) => eprintln!("  pass  {}", r.name),
        Ok(n) => {
            eprintln!(
                "  FAIL  {} ({n} failing row{})",
                r.name,
                if *n == 1 { "" } else { "s" }
            );
            for line in r.sample.lines() {
                eprintln!("        {line}");
            }
        }
        Err(e) => eprintln!("  ERROR {}: {e}", r.name),
    }
}

async fn run_models(dir: &Path, opts: EngineOptions, args: RunArgs, build: bool) -> i32 {
    let clock = Instant::now();
    if build {
        match super::load::load_project(dir, &opts).await {
            Ok(lines) => {
                for l in lines {
                    eprintln!("{l}");
                }
            }
            Err(e) => {
                eprintln!("error: load: {e}");
                return 1;
            }
        }
    }
    let planning = Instant::now();
    let Ok((dag, files)) = load_dag(dir, &opts) else {
        return 1;
    };
    let selected = match dag.select(&args.selection.select, &args.selection.exclude) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    eprintln!(
        "running {} of {} models ({} sources) with {} threads (DAG planned in {:.1} ms)",
        selected.len(),
        dag.models.len(),
        dag.sources.len(),
        args.threads,
        planning.elapsed().as_secs_f64() * 1000.0
    );
    let running = Instant::now();
    let run_opts = RunOptions {
        full_refresh: args.full_refresh,
        threads: args.threads,
        test: build,
    };
    let results = run::run(&opts, &dag, &selected, &run_opts, print_result).await;
    let wall = running.elapsed().as_secs_f64();
    let in_models: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut failed = results
        .iter()
        .filter(|r| r.status != Status::Success)
        .count();
    if build {
        let list = file_assertions(&dag, &files, &selected, dir);
        if !list.is_empty() {
            eprintln!("assertion files:");
            match Engine::new(opts.clone()).await {
                Ok(engine) => {
                    for a in &list {
                        let r = assertions::run(&engine, a).await;
                        failed += usize::from(!r.passed());
                        print_assertion(&r);
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    failed += 1;
                }
            }
        }
    }
    summary(&results);
    eprintln!("models ran in {wall:.2} s ({in_models:.2} s of model time across threads)");
    eprintln!(
        "done in {:.2} s: {} ok, {} not ok",
        clock.elapsed().as_secs_f64(),
        results
            .iter()
            .filter(|r| r.status == Status::Success)
            .count(),
        failed
    );
    if build && failed == 0 {
        sample_mart(&opts, &dag).await;
    }
    i32::from(failed > 0)
}

fn print_result(r: &ModelResult) {
    let rows = r.rows.map(|n| format!("{n} rows")).unwrap_or_default();
    let detail = match &r.status {
        Status::Failed(e) => format!("\n        {e}"),
        Status::Skipped(up) => format!(" (upstream {up} did not succeed)"),
        _ => String::new(),
    };
    eprintln!(
        "  {:<13} {:<40} {:<11} {:>12} {:>8.2} s{detail}",
        r.status.label(),
        r.model,
        r.materialized.to_string(),
        rows,
        r.duration.as_secs_f64()
    );
    for a in &r.assertions {
        print_assertion(a);
    }
}

fn summary(results: &[ModelResult]) {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::ASCII_MARKDOWN);
    t.set_header(["model", "materialized", "status", "rows", "seconds"]);
    for r in results {
        t.add_row([
            r.model.clone(),
            r.materialized.to_string(),
            r.status.label().to_string(),
            r.rows.map(|n| n.to_string()).unwrap_or_default(),
            format!("{:.2}", r.duration.as_secs_f64()),
        ]);
    }
    eprintln!("{t}");
}

/// After a clean build, prints the first rows of the last mart model (models tagged `mart`, or the
/// last model in DAG order) on stdout.
async fn sample_mart(opts: &EngineOptions, dag: &Dag) {
    let pick = dag
        .order
        .iter()
        .rev()
        .map(|&i| &dag.models[i])
        .find(|m| m.config.tags.iter().any(|t| t == "sample"))
        .or_else(|| dag.order.last().map(|&i| &dag.models[i]));
    let Some(m) = pick else { return };
    let Ok(engine) = Engine::new(opts.clone()).await else {
        return;
    };
    // Ordered by the first column when it can be (tables keep no row order).
    let table = format!("`{}`.`{}`", m.name.dataset, m.name.table);
    let mut out = engine
        .run_script(&format!("SELECT * FROM {table} ORDER BY 1 LIMIT 10"))
        .await;
    if out.is_err() {
        out = engine
            .run_script(&format!("SELECT * FROM {table} LIMIT 10"))
            .await;
    }
    if let Ok(out) = out
        && let Some(crate::StatementOutput::Rows { schema, batches }) = out.into_iter().last()
    {
        println!("{} (first rows):", m.name);
        let mut stdout = std::io::stdout();
        let _ = crate::output::write(
            &mut stdout,
            crate::output::Format::Table,
            &schema,
            &batches,
            Some(10),
        );
    }
}

async fn compile(dir: &Path, opts: EngineOptions, out: Option<PathBuf>) -> i32 {
    let Ok((dag, _)) = load_dag(dir, &opts) else {
        return 1;
    };
    let Ok(engine) = super::start_engine(opts.clone()).await else {
        return 1;
    };
    let project = engine.project().to_string();
    let mut code = 0;
    for &i in &dag.order {
        let m = &dag.models[i];
        let body = match sqlgen::qualify(&m.body, &project, opts.default_dataset.as_deref()) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {}: {e}", m.path.display());
                code = 1;
                continue;
            }
        };
        let sql = if m.config.materialized == Materialized::Incremental {
            let columns = match run::columns(&engine, &m.body).await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!(
                        "error: {}: the incremental MERGE needs the model's columns; build it first: {e}",
                        m.path.display()
                    );
                    code = 1;
                    continue;
                }
            };
            format!(
                "IF NOT EXISTS (SELECT 1 FROM `{project}.{ds}.INFORMATION_SCHEMA.TABLES` WHERE table_name = '{t}') THEN\n{create};\nELSE\n{merge};\nEND IF;\n",
                ds = m.name.dataset,
                t = m.name.table,
                create = sqlgen::create(m, &body, &project, Target::BigQuery),
                merge = sqlgen::incremental(m, &body, &project, Target::BigQuery, &columns),
            )
        } else {
            format!(
                "{};\n",
                sqlgen::create(m, &body, &project, Target::BigQuery)
            )
        };
        match &out {
            Some(dir) => {
                let path = dir
                    .join(&m.name.dataset)
                    .join(format!("{}.sql", m.name.table));
                let res = path
                    .parent()
                    .map(std::fs::create_dir_all)
                    .unwrap_or(Ok(()))
                    .and_then(|_| std::fs::write(&path, &sql));
                if let Err(e) = res {
                    eprintln!("error: {}: {e}", path.display());
                    code = 1;
                }
            }
            None => println!("-- {}\n{sql}", m.name),
        }
    }
    if let Some(d) = &out {
        eprintln!("wrote {} models to {}", dag.models.len(), d.display());
    }
    code
}
