#!/usr/bin/env python3
"""List the long functions of src/*.c and check each has a written reason.

A function is long when its body, from the line of its opening brace to the
line of its closing brace, spans more than LIMIT lines (80, the code-shape
rule of the project).  A long function passes when the comment block just
above its definition has a line starting with "Long because" (after the
comment's leading "*"): one to three sentences on why one function reads
better than parts.

Functions are found the PostgreSQL way the sources are written: the name and
its "(" at the start of a line, the "{" and the "}" of the body alone at the
start of a line.  Prints one line per long function:

    OK   src/scan.c:123 name (95 lines)
    MISS src/scan.c:456 name (120 lines)

and a summary; exits 1 when a long function lacks its reason.

    python3 scripts/long_functions.py [--limit N] [--all] [file.c ...]

--all also prints the functions within the limit that carry a reason (a
reason that no longer applies should go).
"""
import glob
import os
import re
import sys

LIMIT = 80
MARKER = re.compile(r"^\s*\*?\s*Long because\b")
NAME = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    """Yield (name, line of the name, body lines, comment above) per function."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    n = len(lines)
    while i < n:
        m = NAME.match(lines[i])
        if not m or lines[i].rstrip().endswith(";"):
            i += 1
            continue
        name = m.group(1)
        name_line = i
        # the parameter list may run over several lines; the body's brace
        # is the first line that is exactly "{" before any ";" at top level
        j = i
        while j < n and lines[j] != "{" and not lines[j].rstrip().endswith(";"):
            j += 1
        if j >= n or lines[j] != "{":
            i += 1
            continue
        k = j + 1
        while k < n and lines[k] != "}":
            k += 1
        if k >= n:
            break
        # the comment block above: skip the return type line(s), then take
        # the contiguous comment lines ending just above
        c = name_line - 1
        while c >= 0 and lines[c].strip() and not lines[c].rstrip().endswith("*/") \
                and not lines[c].startswith("}") and not lines[c].startswith("#"):
            c -= 1
        comment = []
        if c >= 0 and lines[c].rstrip().endswith("*/"):
            e = c
            while e >= 0 and "/*" not in lines[e]:
                e -= 1
            comment = lines[max(e, 0):c + 1]
        yield name, name_line + 1, k - j + 1, comment
        i = k + 1


def main(argv):
    limit = LIMIT
    show_all = False
    files = []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a == "--limit":
            limit = int(args.pop(0))
        elif a == "--all":
            show_all = True
        else:
            files.append(a)
    if not files:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        files = sorted(glob.glob(os.path.join(os.path.normpath(root), "src", "*.c")))
    long_count = missing = 0
    for path in files:
        shown = os.path.relpath(path)
        for name, line, length, comment in functions(path):
            has_reason = any(MARKER.match(c) for c in comment)
            if length > limit:
                long_count += 1
                if not has_reason:
                    missing += 1
                print("%-4s %s:%d %s (%d lines)"
                      % ("OK" if has_reason else "MISS", shown, line, name, length))
            elif show_all and has_reason:
                print("%-4s %s:%d %s (%d lines, within the limit: reason kept)"
                      % ("NOTE", shown, line, name, length))
    print("%d functions over %d lines, %d without a reason above them"
          % (long_count, limit, missing))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
