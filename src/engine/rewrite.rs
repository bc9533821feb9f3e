//! Name resolution on the AST before DataFusion plans a statement.
//!
//! - Every table name is resolved with BigQuery's rules ([`NameResolver`]) and replaced by a
//!   quoted `project.dataset.table` path, so DataFusion's identifier folding never changes a
//!   (case-sensitive) BigQuery table name.
//! - `FROM t FOR SYSTEM_TIME AS OF <timestamp>` loads the Delta version current at that time and
//!   points the reference at a statement-scoped temporary table.
//! - `INFORMATION_SCHEMA.*` views are materialized from the warehouse into temporary tables.
//!
//! Temporary tables live in the `_dap_session.tmp` schema and are dropped after each statement.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::execution::session_state::SessionState;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, ObjectNamePart, Query, Statement, TableFactor, TableVersion, VisitMut,
    VisitorMut,
};

use super::info_schema::{InfoScope, InfoView};
use crate::dialect::types::timestamp_type;
use crate::error::{DapError, Result};
use crate::lakehouse::Warehouse;
use crate::lakehouse::catalog::SessionAccess;
use crate::lakehouse::names::{NameResolver, TableName, name_parts};

pub const SESSION_CATALOG: &str = "_dap_session";
pub const TEMP_SCHEMA: &str = "tmp";

/// Statement-scoped temporary tables.
#[derive(Debug)]
pub struct TempTables {
    pub schema: Arc<MemorySchemaProvider>,
    counter: AtomicUsize,
}

impl TempTables {
    pub fn new() -> Self {
        TempTables {
            schema: Arc::new(MemorySchemaProvider::new()),
            counter: AtomicUsize::new(0),
        }
    }

    /// A fresh temporary table name and its SQL reference.
    fn allocate(&self) -> (String, ObjectName) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let table = format!("t{n}");
        let name = ObjectName::from(vec![
            Ident::with_quote('`', SESSION_CATALOG),
            Ident::with_quote('`', TEMP_SCHEMA),
            Ident::with_quote('`', table.clone()),
        ]);
        (table, name)
    }

    fn register(&self, table: String, provider: Arc<dyn TableProvider>) -> Result<()> {
        self.schema.register_table(table, provider)?;
        Ok(())
    }

    pub fn clear(&self) {
        for name in self.schema.table_names() {
            let _ = self.schema.deregister_table(&name);
        }
    }
}

impl Default for TempTables {
    fn default() -> Self {
        Self::new()
    }
}

/// Everything name resolution needs.
pub struct Resolver<'a> {
    pub state: &'a SessionState,
    pub names: &'a NameResolver,
    pub warehouse: &'a Arc<Warehouse>,
    pub temp: &'a TempTables,
    pub session: &'a Arc<dyn SessionAccess>,
}

enum Pending {
    TimeTravel {
        table: TableName,
        at: Box<Expr>,
        temp: String,
    },
    Info {
        view: InfoView,
        scope: InfoScope,
        temp: String,
    },
}

impl Resolver<'_> {
    /// Resolves every table reference in `stmt` (see the module docs).
    pub async fn resolve(&self, stmt: &mut Statement) -> Result<()> {
        let mut collector = Collector::default();
        let _ = stmt.visit(&mut collector);
        let mut visitor = Visitor {
            names: self.names,
            temp: self.temp,
            ctes: collector.ctes,
            pending: Vec::new(),
            error: None,
        };
        let _ = stmt.visit(&mut visitor);
        if let Some(e) = visitor.error {
            return Err(e);
        }
        for p in visitor.pending {
            match p {
                Pending::TimeTravel { table, at, temp } => {
                    let ts = self.eval_timestamp(*at).await?;
                    let delta = self
                        .warehouse
                        .open_delta(&table, Some(ts))
                        .await?
                        .ok_or_else(|| DapError::NotFound {
                            kind: crate::error::ObjectKind::Table,
                            name: table.qualified(),
                            hint: "",
                        })?;
                    let provider = crate::lakehouse::physical::decoded_provider(
                        &table.table,
                        delta.table_provider().await?,
                    )?;
                    self.temp.register(temp, provider)?;
                }
                Pending::Info { view, scope, temp } => {
                    let provider = super::info_schema::build(
                        view,
                        &scope,
                        self.warehouse,
                        &self.names.project,
                        self.session,
                    )
                    .await?;
                    self.temp.register(temp, provider)?;
                }
            }
        }
        Ok(())
    }

    /// Evaluates a constant expression (`FOR SYSTEM_TIME AS OF <expr>`) to a UTC time.
    async fn eval_timestamp(&self, expr: Expr) -> Result<chrono::DateTime<chrono::Utc>> {
        let stmt = super::script::parse_one(&format!("SELECT {expr}"))?;
        let plan = self
            .state
            .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
                stmt,
            )))
            .await?;
        let batches = datafusion::dataframe::DataFrame::new(self.state.clone(), plan)
            .collect()
            .await?;
        let value = batches
            .first()
            .filter(|b| b.num_rows() == 1)
            .map(|b| ScalarValue::try_from_array(b.column(0), 0))
            .transpose()?
            .ok_or_else(|| DapError::Invalid("FOR SYSTEM_TIME AS OF needs one value".into()))?;
        match value.cast_to(&timestamp_type())? {
            ScalarValue::TimestampMicrosecond(Some(us), _) => {
                chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| {
                    DapError::Invalid(format!(
                        "FOR SYSTEM_TIME AS OF: timestamp {us} out of range"
                    ))
                })
            }
            _ => Err(DapError::Invalid(
                "FOR SYSTEM_TIME AS OF must be a non-NULL TIMESTAMP".into(),
            )),
        }
    }
}

/// Normalizes an identifier the way DataFusion does, to compare CTE names and references.
fn normalized(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// First pass: CTE names.
#[derive(Default)]
struct Collector {
    ctes: HashSet<String>,
}

impl VisitorMut for Collector {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.ctes.insert(normalized(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }
}

struct Visitor<'a> {
    names: &'a NameResolver,
    temp: &'a TempTables,
    ctes: HashSet<String>,
    pending: Vec<Pending>,
    error: Option<DapError>,
}

fn quoted_name(t: &TableName) -> ObjectName {
    ObjectName::from(vec![
        Ident::with_quote('`', t.project.clone()),
        Ident::with_quote('`', t.dataset.clone()),
        Ident::with_quote('`', t.table.clone()),
    ])
}

fn is_session_name(name: &ObjectName) -> bool {
    matches!(name.0.first(), Some(ObjectNamePart::Identifier(i)) if i.value == SESSION_CATALOG)
}

impl Visitor<'_> {
    fn fail(&mut self, e: DapError) -> ControlFlow<()> {
        self.error = Some(e);
        ControlFlow::Break(())
    }

    /// `None` when the name is not a warehouse table (a CTE, or already resolved).
    fn resolve_name(&mut self, name: &ObjectName) -> Result<Option<TableName>> {
        if is_session_name(name) {
            return Ok(None);
        }
        if let [ObjectNamePart::Identifier(only)] = name.0.as_slice()
            && self.ctes.contains(&normalized(only))
        {
            return Ok(None);
        }
        let parts = name_parts(name);
        if parts.last().is_some_and(|t| t.ends_with('*')) {
            return Err(DapError::not_supported(format!(
                "wildcard table `{}`",
                parts.join(".")
            )));
        }
        self.names.resolve_parts(&parts).map(Some)
    }

    fn info_schema(&mut self, parts: &[String]) -> Result<Option<(InfoView, InfoScope)>> {
        let n = parts.len();
        if n < 2 || !parts[n - 2].eq_ignore_ascii_case("INFORMATION_SCHEMA") {
            return Ok(None);
        }
        let view = InfoView::parse(&parts[n - 1])?;
        let mut prefix: Vec<&str> = parts[..n - 2].iter().map(String::as_str).collect();
        let is_region = |s: &str| s.to_ascii_lowercase().starts_with("region-");
        // A leading project id.
        if prefix.len() == 2
            || (prefix.len() == 1 && view == InfoView::Schemata && !is_region(prefix[0]))
        {
            self.names.check_project(prefix[0])?;
            prefix.remove(0);
        }
        let scope = match prefix.as_slice() {
            [] if view == InfoView::Schemata => InfoScope::Project,
            [] => match &self.names.default_dataset {
                Some(ds) => InfoScope::Dataset(ds.clone()),
                None => {
                    return Err(DapError::Invalid(format!(
                        "Table name \"INFORMATION_SCHEMA.{}\" missing dataset while no default dataset is set",
                        parts[n - 1]
                    )));
                }
            },
            [r] if is_region(r) => InfoScope::Project,
            [ds] if view != InfoView::Schemata => {
                crate::lakehouse::names::validate_dataset(ds)?;
                InfoScope::Dataset(ds.to_string())
            }
            _ => {
                return Err(DapError::Invalid(format!(
                    "Invalid INFORMATION_SCHEMA reference `{}`",
                    parts.join(".")
                )));
            }
        };
        Ok(Some((view, scope)))
    }
}

impl VisitorMut for Visitor<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table {
            name,
            version,
            args,
            ..
        } = tf
        else {
            return ControlFlow::Continue(());
        };
        if args.is_some() || is_session_name(name) {
            return ControlFlow::Continue(());
        }
        let parts = name_parts(name);
        match self.info_schema(&parts) {
            Ok(Some((view, scope))) => {
                let (temp, temp_name) = self.temp.allocate();
                self.pending.push(Pending::Info { view, scope, temp });
                *name = temp_name;
                return ControlFlow::Continue(());
            }
            Ok(None) => {}
            Err(e) => return self.fail(e),
        }
        let resolved = match self.resolve_name(name) {
            Ok(Some(t)) => t,
            Ok(None) => return ControlFlow::Continue(()),
            Err(e) => return self.fail(e),
        };
        match version.take() {
            None => *name = quoted_name(&resolved),
            Some(TableVersion::ForSystemTimeAsOf(at)) => {
                let (temp, temp_name) = self.temp.allocate();
                self.pending.push(Pending::TimeTravel {
                    table: resolved,
                    at: Box::new(at),
                    temp,
                });
                *name = temp_name;
            }
            Some(other) => {
                return self.fail(DapError::not_supported(format!(
                    "table version clause {other}"
                )));
            }
        }
        ControlFlow::Continue(())
    }
}
