#!/usr/bin/env bash
# The typedef list pg_bsd_indent needs (-U) to format src/ in PostgreSQL's
# style: every name declared by a typedef in the project's own files
# (src/*.h and src/*.c) and in the headers they build against -- the
# server's ($PG_CONFIG --includedir-server, default: pg_config on PATH, else
# the newest /usr/lib/postgresql/*/bin/pg_config), libcurl's, cJSON's and the
# C library's (their Debian packages' files) and the compiler's std*.h --
# one name a line, sorted, on stdout.  Generated each run, so
# a new typedef (here or in a new server) needs no list to be edited;
# PostgreSQL's own typedefs.list is neither needed nor copied.
#
# A name the project also uses as a variable is left out (the list below):
# pg_bsd_indent would take "text + i" for a cast and print "text +i", as
# pgindent leaves out a few names of PostgreSQL's list for the same reason.
# A typedef found only in one server version could change the formatting of
# code that uses the name; none of src/ does (PostgreSQL 15, 17 and 18 give
# the same output).
set -euo pipefail
cd "$(dirname "$0")/.."

# names used as variables in src/ (typedefs elsewhere); one a line
not_types='
text
'
# types that are not typedefs in every supported server's headers: bool is
# stdbool.h's macro (PostgreSQL 18's c.h has no typedef of it)
also_types='
bool
'

if [ -z "${PG_CONFIG:-}" ]; then
  PG_CONFIG=$(command -v pg_config || ls -d /usr/lib/postgresql/*/bin/pg_config 2>/dev/null | sort -V | tail -1 || true)
fi
[ -n "$PG_CONFIG" ] && server=$("$PG_CONFIG" --includedir-server 2>/dev/null) && [ -d "$server" ] || {
  echo "typedefs.sh: no server headers (install postgresql-server-dev-NN or set PG_CONFIG)" >&2
  exit 1
}

# libcurl's, cJSON's and the C library's headers: those of their Debian
# packages only, so that another library's headers installed on one machine
# cannot change the output; the compiler's own (size_t, va_list)
others=$(dpkg -L libcurl4-openssl-dev libcjson-dev libc6-dev 2>/dev/null | grep '\.h$')
for h in curl/curl.h cjson/cJSON.h stdio.h; do
  echo "$others" | grep -q "/$h\$" || {
    echo "typedefs.sh: no $h (install libcurl4-openssl-dev, libcjson-dev, libc6-dev)" >&2
    exit 1
  }
done
compiler=$(ls -d /usr/lib/gcc/*/*/include 2>/dev/null | sort -V | tail -1)
[ -f "$compiler/stddef.h" ] || { echo "typedefs.sh: no gcc stddef.h (install gcc)" >&2; exit 1; }

{
  ls src/*.h src/*.c
  find "$server" -name '*.h'
  echo "$others"
  find "$compiler" -maxdepth 1 -name 'std*.h'
} | LC_ALL=C sort -u | tr '\n' '\0' | xargs -0 perl -e '
# Each top-level declaration that begins with "typedef" (comments, string
# and character literals, preprocessor lines, function bodies and
# extern "C" braces set aside) gives its declared name(s).
use strict;
use warnings;
my %names;
for my $f (@ARGV) {
    open(my $fh, "<", $f) or next;
    local $/;
    my $s = <$fh>;
    close $fh;
    $s =~ s{/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27}{
        substr($&, 0, 1) eq "/" ? " " : "\"\""}gse;
    $s =~ s{\\\n}{ }g;
    $s =~ s{^[ \t]*#[^\n]*}{}mg;
    $s =~ s{extern\s*""\s*\{}{ }g;
    my ($depth, $cur) = (0, "");
    for my $c (split //, $s) {
        if ($c eq "{") {
            $depth++;
        } elsif ($c eq "}") {
            $depth-- if $depth > 0;
            if ($depth == 0 && $cur !~ /^\s*(?:extern\s+)?typedef\b/) {
                $cur = "";
                next;
            }
        }
        if ($c eq ";" && $depth == 0) {
            take($cur);
            $cur = "";
        } else {
            $cur .= $c;
        }
    }
}
sub take {
    my ($st) = @_;
    $st =~ s/^\s+//;
    return unless $st =~ s/^(?:extern\s+)?typedef\b//;
    1 while $st =~ s/\{[^{}]*\}/ /g;
    # a function (pointer) type: typedef void (*name) (int)
    if ($st =~ /\(\s*\*?\s*(\w+)\s*\)\s*\(/) {
        $names{$1} = 1;
        return;
    }
    1 while $st =~ s/\([^()]*\)/ /g;
    $st =~ s/\[[^\]]*\]/ /g;
    for my $d (split /,/, $st) {
        $names{$1} = 1 if $d =~ /(\w+)\s*$/;
    }
}
print "$_\n" for sort keys %names;
' | { cat; printf '%s\n' $also_types; } | LC_ALL=C sort -u | grep -vxF -f <(printf '%s\n' $not_types)
