//! BigQuery object names: parsing `table`, `dataset.table`, `project.dataset.table` and
//! backtick-quoted paths with dots inside, and checking them against BigQuery's naming rules.
//!
//! Guarantee: a name that passes [`validate_dataset`] / [`validate_table`] is a single, non-empty
//! path segment with no separators, dots or control characters, so it can never address anything
//! outside its warehouse directory.
//!
//! Rules: <https://cloud.google.com/bigquery/docs/datasets#dataset-naming> and
//! <https://cloud.google.com/bigquery/docs/tables#table_naming>.

use std::fmt;

use datafusion::sql::sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

use crate::error::{DapError, Result};

/// Longest name dap accepts: one path segment on common file systems.
const MAX_NAME_BYTES: usize = 255;

/// A fully resolved table, view or external table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    pub project: String,
    pub dataset: String,
    pub table: String,
}

impl TableName {
    /// `project:dataset.table`, the form BigQuery uses in "Not found" messages.
    pub fn qualified(&self) -> String {
        format!("{}:{}.{}", self.project, self.dataset, self.table)
    }

    /// `` `project.dataset.table` ``, a fully qualified SQL reference.
    pub fn sql(&self) -> String {
        format!("`{}.{}.{}`", self.project, self.dataset, self.table)
    }
}

impl fmt::Display for TableName {
    /// `dataset.table`, the form BigQuery uses in DML messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.dataset, self.table)
    }
}

/// Dataset names: letters, digits and underscores.
pub fn validate_dataset(name: &str) -> Result<()> {
    let bad = |reason| DapError::InvalidName {
        kind: "dataset",
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("a dataset name cannot be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad("dataset names are at most 255 bytes in dap"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad(
            "dataset names may contain only letters, numbers and underscores",
        ));
    }
    Ok(())
}

/// Table names: Unicode letters, marks, numbers, underscores, dashes and spaces.
pub fn validate_table(name: &str) -> Result<()> {
    let bad = |reason| DapError::InvalidName {
        kind: "table",
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("a table name cannot be empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(bad("table names are at most 255 bytes in dap"));
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return Err(bad("a table name cannot start or end with a space"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
    {
        return Err(bad(
            "table names may contain only letters, numbers, underscores, dashes and spaces",
        ));
    }
    Ok(())
}

/// The flat list of name parts, with backtick-quoted parts split on their dots
/// (`` `proj.ds.t` `` → `proj`, `ds`, `t`).
pub fn name_parts(name: &ObjectName) -> Vec<String> {
    let mut parts = Vec::new();
    for part in &name.0 {
        match part {
            ObjectNamePart::Identifier(ident) => split_ident(ident, &mut parts),
            ObjectNamePart::Function(f) => parts.push(f.name.value.clone()),
        }
    }
    parts
}

fn split_ident(ident: &Ident, out: &mut Vec<String>) {
    if ident.quote_style.is_some() && ident.value.contains('.') {
        out.extend(ident.value.split('.').map(str::to_string));
    } else {
        out.push(ident.value.clone());
    }
}

/// Resolves names against the session's project and default dataset.
#[derive(Debug, Clone)]
pub struct NameResolver {
    pub project: String,
    pub default_dataset: Option<String>,
}

impl NameResolver {
    pub fn new(project: impl Into<String>, default_dataset: Option<String>) -> Self {
        NameResolver {
            project: project.into(),
            default_dataset,
        }
    }

    pub fn resolve(&self, name: &ObjectName) -> Result<TableName> {
        self.resolve_parts(&name_parts(name))
    }

    pub fn resolve_parts(&self, parts: &[String]) -> Result<TableName> {
        if parts.iter().any(String::is_empty) {
            return Err(DapError::InvalidName {
                kind: "table",
                name: parts.join("."),
                reason: "a name part cannot be empty",
            });
        }
        let (project, dataset, table) = match parts {
            [table] => match &self.default_dataset {
                Some(ds) => (self.project.clone(), ds.clone(), table.clone()),
                None => {
                    return Err(DapError::Invalid(format!(
                        "Table name \"{table}\" missing dataset while no default dataset is set (use dataset.{table}, --dataset or `dataset` in dap.toml)"
                    )));
                }
            },
            [dataset, table] => (self.project.clone(), dataset.clone(), table.clone()),
            [project, dataset, table] => (project.clone(), dataset.clone(), table.clone()),
            _ => {
                return Err(DapError::Invalid(format!(
                    "Invalid table name `{}`: expected [[project.]dataset.]table",
                    parts.join(".")
                )));
            }
        };
        self.check_project(&project)?;
        validate_dataset(&dataset)?;
        validate_table(&table)?;
        Ok(TableName {
            project,
            dataset,
            table,
        })
    }

    /// Resolves a dataset name given as `dataset` or `project.dataset`.
    pub fn resolve_dataset(&self, name: &ObjectName) -> Result<String> {
        let parts = name_parts(name);
        let dataset = match parts.as_slice() {
            [dataset] => dataset.clone(),
            [project, dataset] => {
                self.check_project(project)?;
                dataset.clone()
            }
            _ => {
                return Err(DapError::Invalid(format!(
                    "Invalid dataset name `{}`: expected [project.]dataset",
                    parts.join(".")
                )));
            }
        };
        validate_dataset(&dataset)?;
        Ok(dataset)
    }

    pub fn check_project(&self, project: &str) -> Result<()> {
        if project != self.project {
            return Err(DapError::WrongProject {
                requested: project.to_string(),
                current: self.project.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_rejected() {
        for name in ["../x", "a/b", "..", ".", "a\\b", "", "x\0y", "a.b"] {
            assert!(validate_table(name).is_err(), "{name:?}");
            assert!(validate_dataset(name).is_err(), "{name:?}");
        }
        assert!(validate_dataset("my-ds").is_err());
        assert!(validate_table("my-table 2").is_ok());
        assert!(validate_table("données_é").is_ok());
    }

    #[test]
    fn resolution() {
        let r = NameResolver::new("proj", Some("ds".into()));
        let t = r.resolve_parts(&["t".into()]).expect("resolves");
        assert_eq!(t.to_string(), "ds.t");
        assert!(matches!(
            r.resolve_parts(&["other".into(), "ds".into(), "t".into()]),
            Err(DapError::WrongProject { .. })
        ));
        let r = NameResolver::new("proj", None);
        assert!(r.resolve_parts(&["t".into()]).is_err());
    }
}
