//! Which Arrow types a Delta table can store.
//!
//! Delta Lake has no TIME, no decimal wider than 38 digits and no INTERVAL. Until dap maps those
//! BigQuery types onto storable ones, a table with such a column is refused up front with
//! `not supported: ...` rather than failing half-way through a write.

use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::dialect::types::bq_type_name;
use crate::error::{DapError, Result};

/// Checks that every column of `schema` can be stored in a Delta table.
pub fn check_storable(schema: &Schema) -> Result<()> {
    for f in schema.fields() {
        check_field(f, f.name())?;
    }
    Ok(())
}

fn check_field(field: &Field, path: &str) -> Result<()> {
    let refuse = || {
        Err(DapError::not_supported(format!(
            "storing a {} column in a table (column `{path}`)",
            bq_type_name(field)
        )))
    };
    match field.data_type() {
        DataType::Time32(_) | DataType::Time64(_) => refuse(),
        DataType::Decimal256(p, _) if *p > 38 => refuse(),
        DataType::Interval(_) | DataType::Duration(_) => refuse(),
        DataType::List(inner) | DataType::LargeList(inner) | DataType::FixedSizeList(inner, _) => {
            check_field(inner, path)
        }
        DataType::Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_field(f, &format!("{path}.{}", f.name()))),
        _ => Ok(()),
    }
}
