#!/usr/bin/env python3
"""Request economy of the pushdown over the equivalence corpus.

For every query of test/equivalence/corpus.txt (optimisations on), counts
the requests the mock received and the rows it sent, and compares them with
the minimum: per request stream (path and non-paging parameters), the pages
a client that knew the data would need with the endpoint's page-size limit,
max(1, ceil(min(rows the API holds for the stream, OFFSET + LIMIT) / page
size)).  Prints one line per query and the totals:
requests issued / minimum (goal 1.00) and rows transferred / rows returned.

Needs CIVIS_MOCK_URL and a psql connection (PG* variables) to a database
where the civis schema is imported.  Run by scripts/pushdown_report.sh.
"""
import math
import os
import re
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "test", "mock"))
import mockctl  # noqa: E402
from mock_spec import Spec  # noqa: E402
import json  # noqa: E402

PAGING = {"limit", "page_num", "last_id", "offset", "start_at", "end_at", "order", "order_dir"}


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return out.stdout.strip()


def limit_of(q):
    """OFFSET + LIMIT of the outermost query, or None."""
    lim = re.search(r"\bLIMIT (\d+)", q)
    off = re.search(r"\bOFFSET (\d+)", q)
    if not lim:
        return None
    return int(lim.group(1)) + (int(off.group(1)) if off else 0)


def main():
    with open(os.path.join(ROOT, "test", "fixture", "civis_spec.json")) as f:
        spec = Spec(json.load(f))
    corpus = [line.split("|", 1) for line in open(os.path.join(ROOT, "test", "equivalence", "corpus.txt"))
              if line.strip() and not line.startswith("#")]

    class Args:
        all = False
        include_endpoints = False
    tot_issued = tot_min = tot_rows_sent = tot_rows_returned = 0
    print("%4s %7s %7s %9s %9s  %s" % ("n", "issued", "minimum", "rows sent", "returned", "query"))
    for n, (_, q) in enumerate(corpus, 1):
        q = q.strip()
        mockctl.cmd_mark(None)
        returned = int(psql("SELECT count(*) FROM (%s) x" % q))
        entries = mockctl.entries_since(Args)
        streams = {}
        for e in entries:
            params = [(k, v) for k, v in urllib.parse.parse_qsl(e["query"]) if k not in PAGING]
            key = (e["path"], tuple(sorted(params)))
            streams.setdefault(key, []).append(e)
        need = limit_of(q)
        minimum = 0
        for (path, _), reqs in streams.items():
            ep, _ = spec.match(path)
            size = (ep.limit_max if ep is not None and ep.limit_max else None)
            rows = sum(r.get("rows", 1) for r in reqs)
            if need is not None:
                rows = min(rows, need)
            minimum += max(1, math.ceil(rows / size)) if size else 1
        sent = sum(e.get("rows", 1) for e in entries)
        tot_issued += len(entries)
        tot_min += minimum
        tot_rows_sent += sent
        tot_rows_returned += returned
        print("%4d %7d %7d %9d %9d  %s" % (n, len(entries), minimum, sent, returned, q[:90]))
    print()
    print("queries: %d" % len(corpus))
    print("requests issued / minimum: %d / %d = %.2f" % (tot_issued, tot_min, tot_issued / max(tot_min, 1)))
    print("rows transferred / rows returned: %d / %d = %.2f"
          % (tot_rows_sent, tot_rows_returned, tot_rows_sent / max(tot_rows_returned, 1)))


if __name__ == "__main__":
    main()
