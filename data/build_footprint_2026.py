#!/usr/bin/env python3
"""Build data/footprint-2026.csv: the ICB of 1 April 2026 of every practice of data/practices.csv.

Standard library only. Reads data/practices.csv and data/icbs.csv (the 42 ICBs of 2022) and
two of the verbatim source files data/build_practices.py reads; writes data/footprint-2026.csv;
stops with "CHECK FAILED" if any check fails. The simulator never reads the source files: a
scenario's `footprint` names the CSV this script writes (docs/scenarios.md, "Footprints").

Usage (from anywhere):
    python3 data/build_footprint_2026.py [RAW_DIR]

RAW_DIR defaults to ../shared/reference/icb/raw relative to the project root. It must contain:
    nhsd_payments_gp_2022_23_practice.csv   'CCG Code': the practice's sub-ICB location
    nhse_aif_2024_2025_practice_wp.csv      'LAD21', 'LTLA21': the practice's local authority district

Method (sources in data/SOURCES.md, "data/footprint-2026.csv"):
  * an ICB that continues unchanged keeps its code, name and region;
  * an ICB merged whole goes to its successor;
  * an ICB split between successors is split by what the new boundary follows:
      Hertfordshire and West Essex (QM7) and Suffolk and North East Essex (QJG) by the
      practice's sub-ICB location (each sub-ICB location is one former CCG, and the new
      boundaries follow them); Frimley (QNQ), one sub-ICB location since 2021, by the
      practice's local authority district (the new boundaries follow local authorities).
"""
import collections
import csv
import os
import re
import sys

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RAW = sys.argv[1] if len(sys.argv) > 1 else os.path.join(PROJECT, "..", "shared", "reference", "icb", "raw")
ICBS = os.path.join(PROJECT, "data", "icbs.csv")
PRACTICES = os.path.join(PROJECT, "data", "practices.csv")
OUT = os.path.join(PROJECT, "data", "footprint-2026.csv")

PAYMENTS = "nhsd_payments_gp_2022_23_practice.csv"
AIF = "nhse_aif_2024_2025_practice_wp.csv"

# The six new bodies of 1 April 2026: ODS code, name, NHS England region.
NEW = {
    "Z9B2Z": ("NHS West and North London Integrated Care Board", "London"),
    "S1Y5D": ("NHS Central East Integrated Care Board", "East of England"),
    "D7T5G": ("NHS Essex Integrated Care Board", "East of England"),
    "T6Y0W": ("NHS Norfolk and Suffolk Integrated Care Board", "East of England"),
    "S0E4D": ("NHS Thames Valley Integrated Care Board", "South East"),
    "S9B9J": ("NHS Surrey and Sussex Integrated Care Board", "South East"),
}
# ICBs of 2022 merged whole into one successor.
WHOLE = {
    "QMJ": "Z9B2Z", "QRV": "Z9B2Z",
    "QHG": "S1Y5D", "QUE": "S1Y5D",
    "QH8": "D7T5G",
    "QMM": "T6Y0W",
    "QU9": "S0E4D",
    "QXU": "S9B9J", "QNX": "S9B9J",
}
# ICBs of 2022 split by sub-ICB location (the payments file's 'CCG Code').
BY_SUB_ICB = {
    "QM7": {"06K": "S1Y5D",   # East and North Hertfordshire
            "06N": "S1Y5D",   # Herts Valleys
            "07H": "D7T5G"},  # West Essex
    "QJG": {"06T": "D7T5G",   # North East Essex
            "06L": "T6Y0W",   # Ipswich and East Suffolk
            "07K": "T6Y0W"},  # West Suffolk
}
# ICBs of 2022 split by local authority district (the allocation file's 'LAD21').
BY_LAD = {
    "QNQ": {"E06000036": "S0E4D",   # Bracknell Forest   (East Berkshire)
            "E06000039": "S0E4D",   # Slough             (East Berkshire)
            "E06000040": "S0E4D",   # Windsor and Maidenhead (East Berkshire)
            "E07000214": "S9B9J",   # Surrey Heath       (Surrey)
            "E07000216": "S9B9J",   # Waverley: Farnham  (Surrey)
            "E07000212": "S9B9J",   # Runnymede          (Surrey): one practice, Englefield Green
            "E07000092": "QRL",     # Rushmoor           (Hampshire)
            "E07000089": "QRL"},    # Hart: the part in Frimley (Hampshire)
}
EXPECTED_BODIES = 36  # 42 - 12 abolished + 6 created


def fail(msg):
    print("CHECK FAILED:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


icbs = {r["icb_code"]: r for r in read_csv(ICBS)}
check(len(icbs) == 42, "data/icbs.csv has %d ICBs, expected 42" % len(icbs))
for table in (WHOLE, BY_SUB_ICB, BY_LAD):
    for old in table:
        check(old in icbs, "rule for %s, which is not in data/icbs.csv" % old)
check(not (set(WHOLE) & set(BY_SUB_ICB)) and not (set(WHOLE) & set(BY_LAD)) and not (set(BY_SUB_ICB) & set(BY_LAD)),
      "an ICB has two rules")

practices = read_csv(PRACTICES)
sub_icb = {}
for r in read_csv(os.path.join(RAW, PAYMENTS)):
    code = r["Practice Code"].strip()
    check(code not in sub_icb, "payments file: practice %s twice" % code)
    sub_icb[code] = r["CCG Code"].strip()
lad = {}
for r in read_csv(os.path.join(RAW, AIF)):
    code = r["Practice_Code"].strip()
    check(code not in lad, "allocation file: practice %s twice" % code)
    check(re.fullmatch(r"E0[6-9]\d{6}", r["LAD21"].strip()) is not None and r["LTLA21"].strip() != "",
          "allocation file: %s's LAD21 '%s' is not a local authority district code, or LTLA21 has no name"
          % (code, r["LAD21"]))
    lad[code] = (r["LAD21"].strip(), r["LTLA21"].strip())

rows = []
for p in practices:
    code, old = p["practice_code"], p["icb_code"]
    check(code in sub_icb, "practice %s is not in the payments file" % code)
    check(code in lad, "practice %s is not in the allocation file" % code)
    sub, (lad_code, lad_name) = sub_icb[code], lad[code]
    if old in WHOLE:
        new, placed_by = WHOLE[old], "whole ICB"
    elif old in BY_SUB_ICB:
        check(sub in BY_SUB_ICB[old], "practice %s of %s: sub-ICB location %s has no rule" % (code, old, sub))
        new, placed_by = BY_SUB_ICB[old][sub], "sub-ICB location"
    elif old in BY_LAD:
        check(lad_code in BY_LAD[old], "practice %s of %s: local authority %s (%s) has no rule" % (code, old, lad_code, lad_name))
        new, placed_by = BY_LAD[old][lad_code], "local authority"
    else:
        new, placed_by = old, "unchanged"
    name, region = NEW[new] if new in NEW else (icbs[new]["icb_name"], icbs[new]["region"])
    check(region == icbs[old]["region"], "practice %s moves from %s (%s) to %s (%s)" % (code, old, icbs[old]["region"], new, region))
    rows.append({"practice_code": code, "icb_code": new, "icb_name": name, "region": region,
                 "icb_2022_code": old, "sub_icb_code": sub, "lad_code": lad_code, "lad_name": lad_name,
                 "placed_by": placed_by})

# Every rule is used, so a changed file cannot leave a rule silently dead.
used = {(r["icb_2022_code"], r["sub_icb_code"]) for r in rows} | {(r["icb_2022_code"], r["lad_code"]) for r in rows}
for table in (BY_SUB_ICB, BY_LAD):
    for old, rules in table.items():
        for key in rules:
            check((old, key) in used, "rule %s %s places no practice" % (old, key))
bodies = collections.OrderedDict()
for r in rows:
    bodies.setdefault(r["icb_code"], (r["icb_name"], r["region"]))
check(len(bodies) == EXPECTED_BODIES, "%d bodies, expected %d" % (len(bodies), EXPECTED_BODIES))
abolished = set(WHOLE) | set(BY_SUB_ICB) | set(BY_LAD)
check(len(abolished) == 12, "%d ICBs abolished, expected 12" % len(abolished))
check(not (abolished & set(bodies)), "an abolished ICB still has practices: %s" % sorted(abolished & set(bodies)))
check(set(NEW) <= set(bodies), "a new body has no practices")

rows.sort(key=lambda r: (r["icb_code"], r["practice_code"]))
cols = ["practice_code", "icb_code", "icb_name", "region", "icb_2022_code", "sub_icb_code", "lad_code", "lad_name", "placed_by"]
tmp = OUT + ".tmp"
with open(tmp, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] for c in cols])
os.replace(tmp, OUT)

back = read_csv(OUT)
check(len(back) == len(practices), "row count")
check({r["practice_code"] for r in back} == {p["practice_code"] for p in practices}, "practices differ from data/practices.csv")

# Report: each split ICB's practices and patients by successor.
pts = {p["practice_code"]: int(p["registered_patients"]) for p in practices}
split = collections.defaultdict(lambda: [0, 0])
for r in rows:
    if r["icb_2022_code"] in BY_SUB_ICB or r["icb_2022_code"] in BY_LAD:
        key = (r["icb_2022_code"], r["icb_code"], r["sub_icb_code"] if r["placed_by"] == "sub-ICB location" else r["lad_name"])
        split[key][0] += 1
        split[key][1] += pts[r["practice_code"]]
print("split ICBs, practices and 2022/23 patients by successor:")
for (old, new, by), (n, p) in sorted(split.items()):
    print("  %s -> %-5s %-24s %3d practices %8d patients" % (old, new, by, n, p))
for old in sorted(set(BY_SUB_ICB) | set(BY_LAD)):
    total = sum(pts[r["practice_code"]] for r in rows if r["icb_2022_code"] == old)
    for new in sorted({r["icb_code"] for r in rows if r["icb_2022_code"] == old}):
        share = sum(pts[r["practice_code"]] for r in rows if r["icb_2022_code"] == old and r["icb_code"] == new) / total
        print("  share of %s's patients in %s: %.4f" % (old, new, share))
print("\nall checks passed; %d practices in %d bodies; wrote %s" % (len(rows), len(bodies), os.path.relpath(OUT, PROJECT)))
