#!/usr/bin/env python3
"""Self-test of the Civis mock (python3 -m unittest, or run directly).

Starts the mock in-process on a free port (and once as a subprocess through
mockctl).  Set CIVIS_REAL_SPEC=/path/to/civis_api_spec.json to also smoke-test
serving the real spec."""
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import civis_mock  # noqa: E402
from mock_spec import camel_to_snake  # noqa: E402

KEY = "test-key-0123456789"
BEARER = {"Authorization": "Bearer " + KEY}


def start(extra=()):
    server, state = civis_mock.make_server(civis_mock.parse_args(["--port", "0"] + list(extra)))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server, state


class MockCase(unittest.TestCase):
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server, cls.state = start(cls.extra_args)
        cls.port = cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.state.stopping.set()
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.ctl("POST", "/_mock/reset")

    def request(self, path, headers=None, method="GET", body=None, timeout=5):
        """(status, headers dict, body bytes) over a fresh connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body,
                         headers=BEARER if headers is None else headers)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def get(self, path, **kw):
        status, headers, body = self.request(path, **kw)
        return status, headers, json.loads(body)

    def ctl(self, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else None
        status, _, raw = self.request(path, headers={}, method=method, body=body)
        self.assertEqual(status, 200, raw)
        return json.loads(raw)

    def all_pages(self, path, query=""):
        rows, page = [], 1
        while True:
            sep = "&" if query else ""
            _, _, chunk = self.get("%s?%s%spage_num=%d" % (path, query, sep, page))
            if not chunk:
                return rows
            rows.extend(chunk)
            page += 1

    def faults(self, profile):
        self.ctl("POST", "/_mock/faults", profile)


class AuthAndLog(MockCase):
    def test_no_auth_is_401(self):
        status, headers, body = self.get("/jobs/", headers={})
        self.assertEqual(status, 401)
        self.assertIn("WWW-Authenticate", headers)
        self.assertEqual(body, {"error": "invalid_token",
                                "errorDescription": "The access token is invalid", "code": 401})

    def test_basic_bearer_and_bad(self):
        basic = {"Authorization": "Basic " + base64.b64encode((KEY + ":").encode()).decode()}
        self.assertEqual(self.request("/jobs/", headers=basic)[0], 200)
        self.assertEqual(self.request("/jobs/")[0], 200)
        self.assertEqual(self.request("/jobs/", headers={"Authorization": "Bearer nope"})[0], 401)
        self.assertEqual(self.request("/jobs/", headers={"Authorization": "Basic !!"})[0], 401)
        log = self.ctl("GET", "/_mock/log")
        self.assertEqual([(e["auth"], e["key_ok"]) for e in log],
                         [("basic", True), ("bearer", True), ("bearer", False), ("bad", False)])

    def test_endpoints_serves_spec(self):
        status, _, spec = self.get("/endpoints")
        self.assertEqual(status, 200)
        self.assertEqual(spec["swagger"], "2.0")
        self.assertEqual(self.request("/endpoints", headers={})[0], 401)

    def test_log_keeps_raw_query_and_skips_control(self):
        mark = self.ctl("POST", "/_mock/mark")["seq"]
        self.request("/jobs/?state=Running%2Cfailed&name%5B%5D=a+b&limit=5")
        log = self.ctl("GET", "/_mock/log?since=%d" % mark)
        self.assertEqual(len(log), 1)
        entry = log[0]
        self.assertEqual(entry["query"], "state=Running%2Cfailed&name%5B%5D=a+b&limit=5")
        self.assertEqual(entry["params"], [["state", "Running,failed"], ["name[]", "a b"],
                                           ["limit", "5"]])
        self.assertEqual((entry["path_raw"], entry["status"]), ("/jobs/", 200))

    def test_rate_limit_headers_count_down(self):
        first = self.request("/databases/")[1]["X-RateLimit-Remaining"]
        second = self.request("/databases/")[1]["X-RateLimit-Remaining"]
        self.assertEqual(int(first) - 1, int(second))


class RateLimit(MockCase):
    extra_args = ("--rate-limit", "3")

    def test_429_after_limit(self):
        statuses = [self.request("/databases/")[0] for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 200, 429])
        self.assertIn("Retry-After", self.request("/databases/")[1])

    def test_limit_and_keys_set_at_run_time_per_key(self):
        other = {"Authorization": "Bearer second-key"}
        self.assertEqual(self.request("/databases/", headers=other)[0], 401)
        cfg = self.ctl("POST", "/_mock/config",
                       {"rate_limit": 5, "api_keys": ["test-key-0123456789", "second-key"]})
        self.assertEqual(cfg["rate_limit"], 5)
        mine = [self.request("/databases/")[1] for _ in range(2)]
        theirs = self.request("/databases/", headers=other)[1]
        self.assertEqual([(h["X-RateLimit-Limit"], h["X-RateLimit-Remaining"]) for h in mine],
                         [("5", "4"), ("5", "3")])
        self.assertEqual((theirs["X-RateLimit-Limit"], theirs["X-RateLimit-Remaining"]),
                         ("5", "4"))                  # each key has its own counter
        self.ctl("POST", "/_mock/config", {"rate_limits": {"second-key": 2}})
        theirs = self.request("/databases/", headers=other)[1]
        self.assertEqual((theirs["X-RateLimit-Limit"], theirs["X-RateLimit-Remaining"]),
                         ("2", "0"))
        self.assertEqual(self.request("/databases/", headers=other)[0], 429)
        self.assertEqual(self.request("/databases/")[1]["X-RateLimit-Remaining"], "2")
        self.ctl("POST", "/_mock/reset")                # the command line's again
        self.assertEqual(self.request("/databases/", headers=other)[0], 401)
        self.assertEqual(self.request("/databases/")[1]["X-RateLimit-Limit"], "3")
        status, _, _ = self.request("/_mock/config", headers={}, method="POST",
                                    body=b'{"rate_limit": "many"}')
        self.assertEqual(status, 400)


class SlidingWindow(MockCase):
    extra_args = ("--rate-limit", "3", "--rate-window", "1.5")

    def test_a_call_frees_its_slot_one_window_after_it_was_received(self):
        t0 = time.monotonic()
        self.assertEqual(self.request("/databases/")[0], 200)
        time.sleep(0.6)
        statuses = [self.request("/databases/")[0] for _ in range(2)]
        self.assertEqual(statuses, [200, 200])
        status, headers, _ = self.request("/databases/")
        self.assertEqual((status, headers["X-RateLimit-Remaining"]), (429, "0"))
        self.assertEqual(headers["Retry-After"], "1")      # ceil(1.5 - 0.6)
        # a fixed window would free all three at t0 + 1.5; a sliding one
        # frees only the first call's slot then
        time.sleep(max(0, t0 + 1.6 - time.monotonic()))
        self.assertEqual(self.request("/databases/")[0], 200)
        self.assertEqual(self.request("/databases/")[0], 429)

    def test_window_set_at_run_time(self):
        cfg = self.ctl("POST", "/_mock/config", {"rate_window": 0.5})
        self.assertEqual(cfg["rate_window"], 0.5)
        self.assertEqual([self.request("/databases/")[0] for _ in range(4)],
                         [200, 200, 200, 429])
        time.sleep(0.6)
        self.assertEqual(self.request("/databases/")[0], 200)
        status, _, _ = self.request("/_mock/config", headers={}, method="POST",
                                    body=b'{"rate_window": 0}')
        self.assertEqual(status, 400)


class Paging(MockCase):
    def test_jobs_three_pages(self):
        status, headers, rows = self.get("/jobs/")
        self.assertEqual(status, 200)
        self.assertEqual(len(rows), 50)
        self.assertEqual(headers["X-Pagination-Total-Entries"], "137")
        self.assertEqual(headers["X-Pagination-Total-Pages"], "3")
        self.assertEqual(headers["X-Pagination-Per-Page"], "50")
        self.assertEqual(len(self.all_pages("/jobs/")), 137)

    def test_past_end_and_limits(self):
        status, headers, rows = self.get("/jobs/?page_num=9")
        self.assertEqual((status, rows, headers["X-Pagination-Current-Page"]), (200, [], "9"))
        self.assertEqual(self.request("/jobs/?limit=51")[0], 400)
        self.assertEqual(self.request("/users/?limit=10000")[0], 200)
        self.assertEqual(self.get("/users/")[1]["X-Pagination-Per-Page"], "20")

    def test_no_headers_without_paging_and_trailing_slash(self):
        status, headers, rows = self.get("/databases")
        self.assertEqual(status, 200)
        self.assertNotIn("X-Pagination-Per-Page", headers)
        self.assertEqual(rows, self.get("/databases/")[2])

    def test_default_order_is_updated_at_desc(self):
        rows = self.all_pages("/jobs/")
        keys = [r["updatedAt"] for r in rows]             # ties come in any order
        self.assertEqual(keys, sorted(keys, reverse=True))
        self.assertEqual(self.request("/jobs/?order=bogus")[0], 400)
        names = [r["id"] for r in self.all_pages("/jobs/", "order=id&order_dir=asc")]
        self.assertEqual(names, sorted(names))

    def test_cursor_logs(self):
        _, headers, rows = self.get("/jobs/3/runs/4/logs?last_id=0&limit=10")
        self.assertNotIn("X-Pagination-Per-Page", headers)
        ids = [r["id"] for r in rows]
        self.assertEqual(ids, sorted(ids))
        _, _, more = self.get("/jobs/3/runs/4/logs?last_id=%d&limit=100" % ids[-1])
        self.assertEqual(len(rows) + len(more), 25)
        self.assertTrue(all(r["id"] > ids[-1] for r in more))
        _, _, newest = self.get("/jobs/3/runs/4/logs?limit=5")
        stamps = [r["createdAt"] for r in newest]
        self.assertEqual(stamps, sorted(stamps, reverse=True))

    def test_window_and_offset(self):
        path = "/notebooks/2/deployments/3/logs"
        _, _, rows = self.get(path)
        mid = rows[len(rows) // 2]["createdAt"]
        _, _, late = self.get(path + "?start_at=" + mid)
        self.assertTrue(all(r["createdAt"] >= mid for r in late))
        self.assertEqual(late[0]["createdAt"], mid)
        _, _, ten = self.get("/search/")
        _, _, skipped = self.get("/search/?offset=5&limit=5")
        self.assertEqual(len(ten), 10)
        self.assertEqual(skipped, ten[5:10])

    def test_path_params(self):
        for bad in ("/jobs/0/runs", "/jobs/abc/runs", "/jobs/1000001/runs"):
            status, _, body = self.get(bad)
            self.assertEqual((status, body["error"]), (404, "not_found"), bad)
        counts = {self.get("/jobs/%d/runs?limit=100" % i)[1]["X-Pagination-Total-Entries"]
                  for i in range(1, 12)}
        self.assertGreater(len(counts), 3)


class FuzzData(MockCase):
    """--data fuzz: 200 rows per listing, many equal creation times."""
    extra_args = ("--data", "fuzz")

    def test_ties_permuted_per_request(self):
        rows = self.all_pages("/jobs/", "order=id&order_dir=asc")
        self.assertEqual(len([r for r in rows if not r["archived"]]), 200)
        stamps = [r["createdAt"] for r in rows]
        self.assertLess(len(set(stamps)), len(stamps) * 3 // 4)    # many ties
        seen = set()
        for _ in range(6):
            _, _, page = self.get("/jobs/?order=created_at&order_dir=asc&limit=50")
            keys = [r["createdAt"] for r in page]
            self.assertEqual(keys, sorted(keys))
            seen.add(tuple(r["id"] for r in page))
        self.assertGreater(len(seen), 1)
        self.ctl("POST", "/_mock/config", {"ties": "id"})
        fixed = {tuple(r["id"] for r in self.get(
            "/jobs/?order=created_at&order_dir=asc&limit=50")[2]) for _ in range(3)}
        self.assertEqual(len(fixed), 1)
        ids = [r["id"] for r in self.get("/jobs/?order=id&order_dir=asc&limit=50")[2]]
        self.assertEqual(ids, sorted(ids))


class Filters(MockCase):
    def test_archived_and_hidden(self):
        default = self.all_pages("/jobs/")
        every = self.all_pages("/jobs/", "archived=all")
        archived = self.all_pages("/jobs/", "archived=true")
        self.assertTrue(all(r["archived"] is False for r in default))
        self.assertTrue(archived and all(r["archived"] is True for r in archived))
        self.assertEqual(len(every), len(default) + len(archived))
        hidden = self.all_pages("/jobs/", "hidden=true")
        self.assertTrue(hidden)
        self.assertFalse({r["id"] for r in hidden} & {r["id"] for r in default})
        self.assertNotIn("hidden", default[0])
        self.assertEqual(self.request("/jobs/?archived=maybe")[0], 400)

    def test_state_author_q(self):
        rows = self.all_pages("/jobs/", "state=RUNNING,Failed")
        self.assertTrue(rows)
        self.assertEqual({r["state"] for r in rows}, {"running", "failed"})
        rows = self.all_pages("/jobs/", "author=5,8")
        self.assertTrue(rows and all(r["author"]["id"] in (5, 8) for r in rows))
        rows = self.all_pages("/jobs/", "q=SQLRUN")
        self.assertTrue(rows and all("sqlrunner" in r["type"].lower() for r in rows))
        self.assertEqual(len(self.all_pages("/jobs/", "unknown=1")), 137)

    def test_created_bounds_and_array_param(self):
        rows = self.all_pages("/workflows/")
        mid = sorted(r["createdAt"] for r in rows)[len(rows) // 2]
        before = self.all_pages("/workflows/", "created_before=" + mid)
        after = self.all_pages("/workflows/", "created_after=" + mid)
        self.assertEqual(len(before) + len(after), len(rows) + 1)   # inclusive both ways
        users = self.all_pages("/users/")
        gid = next(g["id"] for u in users for g in (u["groups"] or []))
        got = self.all_pages("/users/", "group_ids%5B%5D=" + str(gid) + "&group_ids%5B%5D=1")
        self.assertTrue(got and all({gid, 1} & {g["id"] for g in u["groups"]} for u in got))

    def test_range_bounds_switch(self):
        rows = self.all_pages("/queries/")
        mid = sorted(r["createdAt"] for r in rows)[len(rows) // 2]
        inclusive = self.all_pages("/queries/", "created_after=" + mid)
        self.ctl("POST", "/_mock/config", {"range_bounds": "exclusive"})
        after = self.all_pages("/queries/", "created_after=" + mid)
        before = self.all_pages("/queries/", "created_before=" + mid)
        self.assertTrue(all(r["createdAt"] > mid for r in after))
        self.assertTrue(all(r["createdAt"] < mid for r in before))
        equal = sum(r["createdAt"] == mid for r in rows)
        self.assertEqual(len(inclusive) - len(after), equal)
        self.assertEqual(len(before) + len(after) + equal, len(rows))
        self.ctl("POST", "/_mock/reset")                  # back to the command line's
        self.assertEqual(len(self.all_pages("/queries/", "created_after=" + mid)),
                         len(inclusive))
        status, _, _ = self.request("/_mock/config", headers={}, method="POST",
                                    body=b'{"range_bounds": "sometimes"}')
        self.assertEqual(status, 400)

    def test_blank_and_null_like_values_are_ignored(self):
        every = len(self.all_pages("/jobs/"))
        for query in ("author=", "state=", "q=", "author=null", "state=%2C", "type=None",
                      "last_id=", "scheduled=nil"):
            self.assertEqual(len(self.all_pages("/jobs/", query)), every, query)
        self.assertEqual(len(self.get("/jobs/3/runs/4/logs?last_id=null")[2]), 25)
        users = len(self.all_pages("/users/"))
        self.assertEqual(len(self.all_pages("/users/", "group_ids%5B%5D=")), users)

    def test_ignore_switch(self):
        path = "/notebooks/2/deployments/3/logs"
        _, _, rows = self.get(path)
        mid = rows[len(rows) // 2]["createdAt"]
        self.ctl("POST", "/_mock/config", {"ignore": "start_at,database_id"})
        _, _, again = self.get(path + "?start_at=" + mid)
        self.assertEqual(sorted(map(json.dumps, again)), sorted(map(json.dumps, rows)))
        every = self.all_pages("/queries/")
        db = every[0]["database"]
        self.assertEqual(len(self.all_pages("/queries/", "database_id=%s" % db)), len(every))
        self.ctl("POST", "/_mock/reset")                  # back to the command line's
        _, _, late = self.get(path + "?start_at=" + mid)
        self.assertLess(len(late), len(rows))
        only = self.all_pages("/queries/", "database_id=%s" % db)
        self.assertTrue(only and all(r["database"] == db for r in only))
        self.assertLess(len(only), len(every))

    def test_spec_version_2(self):
        """issue 23: the second spec on request, the first after a reset"""
        _, _, first = self.get("/endpoints")
        cfg = self.ctl("POST", "/_mock/config", {"spec_version": 2})
        self.assertEqual(cfg["spec_version"], 2)
        _, _, second = self.get("/endpoints")
        self.assertIn("/widgets/", second["paths"])
        self.assertNotIn("/media/targets", second["paths"])
        self.assertNotIn("/widgets/", first["paths"])
        self.ctl("POST", "/_mock/reset")
        _, _, again = self.get("/endpoints")
        self.assertEqual(again, first)
        status, _, _ = self.request("/_mock/config", headers={}, method="POST",
                                    body=json.dumps({"spec_version": 3}).encode())
        self.assertNotEqual(status, 200)

    def test_queries_state_is_last_run_state(self):
        rows = self.all_pages("/queries/", "state=failed")
        self.assertTrue(rows and all(r["lastRun"]["state"] == "failed" for r in rows))
        self.assertTrue(any(r["state"] != "failed" for r in rows))


class Shapes(MockCase):
    def test_quirks(self):
        jobs = self.all_pages("/jobs/", "archived=all")
        self.assertTrue(all(isinstance(r["archived"], bool) for r in jobs))
        names = {r["name"] for r in jobs}
        self.assertTrue({"", None, "Café 日本 ünïcödé", "  padded both sides  "} <= names)
        flows = self.all_pages("/workflows/")
        self.assertTrue(all(isinstance(r["fileId"], int) for r in flows if r["fileId"] is not None))
        outs = self.get("/jobs/4/runs/2/outputs")[2]
        self.assertTrue(all(isinstance(r["value"], dict) for r in outs if r["value"] is not None))

    def test_shares_object_children_array(self):
        self.assertIsInstance(self.get("/jobs/7/shares")[2], dict)
        self.assertIsInstance(self.get("/jobs/7/children")[2], list)
        self.assertIsInstance(self.get("/jobs/7/parents")[2], list)

    def test_detail_matches_listing(self):
        row = self.get("/jobs/")[2][0]
        status, _, detail = self.get("/jobs/%d" % row["id"])
        self.assertEqual(status, 200)
        self.assertEqual({k: detail[k] for k in row}, row)
        self.assertIn("runningAs", detail)
        self.assertEqual(self.request("/jobs/999999")[0], 404)
        script = self.get("/scripts/")[2][0]
        sdetail = self.get("/scripts/%d" % script["id"])[2]
        self.assertEqual(sdetail["name"], script["name"])
        self.assertNotEqual(set(sdetail["lastRun"] or {}), set(script["lastRun"] or {"x": 1}))


class ExpectedAndData(MockCase):
    def expected(self, path, params="", set_=""):
        q = urllib.parse.urlencode({"path": path, "params": params, "set": set_})
        return self.ctl("GET", "/_mock/expected?" + q)

    def test_expected_equals_pages(self):
        pages = self.all_pages("/jobs/", "state=running,failed")
        want = self.expected("/jobs/", "state=running,failed&limit=3&page_num=2", "job_id=42")
        self.assertEqual(len(want), len(pages))
        self.assertEqual([w["id"] for w in want], [p["id"] for p in pages])
        first = want[0]
        self.assertEqual(first["job_id"], 42)
        self.assertEqual(first["author_id"], pages[0]["author"]["id"])
        self.assertIn("last_run", first)
        self.assertIn("createdAt", first["last_run"])          # nested keys stay camelCase
        self.assertEqual(len(self.expected("/jobs/7/shares")), 1)
        self.assertEqual(camel_to_snake("provideAPIKey"), "provide_api_key")
        self.assertEqual(camel_to_snake("source1JoinCol"), "source1_join_col")

    def test_data_changes(self):
        before = self.all_pages("/jobs/")
        self.ctl("POST", "/_mock/data", {"path": "/jobs/", "action": "add", "n": 5})
        self.assertEqual(len(self.all_pages("/jobs/")), len(before) + 5)
        self.ctl("POST", "/_mock/data", {"path": "/jobs/", "action": "touch", "n": 3})
        self.ctl("POST", "/_mock/data", {"path": "/jobs/", "action": "rename", "n": 2})
        self.ctl("POST", "/_mock/data", {"path": "/jobs/", "action": "delete", "n": 4})
        after = self.all_pages("/jobs/")
        self.assertEqual(len(after), len(before) + 1)
        self.assertNotEqual(after[:3], before[:3])
        self.ctl("POST", "/_mock/reset")
        self.assertEqual(self.all_pages("/jobs/"), before)


class Faults(MockCase):
    def raw(self, path="/jobs/?limit=2", timeout=5):
        return self.request(path, timeout=timeout)

    def test_status_kinds_and_counters(self):
        self.faults({"every": {"2": "503", "3": "502"}, "first": {"1": "429"},
                     "retry_after": "7", "path_prefix": "/jobs/"})
        got = [self.raw()[0] for _ in range(6)]
        self.assertEqual(got, [429, 503, 502, 503, 200, 502])
        self.assertEqual(self.request("/databases/")[0], 200)        # prefix limits faults
        self.faults({"always": "429", "retry_after": "7"})
        status, headers, body = self.raw()
        self.assertEqual((status, headers["Retry-After"]), (429, "7"))
        self.assertEqual(json.loads(body), {"error": "rate_limited", "code": 429})
        for kind in ("500", "504"):
            self.faults({"always": kind})
            self.assertEqual(self.raw()[0], int(kind))

    def test_kind_by_query_parameter(self):
        self.faults({"path_prefix": "/jobs/", "by_param": {"page_num=3": "503"},
                     "first": {"1": "502"}})
        got = [self.raw("/jobs/?limit=2&page_num=%d" % n)[0] for n in (3, 1, 2, 3, 30)]
        self.assertEqual(got, [503, 200, 200, 503, 200])

    def test_connection_kinds(self):
        for kind in ("drop", "reset"):
            self.faults({"always": kind})
            with self.assertRaises((http.client.HTTPException, ConnectionError)):
                self.raw()
        self.faults({"always": "truncate"})
        with self.assertRaises(http.client.IncompleteRead):
            self.raw()
        for kind in ("stall", "hang"):
            self.faults({"always": kind, "stall_s": 2})
            with self.assertRaises((socket.timeout, http.client.IncompleteRead)):
                self.raw(timeout=0.3)
        log = self.ctl("GET", "/_mock/log")
        self.assertEqual(log[0]["status"], 0)

    def test_body_kinds(self):
        checks = {
            "malformed": lambda b: self.assertRaises(ValueError, json.loads, b),
            "html": lambda b: self.assertTrue(b.startswith(b"<html")),
            "object": lambda b: self.assertIsInstance(json.loads(b), dict),
            "nul": lambda b: self.assertIn("\x00", json.loads(b)[0]["name"]),
            "bigint": lambda b: self.assertEqual(json.loads(b)[0]["id"], 9007199254740993),
            "badutf8": lambda b: self.assertRaises(UnicodeDecodeError, b.decode, "utf-8"),
            "deep": lambda b: self.assertIn(b"[" * 100000, b),
            "huge": lambda b: self.assertGreater(len(json.loads(b)), 1000),
        }
        for kind, check in checks.items():
            self.faults({"always": kind, "huge_mb": 1})
            status, _, body = self.raw()
            self.assertEqual(status, 200, kind)
            check(body)
        self.faults({"always": "array"})
        self.assertIsInstance(json.loads(self.raw("/jobs/%d" % self.first_id())[2]), list)

    def first_id(self):
        self.faults(None)
        row_id = self.get("/jobs/")[2][0]["id"]
        self.faults({"always": "array"})
        return row_id

    def test_slow_latency_lying_pages(self):
        self.faults({"always": "slow", "delay_ms": 200})
        started = time.monotonic()
        self.raw()
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.faults({"always": "lying_pages"})
        _, h1, p1 = self.get("/jobs/?page_num=1")
        _, h2, p2 = self.get("/jobs/?page_num=77")
        self.assertEqual((p1, h2["X-Pagination-Total-Pages"]), (p2, "1000000"))

    def test_mutate(self):
        self.faults({"always": "mutate", "mutation_seed": 3})
        kinds = [self.raw()[1]["X-Mock-Mutation"] for _ in range(12)]
        counts = self.ctl("GET", "/_mock/mutations")
        self.assertEqual(sum(counts.values()), 12)
        self.assertEqual(counts, {k: kinds.count(k) for k in set(kinds)})
        self.ctl("POST", "/_mock/reset")
        self.faults({"always": "mutate", "mutation_seed": 3})
        self.assertEqual([self.raw()[1]["X-Mock-Mutation"] for _ in range(12)], kinds)


class Subprocess(unittest.TestCase):
    def test_cli_and_mockctl(self):
        with tempfile.TemporaryDirectory() as tmp:
            port_file = os.path.join(tmp, "port")
            proc = subprocess.Popen([sys.executable, os.path.join(HERE, "civis_mock.py"),
                                     "--port", "0", "--port-file", port_file],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                line = proc.stdout.readline().decode()
                with open(port_file) as f:
                    port = f.read().strip()
                self.assertEqual(line.strip(), "listening on http://127.0.0.1:" + port)
                env = dict(os.environ, CIVIS_MOCK_URL="http://127.0.0.1:" + port,
                           CIVIS_MOCK_STATE=os.path.join(tmp, "mark"))
                ctl = [sys.executable, os.path.join(HERE, "mockctl.py")]
                subprocess.run(ctl + ["mark"], env=env, check=True)
                for path in ("/endpoints", "/jobs/?archived=all&limit=50&page_num=1"):
                    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
                    conn.request("GET", path, headers=BEARER)
                    conn.getresponse().read()
                    conn.close()
                out = subprocess.run(ctl + ["log", "--with-status"], env=env, check=True,
                                     capture_output=True, text=True).stdout
                self.assertEqual(out, "GET /jobs/?archived=all&limit=50&page_num=1 -> 200\n")
                out = subprocess.run(ctl + ["count", "--include-endpoints"], env=env,
                                     check=True, capture_output=True, text=True).stdout
                self.assertEqual(out, "2\n")
                out = subprocess.run(ctl + ["expected", "/databases/", "--set", "x=1"], env=env,
                                     check=True, capture_output=True, text=True).stdout
                self.assertEqual(len(json.loads(out)), 4)
                subprocess.run(ctl + ["stop"], env=env, check=True)
                proc.wait(timeout=5)
            finally:
                proc.kill()
                proc.wait()
                proc.stdout.close()
                proc.stderr.close()


# Against the real spec only on request (the tests never read material from
# outside the repository): defined, not skipped, so a run has no skips.
if os.environ.get("CIVIS_REAL_SPEC"):
    class RealSpec(MockCase):
        extra_args = ("--spec", os.environ["CIVIS_REAL_SPEC"])

        def test_every_list_endpoint_answers(self):
            for ep in self.state.spec.endpoints:
                path = "/" + "/".join("7" if s.startswith("{") else s for s in ep.segments)
                status, _, body = self.request(path)
                self.assertIn(status, (200, 404), path)
                json.loads(body)


if __name__ == "__main__":
    unittest.main()
