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
//! SEAM: the loader itself is `crate::ingest::load(engine, &LoadRequest)` (helper branch
//! h-load). Until that API is merged, this step reports the entries and loads nothing. To wire it,
//! in [`load_project`] open `Engine::new(opts.clone())` and per entry call `ingest::load` with
//! `LoadRequest { table: e.table, uris: vec![dir.join(e.files)], json_path: e.json_path,
//! max_bad_records: e.max_bad_records, write_mode: <replace>, format: <JSON>, .. }`, returning a
//! line per `LoadSummary` (rows, rejected, quarantine).

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

/// Loads every `[[load]]` entry; returns one line per table for the summary.
pub async fn load_project(dir: &Path, _opts: &EngineOptions) -> Result<Vec<String>, String> {
    let entries = entries(dir)?;
    Ok(entries
        .iter()
        .map(|e| {
            format!(
                "warning: not loaded (this build has no loader yet): {} -> {} (json_path {}, max_bad_records {})",
                e.files,
                e.table,
                e.json_path.as_deref().unwrap_or("-"),
                e.max_bad_records
            )
        })
        .collect())
}
