//! The landing zone: every response of a run, unchanged, under the warehouse, with a manifest.
//!
//! ```text
//! <warehouse>/_landing/<source>/<run id>/page-00001.json     a good page (2xx, JSON)
//! <warehouse>/_landing/<source>/<run id>/page-00003.response an error or non-JSON response
//! <warehouse>/_landing/<source>/<run id>/manifest.json       one entry per request
//! ```
//!
//! The manifest is rewritten after every page (an atomic put), so a killed run leaves a manifest
//! that matches the pages on disk, and a re-run with the same run id reuses them.

use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use super::ExtractError;

/// One request of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PageEntry {
    pub page: u64,
    /// File name inside the run folder.
    pub file: String,
    /// The URL requested, with secrets replaced by `***`.
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    /// RFC 3339 UTC time the response arrived.
    pub fetched_at: String,
    pub bytes: u64,
    pub attempts: u32,
    /// Records in the page (when it is good).
    pub records: Option<u64>,
    /// The `Link: rel="next"` target, kept so a re-run can continue from a reused page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_next: Option<String>,
    /// Why the page is not usable (error status, not JSON, no records array), if it is not.
    pub error: Option<String>,
}

impl PageEntry {
    pub fn is_good(&self) -> bool {
        self.error.is_none()
    }
}

/// Where the pages of a run went into the warehouse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadRecord {
    pub table: String,
    pub rows: u64,
    pub version: Option<u64>,
    pub loaded_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub source: String,
    pub run_id: String,
    pub started: String,
    pub finished: Option<String>,
    /// `running`, `complete`, `capped` (stopped at max_pages) or `failed`.
    pub status: String,
    pub pages: Vec<PageEntry>,
    #[serde(default)]
    pub loads: Vec<LoadRecord>,
}

/// The folder of one run.
pub struct RunDir {
    store: Arc<dyn ObjectStore>,
    root: object_store::path::Path,
    /// Warehouse-relative folder, `_landing/<source>/<run id>`.
    pub rel: String,
}

impl RunDir {
    pub fn new(
        store: Arc<dyn ObjectStore>,
        warehouse_root: &url::Url,
        source: &str,
        run_id: &str,
    ) -> RunDir {
        let rel = format!("_landing/{source}/{run_id}");
        let base =
            object_store::path::Path::from_url_path(warehouse_root.path()).unwrap_or_default();
        let root = rel.split('/').fold(base, |p, part| p.join(part));
        RunDir { store, root, rel }
    }

    pub fn page_file(page: u64, good: bool) -> String {
        if good {
            format!("page-{page:05}.json")
        } else {
            format!("page-{page:05}.response")
        }
    }

    pub async fn read_manifest(&self) -> Result<Option<Manifest>, ExtractError> {
        match self
            .store
            .get(&self.root.clone().join("manifest.json"))
            .await
        {
            Ok(r) => {
                let bytes = r.bytes().await.map_err(storage)?;
                serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                    ExtractError::Landing(format!("{}/manifest.json is corrupt: {e}", self.rel))
                })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    pub async fn write_manifest(&self, m: &Manifest) -> Result<(), ExtractError> {
        let bytes = serde_json::to_vec_pretty(m)
            .map_err(|e| ExtractError::Landing(format!("manifest: {e}")))?;
        self.store
            .put(
                &self.root.clone().join("manifest.json"),
                PutPayload::from(bytes),
            )
            .await
            .map_err(storage)?;
        Ok(())
    }

    pub async fn write(&self, file: &str, body: &[u8]) -> Result<(), ExtractError> {
        self.store
            .put(
                &self.root.clone().join(file),
                PutPayload::from(body.to_vec()),
            )
            .await
            .map_err(storage)?;
        Ok(())
    }

    pub async fn read(&self, file: &str) -> Result<Option<Vec<u8>>, ExtractError> {
        match self.store.get(&self.root.clone().join(file)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(storage)?.to_vec())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(storage(e)),
        }
    }

    /// Removes a file left by an earlier attempt at the same page (e.g. its error response).
    pub async fn remove(&self, file: &str) -> Result<(), ExtractError> {
        match self.store.delete(&self.root.clone().join(file)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage(e)),
        }
    }
}

fn storage(e: object_store::Error) -> ExtractError {
    ExtractError::Landing(e.to_string())
}
