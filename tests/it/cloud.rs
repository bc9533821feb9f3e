//! Warehouses and load sources on S3, against a real S3 API server on 127.0.0.1: moto's server
//! (`pip install "moto[server]"`; installed on first use), started by the test. No traffic leaves the
//! machine: the endpoint is local and the instance-metadata credential lookup is disabled.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command as StdCommand, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;

/// An S3 server for one test; killed when dropped.
struct S3 {
    child: Child,
    port: u16,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static INSTALL: Mutex<()> = Mutex::new(());

fn python_has_moto() -> bool {
    StdCommand::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl S3 {
    fn start() -> S3 {
        {
            let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
            // Plain pip first; then a user install (also where the system Python is marked
            // externally managed).
            let attempts: [&[&str]; 3] = [&[], &["--user"], &["--user", "--break-system-packages"]];
            for extra in attempts {
                if python_has_moto() {
                    break;
                }
                let _ = StdCommand::new("python3")
                    .args(["-m", "pip", "install", "--quiet"])
                    .args(extra)
                    .arg("moto[server]")
                    .status();
            }
            assert!(
                python_has_moto(),
                "the S3 tests need moto's server: pip install \"moto[server]\""
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = StdCommand::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let s3 = S3 { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        s3
    }

    /// One path-style S3 request; returns the status code.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> u16 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(body).expect("write");
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line")
    }

    fn create_bucket(&self, bucket: &str) {
        assert_eq!(self.request("PUT", &format!("/{bucket}"), b""), 200);
    }

    fn put(&self, bucket: &str, key: &str, body: &[u8]) {
        assert_eq!(self.request("PUT", &format!("/{bucket}/{key}"), body), 200);
    }

    /// `dap` configured for this server, with a warehouse location (a URL or a directory).
    fn dap(&self, warehouse: &str) -> Command {
        let mut c = Command::cargo_bin("dap").expect("binary built");
        c.current_dir(std::env::temp_dir())
            .env_remove("DAP_WAREHOUSE")
            .env_remove("GOOGLE_CLOUD_PROJECT")
            .env(
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            )
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .args(["--warehouse", warehouse]);
        c
    }

    fn csv(&self, warehouse: &str, sql: &str) -> String {
        let out = self
            .dap(warehouse)
            .args(["query", "--format", "csv", "-c", sql])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).expect("utf8")
    }
}

#[test]
fn warehouse_on_s3_tables_views_dml_and_time_travel() {
    let s3 = S3::start();
    s3.create_bucket("lake");
    let wh = "s3://lake/warehouse";
    s3.dap(wh)
        .args([
            "query",
            "-c",
            "CREATE SCHEMA sales; \
             CREATE TABLE sales.orders (id INT64, amount NUMERIC, day DATE); \
             INSERT INTO sales.orders VALUES (1, 10.5, '2024-01-01'), (2, 20, '2024-01-02'), (3, 5, '2024-01-02'); \
             CREATE VIEW sales.by_day AS SELECT day, SUM(amount) AS total FROM sales.orders GROUP BY day",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("added 3 rows to sales.orders"));
    // A second process sees the tables and the view.
    assert_eq!(
        s3.csv(wh, "SELECT * FROM sales.by_day ORDER BY day"),
        "day,total\n2024-01-01,10.5\n2024-01-02,25\n"
    );
    s3.dap(wh)
        .args([
            "query",
            "-c",
            "UPDATE sales.orders SET amount = amount * 2 WHERE id = 1; \
             DELETE FROM sales.orders WHERE id = 3; \
             MERGE sales.orders t USING (SELECT 4 AS id, NUMERIC '1' AS amount, DATE '2024-01-03' AS day) s \
             ON t.id = s.id WHEN NOT MATCHED THEN INSERT ROW",
        ])
        .assert()
        .success();
    assert_eq!(
        s3.csv(wh, "SELECT id, amount FROM sales.orders ORDER BY id"),
        "id,amount\n1,21\n2,20\n4,1\n"
    );
    assert_eq!(
        s3.csv(
            wh,
            "SELECT table_name, table_type FROM sales.INFORMATION_SCHEMA.TABLES ORDER BY 1"
        ),
        "table_name,table_type\nby_day,VIEW\norders,BASE TABLE\n"
    );
    // Time travel reads an older Delta version from the bucket.
    let now = s3.csv(
        wh,
        "SELECT FORMAT_TIMESTAMP('%F %T', CURRENT_TIMESTAMP()) AS t",
    );
    let now = now.lines().nth(1).expect("a timestamp").to_string();
    std::thread::sleep(Duration::from_millis(1100));
    s3.dap(wh)
        .args(["query", "-c", "TRUNCATE TABLE sales.orders"])
        .assert()
        .success();
    assert_eq!(
        s3.csv(
            wh,
            &format!(
                "SELECT COUNT(*) AS n FROM sales.orders FOR SYSTEM_TIME AS OF TIMESTAMP '{now}'"
            )
        ),
        "n\n3\n"
    );
    assert_eq!(
        s3.csv(wh, "SELECT COUNT(*) AS n FROM sales.orders"),
        "n\n0\n"
    );
    // DROP removes the objects; the name is free again.
    s3.dap(wh)
        .args([
            "query",
            "-c",
            "DROP TABLE sales.orders; DROP VIEW sales.by_day",
        ])
        .assert()
        .success();
    assert_eq!(
        s3.csv(
            wh,
            "SELECT COUNT(*) AS n FROM sales.INFORMATION_SCHEMA.TABLES"
        ),
        "n\n0\n"
    );
    // A bad bucket is a clear error, not a hang.
    s3.dap("s3://no-such-bucket/wh")
        .args(["query", "-c", "CREATE SCHEMA x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("error:"));
}

#[test]
fn concurrent_writers_on_s3_never_lose_a_commit() {
    let s3 = S3::start();
    s3.create_bucket("lake");
    let wh = "s3://lake/wh";
    s3.dap(wh)
        .args([
            "query",
            "-c",
            "CREATE SCHEMA s; CREATE TABLE s.t (w INT64, i INT64)",
        ])
        .assert()
        .success();
    // Two processes append 5 times each at the same time. Delta commits on S3 are conditional
    // writes: a writer that loses the race for a version retries on the next one (or fails
    // clearly); no commit is ever overwritten.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let mut cmd = s3.dap(wh);
            let sql: Vec<String> = (0..5)
                .map(|i| format!("INSERT INTO s.t VALUES ({w}, {i})"))
                .collect();
            cmd.args(["query", "-c", &sql.join(";")]);
            std::thread::spawn(move || cmd.output().expect("run"))
        })
        .collect();
    let mut succeeded = 0;
    for h in writers {
        let out = h.join().expect("thread");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let inserted = stderr.matches("added 1 row").count();
        succeeded += inserted;
        if !out.status.success() {
            assert!(
                stderr.contains("conflict")
                    || stderr.contains("Conflict")
                    || stderr.contains("version"),
                "a failed writer says why: {stderr}"
            );
        }
    }
    let count = s3.csv(wh, "SELECT COUNT(*) AS n FROM s.t");
    assert_eq!(
        count,
        format!("n\n{succeeded}\n"),
        "every reported insert is in the table"
    );
    assert!(succeeded >= 5, "at least one writer finished: {succeeded}");
}

#[test]
fn load_from_s3_objects_globs_and_prefixes() {
    let s3 = S3::start();
    s3.create_bucket("raw");
    s3.put(
        "raw",
        "api/2024/page-1.json",
        b"{\"id\": 1, \"user\": {\"name\": \"a\"}}\n{\"id\": 2}\n",
    );
    s3.put(
        "raw",
        "api/2024/page-2.json",
        b"{\"id\": 3, \"tags\": [\"x\"]}\n",
    );
    s3.put("raw", "api/2024/_manifest.json", b"not rows");
    s3.put("raw", "csv/a.csv", b"k,v\n1,x\n2,y\n");
    s3.create_bucket("lake");
    // Into a warehouse on S3 from a glob, with source columns naming the objects.
    let wh = "s3://lake/wh";
    s3.dap(wh)
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    s3.dap(wh)
        .args([
            "load",
            "--source-columns",
            "raw.api",
            "s3://raw/api/2024/page-*.json",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("3 rows"));
    assert_eq!(
        s3.csv(
            wh,
            "SELECT id, user.name, ARRAY_LENGTH(tags) AS tags, _source_file, _source_line FROM raw.api ORDER BY id"
        ),
        "id,name,tags,_source_file,_source_line\n\
         1,a,0,s3://raw/api/2024/page-1.json,1\n\
         2,,0,s3://raw/api/2024/page-1.json,2\n\
         3,,1,s3://raw/api/2024/page-2.json,1\n"
    );
    // Into a local warehouse from a prefix: objects whose names start with `_` are skipped.
    let dir = tempfile::tempdir().expect("tmp");
    let local = dir.path().to_string_lossy().to_string();
    s3.dap(&local)
        .args(["query", "-c", "CREATE SCHEMA raw"])
        .assert()
        .success();
    s3.dap(&local)
        .args(["load", "raw.api", "s3://raw/api/2024"])
        .assert()
        .success();
    assert_eq!(
        s3.csv(&local, "SELECT COUNT(*) AS n FROM raw.api"),
        "n\n3\n"
    );
    s3.dap(&local)
        .args([
            "query",
            "-c",
            "LOAD DATA INTO raw.kv FROM FILES (format = 'CSV', uris = ['s3://raw/csv/*.csv'])",
        ])
        .assert()
        .success();
    assert_eq!(
        s3.csv(&local, "SELECT k, v FROM raw.kv ORDER BY k"),
        "k,v\n1,x\n2,y\n"
    );
    // External tables read objects in place.
    s3.dap(&local)
        .args(["query", "-c", "CREATE EXTERNAL TABLE raw.kv_ext OPTIONS (format = 'CSV', uris = ['s3://raw/csv/*.csv'], skip_leading_rows = 1)"])
        .assert()
        .success();
    assert_eq!(
        s3.csv(&local, "SELECT k, v FROM raw.kv_ext ORDER BY k"),
        "k,v\n1,x\n2,y\n"
    );
    // A missing object names the URL; nothing is created.
    s3.dap(&local)
        .args(["load", "raw.none", "s3://raw/api/2025/page-1.json"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("s3://raw/api/2025/page-1.json"));
    s3.dap(&local)
        .args(["load", "raw.none", "s3://raw/api/*.parquet"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no objects match"));
}
