#!/usr/bin/env bash
# Measures `data prescribing` on a generated English Prescribing Dataset month of real size
# (default 17 million rows, NHSBSA's 26 columns, about 5 GB): rows per second, wall time and
# peak memory (RSS) of the streaming read, then the same aggregation done by an eager read
# (the used columns read whole into memory, then grouped) for comparison. Checks that both
# write the same table and that its totals match the generator's.
# Run from the crate root: bash benches/prescribing.sh [ROWS]
# The file goes to a temporary directory under $TMPDIR (or /tmp), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-17000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icb-impact-target}"
cargo build --release --quiet --bin icb-impact --example generate_epd
bin="$CARGO_TARGET_DIR/release/icb-impact"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$(date +%s.%N)
"$CARGO_TARGET_DIR/release/examples/generate_epd" "$work/EPD_202401.csv" "$rows" 202401 > "$work/expected.txt"
end=$(date +%s.%N)
bytes=$(grep '^bytes=' "$work/expected.txt" | cut -d= -f2)
python3 -c "import sys; b=int(sys.argv[1]); print(f'generated {int(sys.argv[2]):,} rows, {b/1e9:.2f} GB in {float(sys.argv[4])-float(sys.argv[3]):.1f} s')" "$bytes" "$rows" "$start" "$end"

measure() { # name, then the command's extra flags
  local name=$1
  shift
  /usr/bin/time -v "$bin" data prescribing "$work/EPD_202401.csv" --out "$work/$name.csv" -q "$@" \
    > "$work/$name.out" 2> "$work/$name.time"
  python3 benches/time_report.py "$name" "$rows" "$bytes" "$work/$name.time"
}

measure streaming
measure eager --eager
cmp -s "$work/streaming.csv" "$work/eager.csv" && echo "streaming and eager tables are identical" \
  || { echo "streaming and eager tables DIFFER"; exit 1; }
python3 - "$work/streaming.csv" "$work/expected.txt" <<'PY'
import csv, sys
from decimal import Decimal
rows = list(csv.DictReader(open(sys.argv[1])))
want = dict(l.strip().split("=") for l in open(sys.argv[2]) if "=" in l)
items = sum(int(r["items"]) for r in rows)
nic = sum(Decimal(r["nic_gbp"]) for r in rows)
actual = sum(Decimal(r["actual_cost_gbp"]) for r in rows)
assert items == int(want["items"]), (items, want["items"])
assert nic == Decimal(want["nic_gbp"]), (nic, want["nic_gbp"])
# Each ICB's actual cost is rounded to the penny: at most half a penny each off the total.
assert abs(actual - Decimal(want["actual_cost_gbp"])) <= Decimal("0.005") * len(rows), (actual, want["actual_cost_gbp"])
print(f"totals check: {len(rows)} ICBs, {items:,} items, NIC £{nic:,}, actual cost £{actual:,} (generator: £{Decimal(want['actual_cost_gbp']):,})")
PY
