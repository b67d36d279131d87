#!/usr/bin/env python3
"""Audit the requests the mock received since the last mark, all made with
civis_fdw's optimisations off: each may carry only semantic parameters (path
parameters, parameter-only columns, scope parameters) and paging: no filter
on a real field, no pushed sort (only the stable read order id/asc), no
limit other than the endpoint's page size.  Prints one summary line, or the
offending requests."""
import json
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "mock"))
import mockctl  # noqa: E402
from mock_spec import Spec  # noqa: E402

# Parameter-only and scope parameters of the fixture (semantic: always sent).
SEMANTIC = {"q", "permission", "hidden", "scheduled", "archived", "account_status", "group_id",
            "group_ids[]", "status", "training_table_name", "destination"}
PAGING = {"page_num", "last_id", "offset", "start_at", "end_at"}


def main():
    spec_path = os.path.join(HERE, "..", "fixture", "civis_spec.json")
    with open(spec_path) as f:
        spec = Spec(json.load(f))

    class Args:
        all = False
        include_endpoints = False
    entries = mockctl.entries_since(Args)
    bad = []
    for e in entries:
        ep, _ = spec.match(e["path"])
        params = urllib.parse.parse_qsl(e["query"], keep_blank_values=True)
        names = dict(params)
        for name, value in params:
            if name in SEMANTIC or name in PAGING:
                continue
            if name == "limit" and ep is not None and str(ep.limit_max) == value:
                continue
            if name == "order" and value == "id" and names.get("order_dir") == "asc":
                continue
            if name == "order_dir" and value == "asc" and names.get("order") == "id":
                continue
            # /queries/ and /workflows/: state is the parameter-only last_run_state
            if name == "state" and e["path"].rstrip("/") in ("/queries", "/workflows"):
                continue
            bad.append("%s?%s (%s=%s)" % (e["path_raw"], e["query"], name, value))
    print("%d requests with the optimisations off; optimisation parameters found: %s"
          % (len(entries), "none" if not bad else len(bad)))
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
