//! The lakehouse: a warehouse directory (or object-store URL) of BigQuery datasets.
//!
//! Layout: `<warehouse>/<dataset>/_dataset.json` marks a dataset; `<warehouse>/<dataset>/<table>/`
//! is either a Delta table (Parquet files + `_delta_log/`) or, for views and external tables, holds
//! one `_dap_object.json` definition ([`meta`]).
//!
//! Guarantees:
//! - Every path is built from names checked by [`names`], so nothing outside the warehouse is
//!   ever read or written.
//! - Table data changes only through Delta commits (one atomic commit per statement); view and
//!   external-table definitions through a single `put`. Dropping a table on a local warehouse
//!   first renames its directory away (atomic), then deletes it.

pub mod catalog;
pub mod cloud;
pub mod meta;
pub mod names;
pub mod physical;
pub mod repeated;

use std::path::PathBuf;
use std::sync::Arc;

use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use url::Url;

use crate::error::{DapError, ObjectKind, Result};
use meta::{DatasetDef, ObjectDef};
use names::TableName;

const DATASET_MARKER: &str = "_dataset.json";
const OBJECT_DEF: &str = "_dap_object.json";

/// What a name in the warehouse refers to.
#[derive(Debug, Clone)]
pub enum Object {
    Table(Box<DeltaTable>),
    View(meta::ViewDef),
    External(meta::ExternalDef),
}

impl Object {
    pub fn kind(&self) -> ObjectKind {
        match self {
            Object::Table(_) => ObjectKind::Table,
            Object::View(_) => ObjectKind::View,
            Object::External(_) => ObjectKind::ExternalTable,
        }
    }
}

/// A warehouse: the root of all datasets, on one object store.
#[derive(Debug)]
pub struct Warehouse {
    /// Root URL, always ending in `/`.
    root: Url,
    /// Object store whose `/` is the root of `root`'s scheme (file system root, memory root).
    store: Arc<dyn ObjectStore>,
    /// Set for a local warehouse: its directory.
    local_dir: Option<PathBuf>,
    transient: bool,
}

impl Warehouse {
    /// Opens the warehouse at a directory or URL (`file://`, `memory://`, `s3://bucket/prefix`,
    /// `gs://bucket/prefix`). A directory is created if missing.
    pub fn open(location: &str) -> Result<Warehouse> {
        if location.starts_with("memory://") {
            return Ok(Warehouse::in_memory());
        }
        if cloud::is_cloud_url(location) {
            return Warehouse::open_cloud(location);
        }
        let dir = match location.strip_prefix("file://") {
            Some(path) => PathBuf::from(path),
            None if location.contains("://") => {
                return Err(DapError::not_supported(format!(
                    "warehouse URL scheme of `{location}` (dap supports directories, file://, memory://, s3:// and gs://)"
                )));
            }
            None => PathBuf::from(location),
        };
        std::fs::create_dir_all(&dir).map_err(|source| DapError::Io {
            path: dir.clone(),
            source,
        })?;
        let dir = dir.canonicalize().map_err(|source| DapError::Io {
            path: dir.clone(),
            source,
        })?;
        let root = Url::from_directory_path(&dir).map_err(|()| {
            DapError::Invalid(format!("warehouse path {} is not absolute", dir.display()))
        })?;
        Ok(Warehouse {
            root,
            store: Arc::new(LocalFileSystem::new().with_automatic_cleanup(true)),
            local_dir: Some(dir),
            transient: false,
        })
    }

    /// A warehouse under a bucket prefix on S3 or GCS (see [`cloud`] for configuration).
    fn open_cloud(location: &str) -> Result<Warehouse> {
        let mut root = Url::parse(location)
            .map_err(|e| DapError::Invalid(format!("bad warehouse URL `{location}`: {e}")))?;
        if !root.path().ends_with('/') {
            let path = format!("{}/", root.path());
            root.set_path(&path);
        }
        if root.query().is_some() || root.fragment().is_some() {
            return Err(DapError::Invalid(format!(
                "warehouse URL `{location}` must not have a query or fragment"
            )));
        }
        let store = cloud::store_for(&root)?;
        Ok(Warehouse {
            root,
            store,
            local_dir: None,
            transient: false,
        })
    }

    /// A warehouse that lives in this process's memory only.
    pub fn in_memory() -> Warehouse {
        Warehouse {
            root: Url::parse("memory:///").expect("static URL"),
            store: Arc::new(InMemory::new()),
            local_dir: None,
            transient: true,
        }
    }

    pub fn is_transient(&self) -> bool {
        self.transient
    }

    pub fn root(&self) -> &Url {
        &self.root
    }

    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The local directory of the warehouse, when it is on the local file system.
    pub fn local_dir(&self) -> Option<&std::path::Path> {
        self.local_dir.as_deref()
    }

    fn path(&self, parts: &[&str]) -> Path {
        let base = Path::from_url_path(self.root.path()).unwrap_or_default();
        parts.iter().fold(base, |p, part| p.join(*part))
    }

    /// URL of a table's directory (ending in `/`).
    pub fn table_url(&self, name: &TableName) -> Url {
        let mut url = self.root.clone();
        url.path_segments_mut()
            .expect("warehouse URLs have paths")
            .pop_if_empty()
            .push(&name.dataset)
            .push(&name.table)
            .push("");
        url
    }

    // ---- datasets ----

    pub async fn dataset(&self, dataset: &str) -> Result<Option<DatasetDef>> {
        let path = self.path(&[dataset, DATASET_MARKER]);
        match self.store.get(&path).await {
            Ok(got) => {
                let bytes = got.bytes().await?;
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| DapError::Metadata {
                        path: path.to_string(),
                        source,
                    })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn require_dataset(&self, project: &str, dataset: &str) -> Result<DatasetDef> {
        self.dataset(dataset)
            .await?
            .ok_or_else(|| DapError::NotFound {
                kind: ObjectKind::Dataset,
                name: format!("{project}:{dataset}"),
                hint: " (create it with CREATE SCHEMA)",
            })
    }

    /// Creates a dataset; `Ok(false)` when it already existed (an error unless `if_not_exists`).
    pub async fn create_dataset(
        &self,
        project: &str,
        dataset: &str,
        if_not_exists: bool,
    ) -> Result<bool> {
        let def = DatasetDef {
            created_ms: meta::now_ms(),
            description: None,
        };
        let body = serde_json::to_vec(&def).map_err(|source| DapError::Metadata {
            path: dataset.to_string(),
            source,
        })?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(
                &self.path(&[dataset, DATASET_MARKER]),
                PutPayload::from(body),
                opts,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) if if_not_exists => Ok(false),
            Err(object_store::Error::AlreadyExists { .. }) => Err(DapError::AlreadyExists {
                kind: ObjectKind::Dataset,
                name: format!("{project}:{dataset}"),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a dataset and, with `cascade`, everything in it.
    pub async fn drop_dataset(&self, project: &str, dataset: &str, cascade: bool) -> Result<()> {
        let objects = self.list_objects(dataset).await?;
        if !objects.is_empty() && !cascade {
            return Err(DapError::Invalid(format!(
                "Dataset {project}:{dataset} is still in use: it contains {} table(s); use DROP SCHEMA ... CASCADE",
                objects.len()
            )));
        }
        for table in objects {
            let name = TableName {
                project: project.to_string(),
                dataset: dataset.to_string(),
                table,
            };
            self.drop_object(&name).await?;
        }
        self.delete_prefix(&self.path(&[dataset])).await
    }

    pub async fn list_datasets(&self) -> Result<Vec<(String, DatasetDef)>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.path(&[])))
            .await?;
        let mut out = Vec::new();
        for prefix in listing.common_prefixes {
            let Some(name) = prefix.filename() else {
                continue;
            };
            if names::validate_dataset(name).is_err() {
                continue;
            }
            if let Some(def) = self.dataset(name).await? {
                out.push((name.to_string(), def));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Names of the tables, views and external tables in a dataset, sorted.
    pub async fn list_objects(&self, dataset: &str) -> Result<Vec<String>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.path(&[dataset])))
            .await?;
        let mut out: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename())
            .filter(|n| names::validate_table(n).is_ok())
            .map(str::to_string)
            .collect();
        out.sort();
        Ok(out)
    }

    // ---- objects ----

    /// What `name` refers to, if anything.
    pub async fn lookup(&self, name: &TableName) -> Result<Option<Object>> {
        let def_path = self.path(&[&name.dataset, &name.table, OBJECT_DEF]);
        match self.store.get(&def_path).await {
            Ok(got) => {
                let bytes = got.bytes().await?;
                let def: ObjectDef =
                    serde_json::from_slice(&bytes).map_err(|source| DapError::Metadata {
                        path: def_path.to_string(),
                        source,
                    })?;
                return Ok(Some(match def {
                    ObjectDef::View(v) => Object::View(v),
                    ObjectDef::External(e) => Object::External(e),
                }));
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(self
            .open_delta(name, None)
            .await?
            .map(|t| Object::Table(Box::new(t))))
    }

    /// Like [`Warehouse::lookup`], but a missing object is an error naming it.
    pub async fn require(&self, name: &TableName) -> Result<Object> {
        match self.lookup(name).await? {
            Some(obj) => Ok(obj),
            None => {
                self.require_dataset(&name.project, &name.dataset).await?;
                Err(DapError::NotFound {
                    kind: ObjectKind::Table,
                    name: name.qualified(),
                    hint: "",
                })
            }
        }
    }

    /// An unloaded handle on a table location, for creating it.
    pub fn delta_handle(&self, name: &TableName) -> Result<DeltaTable> {
        let url = self.table_url(name);
        if let Some(dir) = &self.local_dir {
            let table_dir = dir.join(&name.dataset).join(&name.table);
            std::fs::create_dir_all(&table_dir).map_err(|source| DapError::Io {
                path: table_dir,
                source,
            })?;
        }
        DeltaTableBuilder::from_url(url.clone())
            .and_then(|b| b.with_storage_backend(self.store.clone(), url).build())
            .map_err(|e| DapError::delta(name.to_string(), e))
    }

    /// After a failed CREATE: removes the directory [`Warehouse::delta_handle`] made, unless a
    /// Delta log was committed there.
    pub fn discard_failed_create(&self, name: &TableName) {
        if let Some(dir) = &self.local_dir {
            let table_dir = dir.join(&name.dataset).join(&name.table);
            if !table_dir.join("_delta_log").exists() {
                let _ = std::fs::remove_dir_all(&table_dir);
            }
        }
    }

    /// Loads a Delta table, at its latest version or as of a point in time.
    pub async fn open_delta(
        &self,
        name: &TableName,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Option<DeltaTable>> {
        if let Some(dir) = &self.local_dir
            && !dir.join(&name.dataset).join(&name.table).is_dir()
        {
            return Ok(None);
        }
        let url = self.table_url(name);
        let mut table = DeltaTableBuilder::from_url(url.clone())
            .and_then(|b| b.with_storage_backend(self.store.clone(), url).build())
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        let loaded = match as_of {
            None => table.load().await,
            Some(ts) => table.load_with_datetime(ts).await,
        };
        match loaded {
            Ok(()) => {
                if let Some(ts) = as_of
                    && table.version() == Some(0)
                {
                    let commits: Vec<_> = table
                        .history(Some(1))
                        .try_collect()
                        .await
                        .map_err(|e| DapError::delta(name.to_string(), e))?;
                    let created = commits
                        .first()
                        .and_then(|c| c.timestamp)
                        .unwrap_or(i64::MIN);
                    if ts.timestamp_millis() < created {
                        return Err(DapError::Invalid(format!(
                            "Invalid time travel timestamp {}: table {} did not exist yet (created at {})",
                            ts.format("%Y-%m-%d %H:%M:%S%.f UTC"),
                            name.qualified(),
                            chrono::DateTime::from_timestamp_millis(created)
                                .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
                                .unwrap_or_default()
                        )));
                    }
                }
                Ok(Some(table))
            }
            Err(DeltaTableError::NotATable(_)) => Ok(None),
            Err(e) => Err(DapError::delta(name.to_string(), e)),
        }
    }

    pub async fn write_definition(&self, name: &TableName, def: &ObjectDef) -> Result<()> {
        let path = self.path(&[&name.dataset, &name.table, OBJECT_DEF]);
        let body = serde_json::to_vec_pretty(def).map_err(|source| DapError::Metadata {
            path: path.to_string(),
            source,
        })?;
        self.store.put(&path, PutPayload::from(body)).await?;
        Ok(())
    }

    /// Removes a table, view or external table (its definition; never external data).
    pub async fn drop_object(&self, name: &TableName) -> Result<()> {
        if let Some(dir) = &self.local_dir {
            let table_dir = dir.join(&name.dataset).join(&name.table);
            let trash = dir
                .join(&name.dataset)
                .join(format!(".dropped-{}", uuid::Uuid::new_v4()));
            std::fs::rename(&table_dir, &trash).map_err(|source| DapError::Io {
                path: table_dir.clone(),
                source,
            })?;
            return std::fs::remove_dir_all(&trash).map_err(|source| DapError::Io {
                path: trash,
                source,
            });
        }
        self.delete_prefix(&self.path(&[&name.dataset, &name.table]))
            .await
    }

    async fn delete_prefix(&self, prefix: &Path) -> Result<()> {
        let locations = self.store.list(Some(prefix)).map_ok(|m| m.location).boxed();
        self.store
            .delete_stream(locations)
            .try_collect::<Vec<_>>()
            .await?;
        if let Some(dir) = &self.local_dir {
            // Empty directories are not objects; remove what the deletes left behind.
            let rel = prefix
                .as_ref()
                .strip_prefix(
                    Path::from_url_path(self.root.path())
                        .unwrap_or_default()
                        .as_ref(),
                )
                .unwrap_or("")
                .trim_start_matches('/');
            let p = dir.join(rel);
            if !rel.is_empty() && p.starts_with(dir) && p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            }
        }
        Ok(())
    }
}
