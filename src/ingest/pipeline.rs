//! The decoding pipeline of pass 2 (and the unit reader pass 1 shares): a reader thread splits
//! files into units (newline-aligned JSON chunks, the rows of JSON documents as such chunks, whole
//! CSV / Parquet files),
//! a bounded channel hands them to parallel blocking tasks, and their batches go through another
//! bounded channel to the Delta writer. The first failure is kept and ends the batch stream with an
//! error, so nothing is committed.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use datafusion::arrow::array::{
    ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use futures::StreamExt;

use super::infer::Ty;
use super::{BadRecord, LoadError, SourceFormat, csv, json, parquet, source, split};

/// Rows per decoded batch.
pub const BATCH_ROWS: usize = 8192;
/// Bytes per newline-delimited chunk.
const CHUNK_BYTES: usize = 4 << 20;

/// Where decoded batches go (a bounded channel into the Delta writer).
pub type Emit<'a> = dyn FnMut(RecordBatch) -> std::result::Result<(), LoadError> + 'a;

/// Everything a decoding task needs.
pub struct DecodeCtx {
    pub format: SourceFormat,
    /// The table's data columns.
    pub schema: SchemaRef,
    /// `schema` plus, with `source_columns`, the source columns.
    pub out: SchemaRef,
    pub source_columns: bool,
    pub loaded_at: i64,
    pub bad: BadLog,
    pub json_path: Option<String>,
    pub csv: csv::CsvOptions,
    /// Header rows to skip per CSV file, as detected.
    pub csv_skips: HashMap<PathBuf, u64>,
    /// With a schema detected from a sample: the detected type (a [`Ty::Struct`]) every
    /// newline-delimited chunk is checked against.
    pub check: Option<Ty>,
    /// Set when a chunk would change the sampled schema (the load is redone with a full scan).
    pub drift: AtomicBool,
    /// Whether newline-delimited chunks go through [`super::direct`] first.
    pub direct: bool,
}

impl DecodeCtx {
    /// Adds the source columns (when asked for) to a batch of `schema`; `lines` holds each row's
    /// line.
    pub fn finish(
        &self,
        batch: RecordBatch,
        file: &str,
        lines: &[u64],
    ) -> std::result::Result<RecordBatch, LoadError> {
        if !self.source_columns {
            return Ok(batch);
        }
        let n = batch.num_rows();
        let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
        cols.push(Arc::new(StringArray::from(vec![file; n])));
        cols.push(Arc::new(Int64Array::from_iter(
            (0..n).map(|i| lines.get(i).map(|l| *l as i64)),
        )));
        cols.push(Arc::new(
            TimestampMicrosecondArray::from(vec![self.loaded_at; n])
                .with_timezone(crate::dialect::types::UTC),
        ));
        RecordBatch::try_new(self.out.clone(), cols).map_err(|e| LoadError::at(file, e.to_string()))
    }

    fn csv_skip(&self, path: &PathBuf) -> u64 {
        self.csv_skips
            .get(path)
            .copied()
            .unwrap_or(self.csv.skip_leading_rows.unwrap_or(0))
    }
}

/// The bad records of a load, shared by its decoding tasks.
pub struct BadLog {
    max: u64,
    count: AtomicU64,
    pub(super) over: AtomicBool,
    pub(super) records: parking_lot::Mutex<Vec<BadRecord>>,
}

impl BadLog {
    pub(super) fn new(max: u64) -> Self {
        BadLog {
            max,
            count: AtomicU64::new(0),
            over: AtomicBool::new(false),
            records: parking_lot::Mutex::new(Vec::new()),
        }
    }

    /// Keeps a bad record; fails once there are more than `max_bad_records` (the load stops).
    pub fn push(&self, b: BadRecord) -> std::result::Result<(), LoadError> {
        let file = b.file.clone();
        self.records.lock().push(b);
        if self.count.fetch_add(1, Ordering::Relaxed) + 1 > self.max {
            self.over.store(true, Ordering::Relaxed);
            return Err(LoadError::at(&file, "too many bad records"));
        }
        Ok(())
    }
}

/// A piece of work: a chunk of newline-delimited JSON (or of the rows of a JSON document, one per
/// line), or a whole CSV or Parquet file (read batch by batch by its task).
pub(super) enum Unit {
    Lines {
        file: Arc<str>,
        chunk: source::Chunk,
    },
    File {
        path: PathBuf,
    },
}

/// Reading only the first bytes of each newline-delimited JSON file (schema detection from a
/// sample).
pub(super) struct Sample {
    /// Bytes read per file (whole lines, at least this many).
    pub per_file: u64,
    /// Set when some file was not read to its end.
    pub cut: AtomicBool,
}

/// The units of `files`, read on their own thread (a bounded channel keeps memory bounded).
/// `bytes` counts the JSON bytes read. With `sample`, JSON files are read only up to its size.
pub(super) fn units(
    files: Vec<PathBuf>,
    format: SourceFormat,
    json_path: Option<String>,
    bytes: Arc<AtomicU64>,
    sample: Option<Arc<Sample>>,
) -> impl futures::Stream<Item = std::result::Result<Unit, LoadError>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        for path in files {
            let r = match format {
                SourceFormat::Csv | SourceFormat::Parquet => {
                    tx.blocking_send(Ok(Unit::File { path })).map_err(|_| None)
                }
                _ => json_units(&path, json_path.as_deref(), &bytes, &tx, sample.as_deref()),
            };
            match r {
                Ok(()) => {}
                Err(Some(e)) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
                Err(None) => return,
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
}

type UnitSender = tokio::sync::mpsc::Sender<std::result::Result<Unit, LoadError>>;

/// Splits one JSON file into newline-delimited chunks: as they are, or, when the file starts
/// with `[` or rows sit under a `json_path`, the rows of the document split off as it streams
/// ([`split`]), one per line. `Err(None)`: the receiver is gone.
fn json_units(
    path: &std::path::Path,
    json_path: Option<&str>,
    bytes: &AtomicU64,
    tx: &UnitSender,
    sample: Option<&Sample>,
) -> std::result::Result<(), Option<LoadError>> {
    let file: Arc<str> = super::remote::display_name(path).into();
    let mut reader = source::open(path)?;
    let mut sent = 0u64;
    // Hands a chunk on; `Ok(false)` once a sample has read enough of this file.
    let mut send = |chunk: source::Chunk| -> std::result::Result<bool, Option<LoadError>> {
        sent += chunk.bytes.len() as u64;
        tx.blocking_send(Ok(Unit::Lines {
            file: file.clone(),
            chunk,
        }))
        .map_err(|_| None)?;
        if let Some(s) = sample
            && sent >= s.per_file
        {
            s.cut.store(true, Ordering::Relaxed);
            return Ok(false);
        }
        Ok(true)
    };
    let first = reader
        .fill_buf()
        .map_err(|e| LoadError::io(&file, e))?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    if json_path.is_none() && first != Some(b'[') {
        for chunk in source::LineChunks::new(reader, CHUNK_BYTES) {
            let chunk = chunk.map_err(|e| LoadError::io(&file, e))?;
            bytes.fetch_add(chunk.bytes.len() as u64, Ordering::Relaxed);
            if !send(chunk)? {
                return Ok(());
            }
        }
        return Ok(());
    }
    let mut splitter = split::Splitter::new(&file, json_path, CHUNK_BYTES);
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Some(LoadError::io(&file, e))),
        };
        bytes.fetch_add(n as u64, Ordering::Relaxed);
        splitter.feed(&buf[..n])?;
        while let Some(chunk) = splitter.ready() {
            if !send(chunk)? {
                return Ok(());
            }
        }
    }
    if let Some(chunk) = splitter.finish()? {
        send(chunk)?;
    }
    Ok(())
}

/// Decodes the units in parallel into `tx`; the first failure is kept in `failure` and ends the
/// stream with an error (so nothing is committed).
pub(super) async fn drive(
    units: impl futures::Stream<Item = std::result::Result<Unit, LoadError>> + Send + 'static,
    ctx: Arc<DecodeCtx>,
    tx: tokio::sync::mpsc::Sender<datafusion::error::Result<RecordBatch>>,
    bytes: Arc<AtomicU64>,
    failure: Arc<parking_lot::Mutex<Option<LoadError>>>,
    progress: Option<indicatif::ProgressBar>,
    parallel: usize,
) {
    let results = units
        .map(|u| {
            let ctx = ctx.clone();
            let tx = tx.clone();
            let bytes = bytes.clone();
            tokio::task::spawn_blocking(move || {
                let mut emit = |b: RecordBatch| {
                    tx.blocking_send(Ok(b))
                        .map_err(|_| LoadError::at("", "the writer stopped"))
                };
                decode_unit(&ctx, u?, &bytes, &mut emit)
            })
        })
        .buffer_unordered(parallel);
    futures::pin_mut!(results);
    while let Some(r) = results.next().await {
        if let Some(bar) = &progress {
            bar.set_message(format!(
                "{:.1} MB",
                bytes.load(Ordering::Relaxed) as f64 / 1e6
            ));
        }
        let r = r.map_err(|e| LoadError::at("", format!("load task failed: {e}")));
        if let Err(e) | Ok(Err(e)) = r {
            if !tx.is_closed() {
                failure.lock().get_or_insert(e);
                let _ = tx
                    .send(Err(DataFusionError::Execution("load failed".into())))
                    .await;
            }
            return;
        }
    }
}

fn decode_unit(
    ctx: &DecodeCtx,
    unit: Unit,
    bytes: &AtomicU64,
    emit: &mut Emit<'_>,
) -> std::result::Result<(), LoadError> {
    match unit {
        Unit::Lines { file, chunk } => json::decode_lines(ctx, &file, &chunk, emit),
        Unit::File { path } => {
            let n = match ctx.format {
                SourceFormat::Parquet => parquet::decode(ctx, &path, emit)?,
                _ => csv::decode(ctx, &path, ctx.csv_skip(&path), emit)?,
            };
            bytes.fetch_add(n, Ordering::Relaxed);
            Ok(())
        }
    }
}
