#!/usr/bin/env python3
"""EXPLAIN VERBOSE promises requests; the mock's log says what was sent.

For every query of the equivalence corpus (optimisations on), takes the
"Civis Request: GET ..." lines of EXPLAIN (VERBOSE) that hold no
placeholder ($n or {expr}: values known only at execution) and checks that
each was received by the mock, byte for byte, when the query ran.  Prints
one summary line, and the misses.  Connects with psql to the database
named as its argument (default $PGDATABASE) using the PG* environment."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mock"))
import mockctl  # noqa: E402

DB = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PGDATABASE", "postgres")


def psql(sql):
    out = subprocess.run(["psql", "-XAtq", "-d", DB, "-v", "ON_ERROR_STOP=1",
                          "-c", "SET timezone = 'UTC'", "-c", sql],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("%s: %s" % (sql, out.stderr.strip()))
    return out.stdout.splitlines()


def main():
    corpus = [line.split("|", 1)[1].strip()
              for line in open(os.path.join(HERE, "corpus.txt"))
              if line.strip() and not line.startswith("#")]

    class Args:
        all = False
        include_endpoints = False
    checked, misses = 0, []
    for q in corpus:
        promised = []
        for line in psql("EXPLAIN (VERBOSE, COSTS OFF) " + q):
            text = line.strip()
            if text.startswith("Civis Request: GET "):
                request = text[len("Civis Request: GET "):]
                if "$" not in request and "{" not in request:
                    promised.append(request)
        mockctl.cmd_mark(None)
        psql("SELECT count(1) FROM (%s) x" % q)   # count(*) would be read from the paging headers
        sent = set()
        for e in mockctl.entries_since(Args):
            sent.add(e["path_raw"] + ("?" + e["query"] if e["query"] else ""))
        for request in promised:
            checked += 1
            if request not in sent:
                misses.append("%s\n    promised %s\n    sent %s" % (q, request, sorted(sent)))
    print("%d queries, %d requests promised by EXPLAIN VERBOSE, %d not found "
          "byte for byte in the mock's log" % (len(corpus), checked, len(misses)))
    for m in misses:
        print("  " + m)
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
