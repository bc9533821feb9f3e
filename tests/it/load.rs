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

#[test]
fn source_format_auto_csv_flags_and_compressed_files() {
    let wh = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    dap(wh.path())
        .args([
            "load",
            "--source-format",
            "AUTO",
            "raw.z",
            &data("rows.ndjson.gz"),
            &data("rows.ndjson.zst"),
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "Loaded 3 rows into raw.z from 2 files",
        ));
    dap(wh.path())
        .args([
            "load",
            "--source-format",
            "CSV",
            "--field-delimiter",
            "|",
            "--skip-leading-rows",
            "1",
            "--allow-quoted-newlines",
            "raw.pipe",
            &data("pipe.csv"),
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains("Loaded 2 rows into raw.pipe"));
    csv(
        wh.path(),
        "SELECT a, LENGTH(b) AS n FROM raw.pipe ORDER BY a",
    )
    .stdout("a,n\n1,1\n2,10\n");
    dap(wh.path())
        .args([
            "load",
            "--source-format",
            "AUTO",
            "raw.x",
            &data("events.txt"),
        ])
        .assert()
        .failure();
}

#[test]
fn over_max_bad_records_after_batches_were_written_commits_nothing() {
    let wh = tempfile::tempdir().expect("temp dir");
    let src = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    // A first file of good rows (decoded and streamed to the writer), then a bad record.
    let mut good = String::new();
    for i in 0..30_000 {
        good.push_str(&format!("{{\"id\": {i}, \"v\": \"row {i}\"}}\n"));
    }
    std::fs::write(src.path().join("a.ndjson"), &good).expect("write");
    std::fs::write(src.path().join("b.ndjson"), "{\"id\": 1}\n{oops\n").expect("write");
    dap(wh.path())
        .args([
            "load",
            "raw.t",
            &src.path().join("a.ndjson").to_string_lossy(),
        ])
        .assert()
        .success();
    dap(wh.path())
        .args(["load", "raw.t", &src.path().to_string_lossy()])
        .assert()
        .failure()
        .stderr(predicates::str::contains("b.ndjson:2: malformed JSON"))
        .stderr(predicates::str::contains("nothing was loaded"));
    csv(wh.path(), "SELECT COUNT(*) AS n FROM raw.t").stdout("n\n30000\n");
}

#[test]
fn explicit_schema_flag() {
    let wh = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    dap(wh.path())
        .args([
            "load",
            "--source-format",
            "CSV",
            "--skip-leading-rows",
            "1",
            "--schema",
            "label:STRING,other:STRING",
            "raw.s",
            &data("strings.csv"),
        ])
        .assert()
        .success();
    csv(wh.path(), "SELECT label FROM raw.s ORDER BY label").stdout("label\nbaz\nfoo\n");
    dap(wh.path())
        .args(["load", "--schema", "a:NOPE", "raw.s", &data("strings.csv")])
        .assert()
        .code(2);
}

#[test]
fn a_change_after_the_detection_sample_widens_the_whole_load() {
    let wh = tempfile::tempdir().expect("temp dir");
    let src = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    // The schema is detected from the first 8 MB; a quoted fraction (rejected by an INT64 `id`,
    // taken by a FLOAT64 one) comes after it, then a fraction and a new field near the end.
    let pad = "x".repeat(200);
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 9 << 20 {
        text.push_str(&format!("{{\"id\": {n}, \"pad\": \"{pad}\"}}\n"));
        n += 1;
    }
    text.push_str("{\"id\": \"1.5\", \"pad\": \"quoted\"}\n");
    while text.len() < 14 << 20 {
        text.push_str(&format!("{{\"id\": {n}, \"pad\": \"{pad}\"}}\n"));
        n += 1;
    }
    text.push_str("{\"id\": 2.5, \"pad\": \"late\", \"extra\": true}\n");
    let file = src.path().join("drift.ndjson");
    std::fs::write(&file, &text).expect("write");
    dap(wh.path())
        .args(["load", "raw.d", &file.to_string_lossy()])
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "Loaded {} rows into raw.d",
            n + 2
        )));
    csv(
        wh.path(),
        "SELECT id, pad, extra FROM raw.d WHERE id IN (1.5, 2.5) OR extra ORDER BY id",
    )
    .stdout("id,pad,extra\n1.5,quoted,\n2.5,late,true\n");
}

/// JSON array files and envelopes are split into rows as they stream (not read whole): a big
/// pretty-printed array over several chunks keeps every row and its position, a non-object
/// element is a bad record at its position, and a malformed document fails with its line and
/// column and loads nothing.
#[test]
fn json_arrays_stream_rows_with_their_positions() {
    let wh = tempfile::tempdir().expect("temp dir");
    let dir = tempfile::tempdir().expect("temp dir");
    dap(wh.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    // About 12 MB: three 4 MB chunks, and more than the 8 MB detection sample.
    let n = 120_000;
    let mut doc = String::from("{\"data\": [\n");
    for i in 1..=n {
        doc.push_str(&format!(
            "  {{\n    \"id\": {i},\n    \"pad\": \"{}\",\n    \"tags\": [\"a\", \"b\\n\"]\n  }},\n",
            "x".repeat(60)
        ));
    }
    // The last row is no object; a later field of the envelope follows the rows.
    doc.push_str("  7\n], \"next\": {\"cursor\": null}}\n");
    let big = dir.path().join("big.json");
    std::fs::write(&big, &doc).expect("write");
    dap(wh.path())
        .args([
            "load",
            "raw.big",
            &big.to_string_lossy(),
            "--json-path",
            "data",
        ])
        .assert()
        .failure()
        .stderr(predicates::str::contains(format!(
            "big.json:{}: row is not a JSON object",
            n + 1
        )));
    dap(wh.path())
        .args([
            "load",
            "raw.big",
            &big.to_string_lossy(),
            "--json-path",
            "data",
            "--max-bad-records",
            "1",
            "--source-columns",
        ])
        .assert()
        .success()
        .stderr(predicates::str::contains(format!(
            "Loaded {n} rows into raw.big from 1 file"
        )));
    csv(
        wh.path(),
        "SELECT COUNT(*) AS n, COUNTIF(id = _source_line) AS at, MAX(tags[OFFSET(1)]) = 'b\\n' AS nl FROM raw.big",
    )
    .stdout(format!("n,at,nl\n{n},{n},true\n"));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "[{\"id\": 1},\n {\"id\": 2}\n {\"id\": 3}]").expect("write");
    dap(wh.path())
        .args(["load", "raw.bad", &bad.to_string_lossy()])
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "bad.json:3:2: malformed JSON: unexpected `{`",
        ));
    csv(
        wh.path(),
        "SELECT COUNT(*) AS n FROM raw.INFORMATION_SCHEMA.TABLES WHERE table_name = 'bad'",
    )
    .stdout("n\n0\n");
}
