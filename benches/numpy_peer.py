#!/usr/bin/env python3
"""A vectorised NumPy implementation of the same model, as a benchmark peer for the engine.

Reads the compiled model that `examples/numpy_model.rs` writes (every cost line with its
driver per ICB, constant, national and ICB-level factors and month weights; every uncertain
factor's distribution and baseline; the regions; and the engine's own means and standard
deviations for a run of the same size) and simulates it as a NumPy script would: the
iterations in chunks, each factor drawn as a column (PCG64, NumPy's Beta for PERT), each line
as a (chunk x ICB) array, summed into every quantity the engine tallies (each ICB, ICB x
action, action, cumulative month, region, the nation): means and standard deviations of all
of them, the 5th/50th/95th percentiles of the national total and each ICB's total, and the
share of iterations above the reference. Then it checks its means against the engine's:
each difference within 4 combined standard errors.

    python3 benches/numpy_peer.py MODEL.json

Prints the seconds the simulation took (model already loaded, NumPy imported) and the check.
Single-threaded: the BLAS thread variables are set to 1 before NumPy is imported.
Exit status 3 when NumPy is not installed, 1 when a mean disagrees with the engine's.
"""
import json
import math
import os
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"
try:
    import numpy as np
except ImportError:
    print("numpy_peer: NumPy is not installed (pip install numpy); no NumPy figures", file=sys.stderr)
    sys.exit(3)

CHUNK = 8192


def draw(rng, spec, size):
    p = spec["params"]
    name = spec["dist"]
    if name == "fixed":
        x = np.full(size, p["value"])
    elif name == "uniform":
        x = rng.uniform(p["min"], p["max"], size)
    elif name == "triangular":
        x = rng.triangular(p["min"], p["mode"], p["max"], size)
    elif name == "pert":
        lo, mode, hi = p["min"], p["mode"], p["max"]
        r = hi - lo
        x = lo + r * rng.beta(1 + 4 * (mode - lo) / r, 1 + 4 * (hi - mode) / r, size)
    elif name == "normal":
        x = rng.normal(p["mean"], p["sd"], size)
    elif name == "lognormal":
        a, b = math.log(p["p05"]), math.log(p["p95"])
        x = rng.lognormal((a + b) / 2, (b - a) / (2 * 1.6448536269514722), size)
    elif name == "beta":
        x = rng.beta(p["alpha"], p["beta"], size)
    elif name == "bernoulli":
        x = (rng.random(size) < p["p"]).astype(np.float64)
    else:
        raise ValueError(f"unknown dist {name}")
    return x


def slot(rng, s, size):
    x = draw(rng, s, size)
    if s["baseline"] is not None:
        x = np.maximum(x - draw(rng, s["baseline"], size), 0.0)
    return x


def simulate(m, seed=20240801):
    rng = np.random.default_rng(seed)
    n, n_icb, n_act, months = m["iterations"], m["n_icb"], m["n_actions"], m["months"]
    lines = m["lines"]
    drivers = np.array([l["driver"] for l in lines])  # (L, ICB)
    weights = np.array([l["month_weights"] for l in lines])  # (L, M)
    weight_sum = weights.sum(axis=1)
    constants = np.array([l["constant"] for l in lines])
    groups = np.zeros((n_icb, len(m["groups"])))
    for g, group in enumerate(m["groups"]):
        for i, w in group["members"]:
            groups[i, g] = w
    # Every quantity the engine tallies: ICB, ICB x action, action, cumulative month, group, nation.
    n_q = n_icb * (1 + n_act) + n_act + months + groups.shape[1] + 1
    total = np.zeros(n_q)
    total_sq = np.zeros(n_q)
    national = np.empty(n)
    icb = np.empty((n, n_icb))
    above = np.zeros(n_icb + 1)
    for start in range(0, n, CHUNK):
        c = min(CHUNK, n - start)
        nat = [slot(rng, s, c) for s in m["national"]]
        per = [slot(rng, s, (c, n_icb)) for s in m["per_icb"]]
        by_action = np.zeros((c, n_icb, n_act))
        line_sum = np.empty((c, len(lines)))
        for k, line in enumerate(lines):
            f = np.full(c, constants[k])
            for j in line["national"]:
                f = f * nat[j]
            a = f[:, None] * drivers[k][None, :]
            for j in line["per_icb"]:
                a = a * per[j]
            by_action[:, :, line["action"]] += a * weight_sum[k]
            line_sum[:, k] = a.sum(axis=1)
        icb_total = by_action.sum(axis=2)
        action = by_action.sum(axis=1)
        cumulative = np.cumsum(line_sum @ weights, axis=1)
        group = icb_total @ groups
        nation = icb_total.sum(axis=1)
        values = np.concatenate(
            [icb_total, by_action.reshape(c, -1), action, cumulative, group, nation[:, None]], axis=1
        )
        total += values.sum(axis=0)
        total_sq += (values * values).sum(axis=0)
        national[start : start + c] = nation
        icb[start : start + c] = icb_total
        above[:n_icb] += (icb_total > m["reference"]).sum(axis=0)
        above[n_icb] += (nation > m["reference"] * n_icb).sum()
    mean = total / n
    sd = np.sqrt(np.maximum(total_sq / n - mean * mean, 0.0) * n / (n - 1))
    percentiles = np.percentile(icb, [5, 50, 95], axis=0), np.percentile(national, [5, 50, 95])
    return mean, sd, percentiles, above / n


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    m = json.load(open(sys.argv[1]))
    start = time.perf_counter()
    mean, sd, _, _ = simulate(m)
    seconds = time.perf_counter() - start
    n, n_icb, n_act = m["iterations"], m["n_icb"], m["n_actions"]
    print(f"numpy peer: {n} iterations in {seconds:.3f} s (NumPy {np.__version__}, 1 thread)")
    # Means against the engine's: each within 4 combined standard errors.
    q_action = n_icb * (1 + n_act)
    pairs = [("national total", len(mean) - 1, m["engine"]["national"])]
    pairs += [(f"action {a}", q_action + a, e) for a, e in enumerate(m["engine"]["actions"])]
    pairs += [(f"ICB {i}", i, e) for i, e in enumerate(m["engine"]["icbs"])]
    worst = 0.0
    bad = []
    for label, q, e in pairs:
        se = math.sqrt((sd[q] ** 2 + e["sd"] ** 2) / n)
        z = 0.0 if se == 0 else abs(mean[q] - e["mean"]) / se
        worst = max(worst, z)
        if z > 4:
            bad.append(f"{label}: numpy {mean[q]:.6g}, engine {e['mean']:.6g} ({z:.1f} SE)")
    nat = pairs[0]
    print(
        f"numpy peer against the engine: national mean {mean[nat[1]]:,.0f} against {nat[2]['mean']:,.0f}; "
        f"{len(pairs)} means, largest difference {worst:.2f} combined standard errors"
    )
    print(f"numpy_seconds {seconds:.6f}")
    if bad:
        print("means that disagree by more than 4 standard errors:\n  " + "\n  ".join(bad))
        sys.exit(1)


if __name__ == "__main__":
    main()
