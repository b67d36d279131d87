#!/usr/bin/env bash
# Formats a copy of src/ (never the work tree) and prints a unified diff;
# exits 1 on any difference.  See scripts/format.sh.
exec bash "$(dirname "$0")/format.sh" --check "$@"
