//! Project configuration: `dap.toml`, found in the current directory or a parent.
//!
//! Precedence (applied by [`crate::cli`]): command-line flag > environment variable > `dap.toml` >
//! built-in default. Relative paths in `dap.toml` are relative to the file, not to the process.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{DapError, Result};

pub const FILE_NAME: &str = "dap.toml";
pub const DEFAULT_PROJECT: &str = "dap";

/// The keys of `dap.toml` this module reads. Other tables (`[sources.*]`, ...) belong to the
/// features that use them and are ignored here.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ProjectFile {
    /// BigQuery project id the warehouse stands for.
    pub project: Option<String>,
    /// Default dataset for unqualified table names.
    pub dataset: Option<String>,
    /// Warehouse directory (relative to `dap.toml`) or URL.
    pub warehouse: Option<String>,
}

/// A loaded `dap.toml` and the directory it lives in.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    pub file: ProjectFile,
}

impl Project {
    /// Looks for `dap.toml` in `start` and its parents.
    pub fn discover(start: &Path) -> Result<Option<Project>> {
        for dir in start.ancestors() {
            let path = dir.join(FILE_NAME);
            if path.is_file() {
                return Project::load(&path).map(Some);
            }
        }
        Ok(None)
    }

    pub fn load(path: &Path) -> Result<Project> {
        let text = std::fs::read_to_string(path).map_err(|source| DapError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: ProjectFile = toml::from_str(&text).map_err(|source| DapError::Config {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(Project { dir, file })
    }

    /// The warehouse location from `dap.toml`, made absolute against the file's directory unless
    /// it is a URL.
    pub fn warehouse(&self) -> Option<String> {
        let w = self.file.warehouse.as_ref()?;
        if w.contains("://") || Path::new(w).is_absolute() {
            Some(w.clone())
        } else {
            Some(self.dir.join(w).to_string_lossy().into_owned())
        }
    }
}
