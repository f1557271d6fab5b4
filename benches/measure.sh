#!/usr/bin/env bash
# Prints the performance figures of the whole-menu scenario over twelve months: engine time
# against the sampling floor, two threads against one, the exponent of time against
# iterations (10k to 1M), and peak memory (RSS) of the binary at 1M iterations.
# Run from the crate root: bash benches/measure.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icb-impact-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/icb-impact"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/^months = 6/months = 12/' scenarios/collective-action-2024.toml > "$work/s.toml"

cargo bench --quiet --bench engine -- --noplot 'engine|threads' 2>/dev/null | tee "$work/bench.txt" | grep -E "^(engine|threads)/|time:" || true
python3 - "$work/bench.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
times = {}
for name, mid, unit in re.findall(r"^(\S+)\s*\n?\s*time:\s*\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text, re.M):
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
    times[name] = float(mid) * scale
for n in ("10000", "100000"):
    run, floor = times.get(f"engine/run/{n}"), times.get(f"engine/sampling_floor/{n}")
    if run and floor:
        print(f"engine / sampling floor at {n} iterations: {run / floor:.2f}x")
one, two = times.get("threads/run/1"), times.get("threads/run/2")
if one and two:
    print(f"2 threads against 1: {one / two:.2f}x faster")
PY

echo "iterations seconds peak_rss_mb" > "$work/scaling.txt"
for n in 10000 100000 1000000; do
  /usr/bin/time -v "$bin" run "$work/s.toml" --iterations "$n" --out "$work/out-$n" -q > /dev/null 2> "$work/time-$n.txt"
  secs=$(grep "Elapsed (wall clock)" "$work/time-$n.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$work/time-$n.txt" | awk '{print $NF/1024}')
  echo "$n $secs $rss" >> "$work/scaling.txt"
done
cat "$work/scaling.txt"
python3 - "$work/scaling.txt" <<'PY'
import math, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]).read().split("\n")[1:] if l.strip()]
xs = [math.log(r[0]) for r in rows]; ys = [math.log(r[1]) for r in rows]
mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
print(f"fitted exponent of time against iterations (whole command, 10k to 1M): {slope:.2f}")
print(f"peak RSS at 1M iterations: {rows[-1][2]:.0f} MB")
PY
