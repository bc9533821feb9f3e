//! Running the DAG: models in dependency order, independent ones concurrently (up to
//! `threads`), each model's materialization one atomic Delta commit. A model that fails (or,
//! in `build`, whose assertions fail) skips its descendants; the others still run. Every run is
//! appended to the lakehouse table `_dap.runs` in one commit at the end.
//!
//! Each running model gets its own [`Engine`] session over the shared warehouse, so statement-
//! scoped state never crosses models.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::assertions::{self, AssertionResult};
use super::dag::Dag;
use super::project::{Materialized, Model};
use super::sqlgen::{self, Target, string_literal};
use crate::engine::{Engine, EngineOptions, StatementOutput};
use crate::lakehouse::names::TableName;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub full_refresh: bool,
    pub threads: usize,
    /// Run each model's assertions right after it (`dap build`).
    pub test: bool,
}

/// A model's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Success,
    Failed(String),
    /// Its assertions failed (build only); the table was still written.
    AssertionsFailed,
    /// An upstream model failed.
    Skipped(String),
}

impl Status {
    pub fn label(&self) -> &'static str {
        match self {
            Status::Success => "ok",
            Status::Failed(_) => "error",
            Status::AssertionsFailed => "assert failed",
            Status::Skipped(_) => "skipped",
        }
    }

    fn blocks_children(&self) -> bool {
        !matches!(self, Status::Success)
    }
}

/// What happened to one model.
#[derive(Debug, Clone)]
pub struct ModelResult {
    pub model: String,
    pub materialized: Materialized,
    pub status: Status,
    /// Rows in the table afterwards (`None` for views and models that did not run).
    pub rows: Option<u64>,
    pub started: DateTime<Utc>,
    pub duration: Duration,
    pub assertions: Vec<AssertionResult>,
}

/// Runs the selected models of `dag`. `on_done` sees each result as it finishes.
pub async fn run(
    opts: &EngineOptions,
    dag: &Dag,
    selected: &BTreeSet<usize>,
    run_opts: &RunOptions,
    mut on_done: impl FnMut(&ModelResult),
) -> Vec<ModelResult> {
    let n = dag.models.len();
    let mut done: Vec<Option<Status>> = vec![None; n];
    let mut results: Vec<ModelResult> = Vec::new();
    // Datasets first, one at a time (each is a small commit).
    if let Ok(engine) = Engine::new(opts.clone()).await {
        let datasets: BTreeSet<&str> = selected
            .iter()
            .map(|&i| dag.models[i].name.dataset.as_str())
            .collect();
        for ds in datasets {
            let _ = engine
                .run_script(&format!("CREATE SCHEMA IF NOT EXISTS `{ds}`"))
                .await;
        }
    }
    let mut pending: Vec<usize> = dag
        .order
        .iter()
        .copied()
        .filter(|i| selected.contains(i))
        .collect();
    let mut running = FuturesUnordered::new();
    let threads = run_opts.threads.max(1);
    loop {
        // Start whatever is ready, in DAG order.
        let mut i = 0;
        while i < pending.len() {
            let m = pending[i];
            let sel_parents: Vec<usize> = dag.parents[m]
                .iter()
                .copied()
                .filter(|p| selected.contains(p))
                .collect();
            if let Some(&bad) = sel_parents
                .iter()
                .find(|&&p| done[p].as_ref().is_some_and(Status::blocks_children))
            {
                let r = ModelResult {
                    model: dag.models[m].name.to_string(),
                    materialized: dag.models[m].config.materialized,
                    status: Status::Skipped(dag.models[bad].name.to_string()),
                    rows: None,
                    started: Utc::now(),
                    duration: Duration::ZERO,
                    assertions: Vec::new(),
                };
                done[m] = Some(r.status.clone());
                on_done(&r);
                results.push(r);
                pending.remove(i);
                continue;
            }
            if running.len() < threads && sel_parents.iter().all(|&p| done[p].is_some()) {
                pending.remove(i);
                let model = &dag.models[m];
                running.push(async move { (m, run_model(opts, model, run_opts).await) });
                continue;
            }
            i += 1;
        }
        match running.next().await {
            Some((m, r)) => {
                done[m] = Some(r.status.clone());
                on_done(&r);
                results.push(r);
            }
            None => break,
        }
    }
    record(opts, &results).await;
    results
}

async fn run_model(opts: &EngineOptions, model: &Model, run_opts: &RunOptions) -> ModelResult {
    let started = Utc::now();
    let clock = Instant::now();
    let mut result = ModelResult {
        model: model.name.to_string(),
        materialized: model.config.materialized,
        status: Status::Success,
        rows: None,
        started,
        duration: Duration::ZERO,
        assertions: Vec::new(),
    };
    match materialize(opts, model, run_opts.full_refresh).await {
        Ok((engine, rows)) => {
            result.rows = rows;
            if run_opts.test {
                for a in assertions::for_model(model) {
                    result.assertions.push(assertions::run(&engine, &a).await);
                }
                if result.assertions.iter().any(|a| !a.passed()) {
                    result.status = Status::AssertionsFailed;
                }
            }
        }
        Err(e) => result.status = Status::Failed(e),
    }
    result.duration = clock.elapsed();
    result
}

/// Writes one model; returns the session and the table's row count.
async fn materialize(
    opts: &EngineOptions,
    model: &Model,
    full_refresh: bool,
) -> Result<(Engine, Option<u64>), String> {
    let engine = Engine::new(opts.clone()).await.map_err(|e| e.to_string())?;
    let project = engine.project().to_string();
    let located = |e: crate::engine::StatementError| format!("{}: {e}", model.path.display());
    let exists = if model.config.materialized == Materialized::Incremental && !full_refresh {
        let name = TableName {
            project: project.clone(),
            dataset: model.name.dataset.clone(),
            table: model.name.table.clone(),
        };
        matches!(
            engine.warehouse().lookup(&name).await,
            Ok(Some(crate::lakehouse::Object::Table(_)))
        )
    } else {
        false
    };
    let sql = if exists {
        let columns = columns(&engine, &model.body).await.map_err(located)?;
        sqlgen::incremental(model, &model.body, &project, Target::Local, &columns)
    } else {
        sqlgen::create(model, &model.body, &project, Target::Local)
    };
    engine.run_script(&sql).await.map_err(located)?;
    let rows = if model.config.materialized == Materialized::View {
        None
    } else {
        count(
            &engine,
            &format!(
                "SELECT COUNT(*) FROM `{}`.`{}`",
                model.name.dataset, model.name.table
            ),
        )
        .await
    };
    Ok((engine, rows))
}

/// Output column names of a query.
pub async fn columns(
    engine: &Engine,
    body: &str,
) -> Result<Vec<String>, crate::engine::StatementError> {
    let sql = format!(
        "SELECT * FROM (\n{}\n) LIMIT 0",
        body.trim().trim_end_matches(';')
    );
    let out = engine.run_script(&sql).await?;
    Ok(match out.into_iter().last() {
        Some(StatementOutput::Rows { schema, .. }) => {
            schema.fields().iter().map(|f| f.name().clone()).collect()
        }
        _ => Vec::new(),
    })
}

async fn count(engine: &Engine, sql: &str) -> Option<u64> {
    use datafusion::arrow::array::{Array, Int64Array};
    let out = engine.run_script(sql).await.ok()?;
    let Some(StatementOutput::Rows { batches, .. }) = out.into_iter().last() else {
        return None;
    };
    let b = batches.first()?;
    let a = b.column(0).as_any().downcast_ref::<Int64Array>()?;
    (!a.is_empty() && !a.is_null(0)).then(|| a.value(0) as u64)
}

/// Appends a run's results to `_dap.runs` (one commit). Failures to record are reported on
/// stderr but do not fail the run.
async fn record(opts: &EngineOptions, results: &[ModelResult]) {
    if results.is_empty() {
        return;
    }
    let run_id = uuid::Uuid::new_v4().to_string();
    let rows: Vec<String> = results
        .iter()
        .map(|r| {
            let error = match &r.status {
                Status::Failed(e) => string_literal(e),
                Status::Skipped(up) => string_literal(&format!("upstream {up} did not succeed")),
                Status::AssertionsFailed => string_literal("assertions failed"),
                Status::Success => "NULL".into(),
            };
            format!(
                "({}, {}, {}, {}, TIMESTAMP {}, {}, {})",
                string_literal(&run_id),
                string_literal(&r.model),
                string_literal(r.status.label()),
                r.rows.map(|n| n.to_string()).unwrap_or("NULL".into()),
                string_literal(&r.started.format("%Y-%m-%d %H:%M:%S%.6f UTC").to_string()),
                r.duration.as_millis(),
                error
            )
        })
        .collect();
    let sql = format!(
        "CREATE SCHEMA IF NOT EXISTS _dap;\n\
         CREATE TABLE IF NOT EXISTS _dap.runs (run_id STRING, model STRING, status STRING, `rows` INT64, started TIMESTAMP, duration_ms INT64, error STRING);\n\
         INSERT INTO _dap.runs (run_id, model, status, `rows`, started, duration_ms, error) VALUES {}",
        rows.join(",\n")
    );
    match Engine::new(opts.clone()).await {
        Ok(engine) => {
            if let Err(e) = engine.run_script(&sql).await {
                eprintln!("warning: could not record the run in _dap.runs: {e}");
            }
        }
        Err(e) => eprintln!("warning: could not record the run in _dap.runs: {e}"),
    }
}
