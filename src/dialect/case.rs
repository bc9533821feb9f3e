//! Column names are case-insensitive in BigQuery, and keep the case they were declared with.
//!
//! DataFusion either lowercases every unquoted identifier (then `SELECT userId` cannot reach a
//! column stored as `userId`) or matches them exactly. dap turns DataFusion's folding off, so
//! aliases keep the case they were written with (`SELECT 1 AS MyCol` is named `MyCol`, as in
//! BigQuery), and rewrites each column reference to the spelling it was declared with: the
//! columns (and struct fields) of the tables the statement reads, and the aliases the statement
//! itself declares. A name spelled two different ways among those is left as written (DataFusion
//! then matches it exactly or fails; it never picks a different column).
//!
//! Table and dataset names are not touched: they are case-sensitive in BigQuery.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#case_sensitivity>.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::sql::sqlparser::ast::{
    Cte, Expr, Ident, JoinConstraint, ObjectNamePart, Select, SelectItem, Statement, TableAlias,
    TableFactor, VisitMut, VisitorMut, WildcardAdditionalOptions,
};

/// Canonical spellings by lower-case name; `None` when a name is declared in two spellings.
#[derive(Debug, Default)]
pub struct Spellings(HashMap<String, Option<String>>);

impl Spellings {
    pub fn add(&mut self, name: &str) {
        let key = name.to_lowercase();
        match self.0.get(&key) {
            None => {
                self.0.insert(key, Some(name.to_string()));
            }
            Some(Some(existing)) if existing != name => {
                self.0.insert(key, None);
            }
            Some(_) => {}
        }
    }

    /// Adds a field and, recursively, the fields of its structs (also inside arrays).
    pub fn add_field(&mut self, field: &Field) {
        self.add(field.name());
        add_nested(self, field.data_type());
    }

    fn canonical(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_lowercase())?.as_deref()
    }

    fn fix(&self, ident: &mut Ident) {
        if let Some(c) = self.canonical(&ident.value)
            && c != ident.value
        {
            ident.value = c.to_string();
        }
    }
}

fn add_nested(s: &mut Spellings, dt: &DataType) {
    match dt {
        DataType::Struct(fields) => fields.iter().for_each(|f| s.add_field(f)),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            add_nested(s, f.data_type())
        }
        _ => {}
    }
}

/// Adds the aliases `stmt` declares (select aliases, table aliases and their column lists, CTE
/// column lists).
pub fn declared_names(stmt: &mut Statement, into: &mut Spellings) {
    struct Declared<'a>(&'a mut Spellings);
    impl VisitorMut for Declared<'_> {
        type Break = ();
        fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            for item in &select.projection {
                if let SelectItem::ExprWithAlias { alias, .. } = item {
                    self.0.add(&alias.value);
                }
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
            if let Some(alias) = table_factor_alias(tf) {
                add_alias(self.0, alias);
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_query(
            &mut self,
            q: &mut datafusion::sql::sqlparser::ast::Query,
        ) -> ControlFlow<()> {
            if let Some(with) = &q.with {
                for Cte { alias, .. } in &with.cte_tables {
                    for c in &alias.columns {
                        self.0.add(&c.name.value);
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut Declared(into));
}

fn add_alias(s: &mut Spellings, alias: &TableAlias) {
    s.add(&alias.name.value);
    for c in &alias.columns {
        s.add(&c.name.value);
    }
}

fn table_factor_alias(tf: &TableFactor) -> Option<&TableAlias> {
    match tf {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. } => alias.as_ref(),
        _ => None,
    }
}

/// Rewrites column references in `stmt` to their declared spelling.
pub fn fold_column_case(stmt: &mut Statement, names: &Spellings) {
    struct Fold<'a>(&'a Spellings);
    impl VisitorMut for Fold<'_> {
        type Break = ();
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            match expr {
                Expr::Identifier(id) => self.0.fix(id),
                Expr::CompoundIdentifier(ids) => ids.iter_mut().for_each(|i| self.0.fix(i)),
                _ => {}
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_select(&mut self, select: &mut Select) -> ControlFlow<()> {
            for item in &mut select.projection {
                if let SelectItem::Wildcard(opts) | SelectItem::QualifiedWildcard(_, opts) = item {
                    self.fix_wildcard(opts);
                }
            }
            for twj in &mut select.from {
                for join in &mut twj.joins {
                    use datafusion::sql::sqlparser::ast::JoinOperator as J;
                    let constraint = match &mut join.join_operator {
                        J::Join(c)
                        | J::Inner(c)
                        | J::Left(c)
                        | J::LeftOuter(c)
                        | J::Right(c)
                        | J::RightOuter(c)
                        | J::FullOuter(c) => Some(c),
                        _ => None,
                    };
                    if let Some(JoinConstraint::Using(cols)) = constraint {
                        for name in cols {
                            for part in &mut name.0 {
                                if let ObjectNamePart::Identifier(i) = part {
                                    self.0.fix(i);
                                }
                            }
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    impl Fold<'_> {
        fn fix_wildcard(&self, opts: &mut WildcardAdditionalOptions) {
            if let Some(except) = &mut opts.opt_except {
                self.0.fix(&mut except.first_element);
                except
                    .additional_elements
                    .iter_mut()
                    .for_each(|i| self.0.fix(i));
            }
            if let Some(replace) = &mut opts.opt_replace {
                for item in &mut replace.items {
                    self.0.fix(&mut item.column_name);
                }
            }
        }
    }
    let _ = stmt.visit(&mut Fold(names));
}

/// DataFusion names the work table of a recursive CTE with its lower-cased name, whatever the
/// identifier folding; so the CTEs of a `WITH RECURSIVE` and their references are lower-cased
/// (CTE names are case-insensitive in BigQuery, so this changes nothing else).
pub fn lowercase_recursive_ctes(stmt: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{ObjectName, Query};
    use std::collections::HashSet;
    struct Ctes(HashSet<String>);
    impl VisitorMut for Ctes {
        type Break = ();
        fn pre_visit_query(&mut self, q: &mut Query) -> ControlFlow<()> {
            if let Some(with) = &mut q.with
                && with.recursive
            {
                for cte in &mut with.cte_tables {
                    cte.alias.name.value = cte.alias.name.value.to_lowercase();
                    self.0.insert(cte.alias.name.value.clone());
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut ctes = Ctes(HashSet::new());
    let _ = stmt.visit(&mut ctes);
    if ctes.0.is_empty() {
        return;
    }
    struct References(HashSet<String>);
    impl References {
        fn fix(&self, ident: &mut Ident) {
            let lower = ident.value.to_lowercase();
            if self.0.contains(&lower) {
                ident.value = lower;
            }
        }
    }
    impl VisitorMut for References {
        type Break = ();
        fn pre_visit_relation(&mut self, name: &mut ObjectName) -> ControlFlow<()> {
            if let [ObjectNamePart::Identifier(i)] = name.0.as_mut_slice() {
                self.fix(i);
            }
            ControlFlow::Continue(())
        }
        fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
            if let Expr::CompoundIdentifier(ids) = expr
                && ids.len() > 1
            {
                self.fix(&mut ids[0]);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = stmt.visit(&mut References(ctes.0));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Fields;

    fn rewrite(sql: &str, columns: &[Field]) -> String {
        let mut stmt = crate::engine::script::parse_one(sql).expect("parses");
        let mut names = Spellings::default();
        columns.iter().for_each(|f| names.add_field(f));
        declared_names(&mut stmt, &mut names);
        fold_column_case(&mut stmt, &names);
        stmt.to_string()
    }

    #[test]
    fn references_take_the_declared_spelling() {
        let cols = [
            Field::new("UserId", DataType::Int64, true),
            Field::new(
                "Address",
                DataType::Struct(Fields::from(vec![Field::new(
                    "zipCode",
                    DataType::Utf8,
                    true,
                )])),
                true,
            ),
        ];
        assert_eq!(
            rewrite(
                "SELECT userid, t.ADDRESS.zipcode AS Zip FROM x AS T ORDER BY zip",
                &cols
            ),
            "SELECT UserId, T.Address.zipCode AS Zip FROM x AS T ORDER BY Zip"
        );
        assert_eq!(
            rewrite(
                "SELECT * EXCEPT (userid) FROM a JOIN b USING (USERID)",
                &cols
            ),
            "SELECT * EXCEPT (UserId) FROM a JOIN b USING(UserId)"
        );
    }

    #[test]
    fn two_spellings_are_left_alone() {
        let cols = [Field::new("id", DataType::Int64, true)];
        assert_eq!(
            rewrite("SELECT ID AS Id, iD FROM t", &cols),
            "SELECT ID AS Id, iD FROM t"
        );
    }
}
