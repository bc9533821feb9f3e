//! The interactive shell driven through a real pseudo-terminal: multi-line input, tab completion,
//! a meta command, Ctrl-C cancelling a long query, Ctrl-D, and history kept across sessions.

use std::process::Command;
use std::time::Duration;

use expectrl::{ControlCode, Expect, Session};

fn shell(dir: &std::path::Path) -> expectrl::session::OsSession {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("dap"));
    cmd.current_dir(dir)
        .env_remove("DAP_WAREHOUSE")
        .env_remove("GOOGLE_CLOUD_PROJECT")
        .env("HOME", dir)
        .env("DAP_HISTORY", dir.join("history"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .arg("--warehouse")
        .arg(dir.join("wh"))
        .arg("shell");
    let mut s = Session::spawn(cmd).expect("spawn dap shell");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    s
}

#[test]
fn shell_multiline_completion_meta_cancel_and_history() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut s = shell(dir.path());
    s.expect("dap> ").expect("first prompt");

    s.send_line("CREATE SCHEMA s; CREATE TABLE s.orders (order_id INT64, amount FLOAT64);")
        .expect("send");
    s.expect("dap> ").expect("prompt after DDL");

    // A statement over two lines: the continuation prompt, then the result.
    s.send_line("SELECT 40 +").expect("send");
    s.expect("-> ").expect("continuation prompt");
    s.send_line("2 AS answer;").expect("send");
    s.expect("42").expect("multi-line result");
    s.expect("dap> ").expect("prompt");

    // Tab completes a table name from the live catalog.
    s.send("INSERT INTO s.ord").expect("send");
    s.send("\t").expect("tab");
    s.expect("s.orders").expect("completed table name");
    s.send_line(" VALUES (1, 2.5);").expect("send");
    s.expect("added 1 row").expect("insert message");
    s.expect("dap> ").expect("prompt");

    // A meta command.
    s.send_line("\\d s.orders").expect("send");
    s.expect("order_id").expect("\\d lists the columns");
    s.expect("dap> ").expect("prompt");

    // An error points at the offending token, and the session goes on.
    s.send_line("SELECT order_id,").expect("send");
    s.expect("-> ").expect("continuation prompt");
    s.send_line("  nosuch FROM s.orders;").expect("send");
    s.expect("No field named nosuch").expect("error message");
    s.expect("2 |   nosuch FROM s.orders;\r\n  |   ^")
        .expect("caret under the token");
    s.expect("dap> ").expect("prompt after error");

    // Ctrl-C cancels a long query and the session goes on.
    s.send_line(
        "WITH d AS (SELECT x FROM UNNEST([1,2,3,4,5,6,7,8,9,10]) AS x) \
         SELECT SUM(a.x * b.x + c.x * e.x + f.x * g.x + h.x * i.x) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j, d k;",
    )
    .expect("send");
    std::thread::sleep(Duration::from_millis(1500));
    s.send(ControlCode::EndOfText).expect("ctrl-c");
    s.expect("cancelled").expect("query cancelled");
    s.expect("dap> ").expect("prompt after cancel");
    s.send_line("SELECT 'still alive' AS status;")
        .expect("send");
    s.expect("still alive").expect("session continues");
    s.expect("dap> ").expect("prompt");

    // Ctrl-D exits cleanly.
    s.send(ControlCode::EndOfTransmission).expect("ctrl-d");
    let pid = s.get_process().pid();
    let status = s.get_process_mut().wait().expect("exit");
    assert_eq!(status, expectrl::process::unix::WaitStatus::Exited(pid, 0));

    // History survives into the next session: Up recalls the last statement.
    let history = std::fs::read_to_string(dir.path().join("history")).expect("history file");
    assert!(
        history.contains("SELECT 'still alive' AS status;"),
        "{history}"
    );
    let mut s = shell(dir.path());
    s.expect("dap> ").expect("prompt");
    s.send("\x1b[A").expect("up arrow");
    s.expect("SELECT 'still alive' AS status;")
        .expect("history recalled");
    s.send("\r").expect("enter");
    s.expect("still alive").expect("recalled statement runs");
    s.send_line("\\q").expect("quit");
}
