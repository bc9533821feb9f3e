#!/bin/sh
# Loads a generated ~1 GB nested NDJSON dump and reports MB/s and peak RSS. Run by hand:
#   cargo build --release && benches/load.sh [SIZE_MB]
set -eu
DAP=${DAP:-target/release/dap}
TMP=$(mktemp -d)
python3 "$(dirname "$0")/gen_dump.py" "$TMP/dump.ndjson" "${1:-1000}"
"$DAP" --warehouse "$TMP/wh" query -c "CREATE SCHEMA bench"
/usr/bin/time -v "$DAP" --warehouse "$TMP/wh" load bench.dump "$TMP/dump.ndjson" 2>&1 \
  | grep -E "Loaded|Maximum resident|Elapsed"
rm -rf "$TMP"
