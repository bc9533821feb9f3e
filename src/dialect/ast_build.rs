//! Building sqlparser AST nodes in the rewrites: one place for the boilerplate.

use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident,
    ObjectName, Value,
};

/// `name(args...)` as a plain function call.
pub fn call(name: &str, args: Vec<Expr>) -> Expr {
    call_ident(Ident::new(name), args)
}

/// `"name"(args...)`: a call of a function whose name must not be case-folded or parsed
/// (dap's internal `$...` functions).
pub fn call_quoted(name: &str, args: Vec<Expr>) -> Expr {
    call_ident(Ident::with_quote('"', name), args)
}

fn call_ident(name: Ident, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![name]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

/// A single-quoted string literal.
pub fn string(s: impl Into<String>) -> Expr {
    Expr::value(Value::SingleQuotedString(s.into()))
}
