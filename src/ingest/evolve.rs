//! Schema evolution on append: the table schema after loading rows of a detected (or Parquet)
//! schema into an existing table. New fields (top level or nested) are added as NULLABLE; an
//! existing field keeps its type, or the load fails naming the field.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};

use super::infer::Ty;

/// The table schema after appending rows of the detected `fields` to a table with `current`.
pub(super) fn evolve(current: &Schema, fields: &[(String, Ty)]) -> Result<Schema, String> {
    let merged = evolve_fields(current.fields(), fields, "")?;
    Ok(Schema::new(merged))
}

fn evolve_fields(
    current: &Fields,
    incoming: &[(String, Ty)],
    path: &str,
) -> Result<Fields, String> {
    let mut out: Vec<Field> = current.iter().map(|f| f.as_ref().clone()).collect();
    for (name, ty) in incoming {
        let child = format!("{path}{}{name}", if path.is_empty() { "" } else { "." });
        match out.iter_mut().find(|f| f.name().eq_ignore_ascii_case(name)) {
            Some(f) => {
                let dt = evolve_type(f.data_type(), ty, &child)?;
                *f = f.clone().with_data_type(dt);
            }
            None => out.push(Field::new(
                name,
                ty.data_type()
                    .map_err(|e| format!("field `{child}`: {e}"))?,
                true,
            )),
        }
    }
    Ok(out.into())
}

fn evolve_type(current: &DataType, ty: &Ty, path: &str) -> Result<DataType, String> {
    let ok = match (current, ty) {
        (_, Ty::Null) => true,
        (DataType::Int64 | DataType::Float64 | DataType::Decimal128(..), Ty::Int) => true,
        (DataType::Float64, Ty::Float) => true,
        (DataType::Boolean, Ty::Bool) => true,
        (DataType::Date32, Ty::Date) => true,
        (
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View,
            Ty::String | Ty::Date | Ty::Timestamp,
        ) => true,
        (DataType::Timestamp(_, Some(_)), Ty::Timestamp) => true,
        (DataType::List(f) | DataType::LargeList(f), Ty::Array(t)) => {
            let inner = evolve_type(f.data_type(), t, path)?;
            let f = Arc::new(f.as_ref().clone().with_data_type(inner));
            return Ok(match current {
                DataType::LargeList(_) => DataType::LargeList(f),
                _ => DataType::List(f),
            });
        }
        (DataType::Struct(fields), Ty::Struct(incoming)) => {
            return Ok(DataType::Struct(evolve_fields(fields, incoming, path)?));
        }
        _ => false,
    };
    if ok {
        Ok(current.clone())
    } else {
        Err(format!(
            "field `{path}` is {} in the table but {} in the data",
            crate::dialect::types::bq_type_name(&Field::new(path, current.clone(), true)),
            ty.data_type()
                .map(|dt| crate::dialect::types::bq_type_name(&Field::new(path, dt, true)))
                .unwrap_or_else(|e| e)
        ))
    }
}

/// The table schema after appending a Parquet file's columns to a table with `current`: new
/// columns are added; an existing column must keep its type.
pub(super) fn evolve_schema(
    current: &Schema,
    incoming: &Schema,
) -> std::result::Result<Schema, String> {
    let mut out: Vec<Field> = current
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for f in incoming.fields() {
        match out.iter().find(|c| c.name().eq_ignore_ascii_case(f.name())) {
            Some(c) if c.data_type().equals_datatype(f.data_type()) => {}
            Some(c) => {
                return Err(format!(
                    "field `{}` is {} in the table but {} in the data",
                    f.name(),
                    crate::dialect::types::bq_type_name(c),
                    crate::dialect::types::bq_type_name(f)
                ));
            }
            None => out.push(f.as_ref().clone()),
        }
    }
    Ok(Schema::new(out))
}
