//! Newline-delimited JSON straight into Arrow arrays: one pass over a chunk's bytes, specialised
//! to the table schema, for the rows loads see nearly always (plain objects whose keys are the
//! column names and whose values have the column's type).
//!
//! Contract: [`decode`] answers only for a chunk in which every non-blank line is one JSON object
//! it takes whole: keys that are field names exactly (no escapes, no repeats), and values of
//! exactly these shapes: `null` (never as an array element), `true`/`false` for BOOL, integers in
//! INT64's range for INT64, any number for FLOAT64 (a finite one), strings without invalid
//! escapes for STRING, `YYYY-MM-DD` for DATE, `YYYY-MM-DD[T ]HH:MM:SS[.f]` with `Z`, `±HH:MM` or
//! no zone (UTC) for TIMESTAMP, arrays and objects of those. For such a chunk the arrays are the
//! ones the general path ([`super::json`], arrow-json's decoder) builds. For anything else
//! (another number or date form, a key that needs sanitizing, a malformed line, a type it does not
//! take) it answers `None` and the general path decodes the chunk, so it never answers
//! differently; it only answers sooner.
//!
//! With the type detected from a sample ([`super::fits`]), a column also takes only values that
//! leave that type unchanged (a FLOAT64 column detected as INT64 takes integers only, a field
//! absent from the sample takes nothing): a chunk it answers for is one the sampled schema fits,
//! so no separate check pass is needed.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, ListArray,
    NullBufferBuilder, RecordBatch, StringBuilder, StructArray, TimestampMicrosecondBuilder,
};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, FieldRef, Fields, SchemaRef, TimeUnit};

use super::BATCH_ROWS;
use super::infer::Ty;
use super::source::Chunk;

/// The chunk is not one the direct path takes (the general path decodes it).
#[derive(Debug)]
struct Bail;

type R<T = ()> = Result<T, Bail>;

/// Whether the direct path can decode rows of `schema` at all (every type is one it builds and
/// every field is NULLABLE).
pub fn supported(schema: &SchemaRef) -> bool {
    Node::new(
        &DataType::Struct(schema.fields().clone()),
        true,
        None,
        false,
    )
    .is_some()
}

/// The rows of a chunk as batches of at most [`BATCH_ROWS`] rows, with each row's line number
/// when `with_lines`; `None` when the general path must decode it. `check` is the detected type
/// (a [`Ty::Struct`]) every row must leave unchanged.
pub fn decode(
    schema: &SchemaRef,
    check: Option<&Ty>,
    chunk: &Chunk,
    with_lines: bool,
) -> Option<(Vec<RecordBatch>, Vec<u64>)> {
    let text = std::str::from_utf8(&chunk.bytes).ok()?;
    let mut root = Node::new(
        &DataType::Struct(schema.fields().clone()),
        true,
        check,
        check.is_some(),
    )?;
    let mut batches = Vec::new();
    let mut lines = Vec::new();
    let mut rows = 0;
    let mut p = Parser {
        s: "",
        i: 0,
        scratch: String::new(),
    };
    for (n, line) in text.split('\n').enumerate() {
        let line = trim_str(line);
        if line.is_empty() {
            continue;
        }
        p.s = line;
        p.i = 0;
        if p.peek() != Some(b'{') {
            return None;
        }
        root.value(&mut p).ok()?;
        if p.i != line.len() {
            return None;
        }
        if with_lines {
            lines.push(chunk.first_line + n as u64);
        }
        rows += 1;
        if rows == BATCH_ROWS {
            batches.push(root.batch(schema)?);
            rows = 0;
        }
    }
    if rows > 0 {
        batches.push(root.batch(schema)?);
    }
    Some((batches, lines))
}

/// The line without surrounding ASCII whitespace (as [`super::source::lines`] trims it).
fn trim_str(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii_whitespace())
}

/// Which JSON values a column takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Take {
    /// Not even `null`: the field is not in the detected type (its key would add it).
    Absent,
    /// Only `null` (the detected type is not this column's).
    Null,
    Bool,
    /// Integers in INT64's range.
    Int,
    /// Any finite number (into FLOAT64).
    Number,
    /// Integers in INT64's range only (a FLOAT64 column whose values were detected as INT64).
    IntAsFloat,
    Str,
    /// `YYYY-MM-DD` strings (into DATE, or into STRING when DATE was detected).
    DateStr,
    /// Date-time strings (into TIMESTAMP, or into STRING when TIMESTAMP was detected).
    TsStr,
    List,
    Struct,
}

enum Col {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder, DataType),
    List {
        field: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        child: Box<Node>,
    },
    Struct {
        fields: Fields,
        children: Vec<Node>,
        nulls: NullBufferBuilder,
        /// `stamp[i] == round`: field `i` was seen in the current object.
        stamp: Vec<u32>,
        round: u32,
    },
}

struct Node {
    take: Take,
    col: Col,
}

/// Whether the detected type `ty` is the one a column of this kind holds.
fn detected(ty: Option<&Ty>, checked: bool, want: fn(&Ty) -> bool, take: Take) -> Take {
    match ty {
        _ if !checked => take,
        None => Take::Absent,
        Some(t) if want(t) => take,
        Some(_) => Take::Null,
    }
}

impl Node {
    fn new(dt: &DataType, nullable: bool, ty: Option<&Ty>, checked: bool) -> Option<Node> {
        if !nullable {
            return None;
        }
        let cap = BATCH_ROWS;
        let (take, col) = match dt {
            DataType::Boolean => (
                detected(ty, checked, |t| matches!(t, Ty::Bool), Take::Bool),
                Col::Bool(BooleanBuilder::with_capacity(cap)),
            ),
            DataType::Int64 => (
                detected(ty, checked, |t| matches!(t, Ty::Int), Take::Int),
                Col::Int(Int64Builder::with_capacity(cap)),
            ),
            DataType::Float64 => {
                let take = match ty {
                    Some(Ty::Int) if checked => Take::IntAsFloat,
                    _ => detected(ty, checked, |t| matches!(t, Ty::Float), Take::Number),
                };
                (take, Col::Float(Float64Builder::with_capacity(cap)))
            }
            DataType::Utf8 => {
                let take = match ty {
                    Some(Ty::Date) if checked => Take::DateStr,
                    Some(Ty::Timestamp) if checked => Take::TsStr,
                    _ => detected(ty, checked, |t| matches!(t, Ty::String), Take::Str),
                };
                (take, Col::Str(StringBuilder::with_capacity(cap, cap * 16)))
            }
            DataType::Date32 => (
                detected(ty, checked, |t| matches!(t, Ty::Date), Take::DateStr),
                Col::Date(Date32Builder::with_capacity(cap)),
            ),
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
                if tz.as_ref() == "UTC" || tz.as_ref() == "+00:00" =>
            {
                (
                    detected(ty, checked, |t| matches!(t, Ty::Timestamp), Take::TsStr),
                    Col::Ts(TimestampMicrosecondBuilder::with_capacity(cap), dt.clone()),
                )
            }
            DataType::List(field) => {
                let elem = match ty {
                    Some(Ty::Array(e)) => Some(e.as_ref()),
                    _ => None,
                };
                let take = detected(ty, checked, |t| matches!(t, Ty::Array(_)), Take::List);
                let child = Node::new(
                    field.data_type(),
                    field.is_nullable(),
                    elem,
                    checked && elem.is_some(),
                )?;
                let col = Col::List {
                    field: field.clone(),
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(cap),
                    child: Box::new(child),
                };
                (take, col)
            }
            DataType::Struct(fields) => {
                let detected_fields = match ty {
                    Some(Ty::Struct(f)) => Some(f),
                    _ => None,
                };
                let take = detected(ty, checked, |t| matches!(t, Ty::Struct(_)), Take::Struct);
                let children = fields
                    .iter()
                    .map(|f| {
                        let t = detected_fields
                            .and_then(|d| d.iter().find(|(n, _)| n == f.name()).map(|(_, t)| t));
                        Node::new(
                            f.data_type(),
                            f.is_nullable(),
                            t,
                            checked && detected_fields.is_some(),
                        )
                    })
                    .collect::<Option<Vec<_>>>()?;
                let col = Col::Struct {
                    fields: fields.clone(),
                    stamp: vec![0; children.len()],
                    children,
                    nulls: NullBufferBuilder::new(cap),
                    round: 0,
                };
                (take, col)
            }
            _ => return None,
        };
        Some(Node { take, col })
    }

    /// Appends a NULL (a missing field, or the children of a NULL struct).
    fn null(&mut self) {
        match &mut self.col {
            Col::Bool(b) => b.append_null(),
            Col::Int(b) => b.append_null(),
            Col::Float(b) => b.append_null(),
            Col::Str(b) => b.append_null(),
            Col::Date(b) => b.append_null(),
            Col::Ts(b, _) => b.append_null(),
            Col::List { offsets, nulls, .. } => {
                offsets.push(offsets.last().copied().unwrap_or(0));
                nulls.append_null();
            }
            Col::Struct {
                children, nulls, ..
            } => {
                children.iter_mut().for_each(Node::null);
                nulls.append_null();
            }
        }
    }

    /// Decodes one value at the parser's position.
    fn value(&mut self, p: &mut Parser) -> R {
        p.ws();
        match p.peek().ok_or(Bail)? {
            b'n' => {
                p.literal(b"null")?;
                if self.take == Take::Absent {
                    return Err(Bail);
                }
                self.null();
            }
            b't' => {
                p.literal(b"true")?;
                self.boolean(true)?;
            }
            b'f' => {
                p.literal(b"false")?;
                self.boolean(false)?;
            }
            b'"' => self.string(p)?,
            b'-' | b'0'..=b'9' => self.number(p)?,
            b'[' => self.list(p)?,
            b'{' => self.object(p)?,
            _ => return Err(Bail),
        }
        Ok(())
    }

    fn boolean(&mut self, v: bool) -> R {
        match (&mut self.col, self.take) {
            (Col::Bool(b), Take::Bool) => b.append_value(v),
            _ => return Err(Bail),
        }
        Ok(())
    }

    fn number(&mut self, p: &mut Parser) -> R {
        let (text, int) = p.number()?;
        match (&mut self.col, self.take) {
            (Col::Int(b), Take::Int) => b.append_value(int.ok_or(Bail)?),
            (Col::Float(b), Take::Number | Take::IntAsFloat) => {
                if self.take == Take::IntAsFloat && int.is_none() {
                    return Err(Bail);
                }
                let v: f64 = text.parse().map_err(|_| Bail)?;
                if !v.is_finite() {
                    return Err(Bail);
                }
                b.append_value(v);
            }
            _ => return Err(Bail),
        }
        Ok(())
    }

    fn string(&mut self, p: &mut Parser) -> R {
        let take = self.take;
        let s = p.string()?;
        match (&mut self.col, take) {
            (Col::Str(b), Take::Str) => b.append_value(s),
            (Col::Str(b), Take::DateStr) => {
                date(s.as_bytes()).ok_or(Bail)?;
                b.append_value(s);
            }
            (Col::Str(b), Take::TsStr) => {
                timestamp(s.as_bytes()).ok_or(Bail)?;
                b.append_value(s);
            }
            (Col::Date(b), Take::DateStr) => b.append_value(date(s.as_bytes()).ok_or(Bail)?),
            (Col::Ts(b, _), Take::TsStr) => b.append_value(timestamp(s.as_bytes()).ok_or(Bail)?),
            _ => return Err(Bail),
        }
        Ok(())
    }

    fn list(&mut self, p: &mut Parser) -> R {
        let Col::List {
            offsets,
            nulls,
            child,
            ..
        } = &mut self.col
        else {
            return Err(Bail);
        };
        if self.take != Take::List {
            return Err(Bail);
        }
        p.i += 1;
        let mut count: i32 = 0;
        p.ws();
        if p.peek() == Some(b']') {
            p.i += 1;
        } else {
            loop {
                p.ws();
                // An array cannot hold NULL (BigQuery rejects the row; the general path says so).
                if p.peek() == Some(b'n') {
                    return Err(Bail);
                }
                child.value(p)?;
                count += 1;
                p.ws();
                match p.next().ok_or(Bail)? {
                    b',' => {}
                    b']' => break,
                    _ => return Err(Bail),
                }
            }
        }
        let last = offsets.last().copied().unwrap_or(0);
        offsets.push(last.checked_add(count).ok_or(Bail)?);
        nulls.append_non_null();
        Ok(())
    }

    fn object(&mut self, p: &mut Parser) -> R {
        let Col::Struct {
            fields,
            children,
            nulls,
            stamp,
            round,
        } = &mut self.col
        else {
            return Err(Bail);
        };
        if self.take != Take::Struct {
            return Err(Bail);
        }
        if *round == u32::MAX {
            stamp.iter_mut().for_each(|s| *s = 0);
            *round = 0;
        }
        *round += 1;
        p.i += 1;
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
        } else {
            // Keys usually come in the schema's order: try the next field first.
            let mut hint = 0;
            loop {
                p.ws();
                if p.next() != Some(b'"') {
                    return Err(Bail);
                }
                let key = p.key()?;
                let at = if fields.get(hint).is_some_and(|f| f.name() == key) {
                    hint
                } else {
                    fields.iter().position(|f| f.name() == key).ok_or(Bail)?
                };
                if stamp[at] == *round {
                    return Err(Bail);
                }
                stamp[at] = *round;
                hint = at + 1;
                p.ws();
                if p.next() != Some(b':') {
                    return Err(Bail);
                }
                children[at].value(p)?;
                p.ws();
                match p.next().ok_or(Bail)? {
                    b',' => {}
                    b'}' => break,
                    _ => return Err(Bail),
                }
            }
        }
        for (child, seen) in children.iter_mut().zip(stamp.iter()) {
            if *seen != *round {
                child.null();
            }
        }
        nulls.append_non_null();
        Ok(())
    }

    /// The values so far as an array (the builders start over).
    fn finish(&mut self) -> Option<ArrayRef> {
        Some(match &mut self.col {
            Col::Bool(b) => Arc::new(b.finish()),
            Col::Int(b) => Arc::new(b.finish()),
            Col::Float(b) => Arc::new(b.finish()),
            Col::Str(b) => Arc::new(b.finish()),
            Col::Date(b) => Arc::new(b.finish()),
            Col::Ts(b, dt) => Arc::new(b.finish().with_data_type(dt.clone())),
            Col::List {
                field,
                offsets,
                nulls,
                child,
            } => {
                let offsets =
                    OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                let values = child.finish()?;
                Arc::new(ListArray::try_new(field.clone(), offsets, values, nulls.finish()).ok()?)
            }
            Col::Struct {
                fields,
                children,
                nulls,
                ..
            } => {
                let arrays = children
                    .iter_mut()
                    .map(Node::finish)
                    .collect::<Option<Vec<_>>>()?;
                Arc::new(StructArray::try_new(fields.clone(), arrays, nulls.finish()).ok()?)
            }
        })
    }

    /// The rows so far as a batch of `schema` (this node is the row struct).
    fn batch(&mut self, schema: &SchemaRef) -> Option<RecordBatch> {
        let Col::Struct {
            children, nulls, ..
        } = &mut self.col
        else {
            return None;
        };
        nulls.finish();
        let columns = children
            .iter_mut()
            .map(Node::finish)
            .collect::<Option<Vec<_>>>()?;
        RecordBatch::try_new(schema.clone(), columns).ok()
    }
}

/// A position in one line.
struct Parser<'a> {
    s: &'a str,
    i: usize,
    /// Unescaped text of the last string that held escapes.
    scratch: String,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn literal(&mut self, word: &[u8]) -> R {
        if self.s.as_bytes().get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Moves to the next `"`, `\\` or control character (eight bytes at a time).
    fn skip_plain(&mut self) {
        let b = self.s.as_bytes();
        while let Some(word) = b.get(self.i..self.i + 8) {
            let mut w = [0; 8];
            w.copy_from_slice(word);
            let m = special(u64::from_le_bytes(w));
            if m != 0 {
                self.i += m.trailing_zeros() as usize / 8;
                return;
            }
            self.i += 8;
        }
    }

    /// An object key (at the byte after its opening quote), without escapes.
    fn key(&mut self) -> R<&'a str> {
        let b = self.s.as_bytes();
        let start = self.i;
        self.skip_plain();
        loop {
            match b.get(self.i).ok_or(Bail)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return Err(Bail),
                _ => self.i += 1,
            }
        }
        let key = self.s.get(start..self.i).ok_or(Bail)?;
        self.i += 1;
        Ok(key)
    }

    /// A string value (at its opening quote), unescaped.
    fn string(&mut self) -> R<&str> {
        let b = self.s.as_bytes();
        self.i += 1;
        let start = self.i;
        self.skip_plain();
        loop {
            match b.get(self.i).ok_or(Bail)? {
                b'"' => {
                    let s = self.s.get(start..self.i).ok_or(Bail)?;
                    self.i += 1;
                    return Ok(s);
                }
                b'\\' => break,
                0..=0x1f => return Err(Bail),
                _ => self.i += 1,
            }
        }
        // Escapes (rare): find the closing quote, then serde_json unescapes (and rejects lone
        // surrogates, bad escapes and control characters).
        loop {
            match b.get(self.i).ok_or(Bail)? {
                b'"' => break,
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
        let quoted = self.s.get(start - 1..=self.i).ok_or(Bail)?;
        self.i += 1;
        self.scratch = serde_json::from_str(quoted).map_err(|_| Bail)?;
        Ok(&self.scratch)
    }

    /// A number in JSON's grammar: its text, and its value when it is an integer in INT64's range
    /// (`-0` is not: it is the float -0.0, as serde_json and detection read it).
    fn number(&mut self) -> R<(&'a str, Option<i64>)> {
        let b = self.s.as_bytes();
        let start = self.i;
        let neg = b.get(self.i) == Some(&b'-');
        if neg {
            self.i += 1;
        }
        let digits = self.i;
        match b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return Err(Bail),
        }
        let int_end = self.i;
        let mut integer = true;
        if b.get(self.i) == Some(&b'.') {
            integer = false;
            self.i += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = b.get(self.i) {
            integer = false;
            self.i += 1;
            if let Some(b'+' | b'-') = b.get(self.i) {
                self.i += 1;
            }
            self.digits()?;
        }
        let text = self.s.get(start..self.i).ok_or(Bail)?;
        let value = if integer && !(neg && int_end - digits == 1 && b[digits] == b'0') {
            // Accumulated on the negative side so that INT64's minimum fits.
            b[digits..int_end]
                .iter()
                .try_fold(0i64, |n, d| {
                    n.checked_mul(10)?.checked_sub(i64::from(d - b'0'))
                })
                .and_then(|n| if neg { Some(n) } else { n.checked_neg() })
        } else {
            None
        };
        Ok((text, value))
    }

    fn digits(&mut self) -> R {
        let b = self.s.as_bytes();
        let start = self.i;
        while b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        if self.i == start { Err(Bail) } else { Ok(()) }
    }
}

/// A mask with the high bit set in (at least) the first byte of `w`, in memory order, that is
/// `"`, `\\` or below 0x20 (higher bytes may be flagged wrongly, never the first one).
fn special(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(w ^ (ONES * u64::from(b'"')))
        | zero(w ^ (ONES * u64::from(b'\\')))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}

/// Days since 1970-01-01 of exactly `YYYY-MM-DD` (years 0001 to 9999).
fn date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = num(&b[0..4])?;
    let m = num(&b[5..7])?;
    let d = num(&b[8..10])?;
    if y == 0 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y as i64, m, d) as i32)
}

/// Microseconds since the epoch of `YYYY-MM-DD[T ]HH:MM:SS[.fffffffff][Z|±HH:MM]` (no zone: UTC).
fn timestamp(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let days = i64::from(date(&b[..10])?);
    let (h, mi, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = i64::from(num(&frac[..n])?) * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset = match rest {
        [] | [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (oh, om) = (num(&[*h1, *h2])?, num(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i64::from(oh * 3600 + om * 60);
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s) - offset;
    Some(secs * 1_000_000 + nanos / 1_000)
}

/// The value of ASCII digits (up to 9 of them).
fn num(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::infer::{parse_timestamp_micros, schema_of};
    use datafusion::arrow::json::ReaderBuilder;

    fn chunk(text: &str) -> Chunk {
        Chunk {
            first_line: 1,
            bytes: text.as_bytes().to_vec(),
        }
    }

    /// arrow-json's batches for the chunk (the general path's fast case).
    fn general(schema: &SchemaRef, text: &str) -> Vec<RecordBatch> {
        let mut d = ReaderBuilder::new(schema.clone())
            .with_batch_size(BATCH_ROWS)
            .with_strict_mode(true)
            .build_decoder()
            .expect("decoder");
        d.decode(text.as_bytes()).expect("arrow-json decodes");
        d.flush().expect("flush").into_iter().collect()
    }

    fn detected(rows: &[&str]) -> Ty {
        let mut ty = Ty::Struct(Vec::new());
        for r in rows.iter().filter(|r| !r.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(r).expect("json");
            ty.absorb(Ty::of(&v, "").expect("type"));
        }
        ty
    }

    fn same_as_general(rows: &[&str]) {
        let ty = detected(rows);
        let Ty::Struct(fields) = &ty else {
            unreachable!()
        };
        let schema: SchemaRef = Arc::new(schema_of(fields).expect("schema"));
        let text = rows.join("\n");
        for check in [None, Some(&ty)] {
            let (ours, _) = decode(&schema, check, &chunk(&text), false).expect("direct decodes");
            let theirs = general(&schema, &text);
            let concat = |b: &[RecordBatch]| {
                datafusion::arrow::compute::concat_batches(&schema, b).expect("concat")
            };
            assert_eq!(concat(&ours), concat(&theirs), "{text}");
        }
    }

    #[test]
    fn plain_rows_decode_as_arrow_json_does() {
        same_as_general(&[
            r#"{"id": 1, "name": "a\"b\\c\u00e9\ud83d\ude00", "score": 1.5, "day": "2024-02-29", "at": "2024-02-29T10:00:00Z", "tags": ["x", "y"], "addr": {"city": "Oslo", "geo": {"lat": -1e-3}}, "items": [{"sku": "s", "qty": 2}], "ok": true}"#,
            r#"{"id": -9223372036854775808, "name": null, "score": 2, "day": null, "at": "2024-01-01 23:59:59.123456789+05:30", "tags": [], "addr": null, "items": [{"sku": null}], "ok": false}"#,
            r#"  {"score": -0.0, "at": "1969-12-31T23:59:59.5", "name": "ünï", "addr": {}, "id": 9223372036854775807}  "#,
            "",
            r#"{"score": 123456789012345678901234567890, "at": "0001-01-01T00:00:00-01:00"}"#,
        ]);
    }

    #[test]
    fn unusual_input_goes_to_the_general_path() {
        let ty = detected(&[r#"{"a": 1, "f": 1.5, "s": "x", "d": "2024-01-01", "l": [1]}"#]);
        let Ty::Struct(fields) = &ty else {
            unreachable!()
        };
        let schema: SchemaRef = Arc::new(schema_of(fields).expect("schema"));
        for line in [
            r#"{"a": 1.0}"#,
            r#"{"a": "1"}"#,
            r#"{"a": -0}"#,
            r#"{"a": 9223372036854775808}"#,
            r#"{"a": 01}"#,
            r#"{"f": 1e400}"#,
            r#"{"A": 1}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"b": null}"#,
            r#"{"d": "2024-1-01"}"#,
            r#"{"d": "2023-02-29"}"#,
            r#"{"s": "\ud800"}"#,
            r#"{"s": 1}"#,
            r#"{"l": [1, null]}"#,
            r#"{"a": 1} {"a": 2}"#,
            r#"{"a": 1"#,
            r#"[1]"#,
            "{\"s\": \"a\tb\"}",
        ] {
            assert!(
                decode(&schema, None, &chunk(line), false).is_none(),
                "{line}"
            );
        }
        // Without a detected type, any number goes into FLOAT64 and any string into STRING.
        for line in [r#"{"f": 1}"#, r#"{"s": "2024-01-01"}"#] {
            assert!(
                decode(&schema, None, &chunk(line), false).is_some(),
                "{line}"
            );
        }
        let sampled = detected(&[r#"{"a": 1, "f": 1, "s": null}"#]);
        let Ty::Struct(fields) = &sampled else {
            unreachable!()
        };
        let schema: SchemaRef = Arc::new(schema_of(fields).expect("schema"));
        for line in [r#"{"f": 1.5}"#, r#"{"s": "x"}"#, r#"{"z": null}"#] {
            assert!(
                decode(&schema, Some(&sampled), &chunk(line), false).is_none(),
                "{line}"
            );
        }
        // With the type detected from a sample, only values that leave it unchanged.
        assert!(
            decode(
                &schema,
                Some(&sampled),
                &chunk(r#"{"f": 2, "s": null}"#),
                false
            )
            .is_some()
        );
    }

    #[test]
    fn timestamps_match_the_loader() {
        for s in [
            "2024-02-29T10:00:00Z",
            "2024-02-29 10:00:00",
            "1900-03-01T00:00:00.000001Z",
            "1969-12-31T23:59:59.999999999+14:00",
            "9999-12-31T23:59:59-23:59",
            "2000-01-01T00:00:00.1+00:00",
        ] {
            assert_eq!(timestamp(s.as_bytes()), parse_timestamp_micros(s), "{s}");
        }
        for s in [
            "2024-02-30T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:60Z",
        ] {
            assert_eq!(timestamp(s.as_bytes()), None, "{s}");
        }
    }

    /// Random rows over a fixed set of fields, with values of every shape (and some the direct
    /// path leaves to the general one). Whenever the direct path answers, arrow-json must give
    /// the same batches, and with a detected type the chunk must fit it.
    #[test]
    fn random_rows_decode_as_arrow_json_does() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let scalars = [
            "null",
            "0",
            "-0",
            "7",
            "-12",
            "9223372036854775807",
            "9223372036854775808",
            "1.5",
            "-2.25e3",
            "1E-7",
            "true",
            "false",
            "\"x\"",
            "\"\"",
            "\"a\\\"b\\u00e9\\n\"",
            "\"😀 ok\"",
            "\"2024-02-29\"",
            "\"2023-02-29\"",
            "\"2024-01-01T10:00:00Z\"",
            "\"2024-01-01 10:00:00.25+02:00\"",
            "\"1960-06-30T23:59:59.000001\"",
        ];
        let mut ran = 0;
        for _ in 0..400 {
            let mut lines = Vec::new();
            // Each chunk keeps one shape per field most of the time, so detection succeeds.
            let pick: Vec<usize> = (0..6).map(|_| rnd(scalars.len() as u64) as usize).collect();
            for _ in 0..(1 + rnd(20)) {
                let mut fields = Vec::new();
                for (i, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
                    if rnd(5) == 0 {
                        continue;
                    }
                    let v = if rnd(12) == 0 {
                        scalars[rnd(scalars.len() as u64) as usize].to_string()
                    } else {
                        scalars[pick[i]].to_string()
                    };
                    let v = match i {
                        4 if v != "null" => format!("[{v}, {v}]"),
                        5 if v != "null" => format!("{{\"x\": {v}, \"y\": [{{\"z\": {v}}}]}}"),
                        _ => v,
                    };
                    fields.push(format!("\"{name}\": {v}"));
                }
                lines.push(format!("{{{}}}", fields.join(", ")));
            }
            let text = lines.join("\n");
            let c = chunk(&text);
            let mut scan = crate::ingest::json::Scan::default();
            crate::ingest::json::scan_lines(&mut scan, "t", &c);
            let Ty::Struct(fields) = &scan.ty else {
                unreachable!()
            };
            let Ok(schema) = schema_of(fields) else {
                continue;
            };
            let schema: SchemaRef = Arc::new(schema);
            for check in [None, Some(&scan.ty)] {
                if let Some((ours, _)) = decode(&schema, check, &c, false) {
                    ran += 1;
                    let theirs = general(&schema, &text);
                    let concat = |b: &[RecordBatch]| {
                        datafusion::arrow::compute::concat_batches(&schema, b).expect("concat")
                    };
                    assert_eq!(concat(&ours), concat(&theirs), "{text}");
                    if let Some(ty) = check {
                        assert!(crate::ingest::fits::chunk_fits(ty, &c), "{text}");
                    }
                }
            }
        }
        assert!(ran > 100, "only {ran} chunks took the direct path");
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        for text in [
            "abcdefghij\"",
            "abcdefgh\\n",
            "ab\u{1}cdefghijk",
            "\"",
            "é€😀abcdefgh\"x\\",
        ] {
            let want = text
                .bytes()
                .position(|c| matches!(c, b'"' | b'\\' | 0..=0x1f))
                .expect("special");
            let mut p = Parser {
                s: text,
                i: 0,
                scratch: String::new(),
            };
            p.skip_plain();
            assert!(p.i <= want, "{text}");
            assert!(
                text.as_bytes()[p.i..want]
                    .iter()
                    .all(|c| !matches!(c, b'"' | b'\\' | 0..=0x1f))
            );
            if want >= 8 {
                assert!(p.i + 8 > want, "{text}: stopped at {}", p.i);
            }
        }
    }

    #[test]
    fn dates_match_chrono() {
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("date");
        for (y, m, d) in [
            (1, 1, 1),
            (1969, 12, 31),
            (2000, 2, 29),
            (2100, 3, 1),
            (9999, 12, 31),
        ] {
            let s = format!("{y:04}-{m:02}-{d:02}");
            let want = chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date") - epoch;
            assert_eq!(date(s.as_bytes()), Some(want.num_days() as i32), "{s}");
        }
    }
}
