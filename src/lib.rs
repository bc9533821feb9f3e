//! dap — an offline BigQuery in one binary.
//!
//! Data flows through the modules in this order:
//! [`lakehouse`] (warehouse layout, names, Delta tables, views, external tables) →
//! [`dialect`] (BigQuery parsing, naming and type rules plugged into DataFusion) →
//! [`engine`] (one execution path: a script of statements in, Arrow batches or messages out) →
//! [`output`] (table / csv / json / ndjson / markdown rendering) → [`cli`] (flags, exit codes), [`repl`] (the interactive shell).

pub mod cli;
pub mod config;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod lakehouse;
pub mod models;
pub mod output;
pub mod repl;

pub use engine::{Engine, EngineOptions, StatementOutput};
pub use error::{DapError, Result};
