//! Where load data comes from: URIs (paths, globs, directories, `file://` URLs) expanded into a
//! sorted list of files, each opened as a stream and read record by
//! record. Reading is streaming for every format: newline-delimited JSON in newline-aligned
//! chunks, a JSON array or response envelope through [`super::split`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;
use url::Url;

use super::{LoadError, SourceFormat};

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

/// The local path of a URI. `s3://` and `gs://` URIs are downloaded first (see
/// [`super::remote`]); other object-store schemes are parsed (see [`remote`]) and refused by name.
pub fn local_path(uri: &str) -> Result<PathBuf, LoadError> {
    if let Some(scheme_end) = uri.find("://") {
        let scheme = &uri[..scheme_end];
        if scheme != "file" {
            let r = remote(uri)?;
            return Err(LoadError::at(
                uri,
                format!(
                    "not supported: loading from {}:// URLs (bucket `{}`, path `{}`): dap reads \
                     local files, file://, s3:// and gs:// URLs; copy the objects locally first",
                    r.scheme, r.bucket, r.path
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

/// An object-store URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUri {
    /// `s3`, `gs`, `az`, ...
    pub scheme: String,
    pub bucket: String,
    /// The object key or prefix (may hold a glob).
    pub path: String,
}

/// Parses an object-store URL with object_store's own scheme rules (`s3://bucket/key`,
/// `gs://bucket/key`, `az://`, `http(s)://`...).
pub fn remote(uri: &str) -> Result<RemoteUri, LoadError> {
    let url = Url::parse(uri).map_err(|e| LoadError::at(uri, format!("bad URL: {e}")))?;
    let (scheme, path) = object_store::ObjectStoreScheme::parse(&url)
        .map_err(|e| LoadError::at(uri, format!("not supported: URL scheme: {e}")))?;
    let bucket = url.host_str().unwrap_or_default().to_string();
    if bucket.is_empty() {
        return Err(LoadError::at(uri, "object-store URL has no bucket"));
    }
    let scheme = match scheme {
        object_store::ObjectStoreScheme::AmazonS3 => "s3",
        object_store::ObjectStoreScheme::GoogleCloudStorage => "gs",
        object_store::ObjectStoreScheme::MicrosoftAzure => "az",
        object_store::ObjectStoreScheme::Http => "http",
        object_store::ObjectStoreScheme::Memory => "memory",
        object_store::ObjectStoreScheme::Local => "file",
        _ => url.scheme(),
    };
    Ok(RemoteUri {
        scheme: scheme.to_string(),
        bucket,
        path: percent_decode(path.as_ref()).unwrap_or_else(|| path.to_string()),
    })
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

/// Opens a file for reading; `.gz` (gzip, also multi-member) and `.zst` (zstandard) files are
/// decompressed on the fly.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, LoadError> {
    let name = path.to_string_lossy();
    let file = File::open(path).map_err(|e| LoadError::io(&name, e))?;
    let raw = BufReader::with_capacity(1 << 20, file);
    Ok(match compression(path) {
        Some("gz") => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(raw),
        )),
        Some(_) => Box::new(BufReader::with_capacity(
            1 << 20,
            zstd::stream::read::Decoder::with_buffer(raw).map_err(|e| LoadError::io(&name, e))?,
        )),
        None => Box::new(raw),
    })
}

/// `gz` or `zst` when the file name says it is compressed.
pub fn compression(path: &Path) -> Option<&'static str> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("gz") => Some("gz"),
        Some(e) if e.eq_ignore_ascii_case("zst") => Some("zst"),
        _ => None,
    }
}

/// The format a file name implies (`.json`, `.ndjson`, `.jsonl`, `.csv`, `.tsv`, `.parquet`, each
/// optionally followed by `.gz` or `.zst`).
pub fn format_of_name(path: &Path) -> Option<SourceFormat> {
    let inner = if compression(path).is_some() {
        Path::new(path.file_stem()?)
    } else {
        path
    };
    let ext = inner.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" | "ndjson" | "jsonl" => Some(SourceFormat::Json),
        "csv" | "tsv" => Some(SourceFormat::Csv),
        "parquet" | "pq" => Some(SourceFormat::Parquet),
        _ => None,
    }
}

/// Newline-aligned chunks of a stream: each chunk ends at a newline (or the end of the stream)
/// and knows the 1-based number of its first line. Memory is one chunk plus one partial line.
pub struct LineChunks<R> {
    reader: R,
    next_line: u64,
    target: usize,
    carry: Vec<u8>,
    done: bool,
}

/// One newline-aligned chunk.
pub struct Chunk {
    pub first_line: u64,
    pub bytes: Vec<u8>,
}

impl<R: Read> LineChunks<R> {
    pub fn new(reader: R, target: usize) -> Self {
        LineChunks {
            reader,
            next_line: 1,
            target,
            carry: Vec::new(),
            done: false,
        }
    }
}

impl<R: Read> Iterator for LineChunks<R> {
    type Item = std::io::Result<Chunk>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = Vec::with_capacity(self.target.max(self.carry.len()) + (64 << 10));
        buf.append(&mut self.carry);
        let mut want = self.target;
        loop {
            if buf.len() < want {
                let need = (want - buf.len()) as u64;
                match (&mut self.reader).take(need).read_to_end(&mut buf) {
                    Ok(0) => {
                        self.done = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
                if buf.len() < want {
                    continue;
                }
            }
            match memchr::memrchr(b'\n', &buf) {
                Some(pos) => {
                    self.carry = buf[pos + 1..].to_vec();
                    buf.truncate(pos + 1);
                    break;
                }
                // One line longer than the chunk: read on.
                None => want = buf.len() + self.target,
            }
        }
        if buf.is_empty() {
            return None;
        }
        let first_line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &buf).count() as u64;
        Some(Ok(Chunk {
            first_line,
            bytes: buf,
        }))
    }
}

/// The lines of a chunk with their 1-based numbers, trimmed; blank lines are skipped.
pub fn lines(chunk: &Chunk) -> impl Iterator<Item = (u64, &[u8])> {
    chunk
        .bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (chunk.first_line + i as u64, trim(l)))
        .filter(|(_, l)| !l.is_empty())
}

/// One record of a JSON document, or why it is bad.
pub enum Record {
    Row(serde_json::Map<String, Value>),
    Bad { reason: String, text: String },
}

/// A malformed-document error with its line and column.
pub fn malformed(name: &str, e: &serde_json::Error) -> LoadError {
    LoadError {
        file: name.to_string(),
        line: Some(e.line() as u64),
        column: Some(e.column() as u64),
        reason: format!("malformed JSON: {e}"),
    }
}

pub fn trim(b: &[u8]) -> &[u8] {
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
    fn chunks_end_at_newlines_and_count_lines() {
        let text = b"{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}";
        let chunks: Vec<Chunk> = LineChunks::new(&text[..], 4)
            .collect::<Result<_, _>>()
            .expect("reads");
        let rows: Vec<(u64, String)> = chunks
            .iter()
            .flat_map(|c| lines(c).map(|(n, l)| (n, String::from_utf8_lossy(l).into_owned())))
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, "{\"a\":1}".to_string()),
                (3, "{\"a\":2}".to_string()),
                (4, "{\"a\":3}".to_string())
            ]
        );
        assert!(
            chunks
                .iter()
                .all(|c| c.bytes.ends_with(b"\n") || c.bytes.ends_with(b"}"))
        );
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            format_of_name(Path::new("a.csv.gz")),
            Some(SourceFormat::Csv)
        );
        assert_eq!(
            format_of_name(Path::new("a.ndjson.zst")),
            Some(SourceFormat::Json)
        );
        assert_eq!(
            format_of_name(Path::new("a.parquet")),
            Some(SourceFormat::Parquet)
        );
        assert_eq!(format_of_name(Path::new("a.txt")), None);
    }

    #[test]
    fn object_store_urls_are_refused_by_name() {
        let err = local_path("az://container/key.json").expect_err("refused");
        assert!(err.reason.contains("az://"), "{}", err.reason);
        assert!(err.reason.starts_with("not supported"), "{}", err.reason);
        assert_eq!(
            remote("gs://bucket/a/*.json").expect("parses"),
            RemoteUri {
                scheme: "gs".into(),
                bucket: "bucket".into(),
                path: "a/*.json".into()
            }
        );
        assert_eq!(
            remote("s3://b/k.json.gz").expect("parses").path,
            "k.json.gz"
        );
        assert!(remote("s3:///k.json").is_err());
        assert_eq!(
            local_path("file:///tmp/a%20b.json").expect("file url"),
            PathBuf::from("/tmp/a b.json")
        );
    }
}
