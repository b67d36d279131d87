#!/usr/bin/env python3
"""Request economy of civis_fdw on the queries people write (section 5 of
`make bench`; issue "Request economy").  A measurement, not a test: it
prints what the current code sends, whatever that is.

Runs against the project's mock (test/mock/civis_mock.py, which logs every
request) with its row counts multiplied by --economy-scale (default 10:
/jobs/ then lists 1,726 jobs with the archived ones, 35 pages of 50).  For each query: the requests the mock
logged (GET /endpoints excluded) and the minimum, the fewest requests a
client that knows the API but not the data would send, worked out by hand
in the comment of each query.  Notation: P = pages of the whole /jobs/
listing (archived=all, 50 per page), F = jobs whose state is failed.

Every query runs in a new backend (a fresh psql), so nothing is cached
between them except what PostgreSQL keeps in its catalogs (statistics of
the local tables that were analyzed).
"""
import functools
import json
import math
import os
import sys

import mockctl

MOCK_KEY = "test-key-0123456789"
PAGE = 50


class Mock(mockctl.PortFileServer):
    """The project's mock with its row counts multiplied by `scale` and no
    rate limit to speak of."""

    def __init__(self, root, scale):
        super().__init__([sys.executable, os.path.join(root, "test/mock/civis_mock.py"),
                          "--scale", str(scale), "--rate-limit", "100000000",
                          "--api-key", MOCK_KEY], MOCK_KEY, "the mock", timeout=300)

    def mark(self):
        return json.loads(self.call("POST", "/_mock/mark")[2])["seq"]

    def requests_since(self, seq):
        entries = json.loads(self.call("GET", f"/_mock/log?since={seq}")[2])
        return [e for e in entries if e["path"].rstrip("/") != "/endpoints"]

    def total(self, path):
        _, h, _ = self.call("GET", path, auth=True)
        return int(h["X-Pagination-Total-Entries"])


psql = functools.partial(mockctl.psql, timeout=600)


def corpus(mock):
    """(label, setup SQL or "", query, minimum) with the minimum's reasoning."""
    T = mock.total("/jobs/?archived=all&limit=1")
    P = math.ceil(T / PAGE)
    F = mock.total("/jobs/?archived=all&state=failed&limit=1")
    # ids of real jobs, spread over the listing, for the join tables
    ids = []
    for page in range(1, P + 1):
        _, _, body = mock.call("GET", f"/jobs/?archived=all&limit=50&order=id&order_dir=asc"
                                      f"&page_num={page}", auth=True)
        ids += [r["id"] for r in json.loads(body)]
    step = max(1, len(ids) // 500)
    spread = ids[::step][:500]
    _, _, body = mock.call("GET", "/jobs/?archived=all&limit=31&order=updated_at&order_dir=desc",
                           auth=True)
    since = json.loads(body)[30]["updatedAt"]      # 30 jobs changed after this
    runs = mock.total("/jobs/406/runs?limit=1")
    some = ",".join(map(str, spread[:5]))

    q = []
    # --- the five queries of the issue ---------------------------------
    # GET /jobs/?state=failed&order=updated_at&order_dir=desc&limit=20: 1
    q.append(("README example: state = 'failed' ORDER BY updated_at DESC LIMIT 20",
              "SELECT id, name, updated_at FROM civis.jobs WHERE state = 'failed' "
              "ORDER BY updated_at DESC LIMIT 20", 1))
    # GET /jobs/?state=failed&limit=3 (the API's state filter is the state): 1
    q.append(("state = 'failed' LIMIT 3",
              "SELECT id FROM civis.jobs WHERE state = 'failed' LIMIT 3", 1))
    # GET /jobs/?name=a&limit=50: the API's substring match is the ILIKE
    # (case-insensitive), so one page holds 3 rows when 3 exist: 1
    q.append(("name ILIKE '%a%' LIMIT 3",
              "SELECT id FROM civis.jobs WHERE name ILIKE '%a%' LIMIT 3", 1))
    # GET /jobs/{id} for each of the 5 ids: 5
    q.append(("5 local ids JOIN civis.jobs (local table not analyzed)",
              "SELECT j.id, j.name FROM ids5_raw w JOIN civis.jobs j ON j.id = w.job_id", 5))
    # GET /jobs/?order=updated_at&order_dir=desc&limit=50: 30 rows, and
    # the 31st is older than the bound: 1
    q.append(("incremental refresh: updated_at > <30 rows ago> ORDER BY updated_at DESC",
              f"SELECT id, name, updated_at FROM civis.jobs WHERE updated_at > '{since}' "
              "ORDER BY updated_at DESC", 1))
    # --- variants -------------------------------------------------------
    # issue 21: a LIMIT under a local filter whose matches are not among
    # the first rows (the planner guesses a one-letter ILIKE matches most
    # names; 1.1.0 sent limit=4, then page 1 again at 50, then page 2
    # ahead, unused).  The letter is chosen from the data: fewer than 3 of
    # the first 4 names hold it, at least 3 of the first 50 do.  The API
    # does not receive name ILIKE; GET /jobs/?limit=50 holds the 3 rows: 1
    _, _, body = mock.call("GET", "/jobs/?archived=all&limit=50&order=id&order_dir=asc"
                                  "&page_num=1", auth=True)
    names = [str(r.get("name") or "").lower() for r in json.loads(body)]
    letter = next((c for c in "hgfedcbijklmnopqrstuvwxyz"
                   if sum(c in n for n in names[:4]) < 3 and sum(c in n for n in names) >= 3),
                  None)
    if letter:
        q.append((f"name ILIKE '%{letter}%' LIMIT 3 (matches not in the first 4 rows)",
                  f"SELECT id FROM civis.jobs WHERE name ILIKE '%{letter}%' LIMIT 3", 1))
    # GET /jobs/?limit=10: 1
    q.append(("LIMIT 10", "SELECT * FROM civis.jobs LIMIT 10", 1))
    # GET /jobs/?order=updated_at&order_dir=desc&limit=5: 1
    q.append(("ORDER BY updated_at DESC LIMIT 5",
              "SELECT * FROM civis.jobs ORDER BY updated_at DESC LIMIT 5", 1))
    # GET /jobs/{id}: 1
    q.append(("id = <one id>", f"SELECT * FROM civis.jobs WHERE id = {spread[7]}", 1))
    # GET /jobs/{id} x 5: 5
    q.append(("id IN (5 ids)", f"SELECT id, name FROM civis.jobs WHERE id IN ({some})", 5))
    # GET /jobs/{id} x 5 (the ids are known once the subquery ran): 5
    q.append(("id = ANY (ARRAY(SELECT 5 local ids))",
              "SELECT id, name FROM civis.jobs WHERE id = ANY (ARRAY(SELECT job_id FROM ids5_raw))",
              5))
    # every failed job: ceil(F / 50) pages of ?state=failed
    q.append((f"state = 'failed', all {F} rows",
              "SELECT * FROM civis.jobs WHERE state = 'failed'", max(1, math.ceil(F / PAGE))))
    # GET /jobs/?archived=true: ceil(archived / 50) pages
    A = mock.total("/jobs/?archived=true&limit=1")
    q.append((f"archived jobs, all {A} rows", "SELECT id FROM civis.jobs WHERE archived",
              max(1, math.ceil(A / PAGE))))
    # GET /jobs/?limit=1, X-Pagination-Total-Entries: 1
    q.append(("count(*)", "SELECT count(*) FROM civis.jobs", 1))
    # GET /jobs/?author=13&limit=1: 1
    q.append(("count(*) WHERE author_id = 13",
              "SELECT count(*) FROM civis.jobs WHERE author_id = 13", 1))
    # The API's state filter ignores case (src/quirks.c), so its total may
    # count 'FAILED' too: a client that does not know the data reads the
    # ceil(F / 50) pages of ?state=failed and counts the exact ones
    q.append(("count(*) WHERE state = 'failed' (a case-insensitive filter)",
              "SELECT count(*) FROM civis.jobs WHERE state = 'failed'",
              max(1, math.ceil(F / PAGE))))
    # GET /jobs/?author=13&limit=1: 1
    q.append(("EXISTS (author_id = 13)",
              "SELECT EXISTS (SELECT 1 FROM civis.jobs WHERE author_id = 13)", 1))
    # GET /jobs/406/runs?limit=1 and /jobs/421/runs?limit=1: 2
    q.append(("jobs_runs: count(*) WHERE job_id IN (406, 421)",
              "SELECT count(*) FROM civis.jobs_runs WHERE job_id IN (406, 421)", 2))
    # GET /jobs/406/runs (all its runs fit one page of 100): 1
    q.append((f"jobs_runs WHERE job_id = 406 ({runs} runs)",
              "SELECT * FROM civis.jobs_runs WHERE job_id = 406", max(1, math.ceil(runs / 100))))
    # GET /jobs/406/runs?order=id&order_dir=desc&limit=1 (or the default
    # order, newest first): 1
    q.append(("jobs_runs: latest run of job 406",
              "SELECT * FROM civis.jobs_runs WHERE job_id = 406 ORDER BY id DESC LIMIT 1", 1))
    # GET /queries/?limit=3: 1
    q.append(("queries LIMIT 3", "SELECT * FROM civis.queries LIMIT 3", 1))
    # GET /workflows/?limit=1: 1
    q.append(("workflows: count(*)", "SELECT count(*) FROM civis.workflows", 1))
    # GET /scripts/?limit=5: 1
    q.append(("scripts LIMIT 5", "SELECT * FROM civis.scripts LIMIT 5", 1))
    # joins with n local ids: min(n get-by-id requests, the P pages of the
    # listing), with or without statistics on the local table
    for n in (1, 5, 50, 500):
        for analyzed in (False, True):
            table = f"ids{n}_{'an' if analyzed else 'raw'}"
            q.append((f"{n} local ids JOIN civis.jobs ({'analyzed' if analyzed else 'not analyzed'})",
                      f"SELECT j.id, j.name FROM {table} w JOIN civis.jobs j ON j.id = w.job_id",
                      min(n, P)))
    # joins on author_id (sent as author=, one-to-many) with a never-analyzed
    # table of authors: one author= listing per author, the pages of its
    # jobs (A(u) = ceil(jobs of author u / 50)), or the P pages if fewer
    authors = [3, 5, 8, 13, 21, 34]
    pages_of = {u: max(1, math.ceil(mock.total(f"/jobs/?archived=all&author={u}&limit=1") / PAGE))
                for u in authors}
    few = authors[:2]
    heavy = max(authors, key=lambda u: pages_of[u])
    q.append((f"{len(few)} authors JOIN civis.jobs ON author_id (not analyzed)",
              "SELECT j.id, j.name FROM authors_few w JOIN civis.jobs j ON j.author_id = w.user_id",
              min(sum(pages_of[u] for u in few), P)))
    q.append((f"1 author with many jobs ({pages_of[heavy]} pages) JOIN civis.jobs ON author_id (not analyzed)",
              "SELECT j.id, j.name FROM authors_heavy w JOIN civis.jobs j ON j.author_id = w.user_id",
              min(pages_of[heavy], P)))
    setup = [
        "CREATE TABLE authors_few (user_id bigint) WITH (autovacuum_enabled = false);",
        "INSERT INTO authors_few VALUES " + ",".join(f"({u})" for u in few) + ";",
        "CREATE TABLE authors_heavy (user_id bigint) WITH (autovacuum_enabled = false);",
        f"INSERT INTO authors_heavy VALUES ({heavy});",
    ]
    for n in (1, 5, 50, 500):
        values = ",".join(f"({i})" for i in spread[:n])
        for analyzed in (False, True):
            table = f"ids{n}_{'an' if analyzed else 'raw'}"
            setup.append(f"CREATE TABLE {table} (job_id bigint) WITH (autovacuum_enabled = false);")
            setup.append(f"INSERT INTO {table} VALUES {values};")
            if analyzed:
                setup.append(f"ANALYZE {table};")
    return q, setup, {"T": T, "P": P, "F": F}


def run(root, scale, log):
    log(f"section 5: request economy (the project's mock, scale {scale})")
    mock = Mock(root, scale)
    try:
        psql("\n".join([
            "SET client_min_messages = warning;",
            "CREATE EXTENSION IF NOT EXISTS civis_fdw;",
            f"CREATE SERVER econ FOREIGN DATA WRAPPER civis_fdw OPTIONS (api_url '{mock.base}');",
            f"CREATE USER MAPPING FOR CURRENT_USER SERVER econ OPTIONS (api_key '{MOCK_KEY}');",
            "CREATE SCHEMA civis;",
            "IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs, jobs_runs, queries, workflows, scripts) "
            "FROM SERVER econ INTO civis;"]))
        queries, setup, facts = corpus(mock)
        psql("\n".join(setup))
        results = []
        for label, query, minimum in queries:
            seq = mock.mark()
            psql("SET client_min_messages = warning;\nSET timezone = 'UTC';\n"
                 f"{query} \\g /dev/null")
            sent = len(mock.requests_since(seq))
            results.append((label, sent, minimum))
        return results, facts
    finally:
        mock.stop()


def table(results, facts, scale):
    lines = [f"request economy: the project's mock at scale {scale} (/jobs/: {facts['T']} jobs "
             f"= P {facts['P']} pages of 50; {facts['F']} failed); requests counted by the mock"]
    headers = ("query", "requests", "minimum", "ratio", "<= min + 1")
    rows = [(label, str(sent), str(minimum), f"{sent / minimum:.2f}",
             "yes" if sent <= minimum + 1 else "NO") for label, sent, minimum in results]
    widths = [max(len(r[i]) for r in rows + [headers]) for i in range(5)]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    lines.append(fmt.format(*headers))
    lines.append("-+-".join("-" * w for w in widths))
    lines += [fmt.format(*r) for r in rows]
    sent = sum(r[1] for r in results)
    minimum = sum(r[2] for r in results)
    within = sum(1 for r in results if r[1] <= r[2] + 1)
    lines.append(f"overall: {sent} requests for a minimum of {minimum} = ratio "
                 f"{sent / minimum:.2f} (goal <= 1.05); {within} of {len(results)} queries "
                 f"within minimum + 1")
    return lines
