//! BigQuery's `INFORMATION_SCHEMA` views over the warehouse: `SCHEMATA`, `TABLES`, `COLUMNS`,
//! `VIEWS`, with BigQuery's column names. Each is materialized when a statement references it.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/information-schema-intro>.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use object_store::ObjectStoreExt;

use crate::dialect::types::{UTC, bq_type_name, timestamp_type};
use crate::error::{DapError, Result};
use crate::lakehouse::catalog::{SessionAccess, provider};
use crate::lakehouse::names::TableName;
use crate::lakehouse::{Object, Warehouse};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoView {
    Schemata,
    Tables,
    Columns,
    Views,
}

impl InfoView {
    pub fn parse(name: &str) -> Result<InfoView> {
        Ok(match name.to_ascii_uppercase().as_str() {
            "SCHEMATA" => InfoView::Schemata,
            "TABLES" => InfoView::Tables,
            "COLUMNS" => InfoView::Columns,
            "VIEWS" => InfoView::Views,
            other => {
                return Err(DapError::not_supported(format!(
                    "INFORMATION_SCHEMA.{other} (dap has SCHEMATA, TABLES, COLUMNS and VIEWS)"
                )));
            }
        })
    }
}

#[derive(Debug, Clone)]
pub enum InfoScope {
    Project,
    Dataset(String),
}

/// String columns, all nullable unless listed in `required`.
fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

struct Row {
    dataset: String,
    table: String,
    object: Object,
    created_us: Option<i64>,
}

pub async fn build(
    view: InfoView,
    scope: &InfoScope,
    warehouse: &Arc<Warehouse>,
    project: &str,
    session: &Arc<dyn SessionAccess>,
) -> Result<Arc<dyn TableProvider>> {
    let datasets: Vec<(String, crate::lakehouse::meta::DatasetDef)> = match scope {
        InfoScope::Project => warehouse.list_datasets().await?,
        InfoScope::Dataset(ds) => {
            let def = warehouse.require_dataset(project, ds).await?;
            vec![(ds.clone(), def)]
        }
    };
    if view == InfoView::Schemata {
        return schemata(project, &datasets);
    }
    let mut rows = Vec::new();
    for (ds, _) in &datasets {
        for table in warehouse.list_objects(ds).await? {
            let name = TableName {
                project: project.to_string(),
                dataset: ds.clone(),
                table,
            };
            let Some(object) = warehouse.lookup(&name).await? else {
                continue;
            };
            let created_us = match &object {
                Object::View(v) => Some(v.created_ms * 1000),
                Object::External(e) => Some(e.created_ms * 1000),
                Object::Table(t) => first_commit_time(t).await,
            };
            rows.push(Row {
                dataset: name.dataset,
                table: name.table,
                object,
                created_us,
            });
        }
    }
    match view {
        InfoView::Tables => tables(project, rows, session).await,
        InfoView::Columns => columns(project, rows, session).await,
        InfoView::Views => views(project, rows),
        InfoView::Schemata => unreachable!("handled above"),
    }
}

async fn first_commit_time(table: &deltalake::DeltaTable) -> Option<i64> {
    let path = object_store::path::Path::from("_delta_log/00000000000000000000.json");
    let meta = table
        .log_store()
        .object_store(None)
        .head(&path)
        .await
        .ok()?;
    Some(meta.last_modified.timestamp_micros())
}

fn mem(schema: Schema, columns: Vec<ArrayRef>) -> Result<Arc<dyn TableProvider>> {
    let schema = Arc::new(schema);
    let batch = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| datafusion::error::DataFusionError::ArrowError(Box::new(e), None))?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

fn ts_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone(UTC)
}

fn schemata(
    project: &str,
    datasets: &[(String, crate::lakehouse::meta::DatasetDef)],
) -> Result<Arc<dyn TableProvider>> {
    let schema = Schema::new(vec![
        utf8("catalog_name"),
        utf8("schema_name"),
        utf8("schema_owner"),
        Field::new("creation_time", timestamp_type(), true),
        Field::new("last_modified_time", timestamp_type(), true),
        utf8("location"),
        utf8("ddl"),
        utf8("default_collation_name"),
    ]);
    let (mut cat, mut name, mut owner) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut created, mut modified) = (ts_builder(), ts_builder());
    let (mut location, mut ddl, mut collation) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    for (ds, def) in datasets {
        cat.append_value(project);
        name.append_value(ds);
        owner.append_null();
        created.append_value(def.created_ms * 1000);
        modified.append_value(def.created_ms * 1000);
        location.append_null();
        ddl.append_value(format!("CREATE SCHEMA `{project}.{ds}`;"));
        collation.append_null();
    }
    mem(
        schema,
        vec![
            Arc::new(cat.finish()),
            Arc::new(name.finish()),
            Arc::new(owner.finish()),
            Arc::new(created.finish()),
            Arc::new(modified.finish()),
            Arc::new(location.finish()),
            Arc::new(ddl.finish()),
            Arc::new(collation.finish()),
        ],
    )
}

/// The schema an object presents to queries.
async fn object_schema(
    project: &str,
    row: &Row,
    session: &Arc<dyn SessionAccess>,
) -> Result<Arc<Schema>> {
    let name = TableName {
        project: project.to_string(),
        dataset: row.dataset.clone(),
        table: row.table.clone(),
    };
    Ok(provider(session, &name, row.object.clone()).await?.schema())
}

fn table_ddl(project: &str, row: &Row, schema: &Schema) -> String {
    match &row.object {
        Object::View(v) => format!(
            "CREATE VIEW `{project}.{}.{}`\nAS {};",
            row.dataset, row.table, v.sql
        ),
        Object::External(e) => e.ddl.clone(),
        Object::Table(_) => {
            let cols: Vec<String> = schema
                .fields()
                .iter()
                .map(|f| {
                    let nn = if f.is_nullable() { "" } else { " NOT NULL" };
                    format!("  {} {}{nn}", f.name(), bq_type_name(f))
                })
                .collect();
            format!(
                "CREATE TABLE `{project}.{}.{}`\n(\n{}\n);",
                row.dataset,
                row.table,
                cols.join(",\n")
            )
        }
    }
}

async fn tables(
    project: &str,
    rows: Vec<Row>,
    session: &Arc<dyn SessionAccess>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = Schema::new(vec![
        utf8("table_catalog"),
        utf8("table_schema"),
        utf8("table_name"),
        utf8("table_type"),
        utf8("is_insertable_into"),
        utf8("is_typed"),
        Field::new("creation_time", timestamp_type(), true),
        utf8("ddl"),
        utf8("default_collation_name"),
    ]);
    let mut b: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    let mut created = ts_builder();
    let (mut ddl, mut collation) = (StringBuilder::new(), StringBuilder::new());
    for row in &rows {
        let (ty, insertable) = match row.object {
            Object::Table(_) => ("BASE TABLE", "YES"),
            Object::View(_) => ("VIEW", "NO"),
            Object::External(_) => ("EXTERNAL", "NO"),
        };
        b[0].append_value(project);
        b[1].append_value(&row.dataset);
        b[2].append_value(&row.table);
        b[3].append_value(ty);
        b[4].append_value(insertable);
        b[5].append_value("NO");
        created.append_option(row.created_us);
        let ddl_text = match object_schema(project, row, session).await {
            Ok(schema) => Some(table_ddl(project, row, &schema)),
            Err(_) => None,
        };
        ddl.append_option(ddl_text);
        collation.append_null();
    }
    let mut columns: Vec<ArrayRef> = b
        .into_iter()
        .map(|mut x| Arc::new(x.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(created.finish()));
    columns.push(Arc::new(ddl.finish()));
    columns.push(Arc::new(collation.finish()));
    mem(schema, columns)
}

async fn columns(
    project: &str,
    rows: Vec<Row>,
    session: &Arc<dyn SessionAccess>,
) -> Result<Arc<dyn TableProvider>> {
    let names = ["table_catalog", "table_schema", "table_name", "column_name"];
    let mut fields: Vec<Field> = names.iter().map(|n| utf8(n)).collect();
    fields.push(Field::new("ordinal_position", DataType::Int64, false));
    let tail = [
        "is_nullable",
        "data_type",
        "is_generated",
        "generation_expression",
        "is_stored",
        "is_hidden",
        "is_updatable",
        "is_system_defined",
        "is_partitioning_column",
    ];
    fields.extend(tail.iter().map(|n| utf8(n)));
    fields.push(Field::new(
        "clustering_ordinal_position",
        DataType::Int64,
        true,
    ));
    fields.extend(
        ["collation_name", "column_default", "rounding_mode"]
            .iter()
            .map(|n| utf8(n)),
    );
    let mut head: Vec<StringBuilder> = (0..4).map(|_| StringBuilder::new()).collect();
    let mut ordinal = Int64Builder::new();
    let mut rest: Vec<StringBuilder> = (0..9).map(|_| StringBuilder::new()).collect();
    let mut clustering = Int64Builder::new();
    let mut last: Vec<StringBuilder> = (0..3).map(|_| StringBuilder::new()).collect();
    for row in &rows {
        let schema = object_schema(project, row, session).await?;
        for (i, f) in schema.fields().iter().enumerate() {
            head[0].append_value(project);
            head[1].append_value(&row.dataset);
            head[2].append_value(&row.table);
            head[3].append_value(f.name());
            ordinal.append_value(i as i64 + 1);
            rest[0].append_value(if f.is_nullable() { "YES" } else { "NO" });
            rest[1].append_value(bq_type_name(f));
            rest[2].append_value("NEVER");
            rest[3].append_null();
            rest[4].append_null();
            rest[5].append_value("NO");
            rest[6].append_null();
            rest[7].append_value("NO");
            rest[8].append_value("NO");
            clustering.append_null();
            last[0].append_value("NULL");
            last[1].append_value("NULL");
            last[2].append_null();
        }
    }
    let mut columns: Vec<ArrayRef> = head
        .into_iter()
        .map(|mut x| Arc::new(x.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(ordinal.finish()));
    columns.extend(
        rest.into_iter()
            .map(|mut x| Arc::new(x.finish()) as ArrayRef),
    );
    columns.push(Arc::new(clustering.finish()));
    columns.extend(
        last.into_iter()
            .map(|mut x| Arc::new(x.finish()) as ArrayRef),
    );
    mem(Schema::new(fields), columns)
}

fn views(project: &str, rows: Vec<Row>) -> Result<Arc<dyn TableProvider>> {
    let schema = Schema::new(vec![
        utf8("table_catalog"),
        utf8("table_schema"),
        utf8("table_name"),
        utf8("view_definition"),
        utf8("check_option"),
        utf8("use_standard_sql"),
    ]);
    let mut b: Vec<StringBuilder> = (0..6).map(|_| StringBuilder::new()).collect();
    for row in &rows {
        let Object::View(v) = &row.object else {
            continue;
        };
        b[0].append_value(project);
        b[1].append_value(&row.dataset);
        b[2].append_value(&row.table);
        b[3].append_value(&v.sql);
        b[4].append_null();
        b[5].append_value("YES");
    }
    mem(
        schema,
        b.into_iter()
            .map(|mut x| Arc::new(x.finish()) as ArrayRef)
            .collect(),
    )
}
