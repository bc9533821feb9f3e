//! The rows of a JSON document (a JSON array of rows, or the array at a dotted `json_path` of a
//! response envelope) split off while the document streams in, so a file of any size is read in
//! bounded memory.
//!
//! The splitter checks the whole document's structure (brackets, strings and escapes, scalars,
//! commas and colons) as bytes arrive, and hands the rows on as newline-delimited chunks: each row
//! becomes one line (line breaks between its tokens become spaces; JSON has none inside strings),
//! numbered by its 1-based position in the array, so the newline-delimited decoders take them
//! as they are. A malformed document fails with its line and column. Rows themselves are only
//! checked for structure here; a row whose value is wrong (not an object, a bad type) is a bad
//! record for the decoder to reject.
//!
//! At `json_path` (or the root, without one): an array's elements are the rows; an object is
//! one row; `null` is no rows. The first value at the path is used.

use super::LoadError;
use super::source::Chunk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A value (the root, an array element or an object member's value).
    Value,
    /// An array's first element or its `]`.
    FirstElement,
    /// A `,` or `]` after an array element.
    ElementEnd,
    /// An object's first key or its `}`.
    FirstKey,
    /// A key after a `,`.
    Key,
    Colon,
    /// A `,` or `}` after a member's value.
    MemberEnd,
    /// Only whitespace: the root value is complete.
    Done,
}

/// Where the rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    /// Not reached yet.
    Not,
    /// In the array at this depth (stack length before it opened).
    Array(usize),
    /// Taken (the array closed, or the value was one object or `null`).
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    None,
    /// Inside a string; `key` when it is an object key.
    Str {
        key: bool,
        escape: bool,
        hex: u8,
    },
    /// Inside a bare scalar (number, `true`, `false`, `null`).
    Scalar,
}

struct Frame {
    object: bool,
    /// This container sits at `json_path`'s prefix of its depth.
    on_path: bool,
    /// (Objects) the current key is the path's next part.
    key_on_path: bool,
}

pub struct Splitter {
    file: String,
    path: Vec<String>,
    stack: Vec<Frame>,
    expect: Expect,
    token: Token,
    /// The text of the current key (while it is on the path) or bare scalar.
    text: Vec<u8>,
    found: Found,
    /// The stack length at which the row being copied ends, while copying one.
    row_depth: Option<usize>,
    /// The deepest depth of an object on the path (names the missing field when not found).
    deepest: usize,
    line: u64,
    column: u64,
    /// Rows not yet handed on, one per line, then the row being copied.
    out: Vec<u8>,
    /// The length of `out` up to the last finished row.
    complete: usize,
    out_first: u64,
    rows: u64,
    target: usize,
}

impl Splitter {
    /// `target`: bytes per chunk handed on (rows are never split).
    pub fn new(file: &str, json_path: Option<&str>, target: usize) -> Self {
        Splitter {
            file: file.to_string(),
            path: json_path
                .unwrap_or_default()
                .split('.')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            stack: Vec::new(),
            expect: Expect::Value,
            token: Token::None,
            text: Vec::new(),
            found: Found::Not,
            row_depth: None,
            deepest: 0,
            line: 1,
            column: 0,
            out: Vec::with_capacity(target + (64 << 10)),
            complete: 0,
            out_first: 1,
            rows: 0,
            target,
        }
    }

    fn error(&self, what: &str) -> LoadError {
        LoadError {
            file: self.file.clone(),
            line: Some(self.line),
            column: Some(self.column.max(1)),
            reason: format!("malformed JSON: {what}"),
        }
    }

    fn path_error(&self, what: String) -> LoadError {
        LoadError::at(
            &self.file,
            format!("json_path `{}`: {what}", self.path.join(".")),
        )
    }

    /// A chunk of at least `target` bytes of rows, when there is one.
    pub fn ready(&mut self) -> Option<Chunk> {
        (self.complete >= self.target).then(|| self.take())
    }

    /// The finished rows (the row being copied stays).
    fn take(&mut self) -> Chunk {
        let mut rest = Vec::with_capacity(self.target + (64 << 10));
        rest.extend_from_slice(&self.out[self.complete..]);
        let mut bytes = std::mem::replace(&mut self.out, rest);
        bytes.truncate(self.complete);
        self.complete = 0;
        let first_line = self.out_first;
        self.out_first = self.rows + 1;
        Chunk { first_line, bytes }
    }

    /// The last rows, once the document is complete.
    pub fn finish(mut self) -> Result<Option<Chunk>, LoadError> {
        if self.token == Token::Scalar {
            self.end_scalar()?;
        }
        if self.expect != Expect::Done || self.token != Token::None {
            return Err(self.error("EOF while parsing"));
        }
        if self.found == Found::Not {
            let missing = self.path.get(self.deepest).cloned().unwrap_or_default();
            return Err(self.path_error(format!("no field `{missing}`")));
        }
        Ok((!self.out.is_empty()).then(|| self.take()))
    }

    /// Takes the next bytes of the document.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), LoadError> {
        let mut i = 0;
        while let Some(&c) = bytes.get(i) {
            if let Token::Str {
                escape: false,
                hex: 0,
                ..
            } = self.token
            {
                // A run of plain string bytes at once (it holds no line break).
                let run = bytes[i..]
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                    .unwrap_or(bytes.len() - i);
                if run > 0 {
                    let plain = &bytes[i..i + run];
                    if self.row_depth.is_some() {
                        self.out.extend_from_slice(plain);
                    }
                    if let Token::Str { key: true, .. } = self.token {
                        self.text.extend_from_slice(plain);
                    }
                    self.column += run as u64;
                    i += run;
                    continue;
                }
            }
            if c != b'\n' {
                self.column += 1;
            }
            self.byte(c)?;
            if c == b'\n' {
                self.line += 1;
                self.column = 0;
            }
            i += 1;
        }
        Ok(())
    }

    fn byte(&mut self, c: u8) -> Result<(), LoadError> {
        match self.token {
            Token::Str { key, escape, hex } => {
                self.copy(c);
                if hex > 0 {
                    if !c.is_ascii_hexdigit() {
                        return Err(self.error("invalid \\u escape"));
                    }
                    self.token = Token::Str {
                        key,
                        escape: false,
                        hex: hex - 1,
                    };
                } else if escape {
                    let hex = match c {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 0,
                        b'u' => 4,
                        _ => return Err(self.error("invalid escape")),
                    };
                    self.token = Token::Str {
                        key,
                        escape: false,
                        hex,
                    };
                } else if c == b'\\' {
                    if key {
                        // A key with an escape never matches a path part.
                        self.text.push(0xFF);
                    }
                    self.token = Token::Str {
                        key,
                        escape: true,
                        hex: 0,
                    };
                } else if c == b'"' {
                    self.token = Token::None;
                    if key {
                        self.end_key();
                    } else {
                        self.end_value()?;
                    }
                } else if c < 0x20 {
                    return Err(self.error("control character in string"));
                } else if key {
                    self.text.push(c);
                }
                return Ok(());
            }
            Token::Scalar => {
                if matches!(c, b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'+' | b'-' | b'.') {
                    self.copy(c);
                    self.text.push(c);
                    return Ok(());
                }
                self.end_scalar()?;
            }
            Token::None => {}
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            if self.row_depth.is_some() {
                self.out.push(b' ');
            }
            return Ok(());
        }
        match (self.expect, c) {
            (Expect::Value | Expect::FirstElement, b'{' | b'[') => {
                self.begin_value(c)?;
                self.copy(c);
                let on_path = self.value_on_path();
                self.stack.push(Frame {
                    object: c == b'{',
                    on_path,
                    key_on_path: false,
                });
                self.expect = if c == b'{' {
                    Expect::FirstKey
                } else {
                    Expect::FirstElement
                };
            }
            (Expect::Value | Expect::FirstElement, b'"') => {
                self.begin_value(c)?;
                self.copy(c);
                self.token = Token::Str {
                    key: false,
                    escape: false,
                    hex: 0,
                };
            }
            (Expect::Value | Expect::FirstElement, b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                self.begin_value(c)?;
                self.copy(c);
                self.text.clear();
                self.text.push(c);
                self.token = Token::Scalar;
            }
            (Expect::FirstElement | Expect::ElementEnd, b']')
            | (Expect::FirstKey | Expect::MemberEnd, b'}') => {
                self.copy(c);
                self.stack.pop();
                if self.found == Found::Array(self.stack.len()) {
                    self.found = Found::Done;
                }
                self.end_value()?;
            }
            (Expect::ElementEnd, b',') => {
                self.copy(c);
                self.expect = Expect::Value;
            }
            (Expect::MemberEnd, b',') => {
                self.copy(c);
                self.expect = Expect::Key;
            }
            (Expect::FirstKey | Expect::Key, b'"') => {
                self.copy(c);
                self.text.clear();
                self.token = Token::Str {
                    key: true,
                    escape: false,
                    hex: 0,
                };
            }
            (Expect::Colon, b':') => {
                self.copy(c);
                self.expect = Expect::Value;
            }
            (Expect::Done, _) => return Err(self.error("trailing characters")),
            _ => {
                return Err(self.error(&format!("unexpected `{}`", char::from(c).escape_default())));
            }
        }
        Ok(())
    }

    /// Copies a byte of the row being copied.
    fn copy(&mut self, c: u8) {
        if self.row_depth.is_some() {
            self.out.push(c);
        }
    }

    /// Whether a value starting now sits on the path (all its enclosing objects are).
    fn value_on_path(&self) -> bool {
        match self.stack.last() {
            None => true,
            Some(f) => f.object && f.on_path && f.key_on_path,
        }
    }

    /// A value begins with byte `c`: is it the rows' container, a row, or on the way there?
    fn begin_value(&mut self, c: u8) -> Result<(), LoadError> {
        let depth = self.stack.len();
        match self.found {
            Found::Array(at) if at + 1 == depth && self.row_depth.is_none() => {
                // An element of the rows' array.
                self.row_depth = Some(depth);
                return Ok(());
            }
            Found::Not if self.value_on_path() => {}
            _ => return Ok(()),
        }
        if depth == self.path.len() {
            match c {
                b'[' => self.found = Found::Array(depth),
                b'{' => {
                    // One object: one row.
                    self.found = Found::Done;
                    self.row_depth = Some(depth);
                }
                b'n' => self.found = Found::Done,
                _ => {
                    let what = if self.path.is_empty() {
                        "expected a JSON array (or object) of rows".to_string()
                    } else {
                        format!(
                            "expected a JSON array (or object) of rows at `{}`",
                            self.path.join(".")
                        )
                    };
                    return Err(LoadError::at(&self.file, what));
                }
            }
        } else if c == b'{' {
            self.deepest = self.deepest.max(depth);
        } else {
            return Err(self.path_error(format!("`{}` is not inside an object", self.path[depth])));
        }
        Ok(())
    }

    fn end_key(&mut self) {
        let depth = self.stack.len() - 1;
        let on = self
            .path
            .get(depth)
            .is_some_and(|p| p.as_bytes() == self.text.as_slice());
        if let Some(f) = self.stack.last_mut() {
            f.key_on_path = on;
        }
        self.expect = Expect::Colon;
    }

    fn end_scalar(&mut self) -> Result<(), LoadError> {
        self.token = Token::None;
        let ok = match self.text.as_slice() {
            b"true" | b"false" | b"null" => true,
            t => number(t),
        };
        if !ok {
            return Err(self.error(&format!(
                "invalid value `{}`",
                String::from_utf8_lossy(&self.text)
            )));
        }
        self.end_value()
    }

    /// A value has ended: the next thing its container expects, and the end of a row.
    fn end_value(&mut self) -> Result<(), LoadError> {
        self.expect = match self.stack.last() {
            None => Expect::Done,
            Some(f) if f.object => Expect::MemberEnd,
            Some(_) => Expect::ElementEnd,
        };
        if self.row_depth == Some(self.stack.len()) {
            self.row_depth = None;
            self.out.push(b'\n');
            self.complete = self.out.len();
            self.rows += 1;
        }
        Ok(())
    }
}

/// Whether `t` is a number in JSON's grammar.
fn number(t: &[u8]) -> bool {
    let mut i = usize::from(t.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while t.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    match t.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if t.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if let Some(b'e' | b'E') = t.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = t.get(i) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of `doc` (fed in pieces of `step` bytes) as lines, with each chunk's first line.
    fn split(doc: &str, path: Option<&str>, step: usize) -> Result<Vec<(u64, String)>, LoadError> {
        let mut s = Splitter::new("f.json", path, 16);
        let mut out = Vec::new();
        for piece in doc.as_bytes().chunks(step) {
            s.feed(piece)?;
            while let Some(c) = s.ready() {
                out.push((c.first_line, String::from_utf8(c.bytes).expect("utf8")));
            }
        }
        if let Some(c) = s.finish()? {
            out.push((c.first_line, String::from_utf8(c.bytes).expect("utf8")));
        }
        Ok(out)
    }

    fn rows(doc: &str, path: Option<&str>) -> Vec<String> {
        let mut all = Vec::new();
        for step in [1, 3, 7, 1000] {
            let chunks = split(doc, path, step).expect("splits");
            let mut next = 1;
            let mut lines = Vec::new();
            for (first, text) in chunks {
                assert_eq!(first, next, "{doc}");
                let n = text.lines().count() as u64;
                next += n;
                lines.extend(text.lines().map(|l| l.trim().to_string()));
            }
            if all.is_empty() {
                all = lines;
            } else {
                assert_eq!(all, lines, "step {step}");
            }
        }
        all
    }

    #[test]
    fn array_elements_become_lines() {
        let doc = "[\n  {\"a\": 1,\n   \"b\": \"x\\\"]}\\n\"},\n  {\"c\": [1, {\"d\": null}]}, 5, \"s\", [], {}\n]\n";
        assert_eq!(
            rows(doc, None),
            [
                "{\"a\": 1,    \"b\": \"x\\\"]}\\n\"}",
                "{\"c\": [1, {\"d\": null}]}",
                "5",
                "\"s\"",
                "[]",
                "{}"
            ]
        );
        assert!(rows("[]", None).is_empty());
        assert!(rows(" null ", None).is_empty());
    }

    #[test]
    fn envelopes_take_the_array_at_the_path() {
        let doc = r#"{"meta": {"data": [1]}, "page": {"data": [{"x": 1}, {"x": 2}], "n": -1.5e3}, "next": null}"#;
        assert_eq!(rows(doc, Some("page.data")), ["{\"x\": 1}", "{\"x\": 2}"]);
        assert_eq!(rows(doc, Some("meta")), ["{\"data\": [1]}"]);
        assert!(rows(doc, Some("next")).is_empty());
        // Arrays after the rows' array are not rows.
        let other = r#"{"data": [{"x": 1}], "other": [5, [6]], "data2": {"data": [7]}}"#;
        assert_eq!(rows(other, Some("data")), ["{\"x\": 1}"]);
        // A key with an escape is not the path part it spells without it.
        assert!(split(r#"{"d\u0061ta": [1]}"#, Some("data"), 4).is_err());
        let err = split(doc, Some("page.rows"), 5).expect_err("missing");
        assert!(err.reason.contains("no field `rows`"), "{}", err.reason);
        let err = split(doc, Some("nope"), 5).expect_err("missing");
        assert!(err.reason.contains("no field `nope`"), "{}", err.reason);
        let err = split(doc, Some("page.n.x"), 5).expect_err("scalar");
        assert!(
            err.reason.contains("`x` is not inside an object"),
            "{}",
            err.reason
        );
        let err = split(doc, Some("page.n"), 5).expect_err("scalar");
        assert!(
            err.reason.contains("array (or object) of rows"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn malformed_documents_fail_with_a_position() {
        for (doc, line, what) in [
            ("[{\"a\": 1}\n, {\"a\": tru}]", 2, "invalid value `tru`"),
            ("[{\"a\": 1}, {\"a\": 2]", 1, "unexpected `]`"),
            ("[{\"a\": 1}\n\n", 3, "EOF while parsing"),
            ("[1] [2]", 1, "trailing characters"),
            ("[\"a\nb\"]", 1, "control character in string"),
            ("[\"\\x\"]", 1, "invalid escape"),
            ("[{\"a\" 1}]", 1, "unexpected `1`"),
            ("[1,]", 1, "unexpected `]`"),
            ("[01]", 1, "invalid value `01`"),
        ] {
            let err = split(doc, None, 2).expect_err(doc);
            assert_eq!(err.line, Some(line), "{doc}: {}", err.reason);
            assert!(err.reason.contains(what), "{doc}: {}", err.reason);
        }
    }

    #[test]
    fn numbers() {
        for ok in ["0", "-0", "12", "1.5", "-1e9", "2E+3", "0.0e-1"] {
            assert!(number(ok.as_bytes()), "{ok}");
        }
        for bad in ["", "-", "01", "1.", ".5", "1e", "+1", "1.5.2", "NaN"] {
            assert!(!number(bad.as_bytes()), "{bad}");
        }
    }
}
