"""Prints one line of a bench from `/usr/bin/time -v`'s report: rows and bytes per second,
wall time and peak memory, the memory also as a share of one month's file.

Usage: python3 benches/time_report.py NAME ROWS BYTES TIME_FILE [MONTHS]
(MONTHS, default 1: the files read hold that many months of BYTES in all.)
"""
import sys

name, rows, size, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
months = int(sys.argv[5]) if len(sys.argv) > 5 else 1
text = open(path).read()
wall = [l for l in text.splitlines() if "Elapsed (wall clock)" in l][0].split()[-1]
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
rss = int([l for l in text.splitlines() if "Maximum resident set size" in l][0].split()[-1]) * 1024
share = "the file" if months == 1 else "one month's file"
print(f"{name:9}  {rows / secs / 1e6:6.2f}M rows/s  {size / secs / 1e6:6.0f} MB/s  wall {secs:6.1f} s  "
      f"peak RSS {rss / 1e6:7.0f} MB ({100 * rss / (size / months):.1f}% of {share})")
