//! End-to-end tests of the real `dap` binary (one integration-test binary for link time).

mod models;
mod repl;

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

mod cloud;
mod extract;
mod load;

use assert_cmd::Command;
use predicates::prelude::*;

fn dap(wh: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("dap").expect("binary built");
    // Run outside the repository so its dap.toml does not apply.
    c.current_dir(std::env::temp_dir())
        .env_remove("DAP_WAREHOUSE")
        .env_remove("GOOGLE_CLOUD_PROJECT")
        .arg("--warehouse")
        .arg(wh);
    c
}

/// Runs SQL with `--format csv` and expects success.
fn csv(wh: &std::path::Path, sql: &str) -> assert_cmd::assert::Assert {
    dap(wh)
        .args(["query", "--format", "csv", "-c", sql])
        .assert()
        .success()
}

fn setup(wh: &std::path::Path) {
    dap(wh)
        .args([
            "query",
            "-c",
            "CREATE SCHEMA s; CREATE TABLE s.t (id INT64, name STRING)",
        ])
        .assert()
        .success();
}

#[test]
fn json_encoding_of_every_type() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dap(dir.path())
        .args(["query", "--format", "json", "-c"])
        .arg("SELECT 1 AS i, 1.5 AS f, CAST('NaN' AS FLOAT64) AS nan, NUMERIC '1.50' AS n, true AS b, 'x' AS s, \
              DATE '2024-01-31' AS d, DATETIME '2024-01-31 10:00:00.5' AS dt, \
              [1, 2] AS a, STRUCT(1 AS x, 'y' AS y) AS st, NULL AS z, 2 + 3")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    assert_eq!(
        text,
        "[{\"i\":1,\"f\":1.5,\"nan\":\"NaN\",\"n\":\"1.5\",\"b\":true,\"s\":\"x\",\"d\":\"2024-01-31\",\
         \"dt\":\"2024-01-31T10:00:00.500000\",\"a\":[1,2],\"st\":{\"x\":1,\"y\":\"y\"},\"z\":null,\"f0_\":5}]\n"
    );
}

#[test]
fn formats_csv_ndjson_markdown() {
    let dir = tempfile::tempdir().expect("tmp");
    let sql = "SELECT 1 AS a, 'x,y' AS b UNION ALL SELECT 2, NULL ORDER BY a";
    csv(dir.path(), sql).stdout("a,b\n1,\"x,y\"\n2,\n");
    dap(dir.path())
        .args(["query", "--format", "ndjson", "-c", sql])
        .assert()
        .success()
        .stdout("{\"a\":1,\"b\":\"x,y\"}\n{\"a\":2,\"b\":null}\n");
    dap(dir.path())
        .args(["query", "--format", "markdown", "-c", sql])
        .assert()
        .success()
        .stdout(predicate::str::contains("| a | b    |"));
}

#[test]
fn table_truncates_with_note_on_stderr() {
    let dir = tempfile::tempdir().expect("tmp");
    dap(dir.path())
        .args([
            "query",
            "--max-rows",
            "2",
            "-c",
            "SELECT value FROM range(5)",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("showing 2 of 5 rows"));
}

#[test]
fn stops_at_first_error_with_position() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    dap(dir.path())
        .args(["query", "--format", "csv", "-c"])
        .arg("INSERT INTO s.t VALUES (1, 'a');\nSELECT * FROM s.missing;\nINSERT INTO s.t VALUES (2, 'b')")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error: Not found: Table dap:s.missing"))
        .stderr(predicate::str::contains("-c #1:2:15"));
    csv(dir.path(), "SELECT id FROM s.t").stdout("id\n1\n");
}

#[test]
fn syntax_error_runs_nothing_and_points_at_the_token() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    dap(dir.path())
        .args([
            "query",
            "-c",
            "INSERT INTO s.t VALUES (1, 'a');\nSELECT FROM WHERE",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Syntax error"))
        .stderr(predicate::str::contains(":2:"));
    csv(dir.path(), "SELECT COUNT(*) AS n FROM s.t").stdout("n\n0\n");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    dap(dir.path())
        .args(["query", "--format", "xml", "-c", "SELECT 1"])
        .assert()
        .code(2);
    dap(dir.path()).args(["nosuchcommand"]).assert().code(2);
}

#[test]
fn stdin_and_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("q.sql");
    std::fs::write(
        &file,
        "SELECT ';' AS semi; -- comment; not a statement\nSELECT 2 AS two;",
    )
    .expect("write");
    dap(dir.path())
        .args(["query", "--format", "csv"])
        .arg(&file)
        .assert()
        .success()
        .stdout("semi\n;\ntwo\n2\n");
    dap(dir.path())
        .args(["query", "--format", "csv", "-"])
        .write_stdin("SELECT 3 AS three")
        .assert()
        .success()
        .stdout("three\n3\n");
    dap(dir.path())
        .args(["query", "missing.sql"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.sql"));
}

#[test]
fn persistence_across_processes_and_dml_messages() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    dap(dir.path())
        .args([
            "query",
            "-c",
            "INSERT INTO s.t VALUES (1, 'a'), (2, 'b'), (3, 'c')",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "This statement added 3 rows to s.t.",
        ));
    dap(dir.path())
        .args([
            "query",
            "-c",
            "CREATE VIEW s.v AS SELECT id FROM s.t WHERE id > 1",
        ])
        .assert()
        .success();
    csv(dir.path(), "SELECT COUNT(*) AS n FROM s.v").stdout("n\n2\n");
}

#[test]
fn dap_toml_and_env_resolution() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("dap.toml"),
        "project = \"acme\"\ndataset = \"s\"\nwarehouse = \"wh\"\n",
    )
    .expect("write");
    let mut c = Command::cargo_bin("dap").expect("bin");
    c.current_dir(dir.path())
        .env_remove("DAP_WAREHOUSE")
        .env_remove("GOOGLE_CLOUD_PROJECT")
        .args([
            "query",
            "--format",
            "csv",
            "-c",
            "CREATE SCHEMA s; CREATE TABLE t AS SELECT 1 AS x; SELECT x FROM `acme.s.t`",
        ])
        .assert()
        .success()
        .stdout("x\n1\n");
    assert!(dir.path().join("wh/s/t/_delta_log").is_dir());
}

#[test]
fn transient_warehouse_says_so() {
    let mut c = Command::cargo_bin("dap").expect("bin");
    c.env_remove("DAP_WAREHOUSE")
        .current_dir(std::env::temp_dir())
        .args([
            "query",
            "-c",
            "CREATE SCHEMA s; CREATE TABLE s.t AS SELECT 1 AS x; SELECT * FROM s.t",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("transient in-memory warehouse"));
}

#[test]
fn concurrent_writers_from_two_processes() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    let bin = assert_cmd::cargo::cargo_bin("dap");
    let spawn = |k: i64| {
        let sql: Vec<String> = (0..5)
            .map(|i| format!("INSERT INTO s.t VALUES ({}, 'w')", k * 100 + i))
            .collect();
        StdCommand::new(&bin)
            .current_dir(std::env::temp_dir())
            .arg("--warehouse")
            .arg(dir.path())
            .args(["query", "-c", &sql.join(";")])
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(1), spawn(2));
    let (a, b) = (
        a.wait_with_output().expect("a"),
        b.wait_with_output().expect("b"),
    );
    // Blind appends never conflict in Delta: both writers must succeed.
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    csv(
        dir.path(),
        "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM s.t",
    )
    .stdout("n,d\n10,10\n");
}

#[test]
fn killed_writer_leaves_table_at_previous_version() {
    let dir = tempfile::tempdir().expect("tmp");
    setup(dir.path());
    dap(dir.path())
        .args(["query", "-c", "INSERT INTO s.t VALUES (1, 'kept')"])
        .assert()
        .success();
    let bin = assert_cmd::cargo::cargo_bin("dap");
    let mut child = StdCommand::new(&bin)
        .current_dir(std::env::temp_dir())
        .arg("--warehouse")
        .arg(dir.path())
        .args([
            "query",
            "-c",
            "INSERT INTO s.t SELECT value, REPEAT('y', 200) FROM range(20000000)",
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill it while it writes Parquet files, before its commit.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        if child.try_wait().expect("poll").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        child.try_wait().expect("poll").is_none(),
        "the writer finished before it could be killed; make its INSERT bigger"
    );
    child.kill().expect("SIGKILL"); // SIGKILL on Unix
    let _ = child.wait();
    csv(
        dir.path(),
        "SELECT COUNT(*) AS n FROM s.t WHERE name = 'kept'",
    )
    .stdout("n\n1\n");
}

#[test]
fn external_tables_read_files_and_drop_keeps_them() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "id,name\n1,ada\n2,grace\n").expect("write");
    let wh = dir.path().join("wh");
    let ddl = format!(
        "CREATE SCHEMA s; CREATE EXTERNAL TABLE s.people OPTIONS (format = 'CSV', uris = ['{}'], skip_leading_rows = 1)",
        file.display()
    );
    dap(&wh).args(["query", "-c", &ddl]).assert().success();
    csv(
        &wh,
        "SELECT name FROM s.people ORDER BY id; SELECT table_type FROM s.INFORMATION_SCHEMA.TABLES",
    )
    .stdout("name\nada\ngrace\ntable_type\nEXTERNAL\n");
    dap(&wh)
        .args(["query", "-c", "DROP TABLE s.people"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "is an External table, not a Table",
        ));
    dap(&wh)
        .args(["query", "-c", "DROP EXTERNAL TABLE s.people"])
        .assert()
        .success();
    assert!(
        file.is_file(),
        "dropping an external table never deletes its files"
    );
}
