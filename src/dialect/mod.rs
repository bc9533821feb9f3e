//! The BigQuery layer on top of DataFusion. It plugs in with one builder call,
//! [`BigQueryFeatures::with_bigquery_features`]: parser dialect, configuration (UTC, identifier
//! rules), and — as they are added — AST rewrites, type mapping and the function registry.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/introduction>.

pub mod aggregates;
pub mod array_literals;
pub mod array_subquery;
pub mod ast_build;
pub mod case;
pub mod casts;
pub mod conditional;
pub mod correlated_unnest;
pub mod datetime_syntax;
pub mod exists;
pub mod functions;
pub mod group_by_all;
pub mod grouping_sets;
pub mod having_bound;
pub mod if_fn;
pub mod json_syntax;
pub mod like_any;
pub mod literals;
pub mod naming;
pub mod pipe;
pub mod recursive_order;
pub mod struct_literals;
pub mod subscripts;
pub mod tokens;
pub mod types;
pub mod union_order;
pub mod unnest;
pub mod unpivot;
pub mod with_expr;

use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use datafusion::sql::sqlparser::ast::Statement;

use crate::error::Result;

/// BigQuery's AST rewrites, applied to every statement after dap resolved its table names and
/// before DataFusion plans it. Order matters: each step sees the output of the previous one.
pub fn rewrite_statement(stmt: &mut Statement) -> Result<()> {
    like_any::subquery_operands(stmt);
    exists::rewrite_exists(stmt);
    unpivot::rewrite_unpivot(stmt)?;
    array_subquery::rewrite_array_subqueries(stmt)?;
    naming::name_anonymous_columns(stmt);
    group_by_all::expand_group_by_all(stmt);
    functions::cast::rewrite_casts(stmt);
    functions::cast_format::rewrite_cast_formats(stmt);
    json_syntax::rewrite_json_syntax(stmt)?;
    datetime_syntax::rewrite_datetime_syntax(stmt)?;
    casts::map_cast_types(stmt);
    unnest::alias_unnest_columns(stmt);
    functions::normalize::mode_arguments(stmt);
    functions::strings::named_arguments(stmt);
    like_any::expand_like_any(stmt)?;
    if_fn::if_to_case(stmt);
    conditional::rewrite_conditionals(stmt);
    aggregates::rewrite_aggregates(stmt)?;
    having_bound::rewrite_having_bounds(stmt)?;
    grouping_sets::expand_grouping_sets(stmt);
    struct_literals::name_struct_elements(stmt);
    subscripts::rewrite_subscripts(stmt);
    Ok(())
}

/// BigQuery's AST rewrites that must run before dap resolves table names (a path like `t.arr`
/// in FROM may name a column, not a table).
pub fn rewrite_before_resolve(stmt: &mut Statement) -> Result<()> {
    correlated_unnest::rewrite_correlated_unnest(stmt)?;
    recursive_order::order_recursive_ctes(stmt);
    Ok(())
}

/// Adds BigQuery's dialect and semantics to a DataFusion session.
pub trait BigQueryFeatures {
    fn with_bigquery_features(self) -> Self;
}

impl BigQueryFeatures for SessionConfig {
    fn with_bigquery_features(self) -> Self {
        self.with_information_schema(false)
            .set_str("datafusion.sql_parser.dialect", "BigQuery")
            // BigQuery's default time zone is UTC.
            .set_str("datafusion.execution.time_zone", "UTC")
            // Keep plain Utf8 for STRING so types written to tables are the canonical ones.
            .set_str(
                "datafusion.sql_parser.map_string_types_to_utf8view",
                "false",
            )
            // A float literal like 1.5 is FLOAT64 in BigQuery.
            .set_str("datafusion.sql_parser.parse_float_as_decimal", "false")
            // NULLs sort first in ascending order and last in descending order.
            .set_str("datafusion.sql_parser.default_null_ordering", "nulls_min")
            // Identifiers keep their case; column references are matched case-insensitively by
            // dap (see [`case`]), table names case-sensitively, as in BigQuery.
            .set_str("datafusion.sql_parser.enable_ident_normalization", "false")
            // Keep token positions so planning errors point at the offending token.
            .set_str("datafusion.sql_parser.collect_spans", "true")
    }
}

impl BigQueryFeatures for SessionStateBuilder {
    fn with_bigquery_features(self) -> Self {
        let mut builder = self.with_default_features();
        // Later registrations win, so BigQuery's functions replace built-ins of the same name.
        let scalars = builder.scalar_functions().get_or_insert_with(Vec::new);
        scalars.extend(functions::scalar_functions());
        let all = std::mem::take(scalars);
        *scalars = functions::safe::with_safe_twins(all);
        builder
            .aggregate_functions()
            .get_or_insert_with(Vec::new)
            .extend(functions::aggregate_functions());
        let aggregates = builder.aggregate_functions().get_or_insert_with(Vec::new);
        let bounded = functions::having_bound::wrap_aggregates(aggregates);
        aggregates.extend(bounded);
        builder
            .window_functions()
            .get_or_insert_with(Vec::new)
            .extend(functions::window_functions());
        // dap's planners come first so they see an expression before DataFusion's do.
        let planners = builder.expr_planners().get_or_insert_with(Vec::new);
        let mut ours = functions::expr_planners();
        ours.append(planners);
        *planners = ours;
        builder.with_physical_optimizer_rule(std::sync::Arc::new(union_order::OrderedUnion))
    }
}
