//! Runs every `tests/slt/*.slt` file through dap's engine (sqllogictest), each file on a fresh
//! warehouse in a temporary directory.

use std::path::PathBuf;

use async_trait::async_trait;
use dap::engine::{Engine, EngineOptions, StatementOutput, parse_script};
use dap::output::value::text;
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};

struct Db {
    engine: Engine,
    _dir: tempfile::TempDir,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SltError(dap::DapError);

#[async_trait]
impl AsyncDB for Db {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let statements = parse_script(sql).map_err(SltError)?;
        let mut last = DBOutput::StatementComplete(0);
        for stmt in statements {
            last = match self.engine.execute(stmt).await.map_err(SltError)? {
                StatementOutput::Message(_) => DBOutput::StatementComplete(0),
                StatementOutput::Rows { schema, batches } => {
                    let mut rows = Vec::new();
                    for b in &batches {
                        for r in 0..b.num_rows() {
                            rows.push(
                                (0..b.num_columns())
                                    .map(|c| {
                                        text(b.column(c).as_ref(), r)
                                            .map(
                                                |s| if s.is_empty() { "(empty)".into() } else { s },
                                            )
                                            .unwrap_or_else(|| "NULL".into())
                                    })
                                    .collect(),
                            );
                        }
                    }
                    DBOutput::Rows {
                        types: vec![DefaultColumnType::Any; schema.fields().len()],
                        rows,
                    }
                }
            };
        }
        Ok(last)
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "dap"
    }
}

async fn open() -> Result<Db, SltError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Engine::new(EngineOptions {
        warehouse: Some(dir.path().to_string_lossy().into_owned()),
        project: "dap".into(),
        default_dataset: None,
        memory_limit: None,
    })
    .await
    .map_err(SltError)?;
    Ok(Db { engine, _dir: dir })
}

fn main() {
    let filter = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .filter(|p| {
            filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
        })
        .collect();
    files.sort();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut failed = 0;
    for file in &files {
        let mut runner = sqllogictest::Runner::new(open);
        match rt.block_on(runner.run_file_async(file)) {
            Ok(()) => println!("ok   {}", file.display()),
            Err(e) => {
                failed += 1;
                println!("FAIL {}\n{e}", file.display());
            }
        }
    }
    println!("{} slt files, {failed} failed", files.len());
    if failed > 0 {
        std::process::exit(1);
    }
}
