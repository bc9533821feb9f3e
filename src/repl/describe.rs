//! What the `\d` and `\history` meta commands print, and the catalog snapshot for completion.

use comfy_table::{Table, presets};
use datafusion::arrow::array::{Array, Int64Array};
use datafusion::common::TableReference;
use futures::TryStreamExt;

use super::complete::Snapshot;
use crate::dialect::types::bq_type_name;
use crate::engine::{Engine, StatementOutput};
use crate::error::{DapError, Result};
use crate::lakehouse::Object;
use crate::lakehouse::names::{NameResolver, TableName};

/// At most this many tables get their columns loaded for completion.
const MAX_COLUMN_TABLES: usize = 200;

fn table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t
}

fn kind_label(o: &Object) -> &'static str {
    match o {
        Object::Table(_) => "TABLE",
        Object::View(_) => "VIEW",
        Object::External(_) => "EXTERNAL",
    }
}

fn name(engine: &Engine, dataset: &str, table: &str) -> TableName {
    TableName {
        project: engine.project().to_string(),
        dataset: dataset.to_string(),
        table: table.to_string(),
    }
}

async fn row_count(engine: &Engine, t: &TableName) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM `{}.{}`", t.dataset, t.table);
    let out = engine.run_script(&sql).await.map_err(|e| e.source)?;
    if let Some(StatementOutput::Rows { batches, .. }) = out.into_iter().next()
        && let Some(b) = batches.first()
        && let Some(a) = b.column(0).as_any().downcast_ref::<Int64Array>()
        && !a.is_empty()
    {
        return Ok(a.value(0));
    }
    Err(DapError::Invalid(format!("could not count rows of {t}")))
}

/// `\d`: every dataset and its tables with kind and row count.
pub async fn overview(engine: &Engine) -> Result<String> {
    let wh = engine.warehouse();
    let datasets = wh.list_datasets().await?;
    if datasets.is_empty() {
        return Ok("No datasets yet (CREATE SCHEMA name, or dap load).\n".into());
    }
    let mut t = table();
    t.set_header(vec!["dataset", "name", "kind", "rows"]);
    for (ds, _) in datasets {
        let objects = wh.list_objects(&ds).await?;
        if objects.is_empty() {
            t.add_row(vec![
                ds.clone(),
                "(empty)".into(),
                String::new(),
                String::new(),
            ]);
        }
        for obj in objects {
            let n = name(engine, &ds, &obj);
            let Some(o) = wh.lookup(&n).await? else {
                continue;
            };
            let rows = match o {
                Object::Table(_) => row_count(engine, &n)
                    .await
                    .map(|c| c.to_string())
                    .unwrap_or_else(|_| "?".into()),
                _ => String::new(),
            };
            t.add_row(vec![ds.clone(), obj, kind_label(&o).into(), rows]);
        }
    }
    Ok(format!("{t}\n"))
}

/// `\d NAME`: a dataset's tables, or a table's columns, kind, version and rows (a view's SQL).
pub async fn object(engine: &Engine, text: &str) -> Result<String> {
    let wh = engine.warehouse();
    let parts: Vec<String> = text
        .trim_matches('`')
        .split('.')
        .map(|s| s.trim_matches('`').to_string())
        .collect();
    if parts.len() == 1 && wh.dataset(&parts[0]).await?.is_some() {
        let mut t = table();
        t.set_header(vec!["name", "kind"]);
        for obj in wh.list_objects(&parts[0]).await? {
            let n = name(engine, &parts[0], &obj);
            if let Some(o) = wh.lookup(&n).await? {
                t.add_row(vec![obj, kind_label(&o).into()]);
            }
        }
        return Ok(format!("Dataset {}\n{t}\n", parts[0]));
    }
    let resolver = NameResolver::new(
        engine.project().to_string(),
        engine.default_dataset().map(str::to_string),
    );
    let n = resolver.resolve_parts(&parts)?;
    let o = wh.require(&n).await?;
    let provider = engine
        .context()
        .table_provider(TableReference::full(
            n.project.clone(),
            n.dataset.clone(),
            n.table.clone(),
        ))
        .await?;
    let schema = provider.schema();
    let mut cols = table();
    cols.set_header(vec!["column", "type", "mode", "description"]);
    for f in schema.fields() {
        let mode = if matches!(
            f.data_type(),
            datafusion::arrow::datatypes::DataType::List(_)
        ) {
            "REPEATED"
        } else if f.is_nullable() {
            "NULLABLE"
        } else {
            "REQUIRED"
        };
        let description = f
            .metadata()
            .get("comment")
            .or_else(|| f.metadata().get("description"))
            .cloned()
            .unwrap_or_default();
        cols.add_row(vec![
            f.name().clone(),
            bq_type_name(f),
            mode.into(),
            description,
        ]);
    }
    let mut out = format!("{} {}.{}\n", kind_label(&o), n.dataset, n.table);
    match &o {
        Object::Table(delta) => {
            let rows = row_count(engine, &n).await?;
            let version = delta.version().map(|v| v.to_string()).unwrap_or_default();
            out.push_str(&format!("Delta version {version}, {rows} rows\n"));
        }
        Object::View(v) => out.push_str(&format!("SQL:\n{}\n", v.sql.trim())),
        Object::External(e) => out.push_str(&format!("External: {e:?}\n")),
    }
    out.push_str(&format!("{cols}\n"));
    if let Some(model) = model_lineage(engine, &n.dataset, &n.table) {
        out.push_str(&model);
    }
    Ok(out)
}

/// For a table that a model of the current project produces: its file, upstream and downstream
/// models (and sources), and its SQL. `None` outside a project or for other tables.
fn model_lineage(engine: &Engine, dataset: &str, table: &str) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let project = crate::config::Project::discover(&cwd).ok()??;
    let models = crate::models::project::discover(&project.dir, engine.default_dataset()).ok()?;
    let dag = crate::models::dag::Dag::new(models.models).ok()?;
    let i = dag.index_of(&format!("{dataset}.{table}"))?;
    let m = &dag.models[i];
    let names = |set: &std::collections::BTreeSet<usize>| {
        set.iter()
            .map(|&j| dag.models[j].name.to_string())
            .collect::<Vec<_>>()
    };
    let mut upstream = names(&dag.parents[i]);
    upstream.extend(
        m.refs
            .iter()
            .filter(|r| dag.sources.contains(r))
            .map(|r| format!("{r} (source)")),
    );
    let downstream = names(&dag.children[i]);
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    Some(format!(
        "Model {}\nupstream: {}\ndownstream: {}\nSQL:\n{}\n",
        m.path
            .strip_prefix(&project.dir)
            .unwrap_or(&m.path)
            .display(),
        list(upstream),
        list(downstream),
        m.body.trim()
    ))
}

/// `\history TABLE`: the table's Delta commits, newest first.
pub async fn history(engine: &Engine, text: &str) -> Result<String> {
    let resolver = NameResolver::new(
        engine.project().to_string(),
        engine.default_dataset().map(str::to_string),
    );
    let parts: Vec<String> = text
        .trim_matches('`')
        .split('.')
        .map(str::to_string)
        .collect();
    let n = resolver.resolve_parts(&parts)?;
    let Object::Table(delta) = engine.warehouse().require(&n).await? else {
        return Err(DapError::Invalid(format!(
            "{n} is not a table; only tables have versions"
        )));
    };
    let commits: Vec<_> = delta
        .history(Some(50))
        .try_collect()
        .await
        .map_err(|e| DapError::delta(n.to_string(), e))?;
    let latest = delta.version().unwrap_or(0);
    let mut t = table();
    t.set_header(vec!["version", "committed (UTC)", "operation", "details"]);
    for (i, c) in commits.iter().enumerate() {
        let when = c
            .timestamp
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
            .unwrap_or_default();
        let details = c
            .info
            .get("operationMetrics")
            .map(|m| m.to_string())
            .unwrap_or_default();
        t.add_row(vec![
            latest.saturating_sub(i as u64).to_string(),
            when,
            c.operation.clone().unwrap_or_default(),
            details,
        ]);
    }
    Ok(format!("{t}\n"))
}

/// Names for completion: datasets, their tables and (for the first tables) their columns.
pub async fn snapshot(engine: &Engine) -> Result<Snapshot> {
    let wh = engine.warehouse();
    let mut s = Snapshot {
        default_dataset: engine.default_dataset().map(str::to_string),
        ..Snapshot::default()
    };
    let state = engine.context().state();
    let mut functions: Vec<String> = state
        .scalar_functions()
        .keys()
        .chain(state.aggregate_functions().keys())
        .chain(state.window_functions().keys())
        .filter(|f| !f.starts_with("safe.") && !f.starts_with('_'))
        .map(|f| f.to_ascii_uppercase())
        .collect();
    functions.sort();
    functions.dedup();
    s.functions = functions;
    let mut loaded = 0;
    for (ds, _) in wh.list_datasets().await? {
        let objects = wh.list_objects(&ds).await?;
        for obj in &objects {
            if loaded >= MAX_COLUMN_TABLES {
                break;
            }
            loaded += 1;
            let reference =
                TableReference::full(engine.project().to_string(), ds.clone(), obj.clone());
            if let Ok(p) = engine.context().table_provider(reference).await {
                s.columns.insert(
                    format!("{ds}.{obj}"),
                    p.schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect(),
                );
            }
        }
        s.tables.insert(ds, objects);
    }
    Ok(s)
}
