#!/usr/bin/env bash
# TPC-H (22 queries, BigQuery dialect, ../shared/tpch) on SF1 Parquet registered as external tables.
# Run by hand:  cargo build --release && cargo install tpchgen-cli && benches/tpch.sh
# Compares with datafusion-cli 55 (`cargo install datafusion-cli@55.2.0 --locked`; one process per
# query, like dap) and DataFusion 55's Python bindings (`pip install datafusion==55.0.0`; in-process)
# on the same files, interleaved, median of RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SF=${SF:-1}
RUNS=${RUNS:-3}
DATA=${DATA:-$PWD/target/tpch-sf$SF}
DAP=${DAP:-$PWD/target/release/dap}
QUERIES=${QUERIES:-$PWD/../shared/tpch}
DFCLI=${DFCLI:-datafusion-cli}
TABLES="customer lineitem nation orders part partsupp region supplier"

if [ ! -f "$DATA/lineitem.parquet" ]; then
  mkdir -p "$DATA"
  tpchgen-cli parquet -s "$SF" --output-dir "$DATA"
fi
WH=$(mktemp -d)
trap 'rm -rf "$WH"' EXIT
ddl="CREATE SCHEMA tpch;"
for t in $TABLES; do
  ddl+="CREATE EXTERNAL TABLE tpch.$t OPTIONS (format = 'PARQUET', uris = ['$DATA/$t.parquet']);"
done
"$DAP" --warehouse "$WH" query -c "$ddl" 2>/dev/null

python3 - "$DAP" "$WH" "$DATA" "$QUERIES" "$RUNS" "$DFCLI" $TABLES <<'PY'
import os, shutil, statistics, subprocess, sys, tempfile, time, pathlib
dap, wh, data, qdir, runs, dfcli, tables = sys.argv[1], sys.argv[2], sys.argv[3], pathlib.Path(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7:]
dfcli = shutil.which(dfcli)
if dfcli is None:
    print("(datafusion-cli not found: cargo install datafusion-cli@55.2.0 --locked)", file=sys.stderr)
tmp = pathlib.Path(tempfile.mkdtemp())
ddl_file = tmp / "ddl.sql"
ddl_file.write_text("CREATE SCHEMA tpch;\n" + "".join(
    f"CREATE EXTERNAL TABLE tpch.{t} STORED AS PARQUET LOCATION '{data}/{t}.parquet';\n" for t in tables))
cli_env = dict(os.environ, DATAFUSION_SQL_PARSER_DIALECT="BigQuery")
try:
    import datafusion
    cfg = datafusion.SessionConfig().set("datafusion.sql_parser.dialect", "BigQuery")
    ctx = datafusion.SessionContext(cfg)
    ctx.sql("CREATE SCHEMA tpch").collect()
    for t in tables:
        ctx.sql(f"CREATE EXTERNAL TABLE tpch.{t} STORED AS PARQUET LOCATION '{data}/{t}.parquet'").collect()
except Exception as e:  # datafusion not installed
    print(f"(datafusion python unavailable: {e})", file=sys.stderr)
    ctx = None

def run_dap(sql_file):
    t = time.perf_counter()
    p = subprocess.run([dap, "--warehouse", wh, "query", "--format", "csv", str(sql_file)], capture_output=True, text=True)
    dt = time.perf_counter() - t
    return dt if p.returncode == 0 else None, p.stderr.strip().splitlines()[0] if p.returncode else ""

import re
def to_datafusion(sql):
    """The BigQuery-only spellings of the 22 queries in DataFusion's dialect (same semantics)."""
    def add(m, sign):
        return f"({m.group(1)} {sign} INTERVAL '{m.group(2)}' {m.group(3)})"
    sql = re.sub(r"DATE_ADD\((DATE '[^']+'), INTERVAL (\d+) (\w+)\)", lambda m: add(m, "+"), sql)
    sql = re.sub(r"DATE_SUB\((DATE '[^']+'), INTERVAL (\d+) (\w+)\)", lambda m: add(m, "-"), sql)
    return sql

def run_df(sql):
    if ctx is None:
        return None
    sql = to_datafusion(sql)
    t = time.perf_counter()
    try:
        ctx.sql(sql).collect()
    except Exception:
        return None
    return time.perf_counter() - t

def run_cli(sql):
    if dfcli is None:
        return None
    q = tmp / "q.sql"
    q.write_text(to_datafusion(sql))
    t = time.perf_counter()
    p = subprocess.run([dfcli, "-q", "--format", "csv", "-f", str(ddl_file), "-f", str(q)],
                       capture_output=True, text=True, env=cli_env)
    dt = time.perf_counter() - t
    return dt if p.returncode == 0 and "Error" not in p.stderr else None

tot_d = tot_f = tot_c = 0.0
both = 0
print(f"{'query':6} {'dap s':>8} {'datafusion-cli s':>17} {'datafusion-py s':>16}")
for q in sorted(qdir.glob("q*.sql")):
    sql = q.read_text()
    d_times, f_times, c_times, err = [], [], [], ""
    for _ in range(runs):
        d, err = run_dap(q)
        c = run_cli(sql)
        f = run_df(sql)
        if d is not None: d_times.append(d)
        if c is not None: c_times.append(c)
        if f is not None: f_times.append(f)
    med = lambda xs: statistics.median(xs) if xs else None
    d, c, f = med(d_times), med(c_times), med(f_times)
    if d is not None and f is not None and (c is not None or dfcli is None):
        tot_d += d; tot_f += f; tot_c += c or 0.0; both += 1
    fmt = lambda x: f"{x:8.3f}" if x is not None else "    FAIL"
    print(f"{q.stem:6} {fmt(d)} {fmt(c):>17} {fmt(f):>16}  {err[:90] if d is None else ''}")
print(f"total over the {both} queries all ran: dap {tot_d:.2f} s, datafusion-cli {tot_c:.2f} s, datafusion-py {tot_f:.2f} s")
PY
