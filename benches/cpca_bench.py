"""Times the Python package cpca on the same rows as `diming bench geocode`.

Usage: python3 benches/cpca_bench.py ROWS_FILE OUT_FILE
ROWS_FILE: one address per line. OUT_FILE gets one line per row: the county-level adcode cpca
found (6 digits) or empty. Prints the parse time in seconds (cpca.transform on the whole list,
the package's batch API, best of 5 calls) on stdout as `seconds=<float>`,
and the versions of cpca, pandas and Python as `versions=...`.
"""
import sys, time
from importlib.metadata import version
import cpca

rows = open(sys.argv[1], encoding="utf-8").read().split("\n")
if rows and rows[-1] == "":
    rows.pop()
dt = float("inf")
for _ in range(5):  # best of 5 warm calls (diming: best of --parse-passes passes)
    t0 = time.perf_counter()
    df = cpca.transform(rows)
    dt = min(dt, time.perf_counter() - t0)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for code, county in zip(df["adcode"], df["区"]):
        code = "" if code is None or str(code) == "nan" else str(code)
        ok = county is not None and str(county) != "nan" and str(county) != ""
        f.write((code[:6] if ok and len(code) >= 6 else "") + "\n")
print(f"seconds={dt}")
print(f"versions=cpca {version('cpca')}, pandas {version('pandas')}, Python {sys.version.split()[0]}")
