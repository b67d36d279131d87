#!/usr/bin/env python3
"""Bench of the shared request budget (issue 20); not a test: prints figures.

Run by bench/budget.sh inside a throwaway cluster, once with the budget
shared and once without (PostgreSQL 15 without shared_preload_libraries:
1.1.0's per-backend pacing), against the project's mock enforcing a real
sliding-window limit: the issue's scenario scaled down (a limit of 150 per
WINDOW seconds; four sessions each reading a 50-page listing at once, 200
requests; then one-request queries started while they run).

    budget.py MODE WINDOW      MODE: shared or session
"""
import math
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ["CIVIS_ROOT"], "test", "budget"))
import budget_test as b  # noqa: E402

LIMIT = 150


def main():
    mode, window = sys.argv[1], float(sys.argv[2])
    b.WINDOW = window
    b.must("CREATE EXTENSION IF NOT EXISTS civis_fdw")
    b.mock("POST", "/_mock/config", {"api_keys": ["bench-free", "bench-key"],
                                     "rate_window": window,
                                     "rate_limits": {"bench-key": LIMIT}})
    # 548 jobs at --scale 4, 11 a page: 50 pages per read
    b.make_server("bfree", "bench-free", table_opts="page_size '11'",
                  server_opts="retry_max_time '%d'" % int(window * 4))
    b.make_server("bkey", "bench-key", table_opts="page_size '11'",
                  server_opts="retry_max_time '%d'" % int(window * 4))
    b.must("CREATE SCHEMA imp; IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs) "
           "FROM SERVER bkey INTO imp")
    t_free = max(r[3] for r in b.concurrently([(b.READ % "bfree", {})] * 4))
    time.sleep(window + 0.5)                  # the import's request expires
    log0 = len(b.mock_log())
    done = {}

    def bulk():
        t0 = time.monotonic()
        done["res"] = b.concurrently([(b.READ % "bkey", {})] * 4)
        done["wall"] = time.monotonic() - t0
    t = threading.Thread(target=bulk)
    t.start()
    lat = []
    time.sleep(0.5)
    while t.is_alive() and len(lat) < 10:
        rc, _, err, secs = b.psql("SELECT id FROM imp.jobs WHERE state = 'failed' "
                                  "ORDER BY updated_at DESC LIMIT 10")
        lat.append(secs if rc == 0 else float("inf"))
        time.sleep(window / 5)
    t.join()
    st = [s for k, s, p in b.mock_log()[log0:] if k == "bench-key" and p.startswith("/jobs")]
    bulk_n = len(st) - len(lat)
    ok = sum(1 for r in done["res"] if r[0] == 0)
    allowed = (math.ceil(len(st) / LIMIT) - 1) * window + t_free
    fails = sum(1 for x in lat if x == float("inf"))
    finite = [x for x in lat if x != float("inf")]
    print("%s | %d of 4 | %d | %d (%.1f%%) | %.2f s | %.2f s | %.2f | %s | %s | %d"
          % (mode, ok, len(st), st.count(429), 100.0 * st.count(429) / max(len(st), 1),
             done["wall"], allowed, done["wall"] / allowed,
             "%.2f s" % statistics.median(finite) if finite else "-",
             "%.2f s" % max(finite) if finite else "-", fails), flush=True)
    del bulk_n


if __name__ == "__main__":
    main()
