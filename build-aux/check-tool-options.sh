#!/bin/sh
# build-aux/check-tool-options.sh TOOL MANPAGE: the options TOOL --help lists and the options its
# man page documents in OPTIONS are the same set. Prints the difference and fails otherwise.
set -eu
tool=$1
page=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --help: option tokens on lines that start (after indentation) with an option.
"$tool" --help | grep -E '^[[:space:]]+-' |
    grep -oE '(^|[[:space:],])-{1,2}[a-zA-Z][a-zA-Z0-9-]*' | sed -e 's/^[[:space:],]*//' | sort -u > "$tmp/help"
# The man page: option tokens on the .TP heading lines of the OPTIONS section.
awk '/^\.SH OPTIONS/ {on=1; next} /^\.SH/ {on=0} on && prev ~ /^\.TP/ {print} {prev=$0}' "$page" |
    sed -e 's/\\-/-/g' | grep -oE '(^|[[:space:]",])-{1,2}[a-zA-Z][a-zA-Z0-9-]*' |
    sed -e 's/^[[:space:]",]*//' | sort -u > "$tmp/man"
if ! cmp -s "$tmp/help" "$tmp/man"; then
    echo "check-tool-options: $tool --help and $page disagree (< only in --help, > only in the page):" >&2
    diff "$tmp/help" "$tmp/man" | grep '^[<>]' >&2
    exit 1
fi
echo "check-tool-options: $(basename "$tool"): $(wc -l < "$tmp/help") options, --help and $(basename "$page") agree"
