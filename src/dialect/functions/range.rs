//! The RANGE type and its functions: `RANGE<DATE> '[2022-01-01, 2023-01-01)'` literals,
//! `RANGE(start, end)`, `RANGE_START`, `RANGE_END`, `RANGE_CONTAINS` (range or value),
//! `RANGE_OVERLAPS`, `RANGE_INTERSECT` and `GENERATE_RANGE_ARRAY` (steps of whole days).
//!
//! A RANGE<DATE> is an Arrow struct with the two DATE fields `$range_start` and `$range_end`
//! ([`range_type`]); a NULL field is an unbounded end. `output::value` prints it in BigQuery's
//! text form `[2022-01-01, 2023-01-01)` (`UNBOUNDED` for an open end). RANGE<DATETIME> and
//! RANGE<TIMESTAMP> are `not supported` (their text form is not pinned down), as are
//! `CAST(... AS RANGE<T>)`, GENERATE_RANGE_ARRAY with month/year steps and `RANGE_SESSIONIZE`.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/range-functions>
//! and <https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#range_type>.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Date32Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Word};

use super::temporal::{Kind, parse_literal, to_scalar};
use super::{bq_error, not_supported};

const START: &str = "$range_start";
const END: &str = "$range_end";

/// The Arrow type of RANGE<DATE>.
pub fn range_type() -> DataType {
    DataType::Struct(range_fields())
}

fn range_fields() -> Fields {
    Fields::from(vec![
        Field::new(START, DataType::Date32, true),
        Field::new(END, DataType::Date32, true),
    ])
}

/// Whether a struct type is dap's RANGE layout.
pub fn is_range(fields: &Fields) -> bool {
    fields.len() == 2 && fields[0].name() == START && fields[1].name() == END
}

/// `RANGE<T> 'text'` becomes a call `"$range_literal_t"('text')` before parsing.
pub fn range_literals(tokens: &mut Vec<TokenWithSpan>) {
    let mut i = 0;
    while i < tokens.len() {
        if let Some((elem, lit, end)) = range_literal_at(tokens, i) {
            let span = tokens[i].span;
            let lit_span = tokens[lit].span;
            let name = Token::Word(Word {
                value: format!("$range_literal_{elem}"),
                quote_style: Some('"'),
                keyword: datafusion::sql::sqlparser::keywords::Keyword::NoKeyword,
            });
            let lit = tokens[lit].clone();
            tokens.splice(
                i..end,
                [
                    TokenWithSpan::new(name, span),
                    TokenWithSpan::new(Token::LParen, lit_span),
                    lit,
                    TokenWithSpan::new(Token::RParen, lit_span),
                ],
            );
        }
        i += 1;
    }
}

/// At `RANGE < T > 'text'` (whitespace allowed): the element type, the literal's index and
/// the index after it.
fn range_literal_at(tokens: &[TokenWithSpan], i: usize) -> Option<(String, usize, usize)> {
    let is_word = |t: &Token, s: &str| matches!(t, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(s));
    if !is_word(&tokens.get(i)?.token, "range") {
        return None;
    }
    let mut k = i + 1;
    let next = |k: &mut usize| -> Option<Token> {
        while matches!(tokens.get(*k)?.token, Token::Whitespace(_)) {
            *k += 1;
        }
        let t = tokens.get(*k)?.token.clone();
        *k += 1;
        Some(t)
    };
    if next(&mut k)? != Token::Lt {
        return None;
    }
    let elem = match next(&mut k)? {
        Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_lowercase(),
        _ => return None,
    };
    if !matches!(elem.as_str(), "date" | "datetime" | "timestamp") || next(&mut k)? != Token::Gt {
        return None;
    }
    match next(&mut k)? {
        Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => Some((elem, k - 1, k)),
        _ => None,
    }
}

/// A bound: days since the epoch, `None` for unbounded.
type Bound = Option<i32>;

#[derive(Debug, PartialEq, Eq, Hash)]
enum Op {
    Make,
    LiteralDate,
    LiteralOther(&'static str),
    Start,
    End,
    Contains,
    Overlaps,
    Intersect,
    GenerateArray,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RangeUdf {
    name: &'static str,
    op: Op,
    signature: Signature,
}

/// The RANGE functions.
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let f = |name, op| {
        Arc::new(ScalarUDF::new_from_impl(RangeUdf {
            name,
            op,
            signature: Signature::variadic_any(Volatility::Immutable),
        }))
    };
    vec![
        f("range", Op::Make),
        f("$range_literal_date", Op::LiteralDate),
        f(
            "$range_literal_datetime",
            Op::LiteralOther("RANGE<DATETIME>"),
        ),
        f(
            "$range_literal_timestamp",
            Op::LiteralOther("RANGE<TIMESTAMP>"),
        ),
        f("range_start", Op::Start),
        f("range_end", Op::End),
        f("range_contains", Op::Contains),
        f("range_overlaps", Op::Overlaps),
        f("range_intersect", Op::Intersect),
        f("generate_range_array", Op::GenerateArray),
    ]
}

fn check_range_arg(t: &DataType, name: &str) -> Result<()> {
    match t {
        DataType::Struct(f) if is_range(f) => Ok(()),
        DataType::Null => Ok(()),
        other => Err(not_supported(format!("{name} of {other}"))),
    }
}

impl ScalarUDFImpl for RangeUdf {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        if self.op == Op::Make && t.iter().any(DataType::is_integer) {
            // DataFusion's integer `range(start, stop)`, which dap's own rewrites use.
            return Ok(DataType::List(Arc::new(Field::new_list_field(
                DataType::Int64,
                true,
            ))));
        }
        let arity = match self.op {
            Op::Make | Op::Contains | Op::Overlaps | Op::Intersect => 2..=2,
            Op::GenerateArray => 2..=3,
            _ => 1..=1,
        };
        if !arity.contains(&t.len()) {
            return Err(bq_error(format!(
                "{} expects {} arguments",
                self.name.to_ascii_uppercase(),
                arity.end()
            )));
        }
        let upper = self.name.to_ascii_uppercase();
        match self.op {
            Op::GenerateArray => {
                check_range_arg(&t[0], &upper)?;
                Ok(DataType::List(Arc::new(Field::new_list_field(
                    range_type(),
                    true,
                ))))
            }
            Op::Make => {
                for a in t {
                    match a {
                        DataType::Date32 | DataType::Null => {}
                        DataType::Timestamp(..) => {
                            return Err(not_supported("RANGE of DATETIME or TIMESTAMP"));
                        }
                        other => {
                            return Err(bq_error(format!(
                                "No matching signature for function RANGE for argument type {other}"
                            )));
                        }
                    }
                }
                if t.iter().all(|a| *a == DataType::Null) {
                    return Err(not_supported("RANGE(NULL, NULL)"));
                }
                Ok(range_type())
            }
            Op::LiteralDate => Ok(range_type()),
            Op::LiteralOther(what) => Err(not_supported(what)),
            Op::Start | Op::End => {
                check_range_arg(&t[0], &upper)?;
                Ok(DataType::Date32)
            }
            Op::Contains => {
                check_range_arg(&t[0], &upper)?;
                if !matches!(&t[1], DataType::Date32 | DataType::Null)
                    && check_range_arg(&t[1], &upper).is_err()
                {
                    return Err(not_supported(format!("RANGE_CONTAINS of {}", t[1])));
                }
                Ok(DataType::Boolean)
            }
            Op::Overlaps | Op::Intersect => {
                check_range_arg(&t[0], &upper)?;
                check_range_arg(&t[1], &upper)?;
                Ok(if self.op == Op::Overlaps {
                    DataType::Boolean
                } else {
                    range_type()
                })
            }
        }
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if self.op == Op::Make && args.args.iter().any(|a| a.data_type().is_integer()) {
            for a in args.args.iter_mut() {
                *a = a.cast_to(&DataType::Int64, None)?;
            }
            args.arg_fields = args
                .arg_fields
                .iter()
                .map(|f| Arc::new(f.as_ref().clone().with_data_type(DataType::Int64)))
                .collect();
            return datafusion::functions_nested::range::range_udf().invoke_with_args(args);
        }
        let ret = args.return_field.data_type().clone();
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|a| a.to_array(rows))
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(rows);
        for r in 0..rows {
            let vals: Vec<ScalarValue> = arrays
                .iter()
                .map(|a| ScalarValue::try_from_array(a, r))
                .collect::<Result<_>>()?;
            out.push(self.row(&vals)?);
        }
        if all_scalar {
            Ok(ColumnarValue::Scalar(match out.pop() {
                Some(v) => v,
                None => ScalarValue::try_from(&ret)?,
            }))
        } else if out.is_empty() {
            Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&ret),
            ))
        } else {
            Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
        }
    }
}

/// A RANGE value's bounds; `None` for a NULL range.
fn bounds(v: &ScalarValue) -> Result<Option<(Bound, Bound)>> {
    match v {
        ScalarValue::Null => Ok(None),
        ScalarValue::Struct(s) if s.is_null(0) => Ok(None),
        ScalarValue::Struct(s) => {
            let get = |i: usize| -> Option<i32> {
                let c = s.column(i);
                let d = c.as_any().downcast_ref::<Date32Array>()?;
                (!d.is_null(0)).then(|| d.value(0))
            };
            Ok(Some((get(0), get(1))))
        }
        other => Err(not_supported(format!(
            "RANGE function argument {}",
            other.data_type()
        ))),
    }
}

fn make(start: Bound, end: Bound) -> Result<ScalarValue> {
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        return Err(bq_error(
            "Range lower bound must be less than the upper bound",
        ));
    }
    let fields = range_fields();
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(vec![start])),
        Arc::new(Date32Array::from(vec![end])),
    ];
    Ok(ScalarValue::Struct(Arc::new(StructArray::try_new(
        fields, arrays, None,
    )?)))
}

fn null_range() -> Result<ScalarValue> {
    ScalarValue::try_from(&range_type())
}

fn date_bound(v: &ScalarValue) -> Result<Bound> {
    match v {
        ScalarValue::Null | ScalarValue::Date32(None) => Ok(None),
        ScalarValue::Date32(Some(d)) => Ok(Some(*d)),
        other => Err(not_supported(format!("RANGE bound {}", other.data_type()))),
    }
}

/// `start <= end` where `None` is -inf for starts.
fn start_le(a: Bound, b: Bound) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a <= b,
    }
}

/// `a <= b` where `None` is +inf for ends.
fn end_le(a: Bound, b: Bound) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a <= b,
    }
}

/// `start < end` with unbounded ends.
fn start_lt_end(start: Bound, end: Bound) -> bool {
    match (start, end) {
        (Some(s), Some(e)) => s < e,
        _ => true,
    }
}

impl RangeUdf {
    fn row(&self, a: &[ScalarValue]) -> Result<ScalarValue> {
        match self.op {
            Op::Make => make(date_bound(&a[0])?, date_bound(&a[1])?),
            Op::LiteralDate => match &a[0] {
                ScalarValue::Utf8(Some(s)) => {
                    let (start, end) = parse_range(s)?;
                    make(start, end)
                }
                _ => null_range(),
            },
            Op::LiteralOther(what) => Err(not_supported(what)),
            Op::Start | Op::End => {
                let Some((s, e)) = bounds(&a[0])? else {
                    return Ok(ScalarValue::Date32(None));
                };
                Ok(ScalarValue::Date32(if self.op == Op::Start {
                    s
                } else {
                    e
                }))
            }
            Op::Contains => {
                let Some((s, e)) = bounds(&a[0])? else {
                    return Ok(ScalarValue::Boolean(None));
                };
                match &a[1] {
                    ScalarValue::Date32(Some(d)) => Ok(ScalarValue::Boolean(Some(
                        start_le(s, Some(*d)) && start_lt_end(Some(*d), e),
                    ))),
                    ScalarValue::Date32(None) | ScalarValue::Null => Ok(ScalarValue::Boolean(None)),
                    other => {
                        let Some((s2, e2)) = bounds(other)? else {
                            return Ok(ScalarValue::Boolean(None));
                        };
                        Ok(ScalarValue::Boolean(Some(start_le(s, s2) && end_le(e2, e))))
                    }
                }
            }
            Op::GenerateArray => generate_range_array(a),
            Op::Overlaps | Op::Intersect => {
                let (Some((s1, e1)), Some((s2, e2))) = (bounds(&a[0])?, bounds(&a[1])?) else {
                    return if self.op == Op::Overlaps {
                        Ok(ScalarValue::Boolean(None))
                    } else {
                        null_range()
                    };
                };
                let overlaps = start_lt_end(s1, e2) && start_lt_end(s2, e1);
                if self.op == Op::Overlaps {
                    return Ok(ScalarValue::Boolean(Some(overlaps)));
                }
                if !overlaps {
                    return Err(bq_error("RANGE_INTERSECT: the ranges do not overlap"));
                }
                let start = if start_le(s1, s2) { s2 } else { s1 };
                let end = if end_le(e1, e2) { e1 } else { e2 };
                make(start, end)
            }
        }
    }
}

/// GENERATE_RANGE_ARRAY(range, step[, include_last_partial_range]) for steps of whole days.
fn generate_range_array(a: &[ScalarValue]) -> Result<ScalarValue> {
    let null = || {
        ScalarValue::try_from(&DataType::List(Arc::new(Field::new_list_field(
            range_type(),
            true,
        ))))
    };
    let Some((start, end)) = bounds(&a[0])? else {
        return null();
    };
    let step = match &a[1] {
        ScalarValue::IntervalMonthDayNano(Some(i)) if i.months == 0 && i.nanoseconds == 0 => i.days,
        ScalarValue::IntervalMonthDayNano(Some(_)) => {
            return Err(not_supported(
                "GENERATE_RANGE_ARRAY with a step other than whole days",
            ));
        }
        ScalarValue::IntervalMonthDayNano(None) | ScalarValue::Null => return null(),
        other => {
            return Err(not_supported(format!(
                "GENERATE_RANGE_ARRAY step of type {}",
                other.data_type()
            )));
        }
    };
    let include_partial = match a.get(2) {
        None => true,
        Some(ScalarValue::Boolean(Some(b))) => *b,
        Some(ScalarValue::Boolean(None) | ScalarValue::Null) => return null(),
        Some(other) => {
            return Err(not_supported(format!(
                "GENERATE_RANGE_ARRAY flag of type {}",
                other.data_type()
            )));
        }
    };
    let (Some(start), Some(end)) = (start, end) else {
        return Err(bq_error(
            "GENERATE_RANGE_ARRAY does not support unbounded ranges",
        ));
    };
    if step <= 0 {
        return Err(bq_error("GENERATE_RANGE_ARRAY step must be positive"));
    }
    let mut out = Vec::new();
    let mut s = i64::from(start);
    while s < i64::from(end) {
        let e = s + i64::from(step);
        if e > i64::from(end) && !include_partial {
            break;
        }
        let e = e.min(i64::from(end));
        out.push(make(Some(s as i32), Some(e as i32))?);
        s = e;
    }
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &out,
        &range_type(),
    )))
}

/// `[start, end)` with `UNBOUNDED` or `NULL` for an open end.
fn parse_range(s: &str) -> Result<(Bound, Bound)> {
    let bad = || bq_error(format!("Invalid RANGE<DATE> literal: {s}"));
    let body = s
        .trim()
        .strip_prefix('[')
        .and_then(|b| b.strip_suffix(')'))
        .ok_or_else(bad)?;
    let (a, b) = body.split_once(',').ok_or_else(bad)?;
    let bound = |t: &str| -> Result<Bound> {
        let t = t.trim();
        if t.eq_ignore_ascii_case("unbounded") || t.eq_ignore_ascii_case("null") {
            return Ok(None);
        }
        match to_scalar(parse_literal(t, Kind::Date).map_err(|_| bad())?) {
            ScalarValue::Date32(d) => Ok(d),
            _ => Err(bad()),
        }
    };
    Ok((bound(a)?, bound(b)?))
}

/// The text form of a RANGE<DATE> value given its bounds' text (`None` = unbounded).
pub fn range_text(start: Option<String>, end: Option<String>) -> String {
    format!(
        "[{}, {})",
        start.unwrap_or_else(|| "UNBOUNDED".into()),
        end.unwrap_or_else(|| "UNBOUNDED".into())
    )
}
