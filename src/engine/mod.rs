//! The one execution path. Every front end (`dap query`, the REPL, models, the server) hands a
//! script to [`Engine`] and gets, per statement, either Arrow record batches or a BigQuery-style
//! message ("This statement added 3 rows to sales.orders.").
//!
//! Guarantees: statements run in order; a statement that fails leaves the warehouse as it was
//! (each write is one Delta commit); statement-scoped temporary state is dropped after each
//! statement, whether it succeeded or not.

mod by_name;
mod ddl;
mod dml;
pub mod info_schema;
mod range_values;
pub mod rewrite;
pub mod script;
mod struct_star;
mod struct_unnest;

use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::Statement;
use parking_lot::RwLock;

use crate::dialect::BigQueryFeatures;
use crate::error::{DapError, Location, Result};
use crate::lakehouse::Warehouse;
use crate::lakehouse::catalog::{SessionAccess, WarehouseCatalog};
use crate::lakehouse::meta::ViewDef;
use crate::lakehouse::names::{NameResolver, TableName};
use rewrite::{Resolver, SESSION_CATALOG, TEMP_SCHEMA, TempTables};
pub use script::{ParsedStatement, parse_script};

/// How to open an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Warehouse directory or URL; `None` opens a transient in-memory warehouse.
    pub warehouse: Option<String>,
    pub project: String,
    pub default_dataset: Option<String>,
    /// Bytes the engine may use before sorts and aggregations spill to disk.
    pub memory_limit: Option<usize>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            warehouse: None,
            project: crate::config::DEFAULT_PROJECT.to_string(),
            default_dataset: None,
            memory_limit: None,
        }
    }
}

/// What one statement produced.
#[derive(Debug)]
pub enum StatementOutput {
    /// A result set.
    Rows {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    },
    /// A DDL/DML outcome, worded like BigQuery's.
    Message(String),
}

/// A statement that failed, with where it starts in the script.
#[derive(Debug, thiserror::Error)]
#[error("{source}")]
pub struct StatementError {
    /// 0-based index of the statement in the script.
    pub index: usize,
    pub statement_location: Location,
    #[source]
    pub source: DapError,
}

/// DataFusion's default schema when no default dataset is set; never a dataset.
pub(crate) const NO_DEFAULT_DATASET: &str = "_dap_no_default_dataset";

pub struct Engine {
    ctx: SessionContext,
    warehouse: Arc<Warehouse>,
    names: NameResolver,
    session: Arc<dyn SessionAccess>,
    temp: Arc<TempTables>,
}

/// The engine's side of [`SessionAccess`]: plans view bodies with dap's own path.
#[derive(Debug)]
struct EngineSession {
    state: OnceLock<Weak<RwLock<SessionState>>>,
    project: String,
    warehouse: Arc<Warehouse>,
    temp: Arc<TempTables>,
    me: OnceLock<Weak<EngineSession>>,
}

#[async_trait]
impl SessionAccess for EngineSession {
    fn state(&self) -> Result<SessionState> {
        let state = self
            .state
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| DapError::Invalid("the session has ended".into()))?;
        Ok(state.read().clone())
    }

    async fn plan_view(&self, name: &TableName, view: &ViewDef) -> Result<LogicalPlan> {
        let state = self.state()?;
        let names = NameResolver::new(self.project.clone(), view.default_dataset.clone());
        let me: Arc<dyn SessionAccess> = self
            .me
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| DapError::Invalid("the session has ended".into()))?;
        let stmt = script::parse_one(&view.sql)?;
        let resolver = Resolver {
            state: &state,
            names: &names,
            warehouse: &self.warehouse,
            temp: &self.temp,
            session: &me,
        };
        plan_statement(&resolver, stmt)
            .await
            .map_err(|e| DapError::Invalid(format!("view {}: {e}", name)))
    }
}

/// Resolves names, applies BigQuery rewrites and plans a query statement.
pub(crate) async fn plan_statement(
    resolver: &Resolver<'_>,
    stmt: Statement,
) -> Result<LogicalPlan> {
    plan_statement_as(resolver, stmt, false).await
}

/// Plans a statement; `result_set` says it is a script's top-level query, whose output may have
/// several columns of the same name (BigQuery allows it there; DataFusion does not, so they are
/// planned under marked names that [`crate::dialect::naming::restore_duplicate_names`] undoes).
pub(crate) async fn plan_statement_as(
    resolver: &Resolver<'_>,
    mut stmt: Statement,
    result_set: bool,
) -> Result<LogicalPlan> {
    crate::dialect::rewrite_before_resolve(&mut stmt)?;
    resolver.resolve(&mut stmt).await?;
    crate::dialect::rewrite_statement(&mut stmt)?;
    struct_unnest::expand_struct_unnest(&mut stmt, resolver.state).await;
    by_name::rewrite_by_name(&mut stmt, resolver.state).await?;
    let mut spellings = table_column_spellings(resolver.state, &mut stmt).await;
    crate::dialect::case::declared_names(&mut stmt, &mut spellings);
    crate::dialect::case::fold_column_case(&mut stmt, &spellings);
    crate::dialect::case::lowercase_recursive_ctes(&mut stmt);
    range_values::expand_range_values(&mut stmt, resolver.state).await;
    struct_star::expand_struct_star(&mut stmt, resolver.state).await;
    crate::dialect::naming::alias_paths(&mut stmt);
    if result_set {
        crate::dialect::naming::mark_duplicate_names(&mut stmt)?;
    }
    Ok(resolver
        .state
        .statement_to_plan(datafusion::sql::parser::Statement::Statement(Box::new(
            stmt,
        )))
        .await?)
}

/// The declared spellings of the columns of every table `stmt` reads (names the catalog does not
/// know, such as CTEs, are skipped).
async fn table_column_spellings(
    state: &SessionState,
    stmt: &mut Statement,
) -> crate::dialect::case::Spellings {
    struct Relations(Vec<datafusion::sql::sqlparser::ast::ObjectName>);
    impl datafusion::sql::sqlparser::ast::VisitorMut for Relations {
        type Break = ();
        fn pre_visit_relation(
            &mut self,
            name: &mut datafusion::sql::sqlparser::ast::ObjectName,
        ) -> std::ops::ControlFlow<()> {
            self.0.push(name.clone());
            std::ops::ControlFlow::Continue(())
        }
    }
    let mut relations = Relations(Vec::new());
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(stmt, &mut relations);
    let mut out = crate::dialect::case::Spellings::default();
    for name in relations.0 {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
            .collect();
        let reference = match parts.as_slice() {
            [c, s, t] => {
                datafusion::common::TableReference::full(c.as_str(), s.as_str(), t.as_str())
            }
            [s, t] => datafusion::common::TableReference::partial(s.as_str(), t.as_str()),
            _ => continue,
        };
        let Ok(schema) = state.schema_for_ref(reference.clone()) else {
            continue;
        };
        if let Ok(Some(table)) = schema.table(reference.table()).await {
            for f in table.schema().fields() {
                out.add_field(f);
            }
        }
    }
    out
}

impl Engine {
    pub async fn new(opts: EngineOptions) -> Result<Engine> {
        let warehouse = Arc::new(match &opts.warehouse {
            Some(loc) => Warehouse::open(loc)?,
            None => Warehouse::in_memory(),
        });
        let temp = Arc::new(TempTables::new());
        // dap resolves unqualified table names itself (engine::rewrite); DataFusion's default
        // schema is only consulted for table functions, so it points at no dataset.
        let default_schema = NO_DEFAULT_DATASET;
        let config = SessionConfig::new()
            .with_default_catalog_and_schema(&opts.project, default_schema)
            .with_create_default_catalog_and_schema(false)
            .with_bigquery_features();
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = opts.memory_limit {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let runtime = runtime.build_arc()?;
        runtime.register_object_store(warehouse.root(), warehouse.store());
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_bigquery_features()
            .with_query_planner(deltalake::delta_datafusion::planner::DeltaPlanner::new())
            .build();
        let ctx = SessionContext::new_with_state(state);

        let session = Arc::new(EngineSession {
            state: OnceLock::new(),
            project: opts.project.clone(),
            warehouse: warehouse.clone(),
            temp: temp.clone(),
            me: OnceLock::new(),
        });
        let _ = session.state.set(ctx.state_weak_ref());
        let _ = session.me.set(Arc::downgrade(&session));
        let session: Arc<dyn SessionAccess> = session;
        ctx.register_catalog(
            &opts.project,
            Arc::new(WarehouseCatalog::new(
                opts.project.clone(),
                warehouse.clone(),
                session.clone(),
            )),
        );
        let session_catalog = MemoryCatalogProvider::new();
        session_catalog.register_schema(TEMP_SCHEMA, temp.schema.clone())?;
        ctx.register_catalog(SESSION_CATALOG, Arc::new(session_catalog));
        Ok(Engine {
            ctx,
            warehouse,
            names: NameResolver::new(opts.project, opts.default_dataset),
            session,
            temp,
        })
    }

    pub fn warehouse(&self) -> &Arc<Warehouse> {
        &self.warehouse
    }

    pub fn project(&self) -> &str {
        &self.names.project
    }

    pub fn default_dataset(&self) -> Option<&str> {
        self.names.default_dataset.as_deref()
    }

    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// Parses and runs a script, returning every statement's output. Stops at the first error.
    pub async fn run_script(&self, sql: &str) -> Result<Vec<StatementOutput>, StatementError> {
        let statements = parse_script(sql).map_err(|source| StatementError {
            index: 0,
            statement_location: Location { line: 1, column: 1 },
            source,
        })?;
        let mut out = Vec::with_capacity(statements.len());
        for (index, stmt) in statements.into_iter().enumerate() {
            let location = stmt.location;
            out.push(self.execute(stmt).await.map_err(|source| StatementError {
                index,
                statement_location: location,
                source,
            })?);
        }
        Ok(out)
    }

    /// Runs one parsed statement.
    pub async fn execute(&self, stmt: ParsedStatement) -> Result<StatementOutput> {
        let original = stmt.statement.clone();
        let result = self.dispatch(stmt).await;
        self.temp.clear();
        result.map_err(|e| locate(e, &original))
    }

    pub(crate) fn resolver<'a>(&'a self, state: &'a SessionState) -> Resolver<'a> {
        Resolver {
            state,
            names: &self.names,
            warehouse: &self.warehouse,
            temp: &self.temp,
            session: &self.session,
        }
    }

    /// Plans a query statement with dap's name resolution and rewrites.
    pub(crate) async fn plan(&self, stmt: Statement) -> Result<LogicalPlan> {
        let state = self.ctx.state();
        plan_statement(&self.resolver(&state), stmt).await
    }

    pub(crate) fn dataframe(&self, plan: LogicalPlan) -> DataFrame {
        DataFrame::new(self.ctx.state(), plan)
    }

    async fn dispatch(&self, parsed: ParsedStatement) -> Result<StatementOutput> {
        if let Some(load) = &parsed.load {
            let req = crate::ingest::sql::request(load)?;
            let summary = crate::ingest::load(self, &req).await?;
            return Ok(StatementOutput::Message(format!(
                "This statement loaded {} row{} into {}.",
                summary.rows,
                if summary.rows == 1 { "" } else { "s" },
                summary.table
            )));
        }
        match parsed.statement {
            stmt @ Statement::Query(_) => {
                let state = self.ctx.state();
                let plan = plan_statement_as(&self.resolver(&state), stmt, true).await?;
                let df = self.dataframe(plan);
                let schema = Arc::new(df.schema().as_arrow().clone());
                let batches = df.collect().await?;
                let (schema, batches) =
                    crate::dialect::naming::restore_duplicate_names(schema, batches)?;
                Ok(StatementOutput::Rows { schema, batches })
            }
            Statement::Insert(insert) => self.insert(insert).await,
            Statement::Update(update) => self.update(update).await,
            Statement::Delete(delete) => self.delete(delete).await,
            Statement::Merge(merge) => self.merge(merge).await,
            Statement::Truncate(t) => self.truncate(t).await,
            Statement::CreateSchema {
                schema_name,
                if_not_exists,
                ..
            } => self.create_schema(schema_name, if_not_exists).await,
            Statement::CreateTable(ct) => self.create_table(ct).await,
            Statement::CreateView(cv) => self.create_view(cv).await,
            Statement::Drop {
                object_type,
                if_exists,
                names,
                cascade,
                ..
            } => {
                self.drop(object_type, if_exists, names, cascade, parsed.drop_external)
                    .await
            }
            other => Err(DapError::not_supported(format!(
                "statement `{}`",
                statement_kind(&other)
            ))),
        }
    }

    /// Tells on stderr-facing callers whether a statement created state in a transient warehouse.
    pub fn is_transient(&self) -> bool {
        self.warehouse.is_transient()
    }
}

/// Pins a "Not found: Table" error to the table's name in the statement.
fn locate(e: DapError, stmt: &Statement) -> DapError {
    use datafusion::sql::sqlparser::ast::{Spanned, Visit, Visitor};
    use std::ops::ControlFlow;
    let DapError::NotFound { name, .. } = &e else {
        return e;
    };
    let Some(table) = name.rsplit('.').next().map(str::to_string) else {
        return e;
    };
    struct Find(String, Option<Location>);
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_relation(
            &mut self,
            rel: &datafusion::sql::sqlparser::ast::ObjectName,
        ) -> ControlFlow<()> {
            let parts = crate::lakehouse::names::name_parts(rel);
            if parts.last() == Some(&self.0) {
                let start = rel.span().start;
                if start.line > 0 {
                    self.1 = Some(Location {
                        line: start.line,
                        column: start.column,
                    });
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut find = Find(table, None);
    let _ = stmt.visit(&mut find);
    match find.1 {
        Some(location) => DapError::Located {
            location,
            source: Box::new(e),
        },
        None => e,
    }
}

fn statement_kind(stmt: &Statement) -> String {
    let text = stmt.to_string();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
