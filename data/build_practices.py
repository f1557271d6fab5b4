#!/usr/bin/env python3
"""Build data/practices.csv: one row per open GP practice in England.

Standard library only. Reads verbatim copies of public source files (see the
"data/practices.csv" section of data/SOURCES.md) and data/icbs.csv; writes
data/practices.csv; stops with "CHECK FAILED" if any check fails.

Usage (from anywhere):
    python3 data/build_practices.py [RAW_DIR]

RAW_DIR defaults to ../shared/reference/icb/raw relative to the project root
(the folder that holds data/). It must contain:
    nhsd_payments_gp_2022_23_practice.csv   NHS Digital, NHS Payments to General Practice 2022/23
    nhse_aif_2024_2025_practice_wp.csv      NHS England, practice weighted populations 2024/25
    heec_ccg_icb_code.csv                   sub-ICB location (ex-CCG) code -> ICB code

Method (details in data/SOURCES.md):
  * practices: rows of the payments file with no "Practice Close Date", more
    than zero "Number of Registered Patients (Last Known Figure)", and not
    flagged "Part year of data" unless opened during 2022/23 (a part-year
    practice that opened earlier is taken to have closed or merged in the year);
  * registered_patients: that figure, rounded half up to a whole patient;
  * icb_code: the payments file's sub-ICB code ("CCG Code") mapped to its ICB
    with the HEEC lookup, checked against the NHS England allocation file's ICS22;
  * prescribing_cost_gbp: the ICB's prescribing_cost_gbp in data/icbs.csv split
    between its practices in proportion to their 2024/25 "Prescr WP", in whole
    pounds (largest-remainder rounding, so each ICB adds up exactly).
"""
import collections
import csv
import math
import os
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RAW = sys.argv[1] if len(sys.argv) > 1 else os.path.join(PROJECT, "..", "shared", "reference", "icb", "raw")
ICBS = os.path.join(PROJECT, "data", "icbs.csv")
OUT = os.path.join(PROJECT, "data", "practices.csv")

PAYMENTS = "nhsd_payments_gp_2022_23_practice.csv"
AIF = "nhse_aif_2024_2025_practice_wp.csv"
SUBICB = "heec_ccg_icb_code.csv"
PATIENTS_COL = "Number of Registered Patients (Last Known Figure)"


def fail(msg):
    print("CHECK FAILED:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def num(s):
    s = (s or "").strip().replace(",", "")
    return float(s) if s else 0.0


YEAR_START = (2022, 4, 1)  # first day of the payments year 2022/23


def opened_before(ddmmyyyy, ymd):
    d, m, y = (int(x) for x in ddmmyyyy.strip().split("/"))
    return (y, m, d) < ymd


def round_half_up(x):
    return int(math.floor(x + 0.5))


def split_whole_pounds(total, weights):
    """Split integer `total` in proportion to `weights` (dict key -> weight) into whole
    numbers that add up to `total` exactly (largest remainder; each value is within
    one pound of its exact share)."""
    wsum = sum(weights.values())
    exact = {k: total * w / wsum for k, w in weights.items()}
    out = {k: int(math.floor(v)) for k, v in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


# ------------------------------------------------------------ 0. ICB table
icbs = {r["icb_code"]: r for r in read_csv(ICBS)}
check(len(icbs) == 42, "data/icbs.csv has %d ICBs, expected 42" % len(icbs))
for code, r in icbs.items():
    for col in ("registered_patients", "gp_practices", "prescribing_cost_gbp"):
        check(r[col].strip().isdigit(), "data/icbs.csv %s: %s is not a whole number" % (code, col))

# ------------------------------------------------- 1. sub-ICB -> ICB lookup
sub_to_icb = {}
for r in read_csv(os.path.join(RAW, SUBICB)):
    sub = r["CCG Code"].strip()
    check(sub not in sub_to_icb or sub_to_icb[sub] == r["ICB Code"].strip(), "sub-ICB %s mapped twice" % sub)
    sub_to_icb[sub] = r["ICB Code"].strip()
check(set(sub_to_icb.values()) == set(icbs), "sub-ICB lookup ICBs differ from data/icbs.csv")

# ---------------------------------- 2. NHS England allocation file (2024/25)
aif = {}
for r in read_csv(os.path.join(RAW, AIF)):
    code = r["Practice_Code"].strip()
    check(code not in aif, "allocation file: practice %s twice" % code)
    aif[code] = {"icb": r["ICS22"].strip(), "pop": num(r["pop 2022/23"]), "wp": num(r["Prescr WP"])}
check(set(v["icb"] for v in aif.values()) == set(icbs), "allocation file ICS22 codes differ from data/icbs.csv")

# ------------------------- 3. NHS Payments to General Practice 2022/23 (practices)
payments = read_csv(os.path.join(RAW, PAYMENTS))
seen = set()
kept, closed, no_patients, part_year = [], [], [], []
for r in payments:
    code = r["Practice Code"].strip()
    check(code not in seen, "payments file: practice %s twice" % code)
    seen.add(code)
    sub = r["CCG Code"].strip()
    check(sub in sub_to_icb, "payments file: sub-ICB code %s of %s not in lookup" % (sub, code))
    if r["Practice Close Date"].strip():
        closed.append(code)
        continue
    pts = num(r[PATIENTS_COL])
    if pts <= 0:
        no_patients.append((code, r["Practice type"].strip()))
        continue
    # "Part year of data": paid for only part of 2022/23. For a practice that opened
    # before 1 April 2022 this means it stopped (closed or merged) during the year
    # although no close date is recorded (its patient figure is then a fraction of a
    # full list). Practices that opened during 2022/23 are kept.
    if "Part year of data" in r["Atypical characteristics"] and opened_before(r["Practice Open Date"], YEAR_START):
        part_year.append(code)
        continue
    kept.append({"code": code, "icb": sub_to_icb[sub], "sub": sub, "pts_raw": pts,
                 "type": r["Practice type"].strip()})

rows = []
for k in kept:
    code, icb = k["code"], k["icb"]
    check(icb in icbs, "practice %s: ICB %s not in data/icbs.csv" % (code, icb))
    check(code in aif, "practice %s is not in the allocation file (no prescribing weight)" % code)
    check(aif[code]["icb"] == icb, "practice %s: sub-ICB lookup says %s, allocation file ICS22 says %s"
          % (code, icb, aif[code]["icb"]))
    check(aif[code]["wp"] > 0, "practice %s: prescribing weighted population is not positive" % code)
    check(k["type"] == "GP practice", "practice %s is a %s" % (code, k["type"]))
    pts = round_half_up(k["pts_raw"])
    check(pts > 0, "practice %s rounds to zero patients" % code)
    rows.append({"practice_code": code, "icb_code": icb, "registered_patients": pts,
                 "wp": aif[code]["wp"], "pts_raw": k["pts_raw"]})

# ------------------------------------------------ 4. prescribing split
by_icb = collections.defaultdict(list)
for r in rows:
    by_icb[r["icb_code"]].append(r)
check(set(by_icb) == set(icbs), "ICBs without practices: %s" % sorted(set(icbs) - set(by_icb)))
for icb, rs in by_icb.items():
    total = int(icbs[icb]["prescribing_cost_gbp"])
    shares = split_whole_pounds(total, {r["practice_code"]: r["wp"] for r in rs})
    wsum = sum(r["wp"] for r in rs)
    for r in rs:
        r["prescribing_cost_gbp"] = shares[r["practice_code"]]
        check(abs(r["prescribing_cost_gbp"] - total * r["wp"] / wsum) < 1.0, "rounding of %s" % r["practice_code"])
    check(sum(r["prescribing_cost_gbp"] for r in rs) == total, "prescribing of %s does not add up" % icb)

# ------------------------------------------------------------ 5. write
rows.sort(key=lambda r: (r["icb_code"], r["practice_code"]))
cols = ["practice_code", "icb_code", "registered_patients", "prescribing_cost_gbp"]
with open(OUT, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])

# Re-read what was written and check it as a consumer would.
back = read_csv(OUT)
check(list(back[0].keys()) == cols, "header")
check(len(back) == len(rows), "row count")
check(len(set(r["practice_code"] for r in back)) == len(back), "duplicate practice codes")
for r in back:
    check(r["icb_code"] in icbs, "unknown ICB in output")
    check(r["registered_patients"].isdigit() and int(r["registered_patients"]) > 0, "patients not a positive integer")
    check(r["prescribing_cost_gbp"].isdigit(), "prescribing not a whole number")
check(sum(int(r["prescribing_cost_gbp"]) for r in back) == sum(int(r["prescribing_cost_gbp"]) for r in icbs.values()),
      "national prescribing differs from data/icbs.csv")

# ---------------------------------------------- 6. cross-checks and report
aif_n = collections.Counter(v["icb"] for v in aif.values())
aif_pop = collections.defaultdict(float)
for v in aif.values():
    aif_pop[v["icb"]] += v["pop"]
out_n = {icb: len(rs) for icb, rs in by_icb.items()}
out_pts = {icb: sum(r["registered_patients"] for r in rs) for icb, rs in by_icb.items()}
tab_n = {icb: int(r["gp_practices"]) for icb, r in icbs.items()}
tab_pts = {icb: int(r["registered_patients"]) for icb, r in icbs.items()}

n_out, n_tab, n_aif = sum(out_n.values()), sum(tab_n.values()), len(aif)
p_out, p_tab, p_aif = sum(out_pts.values()), sum(tab_pts.values()), sum(aif_pop.values())
print("payments file 2022/23: %d practice rows; left out: %d with a close date, %d without patients %s, "
      "%d paid for part of the year only (opened before April 2022)"
      % (len(payments), len(closed), len(no_patients),
         dict(collections.Counter(t for _, t in no_patients)), len(part_year)))
print("  projected population (allocation file) of the part-year practices left out: %.0f"
      % sum(aif[c]["pop"] for c in part_year if c in aif))
print("practices.csv: %d practices in %d ICBs, %d patients" % (n_out, len(out_n), p_out))
print("allocation file 2024/25: %d practices, projected population %.0f" % (n_aif, p_aif))
print("data/icbs.csv (GPAD Nov 2025): %d practices, %d patients" % (n_tab, p_tab))
print("practices.csv vs Nov 2025: %+d practices (%+.1f%%), %+d patients (%+.2f%%)"
      % (n_out - n_tab, 100.0 * (n_out - n_tab) / n_tab, p_out - p_tab, 100.0 * (p_out - p_tab) / p_tab))

# Allocation-file practices not kept, and why
pay_codes = {r["Practice Code"].strip(): r for r in payments}
why = collections.Counter()
for code in aif:
    if code in {r["practice_code"] for r in rows}:
        continue
    if code not in pay_codes:
        why["not in payments file"] += 1
    elif pay_codes[code]["Practice Close Date"].strip():
        why["close date in payments file"] += 1
    elif code in part_year:
        why["part year of data"] += 1
    else:
        why["no registered patients"] += 1
print("allocation-file practices not in practices.csv:", dict(why))

# Practice-level agreement of the two patient figures
ratios = sorted(r["pts_raw"] / aif[r["practice_code"]]["pop"] for r in rows if aif[r["practice_code"]]["pop"] > 0)
within = sum(1 for x in ratios if 0.9 <= x <= 1.1) / len(ratios)
print("practice patients, payments / allocation projection: median %.3f, %.1f%% within +-10%%"
      % (ratios[len(ratios) // 2], 100 * within))

print("\nper ICB: practices (this file, allocation file, Nov 2025) and patients vs Nov 2025")
print("%-4s %5s %5s %5s %6s %10s %10s %7s" % ("icb", "here", "aif", "nov25", "diff", "patients", "nov25", "diff%"))
for icb in sorted(icbs, key=lambda i: -(out_n[i] - tab_n[i])):
    print("%-4s %5d %5d %5d %+6d %10d %10d %+6.2f%%" % (
        icb, out_n[icb], aif_n[icb], tab_n[icb], out_n[icb] - tab_n[icb], out_pts[icb], tab_pts[icb],
        100.0 * (out_pts[icb] - tab_pts[icb]) / tab_pts[icb]))

# Sanity bounds (the two sources are ~2.5 years apart; these catch a wrong file or
# a broken mapping, not ordinary list growth and practice mergers).
check(0.93 <= p_out / p_tab <= 1.0, "national patients %.3f of Nov 2025" % (p_out / p_tab))
check(abs(p_out - p_aif) / p_aif < 0.005, "patients differ from the allocation projection by >0.5%")
check(1.0 <= n_out / n_tab <= 1.10, "national practice count %.3f of Nov 2025" % (n_out / n_tab))
for icb in icbs:
    check(abs(out_pts[icb] / tab_pts[icb] - 1) < 0.10, "%s patients differ from Nov 2025 by >10%%" % icb)
    check(abs(out_n[icb] / tab_n[icb] - 1) < 0.25, "%s practice count differs from Nov 2025 by >25%%" % icb)
    check(abs(out_pts[icb] / aif_pop[icb] - 1) < 0.03, "%s patients differ from allocation projection by >3%%" % icb)
check(within > 0.9, "fewer than 90% of practices agree within 10% between the two patient figures")
print("\nall checks passed; wrote", os.path.relpath(OUT, PROJECT))
