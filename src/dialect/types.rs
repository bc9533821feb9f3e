//! BigQuery data types ↔ Arrow types. The mapping is documented in `docs/types.md`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types>.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, IntervalUnit, TimeUnit};
use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType as SqlType, ExactNumberInfo, StructField,
};

use crate::error::{DapError, Result};

/// Arrow's canonical extension type for JSON text; dap's JSON columns carry it.
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";
pub const JSON_EXTENSION: &str = "arrow.json";

/// Precision and scale of BigQuery NUMERIC.
pub const NUMERIC_PRECISION: u8 = 38;
pub const NUMERIC_SCALE: i8 = 9;
/// Precision and scale of BigQuery BIGNUMERIC (76.76 digits; Arrow's Decimal256 holds 76).
pub const BIGNUMERIC_PRECISION: u8 = 76;
pub const BIGNUMERIC_SCALE: i8 = 38;

/// The timestamp time zone dap uses for BigQuery TIMESTAMP.
pub const UTC: &str = "UTC";

pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(UTC)))
}

pub fn datetime_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

pub fn json_metadata() -> HashMap<String, String> {
    HashMap::from([(EXTENSION_NAME_KEY.to_string(), JSON_EXTENSION.to_string())])
}

pub fn is_json(field: &Field) -> bool {
    field.metadata().get(EXTENSION_NAME_KEY).map(String::as_str) == Some(JSON_EXTENSION)
}

/// A column (or struct field / array element) of a BigQuery type.
pub fn field(name: &str, ty: &SqlType, nullable: bool) -> Result<Field> {
    if matches!(ty, SqlType::JSON) {
        return Ok(Field::new(name, DataType::Utf8, nullable).with_metadata(json_metadata()));
    }
    Ok(Field::new(name, arrow_type(ty)?, nullable))
}

/// The Arrow type dap uses for a BigQuery type name.
pub fn arrow_type(ty: &SqlType) -> Result<DataType> {
    let unsupported = || DapError::not_supported(format!("data type {ty}"));
    Ok(match ty {
        SqlType::Int64
        | SqlType::Int(_)
        | SqlType::Integer(_)
        | SqlType::BigInt(_)
        | SqlType::SmallInt(_)
        | SqlType::TinyInt(_) => DataType::Int64,
        SqlType::Float64 | SqlType::Double(_) | SqlType::DoublePrecision => DataType::Float64,
        SqlType::Bool | SqlType::Boolean => DataType::Boolean,
        SqlType::String(_) | SqlType::Text | SqlType::Varchar(_) => DataType::Utf8,
        SqlType::JSON => DataType::Utf8,
        SqlType::Bytes(_) => DataType::Binary,
        SqlType::Date => DataType::Date32,
        SqlType::Datetime(_) => datetime_type(),
        SqlType::Time(..) => DataType::Time64(TimeUnit::Microsecond),
        SqlType::Timestamp(..) => timestamp_type(),
        SqlType::Numeric(info) | SqlType::Decimal(info) | SqlType::Dec(info) => {
            let (p, s) = decimal_params(info, NUMERIC_PRECISION, NUMERIC_SCALE, 29, 9)?;
            DataType::Decimal128(p, s)
        }
        SqlType::BigNumeric(info) | SqlType::BigDecimal(info) => {
            let (p, s) = decimal_params(info, BIGNUMERIC_PRECISION, BIGNUMERIC_SCALE, 38, 38)?;
            DataType::Decimal256(p, s)
        }
        SqlType::Interval { .. } => DataType::Interval(IntervalUnit::MonthDayNano),
        SqlType::Array(elem) => {
            let inner = match elem {
                ArrayElemTypeDef::AngleBracket(t) | ArrayElemTypeDef::SquareBracket(t, _) => t,
                _ => return Err(unsupported()),
            };
            if matches!(inner.as_ref(), SqlType::Array(_)) {
                return Err(DapError::Invalid(
                    "ARRAY<ARRAY<...>> is not a BigQuery type: arrays of arrays are not allowed"
                        .into(),
                ));
            }
            DataType::List(Arc::new(field("element", inner, true)?))
        }
        SqlType::Struct(fields, _) => DataType::Struct(struct_fields(fields)?),
        _ => return Err(unsupported()),
    })
}

fn struct_fields(fields: &[StructField]) -> Result<Fields> {
    let mut out = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let name = f
            .field_name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_else(|| format!("_field_{}", i + 1));
        out.push(field(&name, &f.field_type, true)?);
    }
    Ok(Fields::from(out))
}

/// NUMERIC(P[, S]) / BIGNUMERIC(P[, S]) with BigQuery's bounds.
fn decimal_params(
    info: &ExactNumberInfo,
    default_p: u8,
    default_s: i8,
    max_integer_digits: u64,
    max_scale: i64,
) -> Result<(u8, i8)> {
    let (p, s) = match info {
        ExactNumberInfo::None => return Ok((default_p, default_s)),
        ExactNumberInfo::Precision(p) => (*p, 0),
        ExactNumberInfo::PrecisionAndScale(p, s) => (*p, *s),
    };
    if s < 0 || s > max_scale || p < 1 || (p as i64) < s || (p - s as u64) > max_integer_digits {
        return Err(DapError::Invalid(format!(
            "Invalid decimal parameters ({p}, {s}): scale must be in [0, {max_scale}] and precision - scale in [1, {max_integer_digits}]"
        )));
    }
    Ok((p as u8, s as i8))
}

/// BigQuery's name for the type of a column, as INFORMATION_SCHEMA.COLUMNS shows it.
pub fn bq_type_name(field: &Field) -> String {
    if is_json(field) {
        return "JSON".into();
    }
    bq_name_of(field.data_type())
}

fn bq_name_of(dt: &DataType) -> String {
    match dt {
        DataType::Null
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => "INT64".into(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "FLOAT64".into(),
        DataType::Boolean => "BOOL".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "STRING".into(),
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "BYTES".into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(_, None) => "DATETIME".into(),
        DataType::Timestamp(_, Some(_)) => "TIMESTAMP".into(),
        DataType::Time32(_) | DataType::Time64(_) => "TIME".into(),
        DataType::Interval(_) | DataType::Duration(_) => "INTERVAL".into(),
        DataType::Decimal128(p, s) if (*p, *s) == (NUMERIC_PRECISION, NUMERIC_SCALE) => {
            "NUMERIC".into()
        }
        DataType::Decimal32(p, s) | DataType::Decimal64(p, s) | DataType::Decimal128(p, s) => {
            format!("NUMERIC({p}, {s})")
        }
        DataType::Decimal256(p, s) if (*p, *s) == (BIGNUMERIC_PRECISION, BIGNUMERIC_SCALE) => {
            "BIGNUMERIC".into()
        }
        DataType::Decimal256(p, s) => format!("BIGNUMERIC({p}, {s})"),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _) => format!("ARRAY<{}>", bq_type_name(f)),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields
                .iter()
                .map(|f| format!("{} {}", f.name(), bq_type_name(f)))
                .collect();
            format!("STRUCT<{}>", inner.join(", "))
        }
        DataType::Dictionary(_, v) => bq_name_of(v),
        DataType::RunEndEncoded(_, v) => bq_name_of(v.data_type()),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::BigQueryDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn parse(ty: &str) -> SqlType {
        Parser::new(&BigQueryDialect)
            .try_with_sql(ty)
            .and_then(|mut p| p.parse_data_type())
            .expect("type parses")
    }

    #[test]
    fn round_trip_names() {
        for ty in [
            "INT64",
            "FLOAT64",
            "NUMERIC",
            "BIGNUMERIC",
            "BOOL",
            "STRING",
            "BYTES",
            "DATE",
            "DATETIME",
            "TIME",
            "TIMESTAMP",
            "JSON",
            "ARRAY<STRING>",
            "STRUCT<a INT64, b ARRAY<DATE>>",
            "NUMERIC(10, 2)",
        ] {
            let f = field("c", &parse(ty), true).expect("maps");
            assert_eq!(bq_type_name(&f), ty);
        }
    }
}
