#!/usr/bin/env python3
"""civis_fdw benchmark driver: run by bench/run.sh inside a throwaway cluster
(pg_virtualenv sets PGHOST/PGPORT/PGUSER/PGDATABASE).  Starts bench/server,
measures the four sections of the "Performance" issue and prints one table,
then the request-economy corpus (section 5, bench/economy.py: the queries
people write, the requests the project's mock counted and the minimum).

    bench.py --server /path/to/bench_server --root /path/to/civis_fdw [--quick]
             [--sections 12345] [--economy-scale 10]
"""
import argparse
import base64
import http.client
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

import mockctl

KEY = "bench-key"
AUTH = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
LATENCY_MS = 50
PAGE = 50

# Columns of civis.jobs as IMPORT FOREIGN SCHEMA builds it from the fixture,
# as a jsonb_to_recordset column list (JSON member names), and the select
# list that turns them into the foreign table's 16 columns.
FLOOR_COLUMNS = ('archived boolean, author jsonb, "createdAt" timestamptz, '
                 '"fromTemplateId" bigint, id bigint, "lastRun" jsonb, name text, '
                 'schedule jsonb, state text, type text, "updatedAt" timestamptz')
FLOOR_SELECT = ('x.archived, x.author, x."createdAt", x."fromTemplateId", x.id, '
                'x."lastRun", x.name, x.schedule, x.state, x.type, x."updatedAt", '
                '(x.author->>\'id\')::bigint, NULL::text, NULL::text, NULL::boolean, '
                'NULL::boolean')


def log(msg):
    print(f"   .. {msg}", file=sys.stderr, flush=True)


class Server(mockctl.PortFileServer):
    """The bench server (bench/server.c) serving `rows` jobs of the fixture."""

    def __init__(self, binary, spec, rows):
        trace = ["--trace", os.environ["BENCH_TRACE"]] if os.environ.get("BENCH_TRACE") else []
        super().__init__([binary, "--rows", str(rows), "--spec", spec] + trace,
                         KEY, "bench server")

    def get(self, path, auth=True):
        return self.call("GET", path, auth)

    def stats(self, reset=False):
        return json.loads(self.get("/_stats" + ("?reset=1" if reset else ""), auth=False)[2])


psql = mockctl.psql


def cpu_seconds(stat_line):
    # fields after the parenthesised command name; utime, stime are 14, 15
    rest = stat_line[stat_line.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def vm_kb(status_text, field):
    m = re.search(rf"^{field}:\s+(\d+) kB", status_text, re.M)
    return int(m.group(1)) if m else -1


def times_ms(lines):
    return [float(m.group(1)) for m in (re.match(r"Time: ([\d.]+) ms", l) for l in lines) if m]


def explain_json(query):
    out = "\n".join(psql(f"EXPLAIN (ANALYZE, FORMAT JSON) {query};"))
    plan = json.loads(out)[0]["Plan"]

    def find(node):
        if node.get("Node Type") == "Foreign Scan":
            return node
        for child in node.get("Plans", []):
            found = find(child)
            if found:
                return found
        return None
    return find(plan) or {}


def median(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--quick", action="store_true", help="one run instead of three")
    ap.add_argument("--sections", default="12345", help="which sections to run, e.g. 13")
    ap.add_argument("--economy-scale", type=int, default=10,
                    help="section 5: the mock's row count multiplier")
    args = ap.parse_args()
    runs = 1 if args.quick else 3
    t_start = time.monotonic()
    load_before = open("/proc/loadavg").read().split()[:3]

    log("starting the bench server (200,000 rows)")
    srv = Server(args.server, os.path.join(args.root, "test/fixture/civis_spec.json"), 200000)
    rows_out = []   # (section, measure, value, target, result)
    economy_lines = []

    def row(section, measure, value, target="", result=""):
        rows_out.append((section, measure, value, target, result))

    try:
        datasets = {"lat": (10000, LATENCY_MS), "cpu": (100000, 0), "m2k": (2000, 0),
                    "m200k": (200000, 0), "eco": (10000, 0)}
        setup = ["SET client_min_messages = warning;",
                 "CREATE EXTENSION IF NOT EXISTS civis_fdw;"]
        for name, (n, lat) in datasets.items():
            setup += [
                f"CREATE SERVER bench_{name} FOREIGN DATA WRAPPER civis_fdw "
                f"OPTIONS (api_url '{srv.base}/n{n}/l{lat}');",
                f"CREATE USER MAPPING FOR CURRENT_USER SERVER bench_{name} "
                f"OPTIONS (api_key '{KEY}');",
                f"CREATE SCHEMA {name};",
                f"IMPORT FOREIGN SCHEMA civis LIMIT TO (jobs) FROM SERVER bench_{name} INTO {name};",
            ]
        setup.append("SELECT version(), civis_fdw_version();")
        info = psql("\n".join(setup))[-1].split("|")
        pg_version, fdw_version = info[0], info[1]

        # ---------------------------------------------------------------- 1
        if "1" in args.sections:
            log("section 1: latency-bound (10,000 rows, 200 pages, 50 ms per request)")
            seq = []
            srv.stats(reset=True)
            for _ in range(runs):
                r = subprocess.run([sys.executable, os.path.join(args.root, "bench/seq_client.py"),
                                    f"{srv.base}/n10000/l{LATENCY_MS}", "/jobs/", "--key", KEY],
                                   capture_output=True, text=True, timeout=120, check=True)
                seq.append(json.loads(r.stdout))
            st = srv.stats(reset=True)
            t_seq = median([s["seconds"] for s in seq])
            row("1 latency", f"sequential client (python3, new conn/request): "
                f"{seq[0]['requests']} req, {seq[0]['rows']} rows, server peak "
                f"{st['peak_in_flight']}", f"{t_seq:.2f} s = 1.0x")

            lat_results = {}
            for c in (1, 4, 8, 16):
                opt = ("ALTER FOREIGN TABLE lat.jobs OPTIONS (ADD max_in_flight '%d');" % c
                       if c != 16 else "")   # 16: the default, no option
                drop = "ALTER FOREIGN TABLE lat.jobs OPTIONS (DROP max_in_flight);" if c != 16 else ""
                srv.stats(reset=True)
                lines = psql(f"{opt}\n\\timing on\n" +
                             "SELECT * FROM lat.jobs \\g /dev/null\n" * runs +
                             "\\timing off\n" + drop)
                st = srv.stats(reset=True)
                t = median(times_ms(lines)) / 1000.0
                ideal = (1 + math.ceil(199 / c)) * LATENCY_MS / 1000.0
                speedup = t_seq / t
                ideal_speedup = t_seq / ideal
                target = 0.9 * ideal_speedup
                ok = speedup >= target
                extra = ""
                if c == 16:
                    ok = ok and speedup >= 8
                    extra = " and >= 8x (default)"
                lat_results[c] = (t, st)
                row("1 latency", f"civis_fdw max_in_flight={c}{' (default)' if c == 16 else ''}: "
                    f"{st['requests'] // runs} req, server peak {st['peak_in_flight']}",
                    f"{t:.3f} s = {speedup:.1f}x",
                    f"ideal {ideal:.2f} s = {ideal_speedup:.1f}x; >= {target:.1f}x{extra}",
                    "PASS" if ok else "MISS")

            # EXPLAIN ANALYZE counters vs the server's own count (default c=16)
            srv.stats(reset=True)
            fs = explain_json("SELECT * FROM lat.jobs")
            st = srv.stats(reset=True)
            consistent = (fs.get("Civis Requests") == st["requests"] and
                          fs.get("Civis Bytes Received") == st["bytes"] and
                          fs.get("Civis Peak In Flight") == st["peak_in_flight"] and
                          fs.get("Civis Pages") == 200 and fs.get("Civis Retries") == 0 and
                          fs.get("Civis Fetched Ahead Unused") == 0 and
                          (fs.get("Civis Network Wait") or 0) > 0)
            row("1 latency", "EXPLAIN ANALYZE (c=16): requests/pages/retries/bytes/"
                "wait/peak/unused",
                f"{fs.get('Civis Requests')}/{fs.get('Civis Pages')}/{fs.get('Civis Retries')}/"
                f"{fs.get('Civis Bytes Received')}/{fs.get('Civis Network Wait')} ms/"
                f"{fs.get('Civis Peak In Flight')}/{fs.get('Civis Fetched Ahead Unused')}",
                f"= server: {st['requests']} req, {st['bytes']} B, peak {st['peak_in_flight']}",
                "PASS" if consistent else "MISS")

        # ---------------------------------------------------------------- 2
        if "2" in args.sections:
            log("section 2: CPU-bound (100,000 rows, zero latency)")
            fd, tsv = tempfile.mkstemp(prefix="civis_bench_pages_", suffix=".tsv")
            npages = 100000 // PAGE
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                for p in range(1, npages + 1):
                    # exactly what civis_fdw asks for (order=id asc)
                    conn.request("GET", f"/n100000/l0/jobs/?archived=all&limit={PAGE}"
                                 f"&order=id&order_dir=asc&page_num={p}",
                                 headers={"Authorization": AUTH})
                    body = conn.getresponse().read().decode("utf-8")
                    esc = body.replace("\\", "\\\\").replace("\t", "\\t").replace(
                        "\n", "\\n").replace("\r", "\\r")
                    f.write(f"{p}\t{esc}\n")
            conn.close()
            psql(f"CREATE TABLE pages (page int, body text);\n"
                 f"\\copy pages FROM '{tsv}'\nVACUUM ANALYZE pages;")
            os.unlink(tsv)

            def cpu_runs(query, warm):
                script = ["SET client_min_messages = warning;", warm]
                for _ in range(runs):
                    script += ["SELECT pg_read_file('/proc/self/stat');",
                               "\\timing on", f"COPY ({query}) TO '/dev/null';", "\\timing off",
                               "SELECT pg_read_file('/proc/self/stat');"]
                lines = [l for l in psql("\n".join(script)) if l]
                stats = [l for l in lines if not l.startswith("Time:")]
                walls = times_ms(lines)
                cpus = [cpu_seconds(stats[2 * i + 1]) - cpu_seconds(stats[2 * i])
                        for i in range(runs)]
                return median(cpus), median(walls) / 1000.0

            fdw_query = "SELECT * FROM cpu.jobs"
            floor_query = (f"SELECT {FLOOR_SELECT} FROM pages, "
                           f"jsonb_to_recordset(pages.body::jsonb) AS x({FLOOR_COLUMNS})")
            # same output?  (md5 of the text of every row, both ways)
            same = psql(f"SELECT (SELECT md5(string_agg(t::text, E'\\n' ORDER BY t.id)) FROM "
                        f"cpu.jobs t) = (SELECT md5(string_agg(f::text, E'\\n' ORDER BY f.id)) "
                        f"FROM ({floor_query}) AS f(archived, author, created_at, from_template_id,"
                        f" id, last_run, name, schedule, state, type, updated_at, author_id, q, "
                        f"permission, scheduled, hidden));")[-1] == "t"
            srv.stats(reset=True)
            cpu_fdw, wall_fdw = cpu_runs(fdw_query, "SELECT * FROM cpu.jobs LIMIT 1 \\g /dev/null")
            st = srv.stats(reset=True)
            cpu_floor, wall_floor = cpu_runs(floor_query,
                                             f"{floor_query} LIMIT 1 \\g /dev/null")
            ratio = cpu_fdw / cpu_floor if cpu_floor > 0 else float("inf")
            row("2 CPU", "floor: COPY (jsonb_to_recordset over the same 2,000 page "
                "bodies in a local table)", f"{cpu_floor:.2f} s CPU ({wall_floor:.2f} s wall)")
            row("2 CPU", f"civis_fdw: COPY (SELECT * FROM civis.jobs), 100,000 rows; "
                f"rows equal to floor: {'yes' if same else 'NO'}; server peak {st['peak_in_flight']}",
                f"{cpu_fdw:.2f} s CPU ({wall_fdw:.2f} s wall) = {ratio:.2f}x floor",
                "<= 1.5x floor", "PASS" if ratio <= 1.5 and same else "MISS")

        # ---------------------------------------------------------------- 3
        if "3" in args.sections:
            log("section 3: memory (peak backend RSS, fresh backend per scan)")

            def hwm(query):
                vals = []
                for _ in range(runs):
                    out = "\n".join(psql(f"SET client_min_messages = warning;\n"
                                         f"COPY ({query}) TO '/dev/null';\n"
                                         f"SELECT pg_read_file('/proc/self/status');"))
                    vals.append(vm_kb(out, "VmHWM"))
                return median(vals)

            base = hwm("SELECT * FROM m2k.jobs LIMIT 0")
            small = hwm("SELECT * FROM m2k.jobs")
            big = hwm("SELECT * FROM m200k.jobs")
            growth = (big - small) / small
            row("3 memory", "baseline: fresh backend, scan of LIMIT 0", f"{base / 1024:.1f} MB VmHWM")
            row("3 memory", "scan 2,000 rows (40 pages)", f"{small / 1024:.1f} MB VmHWM")
            row("3 memory", "scan 200,000 rows (4,000 pages)",
                f"{big / 1024:.1f} MB VmHWM = {100 * growth:+.1f}%", "within 10% of 2,000 rows",
                "PASS" if abs(growth) <= 0.10 else "MISS")

        # ---------------------------------------------------------------- 4
        if "4" in args.sections:
            log("section 4: request economy (10,000 rows, zero latency)")
            _, h, _ = srv.get("/n10000/l0/jobs/?limit=1&state=failed")
            failed = int(h["X-Pagination-Total-Entries"])
            _, _, b = srv.get("/n10000/l0/jobs/?limit=5&order=updated_at&order_dir=desc")
            top5 = [r["id"] for r in json.loads(b)]
            cases = [
                ("LIMIT 10", "SELECT * FROM eco.jobs LIMIT 10", 1,
                 "SELECT count(*) = 10 FROM (SELECT * FROM eco.jobs LIMIT 10) s"),
                ("WHERE id = 4242", "SELECT * FROM eco.jobs WHERE id = 4242", 1,
                 "SELECT array_agg(id) = '{4242}' FROM eco.jobs WHERE id = 4242"),
                (f"WHERE state = 'failed' ({failed} rows)",
                 "SELECT * FROM eco.jobs WHERE state = 'failed'", max(1, math.ceil(failed / PAGE)),
                 f"SELECT count(*) = {failed} FROM eco.jobs WHERE state = 'failed'"),
                ("ORDER BY updated_at DESC LIMIT 5",
                 "SELECT * FROM eco.jobs ORDER BY updated_at DESC LIMIT 5", 1,
                 "SELECT array_agg(id ORDER BY updated_at DESC) = "
                 f"'{{{','.join(map(str, top5))}}}' FROM (SELECT * FROM eco.jobs "
                 "ORDER BY updated_at DESC LIMIT 5) s"),
            ]
            # issue 10: the bound, sorts under local conditions, early stop
            # (minimum: what a client that knows the API but not the data
            # sends: one request of the rows asked for, or of a full page)
            off = "SET civis_fdw.enable_pushdown = off;\n"
            _, _, b = srv.get("/n10000/l0/jobs/?limit=31&order=updated_at&order_dir=desc")
            since = "'%s'::timestamptz" % json.loads(b)[30]["updatedAt"]
            readme = ("SELECT id, name, updated_at FROM eco.jobs WHERE state = 'failed' "
                      "ORDER BY updated_at DESC LIMIT 20")
            cases += [
                ("README example: state = 'failed' ORDER BY updated_at DESC LIMIT 20", readme, 1,
                 f"CREATE TEMP TABLE a AS SELECT array_agg(updated_at) u, array_agg(id ORDER BY id) i FROM ({readme}) s;\n"
                 f"{off}SELECT u = (SELECT array_agg(updated_at) FROM ({readme}) s) AND "
                 f"i = (SELECT array_agg(id ORDER BY id) FROM ({readme}) s) FROM a"),
                ("state = 'failed' LIMIT 3", "SELECT id FROM eco.jobs WHERE state = 'failed' LIMIT 3", 1,
                 "SELECT count(*) = 3 AND bool_and(state = 'failed') FROM "
                 "(SELECT id, state FROM eco.jobs WHERE state = 'failed' LIMIT 3) s"),
                ("EXISTS (author = 13)", "SELECT EXISTS (SELECT 1 FROM eco.jobs WHERE author_id = 13)", 1,
                 f"CREATE TEMP TABLE a AS SELECT EXISTS (SELECT 1 FROM eco.jobs WHERE author_id = 13) e;\n"
                 f"{off}SELECT e = (SELECT count(*) > 0 FROM eco.jobs WHERE author_id = 13) FROM a"),
                ("incremental refresh: updated_at > <30 rows ago> ORDER BY updated_at DESC",
                 f"SELECT id, updated_at FROM eco.jobs WHERE updated_at > {since} ORDER BY updated_at DESC", 1,
                 f"CREATE TEMP TABLE a AS SELECT array_agg(id ORDER BY id) i FROM eco.jobs "
                 f"WHERE updated_at > {since};\n{off}SELECT i = (SELECT array_agg(id ORDER BY id) "
                 f"FROM eco.jobs WHERE updated_at > {since}) FROM a"),
            ]
            for label, query, minimum, check in cases:
                srv.stats(reset=True)
                fs = explain_json(query)
                st = srv.stats(reset=True)
                correct = psql(check)[-1] == "t"
                srv.stats(reset=True)
                issued = st["requests"]
                row("4 requests", f"{label}: server count (EXPLAIN: {fs.get('Civis Requests')} "
                    f"req, {fs.get('Civis Fetched Ahead Unused')} unused); rows "
                    f"{'correct' if correct else 'WRONG'}",
                    f"{issued} requests", f"minimum {minimum}",
                    "PASS" if issued <= minimum and correct else "MISS")
    finally:
        srv.stop()

    # ---------------------------------------------------------------- 5
    if "5" in args.sections:
        sys.path.insert(0, os.path.join(args.root, "bench"))
        import economy
        results, facts = economy.run(args.root, args.economy_scale, log)
        economy_lines = economy.table(results, facts, args.economy_scale)

    # ---------------------------------------------------------------- print
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                      if l.startswith("model name")), platform.processor())
    mem_kb = vm_kb(open("/proc/meminfo").read(), "MemTotal")
    load_after = open("/proc/loadavg").read().split()[:3]
    elapsed = time.monotonic() - t_start
    print()
    print("civis_fdw benchmark")
    print(f"  machine: {os.cpu_count()} CPUs ({cpu_model}), {mem_kb / 1048576:.1f} GiB RAM, "
          f"kernel {platform.release()}")
    print(f"  software: {pg_version.split(',')[0]}; {fdw_version.split(', PostgreSQL')[0]}; "
          f"bench server: one epoll thread (bench/server.c)")
    print(f"  load average before/after: {' '.join(load_before)} / {' '.join(load_after)}; "
          f"{'1 run' if runs == 1 else f'median of {runs} runs'}; total {elapsed:.0f} s")
    headers = ("section", "measure", "value", "target", "result")
    widths = [max(len(str(r[i])) for r in rows_out + [headers]) for i in range(5)]
    fmt = " | ".join(f"{{:{w}}}" for w in widths)
    print(fmt.format(*headers))
    print("-+-".join("-" * w for w in widths))
    for r in rows_out:
        print(fmt.format(*r))
    misses = sum(1 for r in rows_out if r[4] == "MISS")
    passes = sum(1 for r in rows_out if r[4] == "PASS")
    print(f"{passes} PASS, {misses} MISS")
    if economy_lines:
        print()
        print("\n".join(economy_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
