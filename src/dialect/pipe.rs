//! Pipe syntax (`|>`) and FROM-first queries, at the token level, for what sqlparser or
//! DataFusion do not handle themselves. Each such pipe operator turns the query before it into
//! a derived table:
//!
//! - `FROM t ...` → `SELECT * FROM t ...` (a query may start with FROM).
//! - `(query) AS a |> ...` → `(query) |> AS a |> ...`.
//! - `|> AS a` → `SELECT * FROM (query) AS a`.
//! - `|> DISTINCT` → `SELECT DISTINCT * FROM (query) AS a` (`a`: the last `|> AS` alias).
//! - `|> SELECT DISTINCT e, ...` → `SELECT DISTINCT e, ... FROM (query) AS a`.
//! - `|> UNPIVOT(...) [AS u]` → `SELECT * FROM (query) AS a UNPIVOT(...) [AS u]`.
//! - `|> SET x = e, ...` → `SELECT * REPLACE (e AS x, ...) FROM (query) AS _pipe_n`.
//! - `|> DROP x, ...` → `SELECT * EXCEPT (x, ...) FROM (query) AS _pipe_n`.
//! - `|> EXTEND e ...` / `|> SELECT e ...` with a window function (`OVER`) →
//!   `SELECT [*,] e ... FROM (query) AS a`.
//! - `|> WITH t AS (...), ...` → `WITH t AS (...), ... SELECT * FROM (query) AS a`, refused
//!   (left to the parser's error) when the query before it mentions one of the new names.
//! - `|> [INNER|LEFT|...] JOIN ...` → `SELECT * FROM (query) AS a JOIN ...` (DataFusion's own
//!   pipe JOIN would keep both copies of a `USING` column).
//! - `|> INTERSECT ALL (q), ...` / `|> EXCEPT ALL (q), ...` and any `|> op ALL|DISTINCT BY NAME
//!   (q), ...` → `SELECT * FROM ((query) op ... (q) ...) AS _pipe_n` (BY NAME: see
//!   `engine::by_name`).
//!
//! SET and DROP get a fresh range variable, so a later reference to the old table alias
//! (`t.x`, which BigQuery keeps pointing at the original column) is an error, never a different
//! value. Everything else is left to sqlparser and DataFusion.
//!
//! Reference: <https://cloud.google.com/bigquery/docs/reference/standard-sql/pipe-syntax>.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Span, Token, TokenWithSpan, Whitespace};

/// Rewrites pipe operators and FROM-first queries in one statement's tokens.
pub fn rewrite_pipes(tokens: &mut Vec<TokenWithSpan>) {
    if !needs_rewrite(tokens) {
        return;
    }
    // Significant tokens, each with the trivia after it.
    let mut leading = Vec::new();
    let mut significant: Vec<(TokenWithSpan, Vec<TokenWithSpan>)> = Vec::new();
    let mut eof = None;
    for t in tokens.iter() {
        match (&t.token, significant.last_mut()) {
            (Token::EOF, _) => eof = Some(t.clone()),
            (Token::Whitespace(_), Some((_, trail))) => trail.push(t.clone()),
            (Token::Whitespace(_), None) => leading.push(t.clone()),
            _ => significant.push((t.clone(), Vec::new())),
        }
    }
    let mut pos = 0;
    let items = parse_items(&significant, &mut pos);
    if pos != significant.len() {
        // Unbalanced brackets: leave it to the parser's error.
        return;
    }
    let mut rewriter = Rewriter { next_alias: 0 };
    let items = rewriter.rewrite_seq(items, true);
    let mut out = leading;
    flatten(items, &mut out);
    out.extend(eof);
    *tokens = out;
}

fn needs_rewrite(tokens: &[TokenWithSpan]) -> bool {
    let mut prev: Option<&Token> = None;
    for t in tokens {
        if matches!(t.token, Token::Whitespace(_)) {
            continue;
        }
        if t.token == Token::VerticalBarRightAngleBracket {
            return true;
        }
        let set_op = |t: &Token| {
            is_kw(t, Keyword::UNION) || is_kw(t, Keyword::INTERSECT) || is_kw(t, Keyword::EXCEPT)
        };
        if matches!(&t.token, Token::Word(w) if w.value.eq_ignore_ascii_case("corresponding"))
            || (set_op(&t.token)
                && prev.is_some_and(|p| {
                    is_kw(p, Keyword::INNER)
                        || is_kw(p, Keyword::OUTER)
                        || is_kw(p, Keyword::LEFT)
                        || is_kw(p, Keyword::FULL)
                }))
        {
            return true;
        }
        if is_kw(&t.token, Keyword::FROM) && (prev.is_none() || prev == Some(&Token::LParen)) {
            return true;
        }
        prev = Some(&t.token);
    }
    false
}

#[derive(Clone, Debug)]
enum Item {
    /// A token and the whitespace/comments after it.
    Tok(TokenWithSpan, Vec<TokenWithSpan>),
    Group {
        open: (TokenWithSpan, Vec<TokenWithSpan>),
        items: Vec<Item>,
        close: (TokenWithSpan, Vec<TokenWithSpan>),
    },
}

fn parse_items(tokens: &[(TokenWithSpan, Vec<TokenWithSpan>)], pos: &mut usize) -> Vec<Item> {
    let mut items = Vec::new();
    while *pos < tokens.len() {
        let t = &tokens[*pos];
        match t.0.token {
            Token::LParen | Token::LBracket => {
                let open = t.clone();
                *pos += 1;
                let inner = parse_items(tokens, pos);
                let Some(close) = tokens.get(*pos).cloned() else {
                    items.push(Item::Tok(open.0, open.1));
                    items.extend(inner);
                    return items;
                };
                *pos += 1;
                items.push(Item::Group {
                    open,
                    items: inner,
                    close,
                });
            }
            Token::RParen | Token::RBracket => return items,
            _ => {
                items.push(Item::Tok(t.0.clone(), t.1.clone()));
                *pos += 1;
            }
        }
    }
    items
}

fn flatten(items: Vec<Item>, out: &mut Vec<TokenWithSpan>) {
    for item in items {
        match item {
            Item::Tok(t, trail) => {
                out.push(t);
                out.extend(trail);
            }
            Item::Group { open, items, close } => {
                out.push(open.0);
                out.extend(open.1);
                flatten(items, out);
                out.push(close.0);
                out.extend(close.1);
            }
        }
    }
}

fn is_kw(t: &Token, kw: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.keyword == kw)
}

fn item_is_kw(item: Option<&Item>, kw: Keyword) -> bool {
    matches!(item, Some(Item::Tok(t, _)) if is_kw(&t.token, kw))
}

fn tok(token: Token) -> Item {
    Item::Tok(
        TokenWithSpan::new(token, Span::empty()),
        vec![TokenWithSpan::new(
            Token::Whitespace(Whitespace::Space),
            Span::empty(),
        )],
    )
}

fn kw(word: &str) -> Item {
    tok(Token::make_keyword(word))
}

fn ident(name: &str) -> Item {
    tok(Token::make_word(name, None))
}

fn paren(items: Vec<Item>) -> Item {
    let space = || {
        vec![TokenWithSpan::new(
            Token::Whitespace(Whitespace::Space),
            Span::empty(),
        )]
    };
    Item::Group {
        open: (TokenWithSpan::new(Token::LParen, Span::empty()), space()),
        items,
        close: (TokenWithSpan::new(Token::RParen, Span::empty()), space()),
    }
}

fn is_paren(item: &Item) -> bool {
    matches!(item, Item::Group { open, .. } if open.0.token == Token::LParen)
}

/// Splits `items` at top-level tokens equal to `sep`.
fn split(items: Vec<Item>, sep: &Token) -> Vec<Vec<Item>> {
    let mut parts = vec![Vec::new()];
    for item in items {
        match &item {
            Item::Tok(t, _) if &t.token == sep => parts.push(Vec::new()),
            _ => parts.last_mut().expect("non-empty").push(item),
        }
    }
    parts
}

/// Whether any word in `items` (at any depth) is `name`.
fn mentions(items: &[Item], name: &str) -> bool {
    items.iter().any(|i| match i {
        Item::Tok(t, _) => matches!(&t.token, Token::Word(w) if w.value.eq_ignore_ascii_case(name)),
        Item::Group { items, .. } => mentions(items, name),
    })
}

fn has_top_level_kw(items: &[Item], k: Keyword) -> bool {
    items.iter().any(|i| item_is_kw(Some(i), k))
}

struct Rewriter {
    next_alias: usize,
}

impl Rewriter {
    fn fresh_alias(&mut self) -> String {
        self.next_alias += 1;
        format!("_pipe_{}", self.next_alias)
    }

    /// Rewrites one bracketed sequence (or the whole statement). `may_be_query`: the sequence
    /// is not a function's argument list.
    fn rewrite_seq(&mut self, items: Vec<Item>, may_be_query: bool) -> Vec<Item> {
        // Children first.
        let mut rewritten = Vec::with_capacity(items.len());
        for item in items {
            let item = match item {
                Item::Group { open, items, close } => {
                    let call = match rewritten.last() {
                        Some(Item::Tok(t, _)) => match &t.token {
                            Token::Word(w) => {
                                w.quote_style.is_some()
                                    || matches!(
                                        w.keyword,
                                        Keyword::NoKeyword
                                            | Keyword::TRIM
                                            | Keyword::SUBSTRING
                                            | Keyword::EXTRACT
                                            | Keyword::POSITION
                                            | Keyword::OVERLAY
                                    )
                            }
                            _ => false,
                        },
                        _ => false,
                    };
                    let is_paren = open.0.token == Token::LParen;
                    Item::Group {
                        open,
                        items: self.rewrite_seq(items, is_paren && !call),
                        close,
                    }
                }
                other => other,
            };
            rewritten.push(item);
        }
        let mut items = rewritten;
        if !may_be_query {
            return items;
        }
        if item_is_kw(items.first(), Keyword::FROM) {
            items.splice(0..0, [kw("SELECT"), tok(Token::Mul)]);
        }
        let items = set_modes(items);
        let has_pipe = items.iter().any(
            |i| matches!(i, Item::Tok(t, _) if t.token == Token::VerticalBarRightAngleBracket),
        );
        if !has_pipe {
            return items;
        }
        let starts_query = match items.first() {
            Some(Item::Tok(t, _)) => {
                is_kw(&t.token, Keyword::SELECT) || is_kw(&t.token, Keyword::WITH)
            }
            Some(g) => is_paren(g),
            None => false,
        };
        if !starts_query {
            return items;
        }
        let mut parts = split(items, &Token::VerticalBarRightAngleBracket).into_iter();
        let mut current = parts.next().unwrap_or_default();
        let mut alias: Option<String> = None;
        // `(query) AS a |> ...`
        if current.len() >= 2 && is_paren(&current[0]) {
            let name = match (&current[1..], current.len()) {
                ([Item::Tok(a, _), Item::Tok(n, _)], 3) if is_kw(&a.token, Keyword::AS) => {
                    word_of(&n.token)
                }
                ([Item::Tok(n, _)], 2) => word_of(&n.token),
                _ => None,
            };
            if let Some(name) = name {
                current = select_from(vec![tok(Token::Mul)], current[0].clone(), &name);
                alias = Some(name);
            }
        }
        for op in parts {
            current = self.apply(current, op, &mut alias);
        }
        current
    }

    /// Applies one pipe operator `op` (the tokens after `|>`) to the query `current`.
    fn apply(
        &mut self,
        current: Vec<Item>,
        op: Vec<Item>,
        alias: &mut Option<String>,
    ) -> Vec<Item> {
        // The query's own WITH clause stays outermost, so its names stay visible to later
        // operators.
        let (mut with, current) = split_with(current);
        let mut body = self.apply_to_body(current, op, alias, &mut with);
        if !with.is_empty() {
            with.append(&mut body);
            return with;
        }
        body
    }

    fn apply_to_body(
        &mut self,
        current: Vec<Item>,
        op: Vec<Item>,
        alias: &mut Option<String>,
        with: &mut Vec<Item>,
    ) -> Vec<Item> {
        let keep = |alias: &Option<String>, me: &mut Self| {
            alias.clone().unwrap_or_else(|| me.fresh_alias())
        };
        let first = op.first();
        if item_is_kw(first, Keyword::DISTINCT) && op.len() == 1 {
            let a = keep(alias, self);
            return select_from(vec![kw("DISTINCT"), tok(Token::Mul)], paren(current), &a);
        }
        if item_is_kw(first, Keyword::UNPIVOT) {
            // DataFusion's pipe UNPIVOT is not implemented; dialect::unpivot handles the FROM form.
            let a = keep(alias, self);
            let mut out = select_from(vec![tok(Token::Mul)], paren(current), &a);
            out.extend(op);
            return out;
        }
        if item_is_kw(first, Keyword::SELECT) && item_is_kw(op.get(1), Keyword::DISTINCT) {
            // sqlparser's pipe SELECT takes no DISTINCT.
            let a = keep(alias, self);
            return select_from(op[1..].to_vec(), paren(current), &a);
        }
        if item_is_kw(first, Keyword::AS)
            && op.len() == 2
            && let Item::Tok(t, _) = &op[1]
            && let Some(name) = word_of(&t.token)
        {
            *alias = Some(name.clone());
            return select_from(vec![tok(Token::Mul)], paren(current), &name);
        }
        if item_is_kw(first, Keyword::SET) {
            let mut replace = Vec::new();
            let mut ok = true;
            for (i, part) in split(op[1..].to_vec(), &Token::Comma)
                .into_iter()
                .enumerate()
            {
                match part.as_slice() {
                    [Item::Tok(name, _), Item::Tok(eq, _), expr @ ..]
                        if eq.token == Token::Eq && !expr.is_empty() =>
                    {
                        if i > 0 {
                            replace.push(tok(Token::Comma));
                        }
                        replace.push(paren(expr.to_vec()));
                        replace.push(kw("AS"));
                        replace.push(tok(name.token.clone()));
                    }
                    _ => ok = false,
                }
            }
            if ok {
                let a = self.fresh_alias();
                *alias = None;
                return select_from(
                    vec![tok(Token::Mul), kw("REPLACE"), paren(replace)],
                    paren(current),
                    &a,
                );
            }
        }
        if item_is_kw(first, Keyword::DROP) && op.len() > 1 {
            let a = self.fresh_alias();
            *alias = None;
            return select_from(
                vec![tok(Token::Mul), kw("EXCEPT"), paren(op[1..].to_vec())],
                paren(current),
                &a,
            );
        }
        let windowed = has_top_level_kw(&op, Keyword::OVER) || op.iter().any(has_over);
        if windowed && (item_is_kw(first, Keyword::EXTEND) || item_is_kw(first, Keyword::SELECT)) {
            let mut list = Vec::new();
            if item_is_kw(first, Keyword::EXTEND) {
                list.push(tok(Token::Mul));
                list.push(tok(Token::Comma));
            }
            list.extend(op[1..].iter().cloned());
            let a = keep(alias, self);
            return select_from(list, paren(current), &a);
        }
        let join = [
            Keyword::JOIN,
            Keyword::INNER,
            Keyword::LEFT,
            Keyword::RIGHT,
            Keyword::FULL,
            Keyword::CROSS,
        ];
        if join.iter().any(|k| item_is_kw(first, *k)) {
            // DataFusion's own pipe JOIN keeps both copies of a USING column.
            let a = keep(alias, self);
            let mut out = select_from(vec![tok(Token::Mul)], paren(current), &a);
            out.extend(op);
            return out;
        }
        if item_is_kw(first, Keyword::WITH) {
            let mut defs = op[1..].to_vec();
            if matches!(defs.last(), Some(Item::Tok(t, _)) if t.token == Token::Comma) {
                defs.pop();
            }
            let names: Vec<String> = split(defs.clone(), &Token::Comma)
                .iter()
                .filter_map(|d| match d.first() {
                    Some(Item::Tok(t, _)) => word_of(&t.token),
                    _ => None,
                })
                .collect();
            if !names.is_empty()
                && !names
                    .iter()
                    .any(|n| mentions(&current, n) || mentions(with, n))
            {
                let a = keep(alias, self);
                if with.is_empty() {
                    with.push(kw("WITH"));
                } else {
                    with.push(tok(Token::Comma));
                }
                with.extend(defs);
                return select_from(vec![tok(Token::Mul)], paren(current), &a);
            }
        }
        let by_name = item_is_kw(op.get(2), Keyword::BY) && item_is_kw(op.get(3), Keyword::NAME);
        let set_op = item_is_kw(first, Keyword::INTERSECT)
            || item_is_kw(first, Keyword::EXCEPT)
            || (by_name && item_is_kw(first, Keyword::UNION));
        let all = item_is_kw(op.get(1), Keyword::ALL);
        let start = if by_name { 4 } else { 2 };
        if set_op
            && (all || (by_name && item_is_kw(op.get(1), Keyword::DISTINCT)))
            && op.len() > start
            && is_paren(&op[start])
        {
            let queries = split(op[start..].to_vec(), &Token::Comma);
            if queries.iter().all(|q| q.len() == 1 && is_paren(&q[0])) {
                let mut set = vec![paren(current)];
                for q in queries {
                    set.extend(op[..start].iter().cloned());
                    set.extend(q);
                }
                let a = self.fresh_alias();
                *alias = None;
                return select_from(vec![tok(Token::Mul)], paren(set), &a);
            }
        }
        let mut out = current;
        out.push(tok(Token::VerticalBarRightAngleBracket));
        out.extend(op);
        out
    }
}

/// Splits `WITH [RECURSIVE] a AS (...), ... body` into the WITH clause and the body.
fn split_with(items: Vec<Item>) -> (Vec<Item>, Vec<Item>) {
    if !item_is_kw(items.first(), Keyword::WITH) {
        return (Vec::new(), items);
    }
    let mut i = 1;
    if item_is_kw(items.get(i), Keyword::RECURSIVE) {
        i += 1;
    }
    loop {
        // name [(columns)] AS (query)
        if !matches!(items.get(i), Some(Item::Tok(..))) {
            return (Vec::new(), items);
        }
        i += 1;
        if items.get(i).is_some_and(is_paren) {
            i += 1;
        }
        if !item_is_kw(items.get(i), Keyword::AS) || !items.get(i + 1).is_some_and(is_paren) {
            return (Vec::new(), items);
        }
        i += 2;
        match items.get(i) {
            Some(Item::Tok(t, _)) if t.token == Token::Comma => i += 1,
            _ => break,
        }
    }
    let mut with = items;
    let body = with.split_off(i);
    (with, body)
}

fn is_word(item: Option<&Item>, word: &str) -> bool {
    matches!(item, Some(Item::Tok(t, _)) if matches!(&t.token, Token::Word(w)
        if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word)))
}

fn is_set_op(item: Option<&Item>) -> bool {
    item_is_kw(item, Keyword::UNION)
        || item_is_kw(item, Keyword::INTERSECT)
        || item_is_kw(item, Keyword::EXCEPT)
}

/// `[INNER | FULL [OUTER] | LEFT [OUTER]] op ALL|DISTINCT BY NAME [ON (cols)]` and
/// `op ALL|DISTINCT [STRICT] CORRESPONDING [BY (cols)]` become `op ALL|DISTINCT BY NAME (SELECT *
/// FROM (right) AS `_dap_by_name:<mode>:<cols>`)`, the marker `engine::by_name` reads. Only when
/// the right operand runs to the end of the query (or its ORDER BY / LIMIT / `|>`).
fn set_modes(items: Vec<Item>) -> Vec<Item> {
    let mut i = 0;
    let mut items = items;
    while i < items.len() {
        let (mode, op_at) = if is_set_op(items.get(i)) {
            ("strict", i)
        } else if item_is_kw(items.get(i), Keyword::INNER) && is_set_op(items.get(i + 1)) {
            ("inner", i + 1)
        } else if (item_is_kw(items.get(i), Keyword::FULL)
            || item_is_kw(items.get(i), Keyword::LEFT))
            && item_is_kw(items.get(i + 1), Keyword::OUTER)
            && is_set_op(items.get(i + 2))
        {
            (
                if item_is_kw(items.get(i), Keyword::FULL) {
                    "full"
                } else {
                    "left"
                },
                i + 2,
            )
        } else if (item_is_kw(items.get(i), Keyword::FULL)
            || item_is_kw(items.get(i), Keyword::LEFT))
            && is_set_op(items.get(i + 1))
        {
            (
                if item_is_kw(items.get(i), Keyword::FULL) {
                    "full"
                } else {
                    "left"
                },
                i + 1,
            )
        } else {
            i += 1;
            continue;
        };
        let q = op_at + 1;
        if !(item_is_kw(items.get(q), Keyword::ALL) || item_is_kw(items.get(q), Keyword::DISTINCT))
        {
            i = op_at + 1;
            continue;
        }
        let mut j = q + 1;
        let mut mode = mode;
        let by_name =
            item_is_kw(items.get(j), Keyword::BY) && item_is_kw(items.get(j + 1), Keyword::NAME);
        let on_kw;
        if by_name {
            if mode == "strict" && !item_is_kw(items.get(j + 2), Keyword::ON) {
                // Plain BY NAME: sqlparser and engine::by_name handle it.
                i = j + 2;
                continue;
            }
            j += 2;
            on_kw = Keyword::ON;
        } else {
            let strict = is_word(items.get(j), "strict");
            if strict {
                j += 1;
            }
            if mode != "strict" || !is_word(items.get(j), "corresponding") {
                i = op_at + 1;
                continue;
            }
            if !strict {
                mode = "inner";
            }
            j += 1;
            on_kw = Keyword::BY;
        }
        let mut cols = Vec::new();
        if item_is_kw(items.get(j), on_kw) && items.get(j + 1).is_some_and(is_paren) {
            if let Some(Item::Group { items: list, .. }) = items.get(j + 1) {
                for part in split(list.clone(), &Token::Comma) {
                    match part.as_slice() {
                        [Item::Tok(t, _)] => match &t.token {
                            Token::Word(w) => cols.push(w.value.clone()),
                            _ => return items,
                        },
                        _ => return items,
                    }
                }
            }
            j += 2;
        }
        // The right operand: up to ORDER BY / LIMIT / `|>` / the end; another set operator
        // after it is left alone (precedence would change what the marker wraps).
        let end = (j..items.len())
            .find(|&k| {
                item_is_kw(items.get(k), Keyword::ORDER)
                    || item_is_kw(items.get(k), Keyword::LIMIT)
                    || matches!(items.get(k), Some(Item::Tok(t, _)) if t.token == Token::VerticalBarRightAngleBracket)
                    || is_set_op(items.get(k))
            })
            .unwrap_or(items.len());
        if is_set_op(items.get(end)) || end == j {
            return items;
        }
        let right: Vec<Item> = items[j..end].to_vec();
        let marker = format!("_dap_by_name:{mode}:{}", cols.join(","));
        let mut wrapped = vec![
            kw("SELECT"),
            tok(Token::Mul),
            kw("FROM"),
            paren(right),
            kw("AS"),
        ];
        wrapped.push(tok(Token::make_word(&marker, Some('`'))));
        let mut replacement = vec![items[op_at].clone(), items[q].clone(), kw("BY"), kw("NAME")];
        replacement.push(paren(wrapped));
        let len = replacement.len();
        items.splice(i..end, replacement);
        i += len;
    }
    items
}

fn has_over(item: &Item) -> bool {
    match item {
        Item::Tok(t, _) => is_kw(&t.token, Keyword::OVER),
        Item::Group { items, .. } => items.iter().any(has_over),
    }
}

fn word_of(t: &Token) -> Option<String> {
    match t {
        Token::Word(w) if w.quote_style.is_some() || w.keyword == Keyword::NoKeyword => {
            Some(w.value.clone())
        }
        _ => None,
    }
}

/// `SELECT <list> FROM <from> AS <alias>`.
fn select_from(list: Vec<Item>, from: Item, alias: &str) -> Vec<Item> {
    let mut out = vec![kw("SELECT")];
    out.extend(list);
    out.push(kw("FROM"));
    out.push(from);
    out.push(kw("AS"));
    out.push(ident(alias));
    out
}
