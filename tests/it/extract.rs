//! `dap extract` against a real HTTP server on 127.0.0.1 started inside each test: pagination,
//! retries (429 with Retry-After, 500), a malformed page and resuming, secrets, landing zone,
//! manifest, and loading the pages.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use assert_cmd::Command;
use predicates::prelude::*;

/// What the handler gets: the request target (`/items?page=2`), the headers (lower-case names),
/// and how many times this target was requested before (0 on the first hit).
struct Req {
    target: String,
    headers: HashMap<String, String>,
    hit: usize,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn json(body: &str) -> Reply {
    Reply {
        status: 200,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into(),
    }
}

/// A tiny HTTP/1.1 server (one connection at a time, `Connection: close`).
struct Api {
    base: String,
    /// Every request target, in order.
    log: Arc<Mutex<Vec<String>>>,
}

impl Api {
    fn start(handler: impl Fn(&Req) -> Reply + Send + 'static) -> Api {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut headers = HashMap::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                    }
                }
                let hit = {
                    let mut l = seen.lock().expect("log");
                    let n = l.iter().filter(|t| **t == target).count();
                    l.push(target.clone());
                    n
                };
                let r = handler(&Req {
                    target,
                    headers,
                    hit,
                });
                let mut out = format!(
                    "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                    r.status,
                    r.body.len()
                );
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                out.push_str(&r.body);
                let _ = stream.write_all(out.as_bytes());
            }
        });
        Api { base, log }
    }

    fn hits(&self, target: &str) -> usize {
        self.log
            .lock()
            .expect("log")
            .iter()
            .filter(|t| *t == target)
            .count()
    }
}

/// A project directory with a dap.toml (warehouse `wh`) and the given extra TOML.
fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("dap.toml"),
        format!("project = \"p\"\nwarehouse = \"wh\"\n{extra}"),
    )
    .expect("write dap.toml");
    dir
}

fn dap_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("dap").expect("binary built");
    c.current_dir(dir)
        .env_remove("DAP_WAREHOUSE")
        .env_remove("GOOGLE_CLOUD_PROJECT");
    c
}

fn query_csv(dir: &Path, sql: &str) -> String {
    let out = dap_in(dir)
        .args(["query", "--format", "csv", "-c", sql])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("utf8")
}

const PAGE1: &str = r#"{"data": [{"id": 1, "user": {"name": "ann"}, "tags": ["a"]}, {"id": 2, "user": {"name": "bob"}, "tags": []}], "next_cursor": "c2"}"#;
const PAGE2: &str = r#"{"data": [{"id": 3, "user": {"name": null}, "tags": ["b", "c"]}, {"id": 4, "user": {"name": "dan"}, "tags": ["d"]}], "next_cursor": "c3"}"#;
const PAGE3: &str = r#"{"data": [{"id": 5, "user": {"name": "eve"}, "tags": [], "score": 1.5}, {"id": 6, "user": {"name": "fay"}, "tags": ["e"], "score": 2}], "next_cursor": null}"#;

#[test]
fn cursor_pages_retries_secrets_landing_and_load() {
    let api = Api::start(|r| {
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer tok-123") {
            return Reply {
                status: 401,
                headers: vec![],
                body: "no token".into(),
            };
        }
        match (r.target.as_str(), r.hit) {
            ("/items?limit=2", _) => json(PAGE1),
            ("/items?limit=2&cursor=c2", 0) => Reply {
                status: 429,
                headers: vec![("Retry-After".into(), "0".into())],
                body: "slow down".into(),
            },
            ("/items?limit=2&cursor=c2", _) => json(PAGE2),
            ("/items?limit=2&cursor=c3", 0) => Reply {
                status: 500,
                headers: vec![],
                body: "oops".into(),
            },
            ("/items?limit=2&cursor=c3", _) => json(PAGE3),
            _ => Reply {
                status: 404,
                headers: vec![],
                body: "nope".into(),
            },
        }
    });
    let dir = project(&format!(
        r#"
[sources.items]
url = "{}/items"
params = {{ limit = "2" }}
headers = {{ Authorization = "Bearer ${{DAP_TEST_TOKEN}}" }}
records = "data"
paginate = {{ type = "cursor", param = "cursor", path = "next_cursor" }}
backoff = 0.01
retries = 2
load = "raw.items"
"#,
        api.base
    ));
    dap_in(dir.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    let out = dap_in(dir.path())
        .env("DAP_TEST_TOKEN", "tok-123")
        .args(["extract", "items", "--run-id", "r1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "Extracted 3 pages (6 records, 0.0 MB, 5 requests) from items",
        ))
        .stderr(predicate::str::contains("retrying: GET"))
        .stderr(predicate::str::contains("HTTP 429"))
        .stderr(predicate::str::contains("Loaded 6 rows into raw.items"))
        .get_output()
        .stderr
        .clone();
    assert!(!String::from_utf8_lossy(&out).contains("tok-123"));

    // Every response is landed unchanged, with a manifest.
    let run = dir.path().join("wh/_landing/items/r1");
    for (file, body) in [
        ("page-00001.json", PAGE1),
        ("page-00002.json", PAGE2),
        ("page-00003.json", PAGE3),
    ] {
        assert_eq!(std::fs::read_to_string(run.join(file)).expect("page"), body);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("manifest.json")).expect("m"))
            .expect("manifest json");
    assert_eq!(manifest["status"], "complete");
    let attempts: Vec<u64> = manifest["pages"]
        .as_array()
        .expect("pages")
        .iter()
        .map(|p| p["attempts"].as_u64().expect("attempts"))
        .collect();
    assert_eq!(attempts, [1, 2, 2]);
    assert_eq!(manifest["pages"][2]["status"], 200);
    assert_eq!(manifest["pages"][1]["records"], 2);
    assert_eq!(
        manifest["pages"][1]["url"],
        format!("{}/items?limit=2&cursor=c2", api.base)
    );
    assert_eq!(manifest["loads"][0]["table"], "raw.items");

    // The pages became a table; the field that appears only on the last page is a column.
    assert_eq!(
        query_csv(
            dir.path(),
            "SELECT id, user.name, ARRAY_LENGTH(tags) AS n, score FROM raw.items ORDER BY id"
        ),
        "id,name,n,score\n1,ann,1,\n2,bob,0,\n3,,2,\n4,dan,1,\n5,eve,0,1.5\n6,fay,1,2\n"
    );

    // The same run id again: no request, no duplicate rows.
    let before = api.log.lock().expect("log").len();
    dap_in(dir.path())
        .env("DAP_TEST_TOKEN", "tok-123")
        .args(["extract", "items", "--run-id", "r1"])
        .assert()
        .success()
        .stderr(predicate::str::contains("3 reused"))
        .stderr(predicate::str::contains("not loading it again"));
    assert_eq!(api.log.lock().expect("log").len(), before);
    assert_eq!(
        query_csv(dir.path(), "SELECT COUNT(*) AS n FROM raw.items"),
        "n\n6\n"
    );

    // A missing secret is a configuration error that names the variable.
    dap_in(dir.path())
        .env_remove("DAP_TEST_TOKEN")
        .args(["extract", "items"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "environment variable DAP_TEST_TOKEN is not set",
        ));
}

#[test]
fn malformed_page_stops_the_run_and_a_rerun_resumes() {
    let api = Api::start(|r| match (r.target.as_str(), r.hit) {
        ("/p?page=1", _) => json(r#"{"items": [{"a": 1}, {"a": 2}]}"#),
        ("/p?page=2", 0) => json(r#"{"items": [{"a": 3}, "#),
        ("/p?page=2", _) => json(r#"{"items": [{"a": 3}]}"#),
        _ => json(r#"{"items": []}"#),
    });
    let dir = project("");
    dap_in(dir.path())
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    let args = [
        "extract",
        "pages",
        "--url",
        &format!("{}/p", api.base),
        "--records",
        "items",
        "--paginate",
        "page",
        "--run-id",
        "run-1",
        "--load",
        "raw.p",
    ];
    dap_in(dir.path())
        .args(args)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("page 2"))
        .stderr(predicate::str::contains("not JSON"))
        .stderr(predicate::str::contains("re-run with --run-id run-1"));
    let run = dir.path().join("wh/_landing/pages/run-1");
    assert!(run.join("page-00001.json").is_file());
    assert_eq!(
        std::fs::read_to_string(run.join("page-00002.response")).expect("kept"),
        r#"{"items": [{"a": 3}, "#
    );
    let manifest = std::fs::read_to_string(run.join("manifest.json")).expect("manifest");
    assert!(manifest.contains("\"status\": \"failed\""), "{manifest}");
    // Nothing was loaded from an incomplete run.
    dap_in(dir.path())
        .args(["query", "-c", "SELECT * FROM raw.p"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("Not found"));

    // Re-run: page 1 is reused, page 2 fetched again, page 3 (empty) ends the run.
    dap_in(dir.path())
        .args(args)
        .assert()
        .success()
        .stderr(predicate::str::contains("Extracted 3 pages (3 records"))
        .stderr(predicate::str::contains("1 reused"));
    assert_eq!(api.hits("/p?page=1"), 1);
    assert_eq!(api.hits("/p?page=2"), 2);
    assert!(!run.join("page-00002.response").exists());
    assert_eq!(
        query_csv(dir.path(), "SELECT a FROM raw.p ORDER BY a"),
        "a\n1\n2\n3\n"
    );
}

#[test]
fn link_header_next_url_page_cap_and_failures() {
    let api = Api::start(|r| match r.target.as_str() {
        "/l" => Reply {
            status: 200,
            headers: vec![(
                "Link".into(),
                r#"</l?after=x>; rel="next", </l>; rel="first""#.into(),
            )],
            body: "[{\"v\": 1}]".into(),
        },
        "/l?after=x" => json("[{\"v\": 2}, {\"v\": 3}]"),
        "/n" => json(r#"{"rows": [1], "links": {"next": "/n2"}}"#),
        "/n2" => json(r#"{"rows": [2], "links": {"next": "/n3"}}"#),
        "/n3" => json(r#"{"rows": [3], "links": {"next": null}}"#),
        "/html" => Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: "<html>maintenance</html>".into(),
        },
        _ => Reply {
            status: 503,
            headers: vec![],
            body: "down".into(),
        },
    });
    let dir = project("");
    let extract = |args: &[&str]| {
        let mut c = dap_in(dir.path());
        c.arg("extract").args(args);
        c
    };
    // Link: rel="next" is followed by default.
    extract(&["links", "--url", &format!("{}/l", api.base)])
        .assert()
        .success()
        .stderr(predicate::str::contains("Extracted 2 pages (3 records"));
    // next URL from the body, with a page cap.
    extract(&[
        "next",
        "--url",
        &format!("{}/n", api.base),
        "--records",
        "rows",
        "--paginate",
        r#"{type = "next_url", path = "links.next"}"#,
        "--max-pages",
        "2",
    ])
    .assert()
    .success()
    .stderr(predicate::str::contains("Extracted 2 pages"))
    .stderr(predicate::str::contains("stopped at max_pages"));
    assert_eq!(api.hits("/n3"), 0);
    // A 2xx that is not JSON is kept and reported.
    extract(&["html", "--url", &format!("{}/html", api.base)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not JSON"));
    // A server that stays down: retries, then the error status is reported.
    extract(&[
        "down",
        "--url",
        &format!("{}/down", api.base),
        "--retries",
        "2",
        "--backoff",
        "0.01",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("HTTP 503: down"));
    assert_eq!(api.hits("/down"), 3);
    // Nobody listening: a connection error after the retries.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    extract(&[
        "gone",
        "--url",
        &format!("http://127.0.0.1:{port}/x"),
        "--retries",
        "1",
        "--backoff",
        "0.01",
    ])
    .assert()
    .code(1)
    .stderr(predicate::str::contains("after 2 attempts"));
    // Hostile names never become paths.
    extract(&["../x", "--url", &format!("{}/l", api.base)])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid source name `../x`"));
    extract(&["nosuch"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no source `nosuch`"));
}
