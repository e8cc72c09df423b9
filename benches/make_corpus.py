"""Builds the regression corpus of the parser: one address a line, seeded, the same every run.

Usage: python3 benches/make_corpus.py SHARED_DIR OUT_FILE   (needs `pip install zhconv`)

A parser change that should not change answers is checked by running
`diming parse` and `diming parse --geocode` on this corpus with the binary before and after and
comparing the JSON lines (`cmp`); a change that should, by diffing them and reading every
changed line. Lines:
- every non-empty row of cpca_addr.csv (real company addresses);
- 4,000 of them with ASCII letters and digits made full-width, 4,000 in Traditional characters
  (zhconv, zh-hant), 2,000 with spaces and punctuation put between characters, 2,000 with a
  phone number or a noise word after them;
- the inputs of the jionlp golden cases;
- 3,000 standard addresses of the shipped Huangpu sample (division name, road, number,
  compound, building), every fifth without its division.
"""
import csv
import json
import random
import sys

import zhconv

shared, out = sys.argv[1], sys.argv[2]
rnd = random.Random(20261207)

with open(f"{shared}/data/addresses/cpca_addr.csv", encoding="utf-8") as f:
    rows = [r[0].strip() for r in list(csv.reader(f))[1:] if r and r[0].strip()]


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def spaced(s):
    out = []
    for c in s:
        out.append(c)
        if rnd.random() < 0.12:
            out.append(rnd.choice([" ", "，", "、", "  ", "-", "·"]))
    return "".join(out)


def noisy(s):
    tail = rnd.choice(
        [
            f" 电话{rnd.randint(13000000000, 18999999999)}",
            f"（联系电话：0{rnd.randint(10, 999)}-{rnd.randint(1000000, 99999999)}）",
            "附近",
            "对面",
            f" tel:{rnd.randint(13000000000, 18999999999)}",
        ]
    )
    return s + tail


lines = list(rows)
lines += [fullwidth(s) for s in rnd.sample(rows, 4000)]
lines += [zhconv.convert(s, "zh-hant") for s in rnd.sample(rows, 4000)]
lines += [spaced(s) for s in rnd.sample(rows, 2000)]
lines += [noisy(s) for s in rnd.sample(rows, 2000)]

with open(f"{shared}/data/addresses/jionlp_location_cases.json", encoding="utf-8") as f:
    lines += [c["input"] for c in json.load(f)]

# the sample's division names, from the township code lists
towns = {}
with open("data/divisions/streets.csv", encoding="utf-8") as f:
    rd = csv.DictReader(f)
    for r in rd:
        towns[r.get("code", "")[:9]] = r.get("name", "")
with open("data/addresses/huangpu_addresses.csv", encoding="utf-8") as f:
    book = list(csv.DictReader(f))
for i, r in enumerate(rnd.sample(book, 3000)):
    head = "" if i % 5 == 0 else "上海市黄浦区" + towns.get(r["division"][:9], "")
    lines.append(head + r["road"] + r["number"] + r["compound"] + r["building"])

with open(out, "w", encoding="utf-8") as f:
    for s in lines:
        f.write(s.replace("\n", " ") + "\n")
print(f"{len(lines)} lines")
