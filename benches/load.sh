#!/bin/sh
# Loads a generated nested NDJSON API dump with dap and with DuckDB
# (COPY (SELECT * FROM read_json_auto(...)) TO 'out.parquet') and prints MB/s and peak RSS side
# by side. Run by hand (DuckDB from PyPI: pip install duckdb):
#   cargo build --release && benches/load.sh [SIZE_MB]        # default 1000 MB
#   DAP=target/debug/dap benches/load.sh 50                    # quick check on a debug build
# Each tool runs RUNS times (default 3); the median time is reported.
set -eu
DAP=${DAP:-target/release/dap}
SIZE=${1:-1000}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$(dirname "$0")/gen_dump.py" "$TMP/dump.ndjson" "$SIZE"
BYTES=$(wc -c < "$TMP/dump.ndjson")
"$DAP" --warehouse "$TMP/wh" query -c "CREATE SCHEMA bench" > /dev/null

# Runs a command RUNS times (default 3); prints "seconds peak_rss_kb": the median wall clock and
# the largest resident set size of the runs.
measure() {
  RUNS=${RUNS:-3} python3 - "$@" <<'PY'
import os, resource, statistics, subprocess, sys, time
times = []
for _ in range(int(os.environ["RUNS"])):
    t = time.time()
    r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    times.append(time.time() - t)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
print(f"{statistics.median(times):.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}

report() {
  set -- $2 "$1"
  python3 -c "import sys; s, kb, name, b = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]); print(f'{name:<8} {s:8.2f} s {b / 1e6 / s:8.1f} MB/s {kb / 1024:8.0f} MB peak RSS')" "$1" "$2" "$3" "$BYTES"
}

echo "input: $((BYTES / 1000000)) MB NDJSON"
DAP_RES=$(measure "$DAP" --warehouse "$TMP/wh" load --replace bench.dump "$TMP/dump.ndjson")
report dap "$DAP_RES"
if python3 -c "import duckdb" 2>/dev/null; then
  DUCK_RES=$(measure python3 -c "
import duckdb, sys
duckdb.sql(\"COPY (SELECT * FROM read_json_auto('$TMP/dump.ndjson')) TO '$TMP/out.parquet'\")
")
  report duckdb "$DUCK_RES"
else
  echo "duckdb   (not installed: pip install duckdb)"
fi
