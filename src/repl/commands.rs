//! Backslash meta commands, like psql's.

use std::path::PathBuf;

use crate::output::Format;

#[derive(Debug, PartialEq, Eq)]
pub enum Meta {
    /// `\q`
    Quit,
    /// `\?`
    Help,
    /// `\d` (everything) or `\d NAME` (one dataset or table).
    Describe(Option<String>),
    /// `\timing [on|off]`; no argument toggles.
    Timing(Option<bool>),
    /// `\format NAME`
    Format(Format),
    /// `\maxrows N` (0 = all rows).
    MaxRows(Option<usize>),
    /// `\i FILE`
    Include(PathBuf),
    /// `\o FILE`, or `\o` back to the terminal.
    Output(Option<PathBuf>),
    /// `\history TABLE`
    History(String),
}

/// Every meta command with its help line, in `\?` order; also the completion list.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "\\d",
        "[NAME]        datasets and tables with row counts; or one dataset/table",
    ),
    ("\\history", "TABLE   versions of a table (Delta commits)"),
    ("\\timing", "[on|off]  show how long each statement takes"),
    (
        "\\format",
        "NAME     table | csv | json | ndjson | markdown",
    ),
    ("\\maxrows", "N       rows shown per result (0 = all)"),
    ("\\i", "FILE          run the statements in FILE"),
    (
        "\\o",
        "[FILE]        send results to FILE; `\\o` alone back to the terminal",
    ),
    ("\\?", "              this help"),
    ("\\q", "              quit (or Ctrl-D)"),
];

pub fn help() -> String {
    let mut s = String::from("Meta commands:\n");
    for (cmd, text) in COMMANDS {
        s.push_str(&format!("  {cmd:<9} {text}\n"));
    }
    s.push_str(
        "SQL statements end with `;`. Ctrl-C cancels a running statement or clears the input.\n",
    );
    s
}

pub fn parse(line: &str) -> Result<Meta, String> {
    let line = line.trim().trim_end_matches(';').trim_end();
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let no_arg = |m: Meta| match arg {
        None => Ok(m),
        Some(a) => Err(format!("{cmd} takes no argument (got `{a}`)")),
    };
    match cmd {
        "\\q" | "\\quit" => no_arg(Meta::Quit),
        "\\?" | "\\h" | "\\help" => no_arg(Meta::Help),
        "\\d" => Ok(Meta::Describe(arg.map(str::to_string))),
        "\\timing" => match arg {
            None => Ok(Meta::Timing(None)),
            Some("on") => Ok(Meta::Timing(Some(true))),
            Some("off") => Ok(Meta::Timing(Some(false))),
            Some(a) => Err(format!("\\timing takes on or off, not `{a}`")),
        },
        "\\format" => {
            let a = arg.ok_or("\\format needs a format: table, csv, json, ndjson or markdown")?;
            <Format as clap::ValueEnum>::from_str(a, true)
                .map(Meta::Format)
                .map_err(|_| format!("unknown format `{a}` (table, csv, json, ndjson, markdown)"))
        }
        "\\maxrows" => {
            let a = arg.ok_or("\\maxrows needs a number (0 = all rows)")?;
            let n: usize = a
                .parse()
                .map_err(|_| format!("\\maxrows needs a number, not `{a}`"))?;
            Ok(Meta::MaxRows((n > 0).then_some(n)))
        }
        "\\i" => arg
            .map(|a| Meta::Include(PathBuf::from(a)))
            .ok_or_else(|| "\\i needs a file".to_string()),
        "\\o" => Ok(Meta::Output(arg.map(PathBuf::from))),
        "\\history" => arg
            .map(|a| Meta::History(a.to_string()))
            .ok_or_else(|| "\\history needs a table name".to_string()),
        other => Err(format!("unknown command `{other}`; \\? lists them")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands() {
        assert_eq!(parse("\\q"), Ok(Meta::Quit));
        assert_eq!(parse("  \\d  "), Ok(Meta::Describe(None)));
        assert_eq!(
            parse("\\d sales.orders"),
            Ok(Meta::Describe(Some("sales.orders".into())))
        );
        assert_eq!(parse("\\timing"), Ok(Meta::Timing(None)));
        assert_eq!(parse("\\timing off"), Ok(Meta::Timing(Some(false))));
        assert_eq!(parse("\\format CSV"), Ok(Meta::Format(Format::Csv)));
        assert_eq!(parse("\\maxrows 0"), Ok(Meta::MaxRows(None)));
        assert_eq!(parse("\\maxrows 5;"), Ok(Meta::MaxRows(Some(5))));
        assert_eq!(parse("\\o"), Ok(Meta::Output(None)));
        assert_eq!(parse("\\i a.sql"), Ok(Meta::Include("a.sql".into())));
        assert_eq!(parse("\\history t"), Ok(Meta::History("t".into())));
    }

    #[test]
    fn rejects_bad_commands() {
        assert!(
            parse("\\format yaml")
                .expect_err("invalid")
                .contains("unknown format")
        );
        assert!(parse("\\maxrows many").is_err());
        assert!(parse("\\q now").is_err());
        assert!(parse("\\zz").expect_err("unknown").contains("\\?"));
        assert!(parse("\\i").is_err());
    }
}
