//! The warehouse as a DataFusion catalog: catalog = project, schema = dataset, table = a Delta
//! table, a view or an external table.
//!
//! Lookups are lazy and always go to the warehouse, so another process's writes are seen by the
//! next statement. Nothing here writes.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::view::ViewTable;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;

use super::meta::{ExternalDef, ViewDef};
use super::names::{self, TableName};
use super::{Object, Warehouse};
use crate::error::{DapError, Result};

/// What the catalog needs from the engine: a session to plan with, and dap's planning path for
/// view bodies (BigQuery name resolution and rewrites apply inside views too).
#[async_trait]
pub trait SessionAccess: std::fmt::Debug + Send + Sync {
    fn state(&self) -> Result<SessionState>;
    async fn plan_view(&self, name: &TableName, view: &ViewDef) -> Result<LogicalPlan>;
}

/// Catalog provider for one project.
#[derive(Debug)]
pub struct WarehouseCatalog {
    project: String,
    warehouse: Arc<Warehouse>,
    session: Arc<dyn SessionAccess>,
}

impl WarehouseCatalog {
    pub fn new(
        project: String,
        warehouse: Arc<Warehouse>,
        session: Arc<dyn SessionAccess>,
    ) -> Self {
        WarehouseCatalog {
            project,
            warehouse,
            session,
        }
    }
}

impl CatalogProvider for WarehouseCatalog {
    /// Datasets are listed asynchronously by INFORMATION_SCHEMA; DataFusion's synchronous listing
    /// is not used by dap.
    fn schema_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        names::validate_dataset(name).ok()?;
        if name == crate::engine::NO_DEFAULT_DATASET {
            return None;
        }
        Some(Arc::new(DatasetSchema {
            project: self.project.clone(),
            dataset: name.to_string(),
            warehouse: self.warehouse.clone(),
            session: self.session.clone(),
        }))
    }
}

#[derive(Debug)]
struct DatasetSchema {
    project: String,
    dataset: String,
    warehouse: Arc<Warehouse>,
    session: Arc<dyn SessionAccess>,
}

#[async_trait]
impl SchemaProvider for DatasetSchema {
    fn table_names(&self) -> Vec<String> {
        Vec::new()
    }

    async fn table(&self, name: &str) -> datafusion::error::Result<Option<Arc<dyn TableProvider>>> {
        names::validate_table(name)?;
        let name = TableName {
            project: self.project.clone(),
            dataset: self.dataset.clone(),
            table: name.to_string(),
        };
        let object = self.warehouse.require(&name).await?;
        Ok(Some(provider(&self.session, &name, object).await?))
    }

    fn table_exist(&self, _name: &str) -> bool {
        false
    }
}

/// A DataFusion table provider for a warehouse object.
pub async fn provider(
    session: &Arc<dyn SessionAccess>,
    name: &TableName,
    object: Object,
) -> Result<Arc<dyn TableProvider>> {
    match object {
        Object::Table(table) => {
            let delta = table.table_provider().await.map_err(DapError::from)?;
            super::physical::decoded_provider(&name.table, delta)
        }
        Object::View(view) => {
            let plan = session.plan_view(name, &view).await?;
            Ok(Arc::new(ViewTable::new(plan, Some(view.sql.clone()))))
        }
        Object::External(def) => {
            let state = session.state()?;
            Ok(Arc::new(external_table(&state, &def).await?))
        }
    }
}

/// A listing table over an external table's files.
pub async fn external_table(state: &SessionState, def: &ExternalDef) -> Result<ListingTable> {
    let format: Arc<dyn FileFormat> = match def.format.to_ascii_uppercase().as_str() {
        "PARQUET" => Arc::new(ParquetFormat::default()),
        "CSV" => {
            if def.skip_leading_rows > 1 {
                return Err(DapError::not_supported(
                    "CSV external tables with skip_leading_rows greater than 1",
                ));
            }
            let mut csv = CsvFormat::default().with_has_header(def.skip_leading_rows == 1);
            if let Some(d) = &def.field_delimiter {
                let [b] = d.as_bytes() else {
                    return Err(DapError::not_supported(format!(
                        "field_delimiter {d:?} (dap supports one single-byte delimiter)"
                    )));
                };
                csv = csv.with_delimiter(*b);
            }
            Arc::new(csv)
        }
        "NEWLINE_DELIMITED_JSON" | "JSON" => Arc::new(JsonFormat::default()),
        other => {
            return Err(DapError::not_supported(format!(
                "external table format {other} (dap supports PARQUET, CSV, NEWLINE_DELIMITED_JSON)"
            )));
        }
    };
    let urls = def
        .uris
        .iter()
        .map(|u| listing_url(u))
        .collect::<datafusion::error::Result<Vec<_>>>()?;
    // Files on S3/GCS: the bucket's store is registered with the session once.
    for url in &urls {
        let bucket = url.object_store();
        if super::cloud::is_cloud_url(bucket.as_str())
            && state.runtime_env().object_store(&bucket).is_err()
        {
            let bucket_url: &url::Url = bucket.as_ref();
            state
                .runtime_env()
                .register_object_store(bucket_url, super::cloud::store_for(bucket_url)?);
        }
    }
    let options = ListingOptions::new(format).with_file_extension("");
    let schema: SchemaRef = if def.columns.is_empty() {
        let mut schemas = Vec::with_capacity(urls.len());
        for url in &urls {
            schemas.push(options.infer_schema(state, url).await.map_err(|e| {
                DapError::Invalid(format!(
                    "cannot read external table files {}: {e}",
                    url.as_str()
                ))
            })?);
        }
        Arc::new(
            Schema::try_merge(schemas.iter().map(|s| s.as_ref().clone()))
                .map_err(|e| DataFusionError::ArrowError(Box::new(e), None))?,
        )
    } else {
        external_columns(def)?
    };
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    Ok(ListingTable::try_new(config)?)
}

/// An external table URI as a listing URL. DataFusion reads globs in file-system paths only; for
/// `s3://bucket/dir/*.csv` the glob is split off here.
fn listing_url(uri: &str) -> datafusion::error::Result<ListingTableUrl> {
    if !super::cloud::is_cloud_url(uri) {
        return ListingTableUrl::parse(uri);
    }
    let Some(glob_at) = uri.find(['*', '?', '[']) else {
        return ListingTableUrl::parse(uri);
    };
    let split = uri[..glob_at].rfind('/').map_or(0, |i| i + 1);
    let (base, glob) = uri.split_at(split);
    let url = url::Url::parse(base).map_err(|e| DataFusionError::External(Box::new(e)))?;
    let glob = glob::Pattern::new(glob).map_err(|e| DataFusionError::External(Box::new(e)))?;
    ListingTableUrl::try_new(url, Some(glob))
}

fn external_columns(def: &ExternalDef) -> Result<SchemaRef> {
    use datafusion::sql::sqlparser::dialect::BigQueryDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    let mut fields = Vec::with_capacity(def.columns.len());
    for c in &def.columns {
        let ty = Parser::new(&BigQueryDialect)
            .try_with_sql(&c.bq_type)
            .and_then(|mut p| p.parse_data_type())
            .map_err(|e| DapError::Syntax {
                message: format!("column {} type {}: {e}", c.name, c.bq_type),
                location: None,
            })?;
        fields.push(crate::dialect::types::field(&c.name, &ty, !c.not_null)?);
    }
    Ok(Arc::new(Schema::new(fields)))
}
