//! Parquet files (<https://cloud.google.com/bigquery/docs/loading-data-cloud-storage-parquet>):
//! the schema comes from the file; Arrow types are mapped to the ones dap stores for BigQuery
//! types (any integer → INT64, any float → FLOAT64, strings → STRING, binaries → BYTES, dates →
//! DATE, zoned timestamps → TIMESTAMP, zone-less → DATETIME, decimals → NUMERIC / BIGNUMERIC, lists →
//! ARRAY, structs → STRUCT). Other types (maps, unions, times, durations, intervals) fail naming the
//! column. Values are converted exactly: an unsigned 64-bit value that does not fit INT64 fails
//! the load.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{BATCH_ROWS, DecodeCtx, Emit, LoadError};
use crate::dialect::types::{
    BIGNUMERIC_PRECISION, BIGNUMERIC_SCALE, NUMERIC_PRECISION, NUMERIC_SCALE, datetime_type,
    timestamp_type,
};

fn reader(path: &Path) -> Result<ParquetRecordBatchReaderBuilder<std::fs::File>, LoadError> {
    let name = super::remote::display_name(path);
    if let Some(c) = super::source::compression(path) {
        return Err(LoadError::at(
            &name,
            format!(
                "not supported: compressed (.{c}) Parquet files (Parquet compresses its own pages)"
            ),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| LoadError::at(&name, e.to_string()))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| LoadError::at(&name, format!("not a Parquet file: {e}")))
}

/// The table schema a Parquet file loads as.
pub fn schema_of(path: &Path) -> Result<Schema, LoadError> {
    let name = super::remote::display_name(path);
    let builder = reader(path)?;
    let fields: Vec<Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| {
            bq_type(f.data_type(), f.name())
                .map(|dt| Field::new(f.name(), dt, true))
                .map_err(|e| LoadError::at(&name, e))
        })
        .collect::<Result<_, _>>()?;
    Ok(Schema::new(fields))
}

/// The Arrow type dap stores a Parquet column of type `dt` as.
fn bq_type(dt: &DataType, path: &str) -> Result<DataType, String> {
    use DataType::*;
    Ok(match dt {
        Null | Utf8 | LargeUtf8 | Utf8View => Utf8,
        Boolean => Boolean,
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => Int64,
        Float16 | Float32 | Float64 => Float64,
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => Binary,
        Date32 | Date64 => Date32,
        Timestamp(_, Some(_)) => timestamp_type(),
        Timestamp(_, None) => datetime_type(),
        Decimal128(p, s) | Decimal256(p, s)
            if *s >= 0 && *s <= NUMERIC_SCALE && (*p as i16 - *s as i16) <= 29 =>
        {
            Decimal128(NUMERIC_PRECISION, NUMERIC_SCALE)
        }
        Decimal128(p, s) | Decimal256(p, s)
            if *s >= 0 && *s <= BIGNUMERIC_SCALE && (*p as i16 - *s as i16) <= 38 =>
        {
            Decimal256(BIGNUMERIC_PRECISION, BIGNUMERIC_SCALE)
        }
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) | FixedSizeList(f, _) => {
            if matches!(
                f.data_type(),
                List(_) | LargeList(_) | ListView(_) | LargeListView(_) | FixedSizeList(..)
            ) {
                return Err(format!(
                    "not supported: Parquet column `{path}` is a list of lists (BigQuery has no ARRAY of ARRAY)"
                ));
            }
            List(Arc::new(Field::new(
                "element",
                bq_type(f.data_type(), path)?,
                true,
            )))
        }
        Struct(fields) => Struct(
            fields
                .iter()
                .map(|f| {
                    bq_type(f.data_type(), &format!("{path}.{}", f.name()))
                        .map(|dt| Field::new(f.name(), dt, true))
                })
                .collect::<Result<Fields, _>>()?,
        ),
        Dictionary(_, v) => bq_type(v, path)?,
        other => {
            return Err(format!(
                "not supported: Parquet column `{path}` of Arrow type {other}"
            ));
        }
    })
}

/// Decodes one file into batches of the load's schema (columns matched by name,
/// case-insensitively; a column the file lacks is NULL). Returns the bytes read.
pub fn decode(ctx: &DecodeCtx, path: &Path, emit: &mut Emit<'_>) -> Result<u64, LoadError> {
    let name = super::remote::display_name(path);
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let rdr = reader(path)?
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| LoadError::at(&name, e.to_string()))?;
    let mut row = 1u64;
    for batch in rdr {
        let batch = batch.map_err(|e| LoadError::at(&name, e.to_string()))?;
        let batch = conform(&batch, &ctx.schema).map_err(|e| LoadError::at(&name, e))?;
        let n = batch.num_rows() as u64;
        let lines: Vec<u64> = if ctx.source_columns {
            (row..row + n).collect()
        } else {
            Vec::new()
        };
        row += n;
        emit(ctx.finish(batch, &name, &lines)?)?;
    }
    Ok(bytes)
}

fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    let exact = CastOptions {
        safe: false,
        ..Default::default()
    };
    let src = batch.schema();
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| {
            match src
                .fields()
                .iter()
                .position(|s| s.name().eq_ignore_ascii_case(f.name()))
            {
                Some(i) => cast_with_options(batch.column(i), f.data_type(), &exact)
                    .map_err(|e| format!("column `{}`: {e}", f.name())),
                None => Ok(new_null_array(f.data_type(), batch.num_rows())),
            }
        })
        .collect::<Result<_, _>>()?;
    RecordBatch::try_new(schema.clone(), cols).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    #[test]
    fn types_map_to_bigquery_storage() {
        assert_eq!(bq_type(&DataType::UInt16, "a"), Ok(DataType::Int64));
        assert_eq!(bq_type(&DataType::Float32, "a"), Ok(DataType::Float64));
        assert_eq!(
            bq_type(&DataType::Timestamp(TimeUnit::Nanosecond, None), "a"),
            Ok(datetime_type())
        );
        assert_eq!(
            bq_type(&DataType::Decimal128(10, 2), "a"),
            Ok(DataType::Decimal128(38, 9))
        );
        let err = bq_type(&DataType::Time64(TimeUnit::Microsecond), "t").expect_err("refused");
        assert!(err.contains("`t`"), "{err}");
    }
}
