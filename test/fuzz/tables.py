"""The fuzz data set: which imported tables the fuzzer queries, and the
values of their scope columns (path parameters and parameter-only columns)
that the local copies hold.

Column names, types and roles come from the catalog at run time; only the
pools are written here.  A scope value in `pools` is materialised (the local
table holds the mock's rows for it, the column set to that value); values in
`empty` are sendable but have no rows (the mock answers 404 for the path),
and `refused` values cannot be sent (an ERROR is the right answer)."""

# table -> {"unique": column unique within one scope, or None,
#           "pools": {scope column: [values]}, "empty": {...}, "refused": {...}}
TABLES = {
    "jobs": {"unique": "id",
             "pools": {"q": ["alpha", "import", "Sql"], "hidden": [True, False],
                       "scheduled": [True, False]}},
    "jobs_runs": {"unique": "id", "pools": {"job_id": [7, 12, 406]},
                  "empty": {"job_id": [0, 1000001]}},
    "jobs_runs_logs": {"unique": "id", "pools": {"job_id": [7, 12], "run_id": [71, 5]},
                       "empty": {"job_id": [1000001], "run_id": [0]}},
    "notebooks_deployments": {"unique": None, "pools": {"notebook_id": [2, 5, 9]},
                              "empty": {"notebook_id": [0]}},
    "notebooks_deployments_logs": {"unique": None,
                                   "pools": {"notebook_id": [2, 5], "deployment_id": [3, 4]}},
    "queries": {"unique": "id",
                "pools": {"last_run_state": ["failed", "running"], "hidden": [True, False]},
                "refused": {"last_run_state": ["idle", "failed,running"]}},
    "workflows": {"unique": "id",
                  "pools": {"hidden": [True, False], "last_run_state": ["succeeded"],
                            "scheduled": [True, False]}},
    "models": {"unique": "id",
               "pools": {"training_table_name": ["alpha"], "status": ["active"],
                         "hidden": [True, False]}},
    "users": {"unique": "id", "pools": {"q": ["a", "Echo"]}},
    "search": {"unique": "id",
               "pools": {"q": ["alpha", "golf"], "archived": ["true", "false", "all"]}},
    "exports": {"unique": "id",
                "pools": {"status": ["running", "failed"], "hidden": [True, False]}},
    "credentials": {"unique": "id", "pools": {}},
    "announcements": {"unique": "id", "pools": {}},
    "media_ratecards": {"unique": "id", "pools": {}},
    "remote_hosts_data_sets": {"unique": None,
                               "pools": {"remote_host_id": [3, 8], "q": ["alpha"]}},
}

# Scope columns of these tables that the fuzzer leaves alone (NULL in every
# local row; never constrained).
UNUSED_SCOPE = {"jobs": ["permission"], "users": ["group_id", "group_ids"],
                "imports": [], "remote_hosts_data_sets": ["credential_id", "username",
                                                         "password"],
                "enhancements": []}
