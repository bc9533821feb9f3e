//! Typed errors for the whole library. They keep their cause (`#[source]`) and the context a user
//! needs (table, file, statement position); they are rendered to text in one place, the CLI edge
//! ([`crate::cli`]).

use std::path::PathBuf;

use datafusion::error::DataFusionError;
use deltalake::DeltaTableError;

/// A 1-based line and column inside the SQL text a user gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

/// The kinds of warehouse objects, used in messages ("Not found: Table dap:sales.orders").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Dataset,
    Table,
    View,
    ExternalTable,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ObjectKind::Dataset => "Dataset",
            ObjectKind::Table => "Table",
            ObjectKind::View => "View",
            ObjectKind::ExternalTable => "External table",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DapError {
    #[error("Syntax error: {message}")]
    Syntax {
        message: String,
        location: Option<Location>,
    },

    #[error("Invalid {kind} name `{name}`: {reason}")]
    InvalidName {
        kind: &'static str,
        name: String,
        reason: &'static str,
    },

    #[error(
        "Project `{requested}` is not this warehouse's project `{current}`; dap serves one project (set it with --project or `project` in dap.toml)"
    )]
    WrongProject { requested: String, current: String },

    #[error("Not found: {kind} {name}{hint}")]
    NotFound {
        kind: ObjectKind,
        name: String,
        hint: &'static str,
    },

    #[error("Already Exists: {kind} {name}")]
    AlreadyExists { kind: ObjectKind, name: String },

    #[error("{name} is {actual_article} {actual}, not {expected_article} {expected}", actual_article = article(actual), expected_article = article(expected))]
    WrongKind {
        name: String,
        actual: ObjectKind,
        expected: ObjectKind,
    },

    #[error("not supported: {0}")]
    NotSupported(String),

    /// A statement that parses but breaks one of BigQuery's rules (the rule is the message).
    #[error("{0}")]
    Invalid(String),

    #[error("{0}")]
    DataFusion(#[source] Box<DataFusionError>),

    #[error("Delta table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<DeltaTableError>,
    },

    #[error("storage: {0}")]
    ObjectStore(#[from] object_store::Error),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: {source}", path.display())]
    Config {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },

    #[error("corrupt warehouse metadata {path}: {source}")]
    Metadata {
        path: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("interrupted")]
    Interrupted,

    /// A load (`dap load`, `LOAD DATA`) failed on its input: file, line, column and reason.
    #[error("{0}")]
    Load(#[source] Box<crate::ingest::LoadError>),

    /// `dap extract` could not run (configuration, HTTP, landing zone).
    #[error("{0}")]
    Extract(#[source] Box<crate::extract::ExtractError>),

    /// `dap extract` stopped at a bad page; the pages before it are landed.
    #[error("{0}")]
    Incomplete(#[source] Box<crate::extract::IncompleteRun>),

    /// An error pinned to the place in the SQL text it is about (e.g. the missing table's name).
    #[error("{source}")]
    Located {
        location: Location,
        #[source]
        source: Box<DapError>,
    },
}

pub type Result<T, E = DapError> = std::result::Result<T, E>;

impl From<DataFusionError> for DapError {
    /// Unwraps a [`DapError`] that travelled through DataFusion (e.g. raised by the warehouse
    /// catalog during planning) so it keeps its type; anything else stays a DataFusion error.
    fn from(e: DataFusionError) -> Self {
        match e {
            DataFusionError::External(inner) => match inner.downcast::<DapError>() {
                Ok(dap) => *dap,
                Err(other) => DapError::DataFusion(Box::new(DataFusionError::External(other))),
            },
            DataFusionError::Context(ctx, inner) => match DapError::from(*inner) {
                DapError::DataFusion(inner) => {
                    DapError::DataFusion(Box::new(DataFusionError::Context(ctx, inner)))
                }
                dap => dap,
            },
            DataFusionError::Shared(shared) => match std::sync::Arc::try_unwrap(shared) {
                Ok(inner) => DapError::from(inner),
                Err(shared) => DapError::DataFusion(Box::new(DataFusionError::Shared(shared))),
            },
            other => DapError::DataFusion(Box::new(other)),
        }
    }
}

impl From<DapError> for DataFusionError {
    fn from(e: DapError) -> Self {
        match e {
            DapError::DataFusion(inner) => *inner,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

impl DapError {
    pub fn delta(table: impl Into<String>, source: DeltaTableError) -> Self {
        // A DataFusion error raised inside a Delta operation (a cast, a division by zero) is a
        // query error, not a storage one: surface it as such.
        match source {
            DeltaTableError::Arrow { source } => DapError::DataFusion(Box::new(
                DataFusionError::ArrowError(Box::new(source), None),
            )),
            DeltaTableError::GenericError { source } => {
                match source.downcast::<DataFusionError>() {
                    Ok(df) => DapError::from(*df),
                    Err(source) => DapError::Delta {
                        table: table.into(),
                        source: Box::new(DeltaTableError::GenericError { source }),
                    },
                }
            }
            source => DapError::Delta {
                table: table.into(),
                source: Box::new(source),
            },
        }
    }

    pub fn not_supported(what: impl Into<String>) -> Self {
        DapError::NotSupported(what.into())
    }

    /// Where in the SQL text the error points, when known.
    pub fn location(&self) -> Option<Location> {
        match self {
            DapError::Syntax { location, .. } => *location,
            DapError::Located { location, .. } => Some(*location),
            DapError::DataFusion(e) => datafusion_location(e),
            _ => None,
        }
    }
}

fn datafusion_location(e: &DataFusionError) -> Option<Location> {
    let span = e.diagnostic()?.span?;
    (span.start.line > 0).then_some(Location {
        line: span.start.line,
        column: span.start.column,
    })
}

fn article(kind: &ObjectKind) -> &'static str {
    match kind {
        ObjectKind::ExternalTable => "an",
        _ => "a",
    }
}
