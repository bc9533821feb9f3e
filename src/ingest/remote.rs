//! Load sources in object stores (`s3://bucket/key`, `gs://bucket/prefix/*.json`): listed,
//! matched and downloaded, several objects at a time, into a spool directory that lives as long as
//! the load; the load then reads the local copies. Rows keep the object's URL in `_source_file` and
//! in error messages ([`display_name`]).
//!
//! A URI is one object, a prefix (a "directory": every object under it whose name parts don't start
//! with `_` or `.`), or a glob over keys (`*`, `?`, `[...]`; `*` does not cross `/`, `**` does).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use super::LoadError;
use super::source::{RemoteUri, remote};
use crate::lakehouse::cloud;

/// Objects downloaded at the same time.
const PARALLEL_DOWNLOADS: usize = 8;

/// Spooled file → the URL it was downloaded from.
static SPOOLED: LazyLock<Mutex<HashMap<PathBuf, String>>> = LazyLock::new(Default::default);

/// The name to show for a source file: its object URL when it was downloaded, else its path.
pub fn display_name(path: &Path) -> String {
    SPOOLED
        .lock()
        .ok()
        .and_then(|m| m.get(path).cloned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// Whether a URI is read through an object store.
pub fn is_remote(uri: &str) -> bool {
    cloud::is_cloud_url(uri)
}

/// A directory holding downloaded objects; removed (with its files) when dropped.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Spool {
    /// The local copies, in URI order and, within a URI, sorted by key.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Ok(mut m) = SPOOLED.lock() {
            for f in &self.files {
                m.remove(f);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Lists and downloads the objects the URIs name.
pub async fn fetch(uris: &[String]) -> Result<Spool, LoadError> {
    let dir = std::env::temp_dir().join(format!("dap-load-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| LoadError::io(&dir.to_string_lossy(), e))?;
    let mut spool = Spool {
        dir,
        files: Vec::new(),
    };
    for uri in uris {
        let r = remote(uri)?;
        let bucket_url = Url::parse(&format!("{}://{}/", r.scheme, r.bucket))
            .map_err(|e| LoadError::at(uri, format!("bad URL: {e}")))?;
        let store = cloud::store_for(&bucket_url).map_err(|e| LoadError::at(uri, e.to_string()))?;
        let keys = matching_keys(store.as_ref(), uri, &r).await?;
        let base = spool
            .dir
            .join(format!("{}-{}", r.scheme, spool.files.len()));
        let downloads = keys.into_iter().enumerate().map(|(i, key)| {
            let store = store.clone();
            // Keep the object's file name: the format and compression are read from it.
            let name = key.filename().unwrap_or("object").to_string();
            let local = base.join(format!("{i:06}")).join(name);
            let url = format!("{}://{}/{}", r.scheme, r.bucket, key);
            async move {
                download(store.as_ref(), &key, &local, &url).await?;
                Ok::<_, LoadError>((local, url))
            }
        });
        let mut got: Vec<(PathBuf, String)> = futures::stream::iter(downloads)
            .buffered(PARALLEL_DOWNLOADS)
            .try_collect()
            .await?;
        if let Ok(mut m) = SPOOLED.lock() {
            for (local, url) in &got {
                m.insert(local.clone(), url.clone());
            }
        }
        spool.files.extend(got.drain(..).map(|(local, _)| local));
    }
    Ok(spool)
}

/// The keys a URI names, sorted.
async fn matching_keys(
    store: &dyn ObjectStore,
    uri: &str,
    r: &RemoteUri,
) -> Result<Vec<ObjectPath>, LoadError> {
    let err = |e: object_store::Error| LoadError::at(uri, e.to_string());
    let key = r.path.trim_start_matches('/');
    let mut keys = Vec::new();
    if let Some(glob_at) = key.find(['*', '?', '[']) {
        let prefix = &key[..key[..glob_at].rfind('/').map_or(0, |i| i + 1)];
        let pattern = glob::Pattern::new(key)
            .map_err(|e| LoadError::at(uri, format!("bad glob pattern: {e}")))?;
        let options = glob::MatchOptions {
            require_literal_separator: !key.contains("**"),
            ..Default::default()
        };
        let listed: Vec<_> = store
            .list(Some(&ObjectPath::from(prefix)))
            .try_collect()
            .await
            .map_err(err)?;
        keys.extend(
            listed
                .into_iter()
                .map(|m| m.location)
                .filter(|p| pattern.matches_with(p.as_ref(), options)),
        );
        if keys.is_empty() {
            return Err(LoadError::at(uri, "no objects match"));
        }
    } else {
        let path = ObjectPath::from(key);
        match store.head(&path).await {
            Ok(_) if !key.is_empty() => keys.push(path),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {
                let listed: Vec<_> = store.list(Some(&path)).try_collect().await.map_err(err)?;
                let prefix_parts = path.parts().count();
                keys.extend(listed.into_iter().map(|m| m.location).filter(|p| {
                    !p.parts()
                        .skip(prefix_parts)
                        .any(|part| part.as_ref().starts_with(['_', '.']))
                }));
                if keys.is_empty() {
                    return Err(LoadError::at(uri, "no such object"));
                }
            }
            Err(e) => return Err(err(e)),
        }
    }
    keys.sort();
    Ok(keys)
}

async fn download(
    store: &dyn ObjectStore,
    key: &ObjectPath,
    local: &Path,
    url: &str,
) -> Result<(), LoadError> {
    let io = |e: std::io::Error| LoadError::io(url, e);
    if let Some(parent) = local.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut file =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(local).map_err(io)?);
    let mut stream = store
        .get(key)
        .await
        .map_err(|e| LoadError::at(url, e.to_string()))?
        .into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| LoadError::at(url, e.to_string()))?;
        file.write_all(&chunk).map_err(io)?;
    }
    file.flush().map_err(io)
}
