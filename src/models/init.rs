//! `dap init [DIR]`: scaffolds a project that `dap run` can run right away — `dap.toml`, a
//! source seed model, a staging model and a mart model with assertions, `datasets/` and a
//! `.gitignore` for the warehouse. Never overwrites an existing file.

use std::path::{Path, PathBuf};

use super::ModelError;

const FILES: &[(&str, &str)] = &[
    (
        "dap.toml",
        "# dap project: `dap build` runs the models in sql/ and their assertions.\nproject = \"my-project\"\ndataset = \"staging\"\nwarehouse = \"warehouse\"   # or \"s3://bucket/lake\", \"gs://bucket/lake\" (credentials from AWS_* / GOOGLE_* env)\n\n# Files that `dap build` loads into raw tables first (one atomic commit each):\n# [[load]]\n# files = \"datasets/events/*.json\"\n# table = \"raw.events\"\n# json_path = \"data\"          # where the rows sit in each file's envelope\n\n# HTTP APIs that `dap extract NAME` lands under warehouse/_landing/ (see docs/load-and-extract.md):\n# [sources.events]\n# url = \"https://api.example.com/v1/events\"\n# headers = { Authorization = \"Bearer ${EXAMPLE_TOKEN}\" }\n# records = \"data\"\n# paginate = { type = \"cursor\", param = \"cursor\", path = \"meta.next_cursor\" }\n# load = \"raw.events\"\n",
    ),
    (".gitignore", "/warehouse/\n"),
    ("datasets/.gitkeep", ""),
    (
        "sql/raw/events.sql",
        "/* dap\nmaterialized = \"table\"\ndescription = \"Example source rows; replace with tables loaded from datasets/\"\n*/\nSELECT 1 AS event_id, 'signup' AS kind, TIMESTAMP '2024-01-01 10:00:00 UTC' AS at\nUNION ALL SELECT 2, 'login', TIMESTAMP '2024-01-02 09:30:00 UTC'\nUNION ALL SELECT 2, 'login', TIMESTAMP '2024-01-02 09:30:00 UTC'\n",
    ),
    (
        "sql/staging/events.sql",
        "/* dap\nmaterialized = \"view\"\n[assert]\nnot_null = [\"event_id\"]\nunique = [\"event_id\"]\n*/\nSELECT event_id, kind, at\nFROM raw.events\nWHERE TRUE\nQUALIFY ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY at DESC) = 1\n",
    ),
    (
        "sql/mart/daily_events.sql",
        "/* dap\nmaterialized = \"table\"\ntags = [\"mart\"]\n[assert]\nrow_count = { min = 1 }\nexpressions = [\"events > 0\"]\n*/\nSELECT CAST(at AS DATE) AS day, kind, COUNT(*) AS events\nFROM staging.events\nGROUP BY day, kind\n",
    ),
    (
        "assertions/no_future_events.sql",
        "-- Rows returned are violations.\nSELECT * FROM staging.events WHERE at > CURRENT_TIMESTAMP()\n",
    ),
];

/// Creates the scaffold in `dir`; returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, ModelError> {
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ModelError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| ModelError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
