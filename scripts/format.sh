#!/usr/bin/env bash
# Formats src/ in the project's style, PostgreSQL's (tabs of 4, BSD braces,
# the return type on its own line, declarations aligned at column 12): the
# style pgindent gives, with the same program and options -- pg_bsd_indent
# 2.1.1 (Debian 12's pg-bsd-indent package) and a typedef list generated
# from the project's and the server's headers (scripts/typedefs.sh).
#
#   bash scripts/format.sh           rewrites src/*.c and src/*.h in place
#   bash scripts/format.sh --check   formats a copy of src/, prints a unified
#                                    diff (git apply -p1 can take it) and
#                                    exits 1 on any difference; the work tree
#                                    is never written (scripts/format_check.sh)
#
# Installs what it needs when missing (as root; apt-get update first):
# pg-bsd-indent, and the headers the typedef list is made from (the server's,
# libcurl's, cJSON's, the C library's and gcc's).  Refuses any other pg_bsd_indent version: the output
# must be the same on every machine.
#
# Around pg_bsd_indent, as pgindent does (perl, always on Debian):
#   before  a loop macro (foreach, forboth, dlist_foreach, cJSON_ArrayForEach,
#           ...) on a line of its own becomes "while (macro(...))", so that
#           a body without braces is indented as a loop body (pg_bsd_indent
#           knows no loop macros);
#   after   it is put back, a return type's "*" follows one space
#           ("char *" above a function's name, not "char\t   *"), and a
#           designated initializer after a comma gets its space back
#           ("{.path = "/x", .param = "y"}", not ",.param").
# and it warns (stderr) where a declaration's initializer continues at the
# block's margin, which parentheses around the initializer avoid.
set -uo pipefail
CIVIS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$CIVIS_ROOT" || exit 1
. scripts/lib.sh

INDENT_VERSION="pg_bsd_indent 2.1.1"
# pgindent's options: -bad -bap blank lines after declarations and
# functions, -bbb before block comments, -bc one declarator a line, -bl BSD
# braces, -cli1 case labels one level in, -cp33 -cd33 comment columns, -cdb
# -nfc1 comment delimiters, -nce "else" on its own line, -d0 -di12 -i4 -ts4
# declarations at column 12, tabs of 4, -l79 comments wrapped at 79, -lp
# -lpl continuation lines under their parenthesis, -nip -npro -sac -tpg.
INDENT_OPTS="-bad -bap -bbb -bc -bl -cli1 -cp33 -cdb -nce -d0 -di12 -nfc1 -i4
  -l79 -lp -lpl -nip -npro -sac -tpg -ts4"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# What must be installed (Debian 12 names).
CIVIS_PACKAGES="pg-bsd-indent postgresql-server-dev-$PG_VERSION libcurl4-openssl-dev libcjson-dev
  libc6-dev gcc"
missing=0
for p in $CIVIS_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing=1
done
if [ $missing -eq 1 ]; then
  ensure_packages >&2 || { echo "format.sh: cannot install $CIVIS_PACKAGES" >&2; exit 1; }
fi
version=$(pg_bsd_indent --version 2>&1 | head -1 | cut -d" " -f1,2)
if [ "$version" != "$INDENT_VERSION" ]; then
  echo "format.sh: needs $INDENT_VERSION (Debian 12's pg-bsd-indent), found: ${version:-none}" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash scripts/typedefs.sh >"$work/typedefs.list" || exit 1
mkdir -p "$work/a/src" "$work/b/src"
cp -p src/*.c src/*.h "$work/a/src/"
cp -p src/*.c src/*.h "$work/b/src/"

loops='[A-Za-z_]*(?:foreach|ForEach|forboth|forthree|forfour|forfive|for_each)[A-Za-z_0-9]*'
for f in "$work"/b/src/*; do
  perl -pi -e 's/^([ \t]+)('"$loops"')\((.*)\)[ \t]*$/$1while ($2($3))/' "$f" || exit 1
  # shellcheck disable=SC2086
  pg_bsd_indent $INDENT_OPTS -U"$work/typedefs.list" "$f" "$f.out" || {
    echo "format.sh: pg_bsd_indent failed on src/$(basename "$f")" >&2
    exit 1
  }
  perl -p -e 's/^([ \t]+)while \(('"$loops"')\((.*)\)\)[ \t]*$/$1$2($3)/;
    s/^([A-Za-z_]\S*)[ \t]+\*$/$1 */;
    s/,\.([a-z_]+) = /, .$1 = /g' "$f.out" >"$f" || exit 1
  rm -f "$f.out"
done

# pg_bsd_indent puts the second line of a declaration's initializer at the
# block's margin; in parentheses it goes under the parenthesis.  A warning,
# for the author to add them.
(cd "$work/b" && perl -n -e '
  chomp;
  if (defined $p && $p =~ /^(\t+)[A-Za-z_][\w ]*\t+\**\w+(?:\[[^\]]*\])? = .*[^;{,\s]\s*$/) {
    my $ind = $1;
    print STDERR "format.sh: $ARGV:$.: an initializer continued at the margin: put it in parentheses\n"
      if /^\Q$ind\E[^\t\s{}]/ && !/^\s*(\/\*|\*)/;
  }
  $p = $_;
  if (eof) { close ARGV; undef $p; }' src/*.c src/*.h)

if [ $check -eq 1 ]; then
  (cd "$work" && diff -ru a/src b/src)
  rc=$?
  [ $rc -eq 0 ] || echo "format.sh: src/ is not formatted (bash scripts/format.sh rewrites it)" >&2
  exit $rc
fi
for f in "$work"/b/src/*; do
  cmp -s "$f" "src/$(basename "$f")" || cp "$f" "src/$(basename "$f")"
done
