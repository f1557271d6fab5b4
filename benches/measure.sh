#!/usr/bin/env bash
# Prints the performance figures of the whole-menu scenario over twelve months, each measured
# in this one run:
#   - engine time against the sampling floor at 10k, 100k and 1M iterations (criterion);
#   - the same ratio in instructions (callgrind: reproducible on a noisy machine), if valgrind
#     is installed;
#   - two threads against one;
#   - the fitted exponent of engine time against iterations (10k to 1M), and of the whole
#     command (which adds fixed costs: loading, charts, files);
#   - peak memory (RSS) of the binary at 1M iterations, for 12 and 24 months and for a
#     one-action scenario (memory should not grow with iterations, months or actions);
#   - the average cost of one keyed draw over every uncertain factor of the shipped scenarios;
#   - the NumPy peer (benches/numpy_peer.py, the same compiled model vectorised, 1 thread) at
#     100k iterations beside the engine on 1 thread and the whole `run` on 2 threads, with the
#     peer's means checked against the engine's;
#   - the fixed cost of a run (the whole command at 1,000 iterations, without and with PNGs)
#     and the practice level's time against the ICB level's at 10,000 iterations (the shipped
#     six-month scenario): whole commands, and engines (criterion), with the practice-level
#     engine against its own sampling floor (a uniform per practice and action).
# Run from the crate root: bash benches/measure.sh (NumPy: pip install numpy; without it the
# script says so and prints everything else).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/icb-impact-target}"
cargo build --release --quiet --bin icb-impact --example engine_profile --example numpy_model
bin="$CARGO_TARGET_DIR/release/icb-impact"
profile="$CARGO_TARGET_DIR/release/examples/engine_profile"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed 's/^months = 6/months = 12/' scenarios/collective-action-2024.toml > "$work/s.toml"
sed 's/^months = 6/months = 24/' scenarios/collective-action-2024.toml > "$work/s24.toml"

# A failing bench stops the script (set -e, pipefail); criterion's progress lines on stderr
# go to a log that is shown if it fails.
if ! cargo bench --quiet --bench engine -- --noplot 'engine|threads|practice|sampling' >"$work/bench.txt" 2>"$work/bench.log"; then
  cat "$work/bench.log" >&2
  exit 1
fi
grep -E "^(engine|threads|practice|sampling)/|time:" "$work/bench.txt"
python3 - "$work/bench.txt" <<'PY'
import math, re, sys
text = open(sys.argv[1]).read()
times = {}
for name, mid, unit in re.findall(r"^(\S+)\s*\n?\s*time:\s*\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text, re.M):
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
    times[name] = float(mid) * scale
sizes = [n for n in (10000, 100000, 1000000) if f"engine/run/{n}" in times]
for n in sizes:
    run, floor = times[f"engine/run/{n}"], times.get(f"engine/sampling_floor/{n}")
    if floor:
        print(f"engine / sampling floor at {n} iterations: {run / floor:.2f}x")
one, two = times.get("threads/run/1"), times.get("threads/run/2")
if one and two:
    print(f"2 threads against 1: {one / two:.2f}x faster")
floor1, run1 = times.get("threads/floor/1"), times.get("threads/run/1")
if floor1 and run1:
    print(f"engine / sampling floor, 1 thread, 100000 iterations: {run1 / floor1:.2f}x")
icb, practice, pfloor = (times.get(f"practice/{k}") for k in ("icb_run", "practice_run", "practice_floor"))
if icb and practice and pfloor:
    print(f"practice-level engine against ICB-level engine, 10000 iterations (six months): {practice:.2f} s against {icb:.3f} s ({practice / icb:.1f}x)")
    print(f"practice-level engine against its sampling floor (a uniform per practice and action): {practice / pfloor:.2f}x (floor {pfloor:.2f} s, {pfloor / icb:.1f}x the ICB-level engine)")
for name, t in times.items():
    if name.startswith("sampling/shipped_draws/"):
        draws = 1000 * int(name.rsplit("/", 1)[1])
        print(f"one keyed draw, averaged over the shipped scenarios' {draws // 1000} uncertain factors: {t / draws * 1e9:.1f} ns")
if len(sizes) > 1:
    xs = [math.log(n) for n in sizes]; ys = [math.log(times[f"engine/run/{n}"]) for n in sizes]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print(f"fitted exponent of engine time against iterations ({sizes[0]} to {sizes[-1]}): {slope:.2f}")
PY

# The NumPy peer: the same compiled model at 100k iterations, 1 thread, against the engine on 1
# thread (criterion, above) and the whole `run` on 2 threads (wall clock, below).
/usr/bin/time -f "%e" -o "$work/run2.txt" "$bin" run "$work/s.toml" --iterations 100000 --threads 2 --out "$work/out-run2" -q > /dev/null
"$CARGO_TARGET_DIR/release/examples/numpy_model" 100000 "$work/model.json"
if python3 -c "import numpy" 2> /dev/null; then
  python3 benches/numpy_peer.py "$work/model.json" | tee "$work/numpy.txt"
  python3 - "$work/bench.txt" "$work/numpy.txt" "$work/run2.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
times = {}
for name, mid, unit in re.findall(r"^(\S+)\s*\n?\s*time:\s*\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text, re.M):
    times[name] = float(mid) * {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
numpy = float(re.search(r"numpy_seconds (\S+)", open(sys.argv[2]).read()).group(1))
run2 = float(open(sys.argv[3]).read().split()[-1])
print(f"NumPy peer, 1 thread, 100000 iterations: {numpy:.2f} s")
if "threads/run/1" in times:
    e = times["threads/run/1"]
    print(f"engine, 1 thread, 100000 iterations: {e:.2f} s ({e / numpy:.2f}x NumPy)")
print(f"whole run, 2 threads, 100000 iterations: {run2:.2f} s ({run2 / numpy:.2f}x NumPy)")
PY
else
  echo "NumPy is not installed (pip install numpy): no NumPy figures" >&2
fi

# Fixed cost: the whole command at 1,000 iterations (loading, summaries, charts, files), and
# with the PNGs of --png.
wall() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
fixed=$(wall "$bin" run "$work/s.toml" --iterations 1000 --out "$work/out-fixed" -q)
fixed_png=$(wall "$bin" run "$work/s.toml" --iterations 1000 --out "$work/out-fixed-png" -q --png)
echo "fixed cost: whole run at 1000 iterations: $fixed s (with --png: $fixed_png s)"
# Practice level against ICB level, the shipped six-month scenario at 10,000 iterations.
icb=$(wall "$bin" run scenarios/collective-action-2024.toml --iterations 10000 --granularity icb --out "$work/out-icb" -q)
practice=$(wall "$bin" run scenarios/collective-action-2024.toml --iterations 10000 --granularity practice --out "$work/out-practice" -q)
python3 -c "print(f'practice level against ICB level, 10000 iterations: $practice s against $icb s ({$practice / $icb:.1f}x)')"

if command -v valgrind > /dev/null; then
  # Instructions per iteration: the difference between 4,000 and 2,000 iterations removes setup.
  count() { RAYON_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$profile" "$1" "$2" 2>&1 >/dev/null | awk '/Collected/ {print $NF}'; }
  run=$(( $(count run 4000) - $(count run 2000) ))
  floor=$(( $(count floor 4000) - $(count floor 2000) ))
  python3 -c "print(f'instructions per iteration: engine {$run/2000:.0f}, sampling floor {$floor/2000:.0f} ({$run/$floor:.2f}x)')"
fi

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
print(f"peak RSS at 1M iterations, 12 months: {rows[-1][2]:.0f} MB")
PY
rss() { /usr/bin/time -v "$bin" run "$1" --iterations 1000000 --out "$work/o" -q 2>&1 >/dev/null | awk '/Maximum resident/ {printf "%.0f", $NF/1024}'; }
echo "peak RSS at 1M iterations, 24 months: $(rss "$work/s24.toml") MB"
echo "peak RSS at 1M iterations, one action (medicines-optimisation-2024): $(rss scenarios/medicines-optimisation-2024.toml) MB"
