#!/usr/bin/env bash
# `dap run` on a synthetic project of N table models (default 200) over a 100k-row seed, in a
# layered DAG (each model reads one of the previous layer's). Prints the DAG planning time, the
# wall time of the run, and the time spent inside models, so the overhead is visible.
# Run by hand:  cargo build --release && benches/models.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
DAP=${DAP:-$PWD/target/release/dap}
P=$(mktemp -d)
trap 'rm -rf "$P"' EXIT
printf 'project = "bench"\nwarehouse = "wh"\n' > "$P/dap.toml"
mkdir -p "$P/sql/seed"
cat > "$P/sql/seed/events.sql" <<'SQL'
/* dap
materialized = "table"
*/
SELECT id, MOD(id, 97) AS k, CAST(id AS FLOAT64) / 7 AS v FROM UNNEST(GENERATE_ARRAY(1, 100000)) AS id
SQL
for ((i = 1; i < N; i++)); do
  layer=$(( i % 5 )); parent=$(( (i - 1) / 3 ))
  mkdir -p "$P/sql/l$layer"
  if (( parent == 0 )); then from="seed.events"; else from="l$(( parent % 5 )).m$parent"; fi
  cat > "$P/sql/l$layer/m$i.sql" <<SQL
/* dap
materialized = "table"
*/
SELECT id, k, v * 1.01 AS v FROM $from WHERE MOD(id, 1000) <> $(( i % 1000 ))
SQL
done
cd "$P"
/usr/bin/time -f "peak RSS %M KB" "$DAP" run --threads "${THREADS:-4}" 2>&1 | grep -E "running|models ran|done in|peak RSS|error"
