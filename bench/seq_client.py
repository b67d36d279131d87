#!/usr/bin/env python3
"""Sequential baseline for the civis_fdw benchmark (python3 standard library).

Reads a paginated listing the way the official Python client iterates one:
one request after another, a new connection for every request (no session
reuse), HTTP Basic auth with the API key as user name and an empty password,
page_num counting from 1 and stopping only at an empty page (the paging
headers are ignored), every call serialised by one process-wide lock, and
each page decoded as JSON.

    seq_client.py BASE_URL PATH [--key KEY] [--limit 50]
prints one JSON line: {"requests": N, "rows": N, "seconds": S}
"""
import argparse
import base64
import http.client
import json
import sys
import threading
import time
import urllib.parse

_LOCK = threading.Lock()  # one API call at a time in the whole process


def get_page(base, path, params, auth):
    url = urllib.parse.urlsplit(base)
    query = urllib.parse.urlencode(params)
    with _LOCK:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
        try:
            conn.request("GET", f"{url.path}{path}?{query}", headers={
                "Authorization": auth,
                "Connection": "close",
                "User-Agent": "civis-python-like-bench",
            })
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {path}?{query} -> {resp.status}: {body[:200]!r}")
        finally:
            conn.close()
    return json.loads(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("path")
    ap.add_argument("--key", default="bench-key")
    ap.add_argument("--limit", type=int, default=50)
    args = ap.parse_args()
    auth = "Basic " + base64.b64encode(f"{args.key}:".encode()).decode()

    t0 = time.monotonic()
    requests = rows = 0
    page_num = 1
    while True:
        items = get_page(args.base, args.path,
                         {"limit": args.limit, "page_num": page_num}, auth)
        requests += 1
        if not items:
            break
        for item in items:      # the client wraps each item; touch them
            rows += 1 if isinstance(item, dict) else 0
        page_num += 1
    print(json.dumps({"requests": requests, "rows": rows,
                      "seconds": round(time.monotonic() - t0, 4)}))


if __name__ == "__main__":
    sys.exit(main())
