//! `dap check`: plans every model without running it and lists every construct dap cannot run,
//! with file:line:column. A model is planned with its upstream models inlined as subqueries, so
//! nothing needs to have been built; only sources must exist. Nothing is written.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;

use datafusion::sql::sqlparser::ast::{
    Query, Statement, TableAlias, TableFactor, VisitMut, VisitorMut,
};

use super::dag::Dag;
use super::project::{Name, resolve_ref};
use crate::engine::Engine;
use crate::error::Location;

/// One problem found in a model.
#[derive(Debug, Clone)]
pub struct Problem {
    pub path: PathBuf,
    pub location: Location,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.location.line,
            self.location.column,
            self.message
        )
    }
}

/// Plans every model (in DAG order); returns the problems found.
pub async fn check(engine: &Engine, dag: &Dag) -> Vec<Problem> {
    let default_dataset = engine.default_dataset().map(str::to_string);
    let mut inlined: BTreeMap<Name, Box<Query>> = BTreeMap::new();
    let mut problems = Vec::new();
    for &i in &dag.order {
        let m = &dag.models[i];
        let first_line = m
            .body
            .lines()
            .position(|l| !l.trim().is_empty())
            .unwrap_or(0) as u64
            + 1;
        let at = |location: Option<Location>, message: String| Problem {
            path: m.path.clone(),
            location: location.unwrap_or(Location {
                line: first_line,
                column: 1,
            }),
            message,
        };
        if let Some(bad) = dag.parents[i]
            .iter()
            .find(|&&p| !inlined.contains_key(&dag.models[p].name))
        {
            problems.push(at(
                None,
                format!(
                    "not checked: upstream model {} has problems",
                    dag.models[*bad].name
                ),
            ));
            continue;
        }
        let mut stmt = match crate::engine::parse_script(&m.body) {
            Ok(mut s) if s.len() == 1 => s.remove(0).statement,
            Ok(s) => {
                problems.push(at(
                    None,
                    format!("a model must be one query, found {} statements", s.len()),
                ));
                continue;
            }
            Err(e) => {
                problems.push(at(e.location(), e.to_string()));
                continue;
            }
        };
        let Statement::Query(_) = &stmt else {
            problems.push(at(None, "a model must be a query (SELECT or WITH)".into()));
            continue;
        };
        struct Inline<'a> {
            models: &'a BTreeMap<Name, Box<Query>>,
            default_dataset: Option<&'a str>,
        }
        impl VisitorMut for Inline<'_> {
            type Break = ();
            fn post_visit_table_factor(&mut self, tf: &mut TableFactor) -> ControlFlow<()> {
                if let TableFactor::Table { name, alias, .. } = tf
                    && let Some(n) = resolve_ref(name, self.default_dataset)
                    && let Some(q) = self.models.get(&n)
                {
                    let alias = alias.clone().unwrap_or(TableAlias {
                        explicit: true,
                        name: datafusion::sql::sqlparser::ast::Ident::new(n.table.clone()),
                        columns: Vec::new(),
                        at: None,
                    });
                    *tf = TableFactor::Derived {
                        lateral: false,
                        subquery: q.clone(),
                        alias: Some(alias),
                        sample: None,
                    };
                }
                ControlFlow::Continue(())
            }
        }
        let _ = stmt.visit(&mut Inline {
            models: &inlined,
            default_dataset: default_dataset.as_deref(),
        });
        match engine.plan(stmt.clone()).await {
            Ok(_) => {
                if let Statement::Query(q) = stmt {
                    inlined.insert(m.name.clone(), q);
                }
            }
            Err(e) => {
                let message = e.to_string();
                let location = e.location().or_else(|| guess_location(&m.body, &message));
                problems.push(at(location, message));
            }
        }
    }
    problems
}

/// Finds the first word quoted in an error message (`x`, 'x' or "x") in the model's text.
fn guess_location(body: &str, message: &str) -> Option<Location> {
    let mut candidates = Vec::new();
    for q in ['`', '\'', '"'] {
        let parts: Vec<&str> = message.split(q).collect();
        for w in parts.iter().skip(1).step_by(2) {
            candidates.push(w.to_string());
        }
    }
    if let Some(rest) = message.split("not supported: ").nth(1) {
        candidates.push(
            rest.split([' ', '(', ','])
                .next()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let lower = body.to_lowercase();
    for c in candidates {
        let word = c.rsplit('.').next().unwrap_or(&c).trim().to_lowercase();
        if word.len() < 2 {
            continue;
        }
        if let Some(pos) = lower.find(&word) {
            let before = &body[..pos];
            let line = before.matches('\n').count() as u64 + 1;
            let column = before
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0) as u64
                + 1;
            return Some(Location { line, column });
        }
    }
    None
}
