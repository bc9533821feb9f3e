//! DDL: datasets, tables (column list, AS SELECT), views, external tables, DROP, TRUNCATE.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language>.
//! Each statement is one Delta commit (tables) or one definition `put` (views, external tables).

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{EmptyRelation, LogicalPlan, Union};
use datafusion::sql::sqlparser::ast::{
    ColumnOption, CreateTable, CreateTableOptions, CreateView, Expr, ObjectName, ObjectType,
    SchemaName, SqlOption, Statement, Truncate, Value,
};
use deltalake::kernel::StructType;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;

use super::{Engine, StatementOutput};
use crate::dialect::types;
use crate::error::{DapError, ObjectKind, Result};
use crate::lakehouse::Object;
use crate::lakehouse::meta::{ColumnDef, ExternalDef, ObjectDef, ViewDef, now_ms};
use crate::lakehouse::names::TableName;

fn msg(text: String) -> Result<StatementOutput> {
    Ok(StatementOutput::Message(text))
}

/// The same plan, with every output column nullable: BigQuery's `CREATE TABLE AS SELECT` makes
/// NULLABLE columns whatever the query's nullability.
fn nullable_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    // Unqualified output columns: the Delta writer analyzes the plan again, and qualifiers from
    // inside views (`o.order_id`) do not survive that.
    let exprs: Vec<datafusion::logical_expr::Expr> = plan
        .schema()
        .iter()
        .map(|(q, f)| {
            datafusion::logical_expr::Expr::Column(datafusion::common::Column::new(
                q.cloned(),
                f.name(),
            ))
            .alias(f.name())
        })
        .collect();
    let plan = datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(exprs)?
        .build()?;
    let df_schema = plan.schema();
    let fields: Vec<(Option<datafusion::common::TableReference>, Arc<Field>)> = df_schema
        .iter()
        .map(|(q, f)| (q.cloned(), Arc::new(f.as_ref().clone().with_nullable(true))))
        .collect();
    let schema = Arc::new(DFSchema::new_with_metadata(
        fields,
        df_schema.metadata().clone(),
    )?);
    if schema.as_ref() == df_schema.as_ref() {
        return Ok(plan);
    }
    let empty = LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: schema.clone(),
    });
    Ok(LogicalPlan::Union(Union {
        inputs: vec![Arc::new(plan), Arc::new(empty)],
        schema,
    }))
}

pub(super) fn kernel_schema(schema: &Schema) -> Result<StructType> {
    let schema = crate::lakehouse::physical::physical_schema(schema)?;
    (&schema).try_into_kernel().map_err(|e| {
        DapError::DataFusion(Box::new(datafusion::error::DataFusionError::ArrowError(
            Box::new(e),
            None,
        )))
    })
}

fn option_str(options: &[SqlOption], key: &str) -> Option<Expr> {
    options.iter().find_map(|o| match o {
        SqlOption::KeyValue { key: k, value } if k.value.eq_ignore_ascii_case(key) => {
            Some(value.clone())
        }
        _ => None,
    })
}

fn string_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::TripleSingleQuotedString(s)
            | Value::TripleDoubleQuotedString(s)
            | Value::SingleQuotedRawStringLiteral(s)
            | Value::DoubleQuotedRawStringLiteral(s) => Some(s.clone()),
            Value::Number(n, _) => Some(n.clone()),
            _ => None,
        },
        _ => None,
    }
}

impl Engine {
    pub(super) async fn create_schema(
        &self,
        name: SchemaName,
        if_not_exists: bool,
    ) -> Result<StatementOutput> {
        let object = match &name {
            SchemaName::Simple(n) => n,
            _ => return Err(DapError::not_supported("CREATE SCHEMA ... AUTHORIZATION")),
        };
        let dataset = self.names.resolve_dataset(object)?;
        let created = self
            .warehouse
            .create_dataset(&self.names.project, &dataset, if_not_exists)
            .await?;
        let project = &self.names.project;
        if created {
            msg(format!(
                "This statement created a new dataset named {project}.{dataset}."
            ))
        } else {
            msg(format!(
                "Dataset {project}.{dataset} already exists; nothing to do."
            ))
        }
    }

    /// Common checks before creating `name`: the dataset exists, and an existing object is either
    /// an error, a no-op (`IF NOT EXISTS`) or replaceable (`OR REPLACE`, same kind only).
    /// Returns the existing object when it must be replaced, or `Err`/`Ok(None)`.
    async fn prepare_create(
        &self,
        name: &TableName,
        kind: ObjectKind,
        or_replace: bool,
        if_not_exists: bool,
    ) -> Result<Prepared> {
        self.warehouse
            .require_dataset(&name.project, &name.dataset)
            .await?;
        let Some(existing) = self.warehouse.lookup(name).await? else {
            return Ok(Prepared::Create);
        };
        if if_not_exists {
            return Ok(Prepared::Skip);
        }
        if !or_replace {
            return Err(DapError::AlreadyExists {
                kind: existing.kind(),
                name: name.qualified(),
            });
        }
        if existing.kind() != kind {
            return Err(DapError::Invalid(format!(
                "{} {} cannot be replaced by a {} (drop it first)",
                existing.kind(),
                name.qualified(),
                kind.to_string().to_lowercase()
            )));
        }
        Ok(Prepared::Replace(existing))
    }

    pub(super) async fn create_table(&self, ct: CreateTable) -> Result<StatementOutput> {
        if ct.external {
            return self.create_external_table(ct).await;
        }
        let name = self.names.resolve(&ct.name)?;
        if ct.like.is_some() || ct.clone.is_some() {
            return Err(DapError::not_supported("CREATE TABLE LIKE / CLONE"));
        }
        let prepared = self
            .prepare_create(&name, ObjectKind::Table, ct.or_replace, ct.if_not_exists)
            .await?;
        let existing = match prepared {
            Prepared::Skip => {
                return msg(format!(
                    "Table {} already exists; nothing to do.",
                    name.qualified()
                ));
            }
            Prepared::Create => None,
            Prepared::Replace(Object::Table(t)) => Some(*t),
            Prepared::Replace(_) => unreachable!("kinds checked"),
        };
        let verb = if existing.is_some() {
            "replaced the table"
        } else {
            "created a new table named"
        };
        // Plan (and validate) everything before anything is written.
        let input = if let Some(query) = ct.query {
            if !ct.columns.is_empty() {
                return Err(DapError::not_supported(
                    "CREATE TABLE with both a column list and AS SELECT",
                ));
            }
            let plan = self.plan(Statement::Query(query)).await?;
            nullable_plan(crate::lakehouse::physical::encode_plan(plan)?)?
        } else {
            if ct.columns.is_empty() {
                return Err(DapError::Invalid(format!(
                    "CREATE TABLE {} needs a column list or AS SELECT",
                    name
                )));
            }
            let mut fields = Vec::with_capacity(ct.columns.len());
            for c in &ct.columns {
                let not_null = c
                    .options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::NotNull));
                fields.push(types::field(&c.name.value, &c.data_type, !not_null)?);
            }
            let schema = Arc::new(Schema::new(fields));
            kernel_schema(&schema)?;
            let batch = RecordBatch::new_empty(schema.clone());
            crate::lakehouse::physical::encode_plan(
                self.context().read_batch(batch)?.into_unoptimized_plan(),
            )?
        };
        let handle = match existing {
            Some(t) => t,
            None => self.warehouse.delta_handle(&name)?,
        };
        let builder = handle
            .write(Vec::<RecordBatch>::new())
            .with_input_plan(input);
        let mode = if verb.starts_with("replaced") {
            SaveMode::Overwrite
        } else {
            SaveMode::ErrorIfExists
        };
        let mut builder = builder
            .with_save_mode(mode)
            .with_table_name(name.table.clone())
            .with_session_state(Arc::new(self.context().state()));
        if mode == SaveMode::Overwrite {
            builder = builder.with_schema_mode(SchemaMode::Overwrite);
        }
        if let Err(e) = builder.await {
            if mode == SaveMode::ErrorIfExists {
                self.warehouse.discard_failed_create(&name);
            }
            return Err(DapError::delta(name.to_string(), e));
        }
        msg(format!(
            "This statement {verb} {}.",
            name.sql().trim_matches('`')
        ))
    }

    async fn create_external_table(&self, ct: CreateTable) -> Result<StatementOutput> {
        let name = self.names.resolve(&ct.name)?;
        let options = match &ct.table_options {
            CreateTableOptions::Options(o) => o.clone(),
            CreateTableOptions::None => Vec::new(),
            _ => {
                return Err(DapError::not_supported(
                    "external table options other than OPTIONS(...)",
                ));
            }
        };
        let format = option_str(&options, "format")
            .as_ref()
            .and_then(string_value)
            .ok_or_else(|| {
                DapError::Invalid("CREATE EXTERNAL TABLE needs OPTIONS (format = '...')".into())
            })?
            .to_ascii_uppercase();
        let uris: Vec<String> = match option_str(&options, "uris") {
            Some(Expr::Array(arr)) => arr.elem.iter().filter_map(string_value).collect(),
            Some(e) => string_value(&e).into_iter().collect(),
            None => Vec::new(),
        };
        if uris.is_empty() {
            return Err(DapError::Invalid(
                "CREATE EXTERNAL TABLE needs OPTIONS (uris = ['...'])".into(),
            ));
        }
        let uris = uris
            .into_iter()
            .map(absolute_uri)
            .collect::<Result<Vec<_>>>()?;
        let skip_leading_rows = option_str(&options, "skip_leading_rows")
            .as_ref()
            .and_then(string_value)
            .map(|s| {
                s.parse::<u64>().map_err(|_| {
                    DapError::Invalid(format!("skip_leading_rows must be an integer, got {s}"))
                })
            })
            .transpose()?
            .unwrap_or(0);
        let field_delimiter = option_str(&options, "field_delimiter")
            .as_ref()
            .and_then(string_value);
        let columns = ct
            .columns
            .iter()
            .map(|c| ColumnDef {
                name: c.name.value.clone(),
                bq_type: c.data_type.to_string(),
                not_null: c
                    .options
                    .iter()
                    .any(|o| matches!(o.option, ColumnOption::NotNull)),
            })
            .collect();
        let prepared = self
            .prepare_create(
                &name,
                ObjectKind::ExternalTable,
                ct.or_replace,
                ct.if_not_exists,
            )
            .await?;
        if matches!(prepared, Prepared::Skip) {
            return msg(format!(
                "External table {} already exists; nothing to do.",
                name.qualified()
            ));
        }
        let mut ddl = ct.clone();
        ddl.name = ObjectName::from(vec![datafusion::sql::sqlparser::ast::Ident::with_quote(
            '`',
            format!("{}.{}.{}", name.project, name.dataset, name.table),
        )]);
        let def = ExternalDef {
            format,
            uris,
            columns,
            skip_leading_rows,
            field_delimiter,
            ddl: format!("{ddl};"),
            created_ms: now_ms(),
        };
        // Validate now (files readable, schema inferable) rather than at first query.
        crate::lakehouse::catalog::external_table(&self.context().state(), &def).await?;
        self.warehouse
            .write_definition(&name, &ObjectDef::External(def))
            .await?;
        msg(format!(
            "This statement created a new external table named {}.",
            name.sql().trim_matches('`')
        ))
    }

    pub(super) async fn create_view(&self, cv: CreateView) -> Result<StatementOutput> {
        if cv.materialized {
            return Err(DapError::not_supported("CREATE MATERIALIZED VIEW"));
        }
        if !cv.columns.is_empty() {
            return Err(DapError::not_supported("CREATE VIEW with a column list"));
        }
        let name = self.names.resolve(&cv.name)?;
        let sql = cv.query.to_string();
        // Validate: the view must plan now.
        self.plan(Statement::Query(cv.query.clone())).await?;
        let prepared = self
            .prepare_create(&name, ObjectKind::View, cv.or_replace, cv.if_not_exists)
            .await?;
        let verb = match prepared {
            Prepared::Skip => {
                return msg(format!(
                    "View {} already exists; nothing to do.",
                    name.qualified()
                ));
            }
            Prepared::Create => "created a new view named",
            Prepared::Replace(_) => "replaced the view",
        };
        let def = ViewDef {
            sql,
            default_dataset: self.names.default_dataset.clone(),
            created_ms: now_ms(),
        };
        self.warehouse
            .write_definition(&name, &ObjectDef::View(def))
            .await?;
        msg(format!(
            "This statement {verb} {}.",
            name.sql().trim_matches('`')
        ))
    }

    pub(super) async fn drop(
        &self,
        object_type: ObjectType,
        if_exists: bool,
        names: Vec<ObjectName>,
        cascade: bool,
        external: bool,
    ) -> Result<StatementOutput> {
        let mut messages = Vec::new();
        for object in &names {
            match object_type {
                ObjectType::Schema => {
                    let dataset = self.names.resolve_dataset(object)?;
                    if self.warehouse.dataset(&dataset).await?.is_none() {
                        if if_exists {
                            continue;
                        }
                        self.warehouse
                            .require_dataset(&self.names.project, &dataset)
                            .await?;
                    }
                    self.warehouse
                        .drop_dataset(&self.names.project, &dataset, cascade)
                        .await?;
                    messages.push(format!(
                        "This statement deleted the dataset named {}.{dataset}.",
                        self.names.project
                    ));
                }
                ObjectType::Table | ObjectType::View => {
                    let expected = match (object_type, external) {
                        (ObjectType::View, _) => ObjectKind::View,
                        (_, true) => ObjectKind::ExternalTable,
                        _ => ObjectKind::Table,
                    };
                    let name = self.names.resolve(object)?;
                    let Some(existing) = self.warehouse.lookup(&name).await? else {
                        if if_exists {
                            continue;
                        }
                        self.warehouse.require(&name).await?;
                        continue;
                    };
                    if existing.kind() != expected {
                        return Err(DapError::WrongKind {
                            name: name.qualified(),
                            actual: existing.kind(),
                            expected,
                        });
                    }
                    self.warehouse.drop_object(&name).await?;
                    messages.push(format!(
                        "This statement deleted the {} named {}.",
                        expected.to_string().to_lowercase(),
                        name.sql().trim_matches('`')
                    ));
                }
                other => {
                    return Err(DapError::not_supported(format!("DROP {other}")));
                }
            }
        }
        if messages.is_empty() {
            messages.push("Nothing to drop.".into());
        }
        msg(messages.join("\n"))
    }

    pub(super) async fn truncate(&self, t: Truncate) -> Result<StatementOutput> {
        let mut messages = Vec::new();
        for target in &t.table_names {
            let name = self.names.resolve(&target.name)?;
            let table = self.delta_table(&name).await?;
            let schema = table
                .snapshot()
                .map_err(|e| DapError::delta(name.to_string(), e))?
                .snapshot()
                .arrow_schema();
            let empty = self.context().read_batch(RecordBatch::new_empty(schema))?;
            table
                .write(Vec::<RecordBatch>::new())
                .with_input_plan(empty.into_unoptimized_plan())
                .with_save_mode(SaveMode::Overwrite)
                .with_session_state(Arc::new(self.context().state()))
                .await
                .map_err(|e| DapError::delta(name.to_string(), e))?;
            messages.push(format!("This statement removed all rows from {name}."));
        }
        msg(messages.join("\n"))
    }

    /// Loads the Delta table `name`, with a clear error for views and external tables.
    pub(super) async fn delta_table(&self, name: &TableName) -> Result<deltalake::DeltaTable> {
        match self.warehouse.require(name).await? {
            Object::Table(t) => Ok(*t),
            other => Err(DapError::WrongKind {
                name: name.qualified(),
                actual: other.kind(),
                expected: ObjectKind::Table,
            }),
        }
    }
}

enum Prepared {
    Create,
    Skip,
    Replace(Object),
}

/// External-table URIs are stored absolute, so the table reads the same files from any directory.
fn absolute_uri(uri: String) -> Result<String> {
    if uri.contains("://") {
        return Ok(uri);
    }
    let path = std::path::Path::new(&uri);
    if path.is_absolute() {
        return Ok(uri);
    }
    let cwd = std::env::current_dir().map_err(|source| DapError::Io {
        path: ".".into(),
        source,
    })?;
    Ok(cwd.join(path).to_string_lossy().into_owned())
}
