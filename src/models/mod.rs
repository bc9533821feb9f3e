//! ELT projects: plain BigQuery SQL model files under `sql/<dataset>/<table>.sql`, run as a DAG.
//!
//! - [`project`]: finding models, their `/* dap ... */` configuration block and table references.
//! - [`dag`]: dependency graph, cycle errors, selection syntax, text/dot/mermaid rendering.
//! - [`run`]: parallel, failure-isolated execution; each materialization is one atomic commit;
//!   every run is logged to `_dap.runs`.
//! - [`assertions`]: declared and SQL-file assertions, reported with a sample of failing rows.
//! - [`sqlgen`]: the SQL dap runs and the fully qualified BigQuery SQL `dap compile` writes.
//! - [`check`]: plans every model without running it and lists what dap does not support, with
//!   file:line:column.
//!
//! Models never use Jinja or `ref()`: what runs in dap is what deploys to BigQuery.

pub mod assertions;
pub mod check;
pub mod dag;
pub mod init;
pub mod project;
pub mod run;
pub mod sqlgen;

use std::path::PathBuf;

use crate::error::Location;

pub use dag::Dag;
pub use project::{Model, Models, discover};
pub use run::{ModelResult, RunOptions, Status};

/// Errors reading or arranging a project's models.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: configuration block: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("{}{}: {message}", path.display(), location.map(|l| format!(":{}:{}", l.line, l.column)).unwrap_or_default())]
    Parse {
        path: PathBuf,
        location: Option<Location>,
        message: String,
    },
    #[error("models form a cycle: {0}")]
    Cycle(String),
    #[error("no model matches `{0}`")]
    NoSuchModel(String),
    #[error("model {0} is defined twice")]
    Duplicate(String),
}
