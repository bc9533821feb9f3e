//! Hash functions: `FARM_FINGERPRINT`, `MD5`, `SHA1`, `SHA256`, `SHA512`.
//!
//! `FARM_FINGERPRINT` is FarmHash `Fingerprint64` of the bytes reinterpreted as INT64; the
//! digests return BYTES (BigQuery does not hex-encode them). A STRING is hashed as its UTF-8 bytes.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/hash_functions>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, Int64Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::ScalarUDF;
use md5::Md5;
use sha1::Sha1;

use super::bq_error;
use super::udf::Udf;

/// The hash family's scalar functions.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    vec![
        Udf::new(
            "farm_fingerprint",
            coerce_bytes,
            |_| Ok(DataType::Int64),
            farm,
        )
        .build(),
        Udf::new("md5", coerce_bytes, ret_bytes, |a, _| digest(a, md5_bytes)).build(),
        Udf::new("sha1", coerce_bytes, ret_bytes, |a, _| {
            digest(a, sha1_bytes)
        })
        .build(),
        Udf::new("sha256", coerce_bytes, ret_bytes, |a, _| {
            digest(a, sha256_bytes)
        })
        .build(),
        Udf::new("sha512", coerce_bytes, ret_bytes, |a, _| {
            digest(a, sha512_bytes)
        })
        .build(),
    ]
}

fn ret_bytes(_: &[DataType]) -> Result<DataType> {
    Ok(DataType::Binary)
}

/// One STRING or BYTES argument, normalised to `Utf8` or `Binary`.
fn coerce_bytes(types: &[DataType]) -> Result<Vec<DataType>> {
    let [t] = types else {
        return Err(bq_error("hash functions take exactly one argument"));
    };
    let to = match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
            DataType::Utf8
        }
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => DataType::Binary,
        other => {
            return Err(bq_error(format!(
                "No matching signature for hash function for argument types: {other}; supported: STRING, BYTES"
            )));
        }
    };
    Ok(vec![to])
}

/// Calls `f` with each row's bytes (None for NULL).
fn for_each_bytes(array: &ArrayRef, mut f: impl FnMut(Option<&[u8]>)) {
    match array.data_type() {
        DataType::Utf8 => {
            for v in array.as_string::<i32>().iter() {
                f(v.map(str::as_bytes));
            }
        }
        _ => {
            for v in array.as_binary::<i32>().iter() {
                f(v);
            }
        }
    }
}

fn farm(args: &[ArrayRef], _: &DataType) -> Result<ArrayRef> {
    let mut out = Int64Builder::with_capacity(args[0].len());
    for_each_bytes(&args[0], |v| {
        out.append_option(v.map(|b| farmhash::fingerprint64(b) as i64))
    });
    Ok(Arc::new(out.finish()))
}

fn digest(args: &[ArrayRef], hash: impl Fn(&[u8]) -> Vec<u8>) -> Result<ArrayRef> {
    let mut out = BinaryBuilder::new();
    for_each_bytes(&args[0], |v| match v {
        Some(b) => out.append_value(hash(b)),
        None => out.append_null(),
    });
    Ok(Arc::new(out.finish()))
}

fn md5_bytes(b: &[u8]) -> Vec<u8> {
    use md5::Digest;
    Md5::digest(b).to_vec()
}

fn sha1_bytes(b: &[u8]) -> Vec<u8> {
    use sha1::Digest;
    Sha1::digest(b).to_vec()
}

fn sha256_bytes(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(b).to_vec()
}

fn sha512_bytes(b: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha512::digest(b).to_vec()
}
