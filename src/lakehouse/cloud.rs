//! Object stores in the cloud: `s3://bucket[/prefix]` (Amazon S3 and S3-compatible stores such as
//! MinIO or R2) and `gs://bucket[/prefix]` (Google Cloud Storage), for warehouses and load sources.
//!
//! Credentials, regions and endpoints come from the environment, with the names the AWS and Google
//! tools use, read by object_store's builders:
//! - S3: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//!   `AWS_ENDPOINT_URL` (S3-compatible stores), `AWS_ALLOW_HTTP=true` (plain-HTTP endpoints), and
//!   the instance / container credential providers.
//! - GCS: `GOOGLE_SERVICE_ACCOUNT` (path to a service-account key file),
//!   `GOOGLE_APPLICATION_CREDENTIALS`, or the metadata server.
//!
//! Commits stay atomic: Delta commits on S3 use conditional writes (`If-None-Match: *`, supported by
//! S3 since 2024 and by MinIO/R2); GCS has native preconditions. Two writers racing for the same
//! table version get a conflict, never a torn log.

use std::sync::{Arc, Once};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use url::Url;

use crate::error::{DapError, Result};

/// The cloud schemes dap reads and writes.
pub fn is_cloud_url(location: &str) -> bool {
    ["s3://", "s3a://", "gs://"]
        .iter()
        .any(|p| location.len() > p.len() && location[..p.len()].eq_ignore_ascii_case(p))
}

/// A store rooted at the bucket of `url` (its `/` is the bucket's root), configured from the
/// environment.
pub fn store_for(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    register_delta_handlers();
    let bucket = url.host_str().unwrap_or_default();
    if bucket.is_empty() {
        return Err(DapError::Invalid(format!("`{url}` names no bucket")));
    }
    let bad = |e: object_store::Error| {
        DapError::Invalid(format!(
            "cannot use `{url}`: {e} (configure credentials and endpoint with the AWS_* / GOOGLE_* environment variables)"
        ))
    };
    match url.scheme() {
        "s3" | "s3a" => Ok(Arc::new(
            AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(bad)?,
        )),
        "gs" => Ok(Arc::new(
            GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(bad)?,
        )),
        other => Err(DapError::not_supported(format!(
            "object-store URL scheme `{other}://` (dap supports directories, file://, memory://, s3:// and gs://)"
        ))),
    }
}

/// Delta needs a log-store factory per URL scheme; deltalake's S3 and GCS crates provide them.
fn register_delta_handlers() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        deltalake::aws::register_handlers(None);
        deltalake::gcp::register_handlers(None);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_urls_are_recognised() {
        assert!(is_cloud_url("s3://bucket/wh"));
        assert!(is_cloud_url("GS://bucket"));
        assert!(!is_cloud_url("s3://"));
        assert!(!is_cloud_url("file:///tmp/x"));
        assert!(!is_cloud_url("./s3"));
    }

    #[test]
    fn a_url_without_a_bucket_is_an_error() {
        let url = Url::parse("s3:///prefix").expect("url");
        let err = store_for(&url).expect_err("no bucket");
        assert!(err.to_string().contains("names no bucket"), "{err}");
    }
}
