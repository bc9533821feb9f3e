//! Tab completion from the live catalog: keywords, functions, datasets, tables (after FROM/JOIN/...,
//! with `dataset.` prefixes and backticks), columns of the tables named in the statement, and meta
//! commands. The catalog is a snapshot the REPL refreshes after statements that change it.

use std::collections::BTreeMap;

use super::commands::COMMANDS;

/// Names known to the completer.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub default_dataset: Option<String>,
    /// dataset → tables (and views).
    pub tables: BTreeMap<String, Vec<String>>,
    /// `dataset.table` → columns.
    pub columns: BTreeMap<String, Vec<String>>,
    /// Function names, upper case.
    pub functions: Vec<String>,
}

pub const KEYWORDS: &[&str] = &[
    "ALL", "AND", "ANY_VALUE", "ARRAY", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "CREATE",
    "CROSS", "CUBE", "DATE", "DATETIME", "DELETE", "DESC", "DISTINCT", "DROP", "ELSE", "END",
    "EXCEPT", "EXISTS", "EXTERNAL", "FALSE", "FOR", "FROM", "FULL", "GROUP", "HAVING", "IF", "IN",
    "INNER", "INSERT", "INTERSECT", "INTERVAL", "INTO", "IS", "JOIN", "JSON", "LEFT", "LIKE",
    "LIMIT", "MATCHED", "MERGE", "NOT", "NULL", "NULLS", "OFFSET", "ON", "OPTIONS", "OR", "ORDER",
    "OUTER", "OVER", "PARTITION", "PIVOT", "QUALIFY", "REPLACE", "RIGHT", "ROLLUP", "SCHEMA",
    "SELECT", "SET", "STRUCT", "SYSTEM_TIME", "TABLE", "THEN", "TIME", "TIMESTAMP", "TRUE",
    "TRUNCATE", "UNION", "UNNEST", "UNPIVOT", "UPDATE", "USING", "VALUES", "VIEW", "WHEN", "WHERE",
    "WINDOW", "WITH",
];

/// Keywords after which a table name comes.
const TABLE_CONTEXT: &[&str] = &["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "MERGE", "USING"];

/// Completion candidates for `line` with the cursor at byte `pos`: where the replaced word starts,
/// and the replacements.
pub fn complete(snapshot: &Snapshot, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '`' | '-' | '\\'))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(pos);
    let word = &before[start..];

    if word.starts_with('\\') && before.trim_start().len() == word.len() {
        let mut out: Vec<String> = COMMANDS
            .iter()
            .map(|(c, _)| c.to_string())
            .filter(|c| c.starts_with(word))
            .collect();
        out.sort();
        return (start, out);
    }

    let previous = before[..start]
        .split(|c: char| c.is_whitespace() || c == '(' || c == ',')
        .rfind(|w| !w.is_empty())
        .unwrap_or("")
        .to_ascii_uppercase();
    let describe = before.trim_start().starts_with("\\d") || previous == "\\HISTORY";
    let backtick = word.starts_with('`');
    let bare = word.trim_start_matches('`');
    let lower = bare.to_ascii_lowercase();
    let matches = |name: &str| name.to_ascii_lowercase().starts_with(&lower);
    let quote = |s: String| if backtick { format!("`{s}") } else { s };

    let mut out: Vec<String> = Vec::new();
    let table_names = |out: &mut Vec<String>| {
        if let Some((ds, _)) = bare.split_once('.') {
            if let Some(tables) = snapshot.tables.get(ds) {
                for t in tables {
                    let full = format!("{ds}.{t}");
                    if matches(&full) {
                        out.push(quote(full));
                    }
                }
            }
        } else {
            for ds in snapshot.tables.keys() {
                if matches(ds) {
                    out.push(quote(format!("{ds}.")));
                }
            }
            if let Some(tables) = snapshot
                .default_dataset
                .as_ref()
                .and_then(|d| snapshot.tables.get(d))
            {
                out.extend(tables.iter().filter(|t| matches(t)).cloned().map(quote));
            }
        }
    };

    if TABLE_CONTEXT.contains(&previous.as_str()) || describe {
        table_names(&mut out);
    } else {
        // Columns of the tables this statement names.
        for table in tables_in(line, snapshot) {
            if let Some(cols) = snapshot.columns.get(&table) {
                out.extend(cols.iter().filter(|c| matches(c)).cloned());
            }
        }
        if !backtick && !bare.contains('.') {
            let upper = bare.chars().next().is_none_or(|c| c.is_uppercase());
            let case = |s: &str| {
                if upper {
                    s.to_string()
                } else {
                    s.to_ascii_lowercase()
                }
            };
            out.extend(
                KEYWORDS
                    .iter()
                    .chain(snapshot.functions.iter().map(|s| s.as_str()).collect::<Vec<_>>().iter())
                    .filter(|k| matches(k))
                    .map(|k| case(k)),
            );
        }
        if !bare.is_empty() {
            table_names(&mut out);
        }
    }
    out.sort();
    out.dedup();
    (start, out)
}

/// `dataset.table` keys of the tables named after FROM/JOIN in `sql`.
fn tables_in(sql: &str, snapshot: &Snapshot) -> Vec<String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == ';')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if !TABLE_CONTEXT.contains(&pair[0].to_ascii_uppercase().as_str()) {
            continue;
        }
        let name = pair[1].trim_matches('`');
        let parts: Vec<&str> = name.split('.').collect();
        let key = match parts.as_slice() {
            [t] => snapshot.default_dataset.as_ref().map(|d| format!("{d}.{t}")),
            [d, t] | [_, d, t] => Some(format!("{d}.{t}")),
            _ => None,
        };
        out.extend(key);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        let mut s = Snapshot {
            default_dataset: Some("sales".into()),
            functions: vec!["SUBSTR".into(), "SUM".into(), "STRING_AGG".into()],
            ..Snapshot::default()
        };
        s.tables
            .insert("sales".into(), vec!["orders".into(), "order_items".into()]);
        s.tables.insert("raw".into(), vec!["events".into()]);
        s.columns
            .insert("sales.orders".into(), vec!["order_id".into(), "amount".into()]);
        s.columns
            .insert("raw.events".into(), vec!["event_id".into(), "payload".into()]);
        s
    }

    fn names(line: &str) -> Vec<String> {
        complete(&snapshot(), line, line.len()).1
    }

    #[test]
    fn tables_after_from_and_join() {
        assert_eq!(names("SELECT * FROM ord"), vec!["order_items", "orders"]);
        assert_eq!(names("select * from r"), vec!["raw."]);
        assert_eq!(names("SELECT * FROM raw.e"), vec!["raw.events"]);
        assert_eq!(names("SELECT * FROM `raw.e"), vec!["`raw.events"]);
        assert_eq!(names("SELECT * FROM a JOIN sales.o"), vec!["sales.order_items", "sales.orders"]);
        assert_eq!(names("\\d raw.e"), vec!["raw.events"]);
    }

    #[test]
    fn columns_of_tables_in_the_statement_keywords_and_functions() {
        assert_eq!(names("SELECT ord FROM orders"), vec!["order_id"]);
        let line = "SELECT e FROM raw.events";
        assert_eq!(complete(&snapshot(), line, 8).1, vec!["event_id", "except", "exists", "external"]);
        assert_eq!(names("SEL"), vec!["SELECT"]);
        assert_eq!(names("select su"), vec!["substr", "sum"]);
    }

    #[test]
    fn meta_commands() {
        assert_eq!(names("\\ti"), vec!["\\timing"]);
        let (start, all) = complete(&snapshot(), "\\", 1);
        assert_eq!(start, 0);
        assert!(all.contains(&"\\history".to_string()));
    }
}
