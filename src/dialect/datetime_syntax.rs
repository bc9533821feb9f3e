//! BigQuery date/time syntax that DataFusion's planner does not know, rewritten into calls of
//! dap's functions before casts are mapped:
//! - date part arguments (`DATE_DIFF(a, b, WEEK(MONDAY))`, `DATE_TRUNC(d, MONTH)`) become strings;
//! - `DATE_ADD(d, INTERVAL n PART)` (and the other `*_ADD`/`*_SUB`) becomes `date_add(d, n, 'PART')`;
//! - `EXTRACT(part FROM x [AT TIME ZONE z])` becomes `bq_extract('PART', x[, z])`, and
//!   `EXTRACT(DATE|TIME|DATETIME FROM x)` the constructor call;
//! - range INTERVAL literals (`INTERVAL '1-2 3 4:5:6' YEAR TO SECOND`) become canonical
//!   month/day/microsecond literals, and `MAKE_INTERVAL` named arguments become positional.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/date_functions>,
//! <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type>.

use super::ast_build::call;
use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    DateTimeField, Expr, FunctionArg, FunctionArgExpr, FunctionArgOperator, FunctionArguments,
    Statement, Value, VisitMut, VisitorMut,
};

use crate::error::{DapError, Result};

pub fn rewrite_datetime_syntax(stmt: &mut Statement) -> Result<()> {
    let mut v = Rewrite { error: None };
    let _ = stmt.visit(&mut v);
    match v.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Rewrite {
    error: Option<DapError>,
}

const PARTS: &[&str] = &[
    "MICROSECOND",
    "MILLISECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "ISOWEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "ISOYEAR",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "NANOSECOND",
];

fn text(s: String) -> Expr {
    Expr::value(Value::SingleQuotedString(s))
}

/// A date part written as an identifier or `WEEK(<WEEKDAY>)`, as its text.
fn part_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(id) if PARTS.contains(&id.value.to_ascii_uppercase().as_str()) => {
            Some(id.value.to_ascii_uppercase())
        }
        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("WEEK") => {
            let FunctionArguments::List(list) = &f.args else {
                return None;
            };
            match list.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(d)))] => {
                    Some(format!("WEEK({})", d.value.to_ascii_uppercase()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn field_text(f: &DateTimeField) -> String {
    f.to_string().to_ascii_uppercase().replace(' ', "")
}

impl VisitorMut for Rewrite {
    type Break = ();

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                let name = name
                    .strip_prefix("safe.")
                    .unwrap_or(&name)
                    .trim_matches('"')
                    .to_string();
                let FunctionArguments::List(list) = &mut f.args else {
                    return ControlFlow::Continue(());
                };
                let part_at = match name.as_str() {
                    "date_diff" | "datetime_diff" | "time_diff" | "timestamp_diff" => Some(2),
                    "date_trunc" | "datetime_trunc" | "time_trunc" | "timestamp_trunc"
                    | "last_day" => Some(1),
                    _ => None,
                };
                if let Some(i) = part_at
                    && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e))) =
                        list.args.get_mut(i)
                    && let Some(t) = part_text(e)
                {
                    *e = text(t);
                }
                let is_add = matches!(
                    name.as_str(),
                    "date_add"
                        | "date_sub"
                        | "datetime_add"
                        | "datetime_sub"
                        | "time_add"
                        | "time_sub"
                        | "timestamp_add"
                        | "timestamp_sub"
                );
                if is_add
                    && list.args.len() == 2
                    && let FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Interval(iv))) =
                        &list.args[1]
                    && iv.last_field.is_none()
                    && let Some(field) = &iv.leading_field
                {
                    let n = (*iv.value).clone();
                    let p = text(field_text(field));
                    list.args[1] = FunctionArg::Unnamed(FunctionArgExpr::Expr(n));
                    list.args
                        .push(FunctionArg::Unnamed(FunctionArgExpr::Expr(p)));
                }
                if name == "make_interval" {
                    let order = ["year", "month", "day", "hour", "minute", "second"];
                    let mut slots: Vec<Expr> =
                        vec![Expr::value(Value::Number("0".into(), false)); 6];
                    let mut pos = 0;
                    for a in &list.args {
                        match a {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) if pos < 6 => {
                                slots[pos] = e.clone();
                                pos += 1;
                            }
                            FunctionArg::Named {
                                name,
                                arg: FunctionArgExpr::Expr(e),
                                operator: FunctionArgOperator::RightArrow,
                            } => {
                                match order
                                    .iter()
                                    .position(|o| name.value.eq_ignore_ascii_case(o))
                                {
                                    Some(i) => slots[i] = e.clone(),
                                    None => {
                                        self.error = Some(DapError::not_supported(format!(
                                            "MAKE_INTERVAL argument {}",
                                            name.value
                                        )));
                                        return ControlFlow::Break(());
                                    }
                                }
                            }
                            _ => {
                                self.error =
                                    Some(DapError::not_supported("this MAKE_INTERVAL argument"));
                                return ControlFlow::Break(());
                            }
                        }
                    }
                    list.args = slots
                        .into_iter()
                        .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                        .collect();
                }
            }
            Expr::Extract {
                field, expr: inner, ..
            } => {
                let (value, zone) = match &**inner {
                    Expr::AtTimeZone {
                        timestamp,
                        time_zone,
                    } => ((**timestamp).clone(), Some((**time_zone).clone())),
                    other => (other.clone(), None),
                };
                let f = field_text(field);
                let mut args = vec![value];
                args.extend(zone);
                *expr = match f.as_str() {
                    "DATE" => call("date", args),
                    "TIME" => call("time", args),
                    "DATETIME" => call("datetime", args),
                    _ => {
                        args.insert(0, text(f));
                        call("bq_extract", args)
                    }
                };
            }
            Expr::Interval(iv) if iv.last_field.is_some() => {
                let (Some(lead), Some(last)) = (&iv.leading_field, &iv.last_field) else {
                    return ControlFlow::Continue(());
                };
                let s = match &*iv.value {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                match range_interval(&s, &field_text(lead), &field_text(last)) {
                    Some((m, d, us)) => {
                        // Built directly: the BigQuery dialect's parser requires a qualifier.
                        *expr = Expr::Interval(datafusion::sql::sqlparser::ast::Interval {
                            value: Box::new(Expr::value(Value::SingleQuotedString(format!(
                                "{m} months {d} days {us} microseconds"
                            )))),
                            leading_field: None,
                            leading_precision: None,
                            last_field: None,
                            fractional_seconds_precision: None,
                        });
                    }
                    None => {
                        self.error =
                            Some(DapError::not_supported(format!("INTERVAL literal '{s}'")));
                        return ControlFlow::Break(());
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Parses `INTERVAL '<text>' <lead> TO <last>` into (months, days, microseconds).
fn range_interval(s: &str, lead: &str, last: &str) -> Option<(i64, i64, i64)> {
    const ORDER: [&str; 6] = ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"];
    let a = ORDER.iter().position(|x| *x == lead)?;
    let b = ORDER.iter().position(|x| *x == last)?;
    if a >= b {
        return None;
    }
    let fields = &ORDER[a..=b];
    // Tokenize: groups separated by spaces; Y-M groups by '-', H:M:S by ':'.
    let groups: Vec<&str> = s.split_whitespace().collect();
    let mut vals: Vec<(usize, String)> = Vec::new();
    let mut fi = 0;
    for g in groups {
        let f = fields.get(fi)?;
        if *f == "YEAR" && fields.contains(&"MONTH") {
            let (sign, body) = signed(g);
            let (y, m) = body.split_once('-')?;
            vals.push((0, format!("{sign}{y}")));
            vals.push((1, format!("{sign}{m}")));
            fi += 2;
        } else if matches!(*f, "HOUR" | "MINUTE") {
            let (sign, body) = signed(g);
            let parts: Vec<&str> = body.split(':').collect();
            let start = ORDER.iter().position(|x| x == f)?;
            for (k, p) in parts.iter().enumerate() {
                vals.push((start + k, format!("{sign}{p}")));
            }
            fi += parts.len();
        } else {
            let idx = ORDER.iter().position(|x| x == f)?;
            vals.push((idx, g.to_string()));
            fi += 1;
        }
    }
    if fi != fields.len() {
        return None;
    }
    let (mut m, mut d, mut us) = (0i64, 0i64, 0i64);
    for (idx, v) in vals {
        if !fields.contains(&ORDER[idx]) {
            return None;
        }
        match idx {
            0 => m += v.parse::<i64>().ok()? * 12,
            1 => m += v.parse::<i64>().ok()?,
            2 => d += v.parse::<i64>().ok()?,
            3 => us += v.parse::<i64>().ok()? * 3_600_000_000,
            4 => us += v.parse::<i64>().ok()? * 60_000_000,
            _ => {
                let (sign, body) = signed(&v);
                let (w, f) = body.split_once('.').unwrap_or((body, ""));
                if f.len() > 6 {
                    return None;
                }
                let x = w.parse::<i64>().ok()? * 1_000_000
                    + if f.is_empty() {
                        0
                    } else {
                        format!("{f:0<6}").parse::<i64>().ok()?
                    };
                us += if sign == "-" { -x } else { x };
            }
        }
    }
    Some((m, d, us))
}

fn signed(g: &str) -> (&'static str, &str) {
    match g.strip_prefix('-') {
        Some(b) => ("-", b),
        None => ("", g.strip_prefix('+').unwrap_or(g)),
    }
}
