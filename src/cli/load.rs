//! The load step of `dap build`: the `[[load]]` entries of `dap.toml` say which files become
//! which raw table:
//!
//! ```toml
//! [[load]]
//! files = "datasets/shop/page-*.json"   # relative to dap.toml
//! table = "raw.orders"
//! json_path = "data"                   # where the records sit in each file's envelope
//! ```
//!
//! Each entry is one [`crate::ingest::load`] that replaces the raw table (one atomic commit).

use std::path::Path;

use serde::Deserialize;

use crate::engine::EngineOptions;

/// One `[[load]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct LoadEntry {
    pub files: String,
    pub table: String,
    pub json_path: Option<String>,
    /// Malformed records tolerated (they go to quarantine).
    #[serde(default)]
    pub max_bad_records: u64,
}

#[derive(Debug, Default, Deserialize)]
struct LoadFile {
    #[serde(default)]
    load: Vec<LoadEntry>,
}

/// The `[[load]]` entries of `dir/dap.toml` (none when there is no file).
pub fn entries(dir: &Path) -> Result<Vec<LoadEntry>, String> {
    let path = dir.join(crate::config::FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let f: LoadFile = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(f.load)
}

/// Loads every `[[load]]` entry (replacing the raw table, so a re-run is idempotent); returns one
/// line per table for the summary. The first failing entry stops the build.
pub async fn load_project(dir: &Path, opts: &EngineOptions) -> Result<Vec<String>, String> {
    let entries = entries(dir)?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let engine = crate::engine::Engine::new(opts.clone())
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    for e in entries {
        if let Some((dataset, _)) = e.table.rsplit_once('.') {
            engine
                .run_script(&format!("CREATE SCHEMA IF NOT EXISTS {dataset}"))
                .await
                .map_err(|err| format!("load {}: {err}", e.table))?;
        }
        let mut req = crate::ingest::LoadRequest::new(
            e.table.clone(),
            [dir.join(&e.files).display().to_string()],
        )
        .write_mode(crate::ingest::WriteMode::Replace)
        .max_bad_records(e.max_bad_records);
        if let Some(p) = &e.json_path {
            req = req.json_path(p.clone());
        }
        let summary = crate::ingest::load(&engine, &req)
            .await
            .map_err(|err| format!("load {} from {}: {err}", e.table, e.files))?;
        lines.push(format!("loaded {}: {summary}", e.table));
    }
    Ok(lines)
}
