//! DML: INSERT, UPDATE, DELETE and MERGE on Delta tables, through deltalake's operations (one
//! atomic commit each). Expressions are planned by dap's own planner (BigQuery names and
//! rewrites) and handed to deltalake as DataFusion expressions.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax>.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr as DfExpr, LogicalPlan, LogicalPlanBuilder, cast, lit};
use datafusion::sql::sqlparser::ast::{
    Assignment, AssignmentTarget, Delete, FromTable, Insert, Merge, MergeAction, MergeClauseKind,
    MergeInsertKind, ObjectName, SetExpr, Statement, TableFactor, TableObject, Update,
};
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;

use super::{Engine, StatementOutput};
use crate::dialect::types::bq_type_name;
use crate::error::{DapError, Result};
use crate::lakehouse::names::{TableName, name_parts};
use crate::lakehouse::physical;

fn rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// Whether BigQuery coerces a value of type `src` into a column of type `dst` on assignment
/// (INSERT, UPDATE SET, MERGE): same type, INT64 → NUMERIC/BIGNUMERIC/FLOAT64, NUMERIC →
/// BIGNUMERIC/FLOAT64, NULL → anything, and STRING literals into date/time types.
fn assignable(src: &DataType, dst: &Field) -> bool {
    let (s, d) = (
        bq_type_name(&Field::new("", src.clone(), true)),
        bq_type_name(dst),
    );
    if s == d || src == &DataType::Null {
        return true;
    }
    let base = |t: &str| t.split('(').next().unwrap_or(t).to_string();
    let (sb, db) = (base(&s), base(&d));
    if sb == db {
        return true;
    }
    matches!(
        (sb.as_str(), db.as_str()),
        ("INT64", "NUMERIC" | "BIGNUMERIC" | "FLOAT64")
            | ("NUMERIC", "BIGNUMERIC" | "FLOAT64")
            | ("BIGNUMERIC", "FLOAT64")
            // Literal coercion: `1.5` into NUMERIC; DATETIME into TIMESTAMP (read as UTC).
            | ("FLOAT64", "NUMERIC" | "BIGNUMERIC")
            | ("DATETIME", "TIMESTAMP")
            | ("STRING", "DATE" | "DATETIME" | "TIME" | "TIMESTAMP" | "JSON")
    ) || (sb.starts_with("STRUCT") && db.starts_with("STRUCT"))
        || (sb.starts_with("ARRAY") && db.starts_with("ARRAY"))
}

fn coerce(expr: DfExpr, src: &DataType, dst: &Field, what: &str) -> Result<DfExpr> {
    if !assignable(src, dst) {
        return Err(DapError::Invalid(format!(
            "{what} has type {} which cannot be assigned to column {}, which has type {}",
            bq_type_name(&Field::new("", src.clone(), true)),
            dst.name(),
            bq_type_name(dst)
        )));
    }
    let expr = match (src, dst.data_type()) {
        (s, d) if s == d => expr,
        (DataType::Struct(sf), DataType::Struct(df))
            if sf.len() == df.len()
                && sf.iter().zip(df.iter()).any(|(a, b)| a.name() != b.name()) =>
        {
            // BigQuery assigns STRUCT fields by position (`STRUCT(1, 'x')` into STRUCT<a, b>).
            let mut args = Vec::with_capacity(df.len() * 2);
            for (s_field, d_field) in sf.iter().zip(df.iter()) {
                args.push(lit(d_field.name().as_str()));
                args.push(coerce(
                    datafusion::functions::core::expr_fn::get_field(
                        expr.clone(),
                        s_field.name().as_str(),
                    ),
                    s_field.data_type(),
                    d_field,
                    what,
                )?);
            }
            let built = datafusion::functions::core::expr_fn::named_struct(args);
            datafusion::logical_expr::when(
                expr.is_null(),
                lit(ScalarValue::try_from(dst.data_type())?),
            )
            .otherwise(built)?
        }
        _ => cast(expr, dst.data_type().clone()),
    };
    // A NULL array assigned to a column is stored as an empty one.
    Ok(crate::lakehouse::repeated::fill_expr(expr, dst.data_type()))
}

/// Drops table qualifiers from column references (deltalake's UPDATE/DELETE see bare columns).
fn unqualify(expr: DfExpr) -> Result<DfExpr> {
    Ok(expr
        .transform(|e| {
            Ok(match e {
                DfExpr::Column(c) if c.relation.is_some() => {
                    Transformed::yes(DfExpr::Column(Column::new_unqualified(c.name)))
                }
                other => Transformed::no(other),
            })
        })?
        .data)
}

/// An alias as DataFusion sees it (unquoted identifiers fold to lower case).
fn normalized(i: &datafusion::sql::sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

fn column_name(name: &ObjectName) -> String {
    name_parts(name).last().cloned().unwrap_or_default()
}

fn assignment_column(a: &Assignment) -> Result<String> {
    match &a.target {
        AssignmentTarget::ColumnName(n) => Ok(column_name(n)),
        AssignmentTarget::Tuple(_) => Err(DapError::not_supported("tuple assignment in SET")),
    }
}

impl Engine {
    /// The table's columns with their BigQuery (logical) types.
    fn table_schema(table: &DeltaTable, name: &TableName) -> Result<SchemaRef> {
        let stored = Self::stored_schema(table, name)?;
        Ok(Arc::new(physical::logical_schema(&stored)))
    }

    /// The table's columns as stored in Delta ([`physical`]).
    fn stored_schema(table: &DeltaTable, name: &TableName) -> Result<SchemaRef> {
        Ok(table
            .snapshot()
            .map_err(|e| DapError::delta(name.to_string(), e))?
            .snapshot()
            .arrow_schema())
    }

    /// Whether deltalake's own UPDATE/DELETE/MERGE can run on the table: not when it has
    /// columns stored in another type ([`physical`]), whose expressions it cannot evaluate.
    fn stored_as_is(table: &DeltaTable, name: &TableName) -> Result<bool> {
        let stored = Self::stored_schema(table, name)?;
        Ok(!physical::has_encoded(&stored))
    }

    fn target_field<'a>(
        schema: &'a SchemaRef,
        column: &str,
        name: &TableName,
    ) -> Result<&'a Field> {
        schema
            .fields()
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(column))
            .map(|f| f.as_ref())
            .ok_or_else(|| {
                DapError::Invalid(format!("Column {column} is not present in table {name}"))
            })
    }

    /// Plans `SELECT e1, e2, ... FROM <from>` and returns the planned expressions.
    async fn plan_exprs(&self, exprs: &[String], from: &str) -> Result<Vec<(DfExpr, DataType)>> {
        if exprs.is_empty() {
            return Ok(Vec::new());
        }
        let items: Vec<String> = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("({e}) AS __dap_e{i}"))
            .collect();
        let sql = format!("SELECT {} FROM {from}", items.join(", "));
        let plan = self.plan(super::script::parse_one(&sql)?).await?;
        let LogicalPlan::Projection(p) = &plan else {
            return Err(DapError::not_supported(
                "this expression in a DML statement (aggregates, window functions)",
            ));
        };
        let mut out = Vec::with_capacity(p.expr.len());
        for e in &p.expr {
            let e = e.clone().unalias();
            if e.exists(|x| {
                Ok(matches!(
                    x,
                    DfExpr::ScalarSubquery(_) | DfExpr::Exists(_) | DfExpr::InSubquery(_)
                ))
            })? {
                return Err(DapError::not_supported("subqueries in DML expressions"));
            }
            let ty = datafusion::logical_expr::ExprSchemable::get_type(&e, p.input.schema())?;
            out.push((e, ty));
        }
        Ok(out)
    }

    pub(super) async fn insert(&self, insert: Insert) -> Result<StatementOutput> {
        let TableObject::TableName(target) = &insert.table else {
            return Err(DapError::not_supported("INSERT INTO TABLE FUNCTION"));
        };
        if insert.overwrite {
            return Err(DapError::not_supported("INSERT OVERWRITE"));
        }
        let name = self.names.resolve(target)?;
        let table = self.delta_table(&name).await?;
        let schema = Self::table_schema(&table, &name)?;
        let source = insert
            .source
            .ok_or_else(|| DapError::Invalid("INSERT needs VALUES or a query".into()))?;
        if let SetExpr::Values(v) = source.body.as_ref()
            && v.rows.is_empty()
        {
            return Err(DapError::Invalid(
                "INSERT VALUES needs at least one row".into(),
            ));
        }
        let plan = self.plan(Statement::Query(source)).await?;
        let columns: Vec<String> = if insert.columns.is_empty() {
            schema.fields().iter().map(|f| f.name().clone()).collect()
        } else {
            insert.columns.iter().map(column_name).collect()
        };
        let src_schema = plan.schema().clone();
        if src_schema.fields().len() != columns.len() {
            return Err(DapError::Invalid(format!(
                "Inserted row has wrong column count; Has {}, {} expected",
                src_schema.fields().len(),
                columns.len()
            )));
        }
        let mut exprs = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let pos = columns
                .iter()
                .position(|c| c.eq_ignore_ascii_case(field.name()));
            let expr = match pos {
                Some(i) => {
                    let (q, f) = src_schema.qualified_field(i);
                    coerce(
                        DfExpr::Column(Column::new(q.cloned(), f.name())),
                        f.data_type(),
                        field,
                        &format!("Query column {}", i + 1),
                    )?
                }
                None if !field.is_nullable() => {
                    return Err(DapError::Invalid(format!(
                        "Required field {} cannot be null",
                        field.name()
                    )));
                }
                None => cast(lit(ScalarValue::Null), field.data_type().clone()),
            };
            exprs.push(expr.alias(field.name()));
        }
        for c in &columns {
            Self::target_field(&schema, c, &name)?;
        }
        let plan = physical::encode_plan(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)?;
        let table = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_save_mode(SaveMode::Append)
            .with_session_state(Arc::new(self.context().state()))
            .await
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        let added = last_commit_metric(&table, "num_added_rows").await;
        Ok(StatementOutput::Message(format!(
            "This statement added {} to {name}.",
            rows(added)
        )))
    }

    pub(super) async fn update(&self, update: Update) -> Result<StatementOutput> {
        if !update.table.joins.is_empty() {
            return Err(DapError::not_supported("UPDATE with joins"));
        }
        let Some(selection) = &update.selection else {
            return Err(DapError::Invalid("UPDATE must have a WHERE clause".into()));
        };
        if let Some(from) = &update.from {
            return Box::pin(self.update_from(&update, from, selection)).await;
        }
        let TableFactor::Table { name: target, .. } = &update.table.relation else {
            return Err(DapError::Invalid("UPDATE needs a table name".into()));
        };
        let name = self.names.resolve(target)?;
        let table = self.delta_table(&name).await?;
        let schema = Self::table_schema(&table, &name)?;
        if has_subquery(selection)
            || update.assignments.iter().any(|a| has_subquery(&a.value))
            || !Self::stored_as_is(&table, &name)?
        {
            return self
                .update_by_rewrite(&update, selection, &name, table, &schema)
                .await;
        }
        let mut texts: Vec<String> = update
            .assignments
            .iter()
            .map(|a| a.value.to_string())
            .collect();
        texts.push(selection.to_string());
        let planned = self
            .plan_exprs(&texts, &update.table.relation.to_string())
            .await?;
        let (pred, pred_ty) = planned.last().cloned().expect("predicate planned");
        if pred_ty != DataType::Boolean && pred_ty != DataType::Null {
            return Err(DapError::Invalid("WHERE clause must be BOOL".into()));
        }
        let mut builder = table
            .update()
            .with_predicate(unqualify(pred)?)
            .with_session_state(Arc::new(self.context().state()))
            .with_safe_cast(false);
        for (a, (value, ty)) in update.assignments.iter().zip(planned.iter()) {
            let col = assignment_column(a)?;
            let field = Self::target_field(&schema, &col, &name)?;
            let value = coerce(
                unqualify(value.clone())?,
                ty,
                field,
                &format!("Value assigned to {col}"),
            )?;
            builder = builder.with_update(field.name().as_str(), value);
        }
        let (_, metrics) = builder
            .await
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        Ok(StatementOutput::Message(format!(
            "This statement modified {} in {name}.",
            rows(metrics.num_updated_rows)
        )))
    }

    /// `UPDATE t SET ... FROM s WHERE cond` is `MERGE t USING s ON cond WHEN MATCHED THEN UPDATE
    /// SET ...`: same rows, and the same error when a target row matches several source rows.
    async fn update_from(
        &self,
        update: &Update,
        from: &datafusion::sql::sqlparser::ast::UpdateTableFromKind,
        selection: &datafusion::sql::sqlparser::ast::Expr,
    ) -> Result<StatementOutput> {
        use datafusion::sql::sqlparser::ast::UpdateTableFromKind;
        let (UpdateTableFromKind::AfterSet(tables) | UpdateTableFromKind::BeforeSet(tables)) = from;
        let [source] = tables.as_slice() else {
            return Err(DapError::not_supported("UPDATE ... FROM several tables"));
        };
        if !source.joins.is_empty() {
            return Err(DapError::not_supported("UPDATE ... FROM with joins"));
        }
        let sets: Vec<String> = update.assignments.iter().map(|a| a.to_string()).collect();
        let sql = format!(
            "MERGE {} USING {} ON {selection} WHEN MATCHED THEN UPDATE SET {}",
            update.table.relation,
            source.relation,
            sets.join(", ")
        );
        let Statement::Merge(merge) = super::script::parse_one(&sql)? else {
            return Err(DapError::Invalid(
                "UPDATE ... FROM could not be rewritten".into(),
            ));
        };
        self.merge(merge).await
    }

    pub(super) async fn delete(&self, delete: Delete) -> Result<StatementOutput> {
        let from = match &delete.from {
            FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
        };
        let [twj] = from.as_slice() else {
            return Err(DapError::not_supported("DELETE from several tables"));
        };
        if delete.using.is_some() || !twj.joins.is_empty() {
            return Err(DapError::not_supported("DELETE with USING or joins"));
        }
        let Some(selection) = &delete.selection else {
            return Err(DapError::Invalid("DELETE must have a WHERE clause".into()));
        };
        let TableFactor::Table { name: target, .. } = &twj.relation else {
            return Err(DapError::Invalid("DELETE needs a table name".into()));
        };
        let name = self.names.resolve(target)?;
        let table = self.delta_table(&name).await?;
        if has_subquery(selection) || !Self::stored_as_is(&table, &name)? {
            let relation = twj.relation.to_string();
            let before = self.count_rows(&relation).await?;
            let kept = format!("SELECT * FROM {relation} WHERE ({selection}) IS NOT TRUE");
            let written = self.rewrite_rows(&name, table, &kept).await?;
            return Ok(StatementOutput::Message(format!(
                "This statement removed {} from {name}.",
                rows(before.saturating_sub(written))
            )));
        }
        let planned = self
            .plan_exprs(&[selection.to_string()], &twj.relation.to_string())
            .await?;
        let (pred, _) = planned.into_iter().next().expect("predicate planned");
        let pred = unqualify(pred)?;
        let counted = self
            .count_matching(&twj.relation.to_string(), &selection.to_string())
            .await?;
        let (_, metrics) = table
            .delete()
            .with_predicate(pred)
            .with_session_state(Arc::new(self.context().state()))
            .await
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        let removed = metrics.num_deleted_rows.unwrap_or(counted);
        Ok(StatementOutput::Message(format!(
            "This statement removed {} from {name}.",
            rows(removed)
        )))
    }

    /// UPDATE whose WHERE or SET holds a subquery (deltalake's update cannot evaluate one): the
    /// table is rewritten in one commit as the updated matching rows plus the other rows
    /// unchanged. Rows are counted like BigQuery (the rows the WHERE matched).
    async fn update_by_rewrite(
        &self,
        update: &Update,
        selection: &datafusion::sql::sqlparser::ast::Expr,
        name: &TableName,
        table: DeltaTable,
        schema: &SchemaRef,
    ) -> Result<StatementOutput> {
        let relation = update.table.relation.to_string();
        let mut assigned = std::collections::HashMap::new();
        for a in &update.assignments {
            let col = assignment_column(a)?;
            let field = Self::target_field(schema, &col, name)?;
            if assigned
                .insert(field.name().to_lowercase(), a.value.to_string())
                .is_some()
            {
                return Err(DapError::Invalid(format!(
                    "UPDATE/MERGE must assign each column at most once; {col} is assigned twice"
                )));
            }
        }
        let items: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| {
                let col = format!("`{}`", f.name());
                match assigned.get(&f.name().to_lowercase()) {
                    Some(value) => format!("({value}) AS {col}"),
                    None => col,
                }
            })
            .collect();
        let matched = self
            .count_matching(&relation, &selection.to_string())
            .await?;
        let sql = format!(
            "SELECT {} FROM {relation} WHERE {selection} UNION ALL SELECT * FROM {relation} WHERE ({selection}) IS NOT TRUE",
            items.join(", ")
        );
        self.rewrite_rows(name, table, &sql).await?;
        Ok(StatementOutput::Message(format!(
            "This statement modified {} in {name}.",
            rows(matched)
        )))
    }

    /// Replaces the rows of `table` with the result of `sql` (its columns in the table's order) in
    /// one overwrite commit; returns the rows written. A concurrent commit that removed files
    /// this one replaces makes it fail with a conflict rather than lose that change.
    async fn rewrite_rows(&self, name: &TableName, table: DeltaTable, sql: &str) -> Result<usize> {
        let schema = Self::table_schema(&table, name)?;
        let plan = self.plan(super::script::parse_one(sql)?).await?;
        let src = plan.schema().clone();
        if src.fields().len() != schema.fields().len() {
            return Err(DapError::Invalid(format!(
                "rewriting {name}: the query has {} columns, the table {}",
                src.fields().len(),
                schema.fields().len()
            )));
        }
        let mut exprs = Vec::with_capacity(schema.fields().len());
        for (i, field) in schema.fields().iter().enumerate() {
            let (q, f) = src.qualified_field(i);
            let e = coerce(
                DfExpr::Column(Column::new(q.cloned(), f.name())),
                f.data_type(),
                field,
                &format!("Value assigned to {}", field.name()),
            )?;
            exprs.push(e.alias(field.name()));
        }
        let plan = physical::encode_plan(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)?;
        let table = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_save_mode(SaveMode::Overwrite)
            .with_session_state(Arc::new(self.context().state()))
            .await
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        Ok(last_commit_metric(&table, "num_added_rows").await)
    }

    async fn count_rows(&self, from: &str) -> Result<usize> {
        self.count_matching(from, "TRUE").await
    }

    async fn count_matching(&self, from: &str, predicate: &str) -> Result<usize> {
        let sql = format!("SELECT COUNT(*) FROM {from} WHERE {predicate}");
        let plan = self.plan(super::script::parse_one(&sql)?).await?;
        let batches = self.dataframe(plan).collect().await?;
        let v = batches
            .first()
            .map(|b| ScalarValue::try_from_array(b.column(0), 0))
            .transpose()?;
        Ok(match v {
            Some(ScalarValue::Int64(Some(n))) => n as usize,
            _ => 0,
        })
    }

    pub(super) async fn merge(&self, merge: Merge) -> Result<StatementOutput> {
        let TableFactor::Table {
            name: target,
            alias: target_alias,
            ..
        } = &merge.table
        else {
            return Err(DapError::Invalid("MERGE needs a target table name".into()));
        };
        let name = self.names.resolve(target)?;
        let table = self.delta_table(&name).await?;
        if !Self::stored_as_is(&table, &name)? {
            return Err(DapError::not_supported(format!(
                "MERGE into {name}, which has TIME, INTERVAL or BIGNUMERIC columns"
            )));
        }
        let schema = Self::table_schema(&table, &name)?;
        let t_alias = target_alias
            .as_ref()
            .map(|a| normalized(&a.name))
            .unwrap_or_else(|| name.table.clone());
        let (source_sql, s_alias) = match &merge.source {
            TableFactor::Table {
                name: sn, alias, ..
            } => {
                let a = alias
                    .as_ref()
                    .map(|a| normalized(&a.name))
                    .unwrap_or_else(|| column_name(sn).to_lowercase());
                (sn.to_string(), a)
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => (
                format!("({subquery})"),
                alias
                    .as_ref()
                    .map(|a| normalized(&a.name))
                    .unwrap_or_else(|| "source".to_string()),
            ),
            other => return Err(DapError::not_supported(format!("MERGE source {other}"))),
        };
        if t_alias.eq_ignore_ascii_case(&s_alias) {
            return Err(DapError::Invalid(format!(
                "MERGE target and source are both named {t_alias}; give one an alias"
            )));
        }
        let from = format!(
            "{} AS `{t_alias}` CROSS JOIN {source_sql} AS `{s_alias}`",
            target
        );
        let source_plan = self
            .plan(super::script::parse_one(&format!(
                "SELECT * FROM {source_sql} AS `{s_alias}`"
            ))?)
            .await?;
        let source_df = self.dataframe(source_plan);
        let source_schema = source_df.schema().clone();

        // Every expression of the statement, planned once against target × source.
        let mut texts = vec![merge.on.to_string()];
        for clause in &merge.clauses {
            texts.push(
                clause
                    .predicate
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "TRUE".into()),
            );
            match &clause.action {
                MergeAction::Update(u) => {
                    texts.extend(u.assignments.iter().map(|a| a.value.to_string()))
                }
                MergeAction::Insert(i) => match &i.kind {
                    MergeInsertKind::Values(v) => {
                        let [row] = v.rows.as_slice() else {
                            return Err(DapError::Invalid(
                                "MERGE INSERT VALUES takes one row".into(),
                            ));
                        };
                        texts.extend(row.iter().map(|e| e.to_string()));
                    }
                    MergeInsertKind::Row => texts.extend(
                        source_schema
                            .fields()
                            .iter()
                            .map(|f| format!("`{s_alias}`.`{}`", f.name())),
                    ),
                },
                MergeAction::Delete { .. } => {}
            }
        }
        let planned = self.plan_exprs(&texts, &from).await?;
        let mut it = planned.into_iter();
        let mut next = || {
            it.next()
                .ok_or_else(|| DapError::Invalid("MERGE: expression count mismatch".into()))
        };
        let (on, _) = next()?;
        let mut builder = table
            .merge(source_df, on)
            .with_source_alias(s_alias.clone())
            .with_target_alias(t_alias.clone())
            .with_session_state(Arc::new(self.context().state()))
            .with_safe_cast(false);
        for clause in &merge.clauses {
            let (pred, _) = next()?;
            let has_pred = clause.predicate.is_some();
            match (&clause.clause_kind, &clause.action) {
                (
                    MergeClauseKind::Matched | MergeClauseKind::NotMatchedBySource,
                    MergeAction::Update(u),
                ) => {
                    let mut sets = Vec::new();
                    for a in &u.assignments {
                        let col = assignment_column(a)?;
                        let field = Self::target_field(&schema, &col, &name)?;
                        let (v, ty) = next()?;
                        sets.push((
                            field.name().clone(),
                            coerce(v, &ty, field, &format!("Value assigned to {col}"))?,
                        ));
                    }
                    let f = move |mut b: deltalake::operations::merge::UpdateBuilder| {
                        if has_pred {
                            b = b.predicate(pred.clone());
                        }
                        for (c, v) in sets.clone() {
                            b = b.update(c, v);
                        }
                        b
                    };
                    builder = if matches!(clause.clause_kind, MergeClauseKind::Matched) {
                        builder.when_matched_update(f)
                    } else {
                        builder.when_not_matched_by_source_update(f)
                    }
                    .map_err(|e| DapError::delta(name.to_string(), e))?;
                }
                (
                    MergeClauseKind::Matched | MergeClauseKind::NotMatchedBySource,
                    MergeAction::Delete { .. },
                ) => {
                    let f = move |mut b: deltalake::operations::merge::DeleteBuilder| {
                        if has_pred {
                            b = b.predicate(pred.clone());
                        }
                        b
                    };
                    builder = if matches!(clause.clause_kind, MergeClauseKind::Matched) {
                        builder.when_matched_delete(f)
                    } else {
                        builder.when_not_matched_by_source_delete(f)
                    }
                    .map_err(|e| DapError::delta(name.to_string(), e))?;
                }
                (
                    MergeClauseKind::NotMatched | MergeClauseKind::NotMatchedByTarget,
                    MergeAction::Insert(i),
                ) => {
                    let cols: Vec<String> = if i.columns.is_empty() {
                        schema.fields().iter().map(|f| f.name().clone()).collect()
                    } else {
                        i.columns.iter().map(column_name).collect()
                    };
                    let n_values = match &i.kind {
                        MergeInsertKind::Values(v) => v.rows.first().map(|r| r.len()).unwrap_or(0),
                        MergeInsertKind::Row => source_schema.fields().len(),
                    };
                    if n_values != cols.len() {
                        return Err(DapError::Invalid(format!(
                            "MERGE INSERT has {} values for {} columns",
                            n_values,
                            cols.len()
                        )));
                    }
                    let mut sets = Vec::new();
                    for col in &cols {
                        let field = Self::target_field(&schema, col, &name)?;
                        let (v, ty) = next()?;
                        sets.push((
                            field.name().clone(),
                            coerce(v, &ty, field, &format!("Value inserted into {col}"))?,
                        ));
                    }
                    let f = move |mut b: deltalake::operations::merge::InsertBuilder| {
                        if has_pred {
                            b = b.predicate(pred.clone());
                        }
                        for (c, v) in sets.clone() {
                            b = b.set(c, v);
                        }
                        b
                    };
                    builder = builder
                        .when_not_matched_insert(f)
                        .map_err(|e| DapError::delta(name.to_string(), e))?;
                }
                (kind, action) => {
                    return Err(DapError::Invalid(format!(
                        "WHEN {kind} THEN {action} is not a valid MERGE clause"
                    )));
                }
            }
        }
        let (_, metrics) = builder
            .await
            .map_err(|e| DapError::delta(name.to_string(), e))?;
        let n = metrics.num_target_rows_inserted
            + metrics.num_target_rows_updated
            + metrics.num_target_rows_deleted;
        Ok(StatementOutput::Message(format!(
            "This statement modified {} in {name}.",
            rows(n)
        )))
    }
}

/// A metric from the operationMetrics of the table's latest commit (0 when absent).
/// Whether a SQL expression holds a subquery (`IN (SELECT ...)`, `EXISTS`, a scalar subquery).
fn has_subquery(e: &datafusion::sql::sqlparser::ast::Expr) -> bool {
    use datafusion::sql::sqlparser::ast::{Expr, Visit, Visitor};
    struct Find;
    impl Visitor for Find {
        type Break = ();
        fn pre_visit_expr(&mut self, e: &Expr) -> std::ops::ControlFlow<()> {
            if matches!(
                e,
                Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. }
            ) {
                return std::ops::ControlFlow::Break(());
            }
            std::ops::ControlFlow::Continue(())
        }
    }
    e.visit(&mut Find).is_break()
}

async fn last_commit_metric(table: &DeltaTable, key: &str) -> usize {
    let commits: Vec<_> = match table.history(Some(1)).try_collect().await {
        Ok(c) => c,
        Err(_) => return 0,
    };
    commits
        .first()
        .and_then(|c| c.info.get("operationMetrics"))
        .and_then(|m| m.get(key))
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as usize
}
