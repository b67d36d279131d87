#!/usr/bin/env python3
"""Command-line client for the Civis mock's control API (used by tests).

The mock is found at $CIVIS_MOCK_URL (e.g. http://127.0.0.1:PORT).  Output is
stable (no timestamps, hosts or ports) so pg_regress can compare it.

  mockctl.py reset | mark | count
  mockctl.py log [--all] [--with-status] [--include-endpoints]
  mockctl.py statuses | decoded       (same options as log)
  mockctl.py mutations                (counts of mutation kinds served)
  mockctl.py faults '<json>'          (use 'null' to clear)
  mockctl.py data '<json>'
  mockctl.py config '<json>'          (POST /_mock/config; prints the settings)
  mockctl.py expected PATH [QUERYSTRING] [--set col=val,...]
  mockctl.py start --port-file F [mock options...]   |   mockctl.py stop
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def base_url():
    url = os.environ.get("CIVIS_MOCK_URL")
    if not url:
        sys.exit("mockctl: set CIVIS_MOCK_URL (e.g. http://127.0.0.1:PORT)")
    return url.rstrip("/")


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base_url() + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        sys.exit("mockctl: %s %s -> %d %s" % (method, path, err.code, err.read().decode()))


def mark_file():
    default = "/tmp/civis_mock_mark_%s" % (urllib.parse.urlparse(base_url()).port or 0)
    return os.environ.get("CIVIS_MOCK_STATE") or default


def read_mark():
    try:
        with open(mark_file()) as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return 0


def entries_since(args):
    since = 0 if args.all else read_mark()
    entries = call("GET", "/_mock/log?since=%d" % since)
    if not args.include_endpoints:
        entries = [e for e in entries
                   if not (e["method"] == "GET" and e["path"].rstrip("/") == "/endpoints")]
    return sorted(entries, key=lambda e: e["seq"])


def cmd_reset(args):
    call("POST", "/_mock/reset")


def cmd_mark(args):
    seq = call("POST", "/_mock/mark")["seq"]
    with open(mark_file(), "w") as f:
        f.write("%d\n" % seq)


def cmd_log(args):
    for e in entries_since(args):
        line = "%s %s" % (e["method"], e["path_raw"])
        if e["query"]:
            line += "?" + e["query"]
        if args.with_status:
            line += " -> %d" % e["status"]
        print(line)


def cmd_count(args):
    print(len(entries_since(args)))


def cmd_statuses(args):
    """{"STATUS": count} of the requests since the mark (0 = no answer)."""
    counts = {}
    for e in entries_since(args):
        counts[str(e["status"])] = counts.get(str(e["status"]), 0) + 1
    print(json.dumps(counts, sort_keys=True))


def cmd_decoded(args):
    """The decoded path and parameters of each request since the mark, as
    the server saw them: one JSON array [path, [[name, value], ...]] a line."""
    for e in entries_since(args):
        print(json.dumps([e["path"], e["params"]], ensure_ascii=False))


def cmd_mutations(args):
    print(json.dumps(call("GET", "/_mock/mutations"), sort_keys=True))


def cmd_faults(args):
    call("POST", "/_mock/faults", json.loads(args.json))


def cmd_config(args):
    print(json.dumps(call("POST", "/_mock/config", json.loads(args.json)), sort_keys=True))


def cmd_data(args):
    call("POST", "/_mock/data", json.loads(args.json))


def cmd_expected(args):
    query = urllib.parse.urlencode({"path": args.path, "params": args.query or "",
                                    "set": args.set or ""})
    rows = call("GET", "/_mock/expected?" + query)
    print(json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":")))


def cmd_start(args):
    if os.path.exists(args.port_file):
        os.unlink(args.port_file)
    cmd = [sys.executable, os.path.join(HERE, "civis_mock.py"),
           "--port-file", args.port_file] + args.mock_args
    subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(args.port_file):
        if time.monotonic() > deadline:
            sys.exit("mockctl: mock did not start")
        time.sleep(0.05)


def cmd_stop(args):
    call("POST", "/_mock/shutdown")


def parser():
    ap = argparse.ArgumentParser(description="Drive the Civis mock")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("reset").set_defaults(fn=cmd_reset)
    sub.add_parser("mark").set_defaults(fn=cmd_mark)
    sub.add_parser("mutations").set_defaults(fn=cmd_mutations)
    for name, fn in (("log", cmd_log), ("count", cmd_count),
                     ("statuses", cmd_statuses), ("decoded", cmd_decoded)):
        p = sub.add_parser(name)
        p.add_argument("--all", action="store_true", help="ignore the mark")
        p.add_argument("--with-status", action="store_true")
        p.add_argument("--include-endpoints", action="store_true")
        p.set_defaults(fn=fn)
    for name, fn in (("faults", cmd_faults), ("data", cmd_data), ("config", cmd_config)):
        p = sub.add_parser(name)
        p.add_argument("json")
        p.set_defaults(fn=fn)
    p = sub.add_parser("expected")
    p.add_argument("path")
    p.add_argument("query", nargs="?")
    p.add_argument("--set")
    p.set_defaults(fn=cmd_expected)
    p = sub.add_parser("start")
    p.add_argument("--port-file", required=True)
    p.add_argument("mock_args", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_start)
    sub.add_parser("stop").set_defaults(fn=cmd_stop)
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        args.fn(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader stopped early (`mockctl.py log | head -2`): not an
        # error of ours; nothing more is written to the closed pipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
