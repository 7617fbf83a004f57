#!/bin/sh
# build-aux/check-man.sh LIB: every man page passes mandoc -Tlint without warnings, and every
# function LIB exports is named in the NAME section of a page in man/man3.
set -eu
lib=$1
out=$(mandoc -Tlint -W warning man/man3/*.3 $(ls man/man1/*.1 2>/dev/null) 2>&1 || true)
if [ -n "$out" ]; then
    echo "check-man: mandoc -Tlint reports:" >&2
    echo "$out" >&2
    exit 1
fi
names=$(for f in man/man3/*.3; do
    awk '/^\.SH NAME/ {on=1; next} /^\.SH/ {on=0} on' "$f"
done | tr ',' '\n' | sed -e 's/\\-.*//' -e 's/^[ \t]*//' -e 's/[ \t\\]*$//' | grep -v '^$' | sort -u)
missing=""
for sym in $(nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}' | grep '^mcm_'); do
    echo "$names" | grep -qx "$sym" || missing="$missing $sym"
done
if [ -n "$missing" ]; then
    echo "check-man: exported functions without a man page:$missing" >&2
    exit 1
fi
echo "check-man: $(ls man/man3/*.3 | wc -l) section 3 pages lint clean; every exported function documented"
