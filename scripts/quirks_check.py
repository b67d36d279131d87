#!/usr/bin/env python3
"""An exact quirk row carries its evidence (README, "Exact only with
evidence"; issue 18): every row of src/quirks.c's filter_quirks and
synthetic_quirks whose `.exact` is true must name its `.evidence`
(CIVIS_EVIDENCE_SAME_NAME or the spec x-example that shows the mapping).
The rows are designated initializers; an initializer without field names
is refused too (it could not be read by name).  Prints one PASS/FAIL line;
exits non-zero on a failure.

    python3 scripts/quirks_check.py [src/quirks.c]
"""
import os
import re
import sys

ARRAYS = ("filter_quirks", "synthetic_quirks")


def fields(row):
    """Top-level comma-separated fields of one C initializer, strings kept."""
    out, cur, in_str, i = [], "", False, 0
    while i < len(row):
        ch = row[i]
        if in_str:
            cur += ch
            if ch == "\\":
                cur += row[i + 1]
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str, cur = True, cur + ch
        elif ch == ",":
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        out.append(cur.strip())
    # adjacent string literals are one string
    return [re.sub(r'"\s+"', "", f) for f in out]


def rows_of(text, name):
    m = re.search(r"\b%s\[\]\s*=\s*\{(.*?)\n\};" % name, text, re.S)
    if not m:
        raise SystemExit("FAIL quirks_exact_rows_have_evidence: no array %s" % name)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return [fields(r) for r in re.findall(r"\{([^{}]*)\}", body)]


def named(row):
    """{field: value} of a designated initializer's fields, or None."""
    out = {}
    for f in row:
        m = re.match(r"\.([a-z_]+)\s*=\s*(.*)$", f, re.S)
        if not m:
            return None
        out[m.group(1)] = m.group(2).strip()
    return out


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "src", "quirks.c")
    text = open(path, encoding="utf-8").read()
    bad, exact = [], 0
    for name in ARRAYS:
        for row in rows_of(text, name):
            fieldmap = named(row)
            if fieldmap is None:
                bad.append("%s: a row without field names: {%s}" % (name, ", ".join(row)))
                continue
            if fieldmap.get("exact") == "true":
                exact += 1
                if fieldmap.get("evidence", "NULL") in ("NULL", '""'):
                    bad.append("%s: exact without evidence: {%s}" % (name, ", ".join(row)))
    if bad:
        print("FAIL quirks_exact_rows_have_evidence: " + "; ".join(bad))
        return 1
    if exact == 0:
        print("FAIL quirks_exact_rows_have_evidence: found no exact row (parser out of date?)")
        return 1
    print("PASS quirks_exact_rows_have_evidence")
    return 0


if __name__ == "__main__":
    sys.exit(main())
