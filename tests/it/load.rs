//! `dap load` end to end: one commit, summary on stderr, quarantine for bad records.

use super::{csv, dap};

fn data(name: &str) -> String {
    format!("{}/tests/data/load/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn load_ndjson_then_query() {
    let wh = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    dap(wh.path())
        .args([
            "load",
            "raw.events",
            &data("events.ndjson"),
            "--source-columns",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "Loaded 3 rows into raw.events from 1 file",
        ));
    csv(
        wh.path(),
        "SELECT id, _source_line FROM raw.events ORDER BY id",
    )
    .stdout("id,_source_line\n1,1\n2,2\n3,4\n");
}

#[test]
fn bad_records_go_to_quarantine() {
    let wh = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    dap(wh.path())
        .args(["load", "raw.bad", &data("bad.ndjson")])
        .assert()
        .failure()
        .stderr(predicates::str::contains("bad.ndjson:2: malformed JSON"));
    dap(wh.path())
        .args([
            "load",
            "raw.bad",
            &data("bad.ndjson"),
            "--max-bad-records",
            "1",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains("1 rejected"));
    let q = wh.path().join("_quarantine/raw/bad");
    let files: Vec<_> = std::fs::read_dir(&q).expect("quarantine dir").collect();
    assert_eq!(
        files.len(),
        2,
        "one quarantine file per load with bad records"
    );
}
