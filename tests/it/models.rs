//! `dap init | run | test | build | dag | compile | check` end to end on generated projects.

use std::path::Path;
use std::time::Instant;

use assert_cmd::Command;

fn dap(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("dap").expect("binary built");
    c.current_dir(dir)
        .env_remove("DAP_WAREHOUSE")
        .env_remove("GOOGLE_CLOUD_PROJECT");
    c
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// A project with a source table `raw.events` and three models.
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path();
    write(
        p,
        "dap.toml",
        "project = \"p\"\ndataset = \"staging\"\nwarehouse = \"wh\"\n",
    );
    write(
        p,
        "sql/raw/events.sql",
        "SELECT 1 AS id, 'a' AS kind UNION ALL SELECT 2, 'b' UNION ALL SELECT 2, 'b'\n",
    );
    write(
        p,
        "sql/staging/events.sql",
        "/* dap\nmaterialized = \"view\"\ntags = [\"stg\"]\n[assert]\nunique = [\"id\"]\nnot_null = [\"id\"]\n*/\nWITH e AS (SELECT * FROM raw.events)\nSELECT DISTINCT id, kind FROM e\n",
    );
    write(
        p,
        "sql/mart/kinds.sql",
        "/* dap\nmaterialized = \"incremental\"\nunique_key = \"kind\"\n[assert]\naccepted_values = { kind = [\"a\", \"b\"] }\nrow_count = { min = 1, max = 10 }\n*/\nSELECT kind, COUNT(*) AS n FROM staging.events GROUP BY kind\n",
    );
    d
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).expect("utf8")
}

#[test]
fn dag_inference_and_formats() {
    let d = project();
    let text = stdout(dap(d.path()).args(["dag"]));
    assert_eq!(
        text,
        "raw.events (table)\nstaging.events (view) <- raw.events\nmart.kinds (incremental) <- staging.events\n"
    );
    let dot = stdout(dap(d.path()).args(["dag", "--format", "dot"]));
    assert!(
        dot.contains("\"staging.events\" -> \"mart.kinds\";"),
        "{dot}"
    );
    let mermaid = stdout(dap(d.path()).args(["dag", "--format", "mermaid"]));
    assert!(
        mermaid.contains("staging_events --> mart_kinds"),
        "{mermaid}"
    );
}

#[test]
fn cycle_error_prints_the_cycle() {
    let d = tempfile::tempdir().expect("tmp");
    write(d.path(), "dap.toml", "warehouse = \"wh\"\n");
    write(d.path(), "sql/a/x.sql", "SELECT * FROM b.y\n");
    write(d.path(), "sql/b/y.sql", "SELECT * FROM a.x\n");
    let out = dap(d.path())
        .args(["run"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).expect("utf8");
    assert!(
        err.contains("models form a cycle: a.x -> b.y -> a.x")
            || err.contains("models form a cycle: b.y -> a.x -> b.y"),
        "{err}"
    );
}

#[test]
fn run_test_selection_incremental_and_runs_log() {
    let d = project();
    let p = d.path();
    dap(p).args(["run", "--threads", "2"]).assert().success();
    let q = |sql: &str| stdout(dap(p).args(["query", "--format", "csv", "-c", sql]));
    assert_eq!(
        q("SELECT kind, n FROM mart.kinds ORDER BY kind"),
        "kind,n\na,1\nb,1\n"
    );
    // Incremental: a changed source merges on the key (no duplicate rows).
    write(
        p,
        "sql/raw/events.sql",
        "SELECT 1 AS id, 'a' AS kind UNION ALL SELECT 2, 'b' UNION ALL SELECT 3, 'b'\n",
    );
    dap(p).args(["run"]).assert().success();
    assert_eq!(
        q("SELECT kind, n FROM mart.kinds ORDER BY kind"),
        "kind,n\na,1\nb,2\n"
    );
    // Selection: only mart.kinds runs.
    let err = String::from_utf8(
        dap(p)
            .args(["run", "-s", "mart.kinds"])
            .assert()
            .success()
            .get_output()
            .stderr
            .clone(),
    )
    .expect("utf8");
    assert!(err.contains("running 1 of 3 models"), "{err}");
    let err = String::from_utf8(
        dap(p)
            .args(["run", "-s", "+kinds", "--exclude", "tag:stg"])
            .assert()
            .success()
            .get_output()
            .stderr
            .clone(),
    )
    .expect("utf8");
    assert!(err.contains("running 2 of 3 models"), "{err}");
    // Run log.
    let log = q(
        "SELECT COUNT(DISTINCT run_id) AS runs, SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS ok FROM _dap.runs",
    );
    assert_eq!(log, "runs,ok\n4,9\n");
    dap(p).args(["test"]).assert().success();
}

#[test]
fn failure_isolation_and_assertion_samples() {
    let d = project();
    let p = d.path();
    write(
        p,
        "sql/other/broken.sql",
        "SELECT no_such_column FROM raw.events\n",
    );
    write(p, "sql/other/child.sql", "SELECT * FROM other.broken\n");
    let out = dap(p)
        .args(["run"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).expect("utf8");
    assert!(err.contains("skipped"), "{err}");
    assert!(
        err.contains("upstream other.broken did not succeed"),
        "{err}"
    );
    // Siblings still ran.
    let q = stdout(dap(p).args([
        "query",
        "--format",
        "csv",
        "-c",
        "SELECT COUNT(*) AS n FROM mart.kinds",
    ]));
    assert_eq!(q, "n\n2\n");
    // A failing assertion file shows a sample of its rows.
    write(
        p,
        "assertions/no_b.sql",
        "SELECT * FROM mart.kinds WHERE kind = 'b'\n",
    );
    let out = dap(p)
        .args(["test", "-s", "mart.kinds"])
        .assert()
        .failure()
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).expect("utf8");
    assert!(
        err.contains("FAIL  assertions/no_b.sql (1 failing row)"),
        "{err}"
    );
    assert!(err.contains(" b "), "{err}");
}

#[test]
fn compile_writes_qualified_bigquery_sql() {
    let d = project();
    let p = d.path();
    dap(p).args(["run"]).assert().success();
    dap(p).args(["compile", "--out", "out"]).assert().success();
    let view = std::fs::read_to_string(p.join("out/staging/events.sql")).expect("compiled");
    assert!(
        view.starts_with("CREATE OR REPLACE VIEW `p.staging.events` AS"),
        "{view}"
    );
    assert!(view.contains("FROM `p.raw.events`"), "{view}");
    let inc = std::fs::read_to_string(p.join("out/mart/kinds.sql")).expect("compiled");
    assert!(inc.contains("MERGE `p.mart.kinds` AS T"), "{inc}");
    assert!(inc.contains("FROM `p.staging.events`"), "{inc}");
}

#[test]
fn check_lists_problems_with_positions() {
    let d = project();
    let p = d.path();
    write(
        p,
        "sql/other/bad.sql",
        "SELECT\n  id,\n  nope_fn(id) AS x\nFROM raw.events\n",
    );
    let out = dap(p)
        .args(["check"])
        .assert()
        .failure()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.contains("sql/other/bad.sql:3:3:"), "{text}");
}

#[test]
fn init_then_build_works() {
    let d = tempfile::tempdir().expect("tmp");
    dap(d.path()).args(["init", "proj"]).assert().success();
    dap(&d.path().join("proj"))
        .args(["build"])
        .assert()
        .success();
}

#[test]
fn two_hundred_models() {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path();
    write(p, "dap.toml", "warehouse = \"wh\"\n");
    write(
        p,
        "sql/l0/m0.sql",
        "/* dap\nmaterialized = \"view\"\n*/\nSELECT 1 AS x\n",
    );
    for i in 1..200 {
        let parent = (i - 1) / 3;
        let sql = format!(
            "/* dap\nmaterialized = \"view\"\n*/\nSELECT x + 1 AS x FROM l{}.m{parent}\n",
            parent % 4
        );
        write(p, &format!("sql/l{}/m{i}.sql", i % 4), &sql);
    }
    let t = Instant::now();
    dap(p).args(["run", "--threads", "8"]).assert().success();
    eprintln!("dap run, 200 models: {:.2} s", t.elapsed().as_secs_f64());
}

#[test]
fn shell_describes_a_model_with_its_lineage_and_sql() {
    let d = project();
    dap(d.path()).args(["run"]).assert().success();
    let text = stdout(
        dap(d.path())
            .arg("shell")
            .write_stdin("\\d staging.events\n"),
    );
    assert!(text.contains("Model sql/staging/events.sql"), "{text}");
    assert!(text.contains("upstream: raw.events\n"), "{text}");
    assert!(text.contains("downstream: mart.kinds\n"), "{text}");
    assert!(text.contains("SELECT DISTINCT id, kind FROM e"), "{text}");
}
