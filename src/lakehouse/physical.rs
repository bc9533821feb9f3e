//! How BigQuery types that Delta Lake cannot hold are stored.
//!
//! Delta Lake has no TIME, no decimal wider than 38 digits and no INTERVAL. dap stores such a
//! top-level column as a Delta type that holds it exactly, and tags the field with its real type
//! (metadata key [`STORED_AS_KEY`]), so every reader of the warehouse (dap, or Spark/DuckDB reading
//! the Delta table) sees a well-defined value:
//!
//! | BigQuery type | Arrow (logical) | Delta (physical) | tag |
//! |---|---|---|---|
//! | TIME | Time64(µs) | long: microseconds since midnight | `TIME` |
//! | BIGNUMERIC(P, S) | Decimal256(P, S) | string: the exact decimal text | `DECIMAL256(P,S)` |
//! | INTERVAL | Interval(MonthDayNano) | struct<months int, days int, nanos long> | `INTERVAL` |
//!
//! Writes go through [`encode_plan`]; reads through [`decoded_provider`], which puts the decoding
//! projection on top of the Delta scan. Such types nested inside a STRUCT or ARRAY are refused
//! with `not supported: ...` ([`check_storable`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, Int32Array, Int64Array, IntervalMonthDayNanoArray, StructArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, IntervalMonthDayNano, IntervalUnit, Schema, SchemaRef,
    TimeUnit,
};
use datafusion::catalog::Session;
use datafusion::common::{Column, DataFusionError, Result as DfResult, exec_err};
use datafusion::datasource::{TableProvider, TableType, ViewTable, provider_as_source};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, TableProviderFilterPushDown, Volatility,
};
use datafusion::physical_plan::ExecutionPlan;

use crate::dialect::types::bq_type_name;
use crate::error::{DapError, Result};

/// Field metadata naming the type a stored column really has.
pub const STORED_AS_KEY: &str = "dap:stored_as";

/// The physical type and tag for a logical type Delta cannot store, if it is one.
fn encoding(dt: &DataType) -> Option<(DataType, String)> {
    match dt {
        DataType::Time64(TimeUnit::Microsecond) => Some((DataType::Int64, "TIME".into())),
        DataType::Decimal256(p, s) => Some((DataType::Utf8, format!("DECIMAL256({p},{s})"))),
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            Some((DataType::Struct(interval_fields()), "INTERVAL".into()))
        }
        _ => None,
    }
}

/// The logical type a tag stands for.
fn decoding(tag: &str) -> Option<DataType> {
    match tag {
        "TIME" => Some(DataType::Time64(TimeUnit::Microsecond)),
        "INTERVAL" => Some(DataType::Interval(IntervalUnit::MonthDayNano)),
        _ => {
            let inner = tag.strip_prefix("DECIMAL256(")?.strip_suffix(')')?;
            let (p, s) = inner.split_once(',')?;
            Some(DataType::Decimal256(
                p.trim().parse().ok()?,
                s.trim().parse().ok()?,
            ))
        }
    }
}

fn interval_fields() -> Fields {
    Fields::from(vec![
        Field::new("months", DataType::Int32, false),
        Field::new("days", DataType::Int32, false),
        Field::new("nanos", DataType::Int64, false),
    ])
}

fn tag_of(field: &Field) -> Option<&str> {
    field.metadata().get(STORED_AS_KEY).map(String::as_str)
}

/// Checks that every column of `schema` can be stored: the types of the module table are fine
/// at the top level, not nested.
pub fn check_storable(schema: &Schema) -> Result<()> {
    for f in schema.fields() {
        if encoding(f.data_type()).is_none() {
            check_field(f, f.name(), false)?;
        }
    }
    Ok(())
}

fn check_field(field: &Field, path: &str, nested: bool) -> Result<()> {
    match field.data_type() {
        DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Interval(_)
        | DataType::Duration(_)
        | DataType::Decimal256(..) => Err(DapError::not_supported(format!(
            "storing a {} value {} (column `{path}`)",
            bq_type_name(field),
            if nested {
                "inside a STRUCT or ARRAY column"
            } else {
                "of this precision"
            }
        ))),
        DataType::List(inner) | DataType::LargeList(inner) | DataType::FixedSizeList(inner, _) => {
            check_field(inner, path, true)
        }
        DataType::Struct(fields) => fields
            .iter()
            .try_for_each(|f| check_field(f, &format!("{path}.{}", f.name()), true)),
        _ => Ok(()),
    }
}

/// The schema as stored in Delta.
pub fn physical_schema(schema: &Schema) -> Result<Schema> {
    check_storable(schema)?;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match encoding(f.data_type()) {
            Some((physical, tag)) => {
                let mut md = f.metadata().clone();
                md.insert(STORED_AS_KEY.into(), tag);
                Field::new(f.name(), physical, f.is_nullable()).with_metadata(md)
            }
            None => f.as_ref().clone(),
        })
        .collect();
    Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The schema users see for a stored one.
pub fn logical_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match tag_of(f).and_then(decoding) {
            Some(dt) => {
                let mut md = f.metadata().clone();
                md.remove(STORED_AS_KEY);
                Field::new(f.name(), dt, f.is_nullable()).with_metadata(md)
            }
            None => f.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Whether a stored schema has encoded columns.
pub fn has_encoded(schema: &Schema) -> bool {
    schema.fields().iter().any(|f| tag_of(f).is_some())
}

/// Adds the encoding projection to a plan whose output is about to be written, when it has a
/// column of one of the module table's types (and makes NULL arrays empty: [`super::repeated`]).
pub fn encode_plan(plan: LogicalPlan) -> Result<LogicalPlan> {
    check_storable(plan.schema().as_arrow())?;
    let plan = super::repeated::fill_plan(plan)?;
    if !plan
        .schema()
        .fields()
        .iter()
        .any(|f| encoding(f.data_type()).is_some())
    {
        return Ok(plan);
    }
    let udf = Arc::new(ScalarUDF::new_from_impl(Codec::encode()));
    let exprs: Vec<Expr> = plan
        .schema()
        .iter()
        .map(|(q, f)| {
            let col = Expr::Column(Column::new(q.cloned(), f.name()));
            if encoding(f.data_type()).is_some() {
                udf.call(vec![col]).alias(f.name())
            } else {
                col.alias(f.name())
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// A provider showing a Delta table's logical types; the table itself when nothing is encoded.
pub fn decoded_provider(
    table: &str,
    inner: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>> {
    let schema = inner.schema();
    if !has_encoded(&schema) {
        return Ok(inner);
    }
    let udf = Arc::new(ScalarUDF::new_from_impl(Codec::decode()));
    let exprs: Vec<Expr> = schema
        .fields()
        .iter()
        .map(|f| {
            let col = Expr::Column(Column::new(Some(table), f.name()));
            if tag_of(f).is_some() {
                udf.call(vec![col]).alias(f.name())
            } else {
                col
            }
        })
        .collect();
    let plan = LogicalPlanBuilder::scan(table, provider_as_source(inner), None)?
        .project(exprs)?
        .build()?;
    let logical = Arc::new(logical_schema(&schema));
    Ok(Arc::new(Decoded {
        view: ViewTable::new(plan, None),
        schema: logical,
    }))
}

/// A Delta table seen through the decoding projection. It is a base table to its users.
#[derive(Debug)]
struct Decoded {
    view: ViewTable,
    schema: SchemaRef,
}

#[async_trait]
impl TableProvider for Decoded {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.view.supports_filters_pushdown(filters)
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.view.scan(state, projection, filters, limit).await
    }
}

/// The encoding (logical → stored) or decoding (stored → logical) of one column.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Codec {
    encode: bool,
    signature: Signature,
}

impl Codec {
    fn encode() -> Codec {
        Codec {
            encode: true,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
    fn decode() -> Codec {
        Codec {
            encode: false,
            signature: Signature::any(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Codec {
    fn name(&self) -> &str {
        if self.encode {
            "dap_store_encode"
        } else {
            "dap_store_decode"
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        exec_err!("return_field_from_args is used")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> DfResult<FieldRef> {
        let input = &args.arg_fields[0];
        if self.encode {
            let Some((physical, tag)) = encoding(input.data_type()) else {
                return exec_err!("cannot encode {}", input.data_type());
            };
            let md = HashMap::from([(STORED_AS_KEY.to_string(), tag)]);
            Ok(Arc::new(
                Field::new(input.name(), physical, true).with_metadata(md),
            ))
        } else {
            let Some(dt) = tag_of(input).and_then(decoding) else {
                return exec_err!("column {} has no stored type", input.name());
            };
            Ok(Arc::new(Field::new(input.name(), dt, true)))
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
        let array = args.args[0].to_array(args.number_rows)?;
        let target = args.return_field.data_type();
        let out = convert(&array, target)?;
        if scalar {
            Ok(ColumnarValue::Scalar(
                datafusion::common::ScalarValue::try_from_array(&out, 0)?,
            ))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

fn convert(array: &ArrayRef, target: &DataType) -> DfResult<ArrayRef> {
    match (array.data_type(), target) {
        (DataType::Interval(IntervalUnit::MonthDayNano), DataType::Struct(fields)) => {
            let iv = array
                .as_any()
                .downcast_ref::<IntervalMonthDayNanoArray>()
                .ok_or_else(|| DataFusionError::Internal("interval array".into()))?;
            let months: Int32Array = iv.iter().map(|v| Some(v.map_or(0, |v| v.months))).collect();
            let days: Int32Array = iv.iter().map(|v| Some(v.map_or(0, |v| v.days))).collect();
            let nanos: Int64Array = iv
                .iter()
                .map(|v| Some(v.map_or(0, |v| v.nanoseconds)))
                .collect();
            Ok(Arc::new(StructArray::try_new(
                fields.clone(),
                vec![Arc::new(months), Arc::new(days), Arc::new(nanos)],
                iv.nulls().cloned(),
            )?))
        }
        (DataType::Struct(_), DataType::Interval(IntervalUnit::MonthDayNano)) => {
            let s = array
                .as_any()
                .downcast_ref::<StructArray>()
                .ok_or_else(|| DataFusionError::Internal("struct array".into()))?;
            let part = |i: usize| s.column(i).clone();
            let months = part(0);
            let days = part(1);
            let nanos = part(2);
            let (Some(m), Some(d), Some(n)) = (
                months.as_any().downcast_ref::<Int32Array>(),
                days.as_any().downcast_ref::<Int32Array>(),
                nanos.as_any().downcast_ref::<Int64Array>(),
            ) else {
                return exec_err!("stored INTERVAL has an unexpected layout");
            };
            let out: IntervalMonthDayNanoArray = (0..s.len())
                .map(|i| {
                    (!s.is_null(i))
                        .then(|| IntervalMonthDayNano::new(m.value(i), d.value(i), n.value(i)))
                })
                .collect();
            Ok(Arc::new(out))
        }
        _ => Ok(datafusion::arrow::compute::cast(array, target)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip() {
        for dt in [
            DataType::Time64(TimeUnit::Microsecond),
            DataType::Decimal256(76, 38),
            DataType::Interval(IntervalUnit::MonthDayNano),
        ] {
            let (_, tag) = encoding(&dt).expect("encoded");
            assert_eq!(decoding(&tag), Some(dt));
        }
        let nested = Schema::new(vec![Field::new(
            "s",
            DataType::Struct(Fields::from(vec![Field::new(
                "t",
                DataType::Time64(TimeUnit::Microsecond),
                true,
            )])),
            true,
        )]);
        assert!(check_storable(&nested).is_err());
    }
}
