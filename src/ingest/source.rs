//! Where load data comes from: URIs (paths, globs, directories, `file://` URLs) expanded into a
//! sorted list of files, each opened as a stream and read record by
//! record. Reading is streaming for newline-delimited JSON; a JSON array or response envelope is
//! one document and is read whole.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use super::LoadError;

/// Expands URIs into files, sorted, without duplicates.
pub fn expand(uris: &[String]) -> Result<Vec<PathBuf>, LoadError> {
    let mut files = Vec::new();
    for uri in uris {
        let path = local_path(uri)?;
        let text = path.to_string_lossy().to_string();
        if text.contains(['*', '?', '[']) {
            let matches = glob::glob(&text)
                .map_err(|e| LoadError::at(uri, format!("bad glob pattern: {e}")))?;
            let before = files.len();
            for m in matches {
                let p = m.map_err(|e| LoadError::at(uri, e.to_string()))?;
                if p.is_file() {
                    files.push(p);
                }
            }
            if files.len() == before {
                return Err(LoadError::at(uri, "no files match"));
            }
        } else if path.is_dir() {
            let mut stack = vec![path.clone()];
            while let Some(dir) = stack.pop() {
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| LoadError::io(&dir.to_string_lossy(), e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| LoadError::io(&dir.to_string_lossy(), e))?;
                    let p = entry.path();
                    let hidden = p
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(['.', '_']));
                    if hidden {
                        continue;
                    }
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        files.push(p);
                    }
                }
            }
        } else if path.is_file() {
            files.push(path);
        } else {
            return Err(LoadError::at(uri, "no such file"));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// The local path of a URI; object-store URLs other than `file://` are refused by name.
pub fn local_path(uri: &str) -> Result<PathBuf, LoadError> {
    if let Some(scheme_end) = uri.find("://") {
        let scheme = &uri[..scheme_end];
        if scheme != "file" {
            return Err(LoadError::at(
                uri,
                format!(
                    "not supported: loading from {scheme}:// URLs (dap reads local files and file:// URLs)"
                ),
            ));
        }
        let url = Url::parse(uri).map_err(|e| LoadError::at(uri, e.to_string()))?;
        // Globs are not valid in to_file_path's view only when escaped; keep the raw path.
        return Ok(PathBuf::from(
            percent_decode(url.path()).unwrap_or_else(|| url.path().to_string()),
        ));
    }
    Ok(PathBuf::from(uri))
}

fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Opens a file for reading (compressed files are refused by name).
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, LoadError> {
    let name = path.to_string_lossy();
    let file = File::open(path).map_err(|e| LoadError::io(&name, e))?;
    let raw = BufReader::with_capacity(1 << 20, file);
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext @ ("gz" | "zst")) => Err(LoadError::at(
            &name,
            format!("not supported: compressed (.{ext}) load files; decompress them first"),
        )),
        _ => Ok(Box::new(raw)),
    }
}

/// One record read from a file, or why it is bad.
pub enum Record {
    Row(serde_json::Map<String, Value>),
    Bad { reason: String, text: String },
}

/// Reads every JSON record of a file and hands it to `f` with its line number (for a JSON array
/// or envelope, the 1-based position of the element). Detects the layout from the first byte:
/// `[` is a JSON array; with `json_path`, the file is one document whose `json_path` (dotted) is
/// the array of rows; otherwise newline-delimited JSON.
pub fn for_each_record(
    path: &Path,
    json_path: Option<&str>,
    mut f: impl FnMut(u64, Record) -> Result<(), LoadError>,
) -> Result<u64, LoadError> {
    let name = path.to_string_lossy().to_string();
    let mut reader = open(path)?;
    let first = loop {
        let buf = reader.fill_buf().map_err(|e| LoadError::io(&name, e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => break Some(buf[i]),
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    };
    let Some(first) = first else {
        return Ok(0);
    };
    if first == b'[' || json_path.is_some() {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| LoadError::io(&name, e))?;
        let size = bytes.len() as u64;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| LoadError {
            file: name.clone(),
            line: Some(e.line() as u64),
            column: Some(e.column() as u64),
            reason: format!("malformed JSON: {e}"),
        })?;
        drop(bytes);
        let mut node = doc;
        if let Some(p) = json_path {
            for part in p.split('.').filter(|s| !s.is_empty()) {
                node = match node {
                    Value::Object(mut m) => m.remove(part).ok_or_else(|| {
                        LoadError::at(&name, format!("json_path `{p}`: no field `{part}`"))
                    })?,
                    _ => {
                        return Err(LoadError::at(
                            &name,
                            format!("json_path `{p}`: `{part}` is not inside an object"),
                        ));
                    }
                };
            }
        }
        let items = match node {
            Value::Array(items) => items,
            Value::Object(m) => vec![Value::Object(m)],
            Value::Null => Vec::new(),
            _ => {
                return Err(LoadError::at(
                    &name,
                    "expected a JSON array (or object) of rows",
                ));
            }
        };
        for (i, item) in items.into_iter().enumerate() {
            let rec = match item {
                Value::Object(m) => Record::Row(m),
                other => Record::Bad {
                    reason: "row is not a JSON object".into(),
                    text: other.to_string(),
                },
            };
            f(i as u64 + 1, rec)?;
        }
        return Ok(size);
    }
    let mut size = 0u64;
    let mut line_no = 0u64;
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| LoadError::io(&name, e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        line_no += 1;
        let text = trim(&line);
        if text.is_empty() {
            continue;
        }
        let rec = match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(m)) => Record::Row(m),
            Ok(_) => Record::Bad {
                reason: "row is not a JSON object".into(),
                text: String::from_utf8_lossy(text).into_owned(),
            },
            Err(e) => Record::Bad {
                reason: format!("malformed JSON at column {}: {e}", e.column()),
                text: String::from_utf8_lossy(text).into_owned(),
            },
        };
        f(line_no, rec)?;
    }
    Ok(size)
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_store_urls_are_refused_by_name() {
        let err = local_path("s3://bucket/key.json").expect_err("refused");
        assert!(err.reason.contains("s3://"), "{}", err.reason);
        let err = local_path("gs://bucket/a/*.json").expect_err("refused");
        assert!(err.reason.contains("gs://"), "{}", err.reason);
        assert_eq!(
            local_path("file:///tmp/a%20b.json").expect("file url"),
            PathBuf::from("/tmp/a b.json")
        );
    }
}
