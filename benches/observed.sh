#!/usr/bin/env bash
# Measures `data observed` on generated English Prescribing Dataset months of real size
# (default 12 months of 17 million rows each, NHSBSA's 26 columns, about 5 GB a month, so
# about 60 GB of disk): rows per second, wall time and peak memory (RSS) of the streaming
# read, then the same plan collected by polars' in-memory engine (each month's used columns
# read whole) for comparison. Checks that both write the same observed.csv. The months from
# the seventh on are written with 15% brands instead of 10%, so the estimate has a rise to
# find.
# Run from the crate root: bash benches/observed.sh [ROWS_PER_MONTH] [MONTHS]
# The files go to a temporary directory under $TMPDIR (or /tmp), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-17000000}"
months="${2:-12}"
if (( months < 9 )); then
  echo "at least 9 months: 6 before the change and 3 after" >&2
  exit 2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icb-impact-target}"
cargo build --release --quiet --bin icb-impact --example generate_epd
bin="$CARGO_TARGET_DIR/release/icb-impact"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start=$(date +%s.%N)
files=()
bytes=0
change=""
for ((k = 0; k < months; k++)); do
  ym=$(python3 -c "k=$k; y, m = 2023 + (k // 12), k % 12 + 1; print(f'{y}{m:02d}')")
  share=10
  if (( k >= 6 )); then
    share=15
    [[ -z "$change" ]] && change="${ym:0:4}-${ym:4:2}"
  fi
  "$CARGO_TARGET_DIR/release/examples/generate_epd" "$work/EPD_$ym.csv" "$rows" "$ym" "$ym" "$share" \
    > "$work/expected_$ym.txt"
  b=$(grep '^bytes=' "$work/expected_$ym.txt" | cut -d= -f2)
  bytes=$((bytes + b))
  files+=("$work/EPD_$ym.csv")
done
end=$(date +%s.%N)
total=$((rows * months))
python3 -c "import sys; b=int(sys.argv[1]); print(f'generated {int(sys.argv[2]):,} rows in {int(sys.argv[5])} months, {b/1e9:.2f} GB in {float(sys.argv[4])-float(sys.argv[3]):.1f} s')" \
  "$bytes" "$total" "$start" "$end" "$months"

measure() { # name, then the command's extra flags
  local name=$1
  shift
  /usr/bin/time -v "$bin" data observed "${files[@]}" --change "$change" --out "$work/$name" -q "$@" \
    > "$work/$name.out" 2> "$work/$name.time"
  python3 benches/time_report.py "$name" "$total" "$bytes" "$work/$name.time" "$months"
}

measure streaming
measure eager --eager
cmp -s "$work/streaming/observed.csv" "$work/eager/observed.csv" \
  && echo "streaming and eager observed.csv are identical" \
  || { echo "streaming and eager observed.csv DIFFER"; diff "$work/streaming/observed.csv" "$work/eager/observed.csv" | head; exit 1; }
echo "change at $change; national row of observed.csv:"
head -2 "$work/streaming/observed.csv" | column -t -s,
