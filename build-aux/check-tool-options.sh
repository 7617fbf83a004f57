#!/bin/sh
# build-aux/check-tool-options.sh TOOL MANPAGE: the tool, its --help and its man page agree.
#  1. The options TOOL --help lists and those MANPAGE's OPTIONS section documents (.TP headings)
#     are the same set, and each takes a value in both or in neither.
#  2. TOOL's parser takes each listed spelling as listed (a value option given last says it
#     "needs a value", a flag is not refused) and refuses near misses: the other number of dashes,
#     the name less its last letter, a flag given "=value".
#  3. The exit codes of --help's "exit codes:" summary are those MANPAGE's EXIT STATUS lists.
# --help is made from the tool's option table and exit code list (examples/common/options.h), so
# the table, the parser, --help and the page cannot drift apart. Prints every difference, fails.
# Runs TOOL only with a single option, which never opens a port or a connection.
set -eu
tool=$1
page=$2
name=$(basename "$tool")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() {
    echo "check-tool-options: $name: $*" >&2
    failed=1
}

"$tool" --help > "$tmp/help.txt"

# "NAME ARITY" lines (ARITY 1: takes a value) from a list of headings, one per line, where a
# heading is option names (-x, --name) separated by ", " or spaces and maybe a value's name.
spellings() {
    awk '{
        value = 0; n = 0
        gsub(/,/, " ")
        for (i = 1; i <= NF; i++)
            if ($i ~ /^--?[a-zA-Z]/) names[++n] = $i; else value = 1
        for (i = 1; i <= n; i++) print names[i], value
    }' | sort -u
}

# --help: an option line is "  NAMES [VALUE]" then two spaces or more, then its text.
grep -E '^  -' "$tmp/help.txt" | sed -e 's/^  //' -e 's/  .*//' | spellings > "$tmp/help"
# The man page: the .TP heading lines of OPTIONS, without the font macros and quotes.
awk '/^\.SH OPTIONS/ {on=1; next} /^\.SH/ {on=0} on && prev ~ /^\.TP/ {print} {prev=$0}' "$page" |
    sed -e 's/^\.[A-Z]* //' -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/", "/ /g' -e 's/"//g' | spellings > "$tmp/man"
if [ ! -s "$tmp/help" ]; then
    fail "--help lists no option"
elif ! cmp -s "$tmp/help" "$tmp/man"; then
    fail "--help and $page disagree (NAME 1: takes a value; < only in --help, > only in the page):"
    diff "$tmp/help" "$tmp/man" | grep '^[<>]' >&2 || true
fi

# The parser, option by option. "$@" is the command line; sets rc and err.
run() {
    rc=0
    "$tool" "$@" > /dev/null 2> "$tmp/err" < /dev/null || rc=$?
    err=$(cat "$tmp/err")
}
listed() { grep -q "^$1 " "$tmp/help"; }
while read -r option value; do
    run "$option"
    if [ "$value" = 1 ]; then
        case $err in *"$option needs a value"*) ;; *) fail "$option given last: not \"needs a value\" ($rc: $err)" ;; esac
    else
        case $err in *"unknown option"* | *"needs a value"* | *"takes no value"*)
            fail "$option refused ($rc: $err)" ;; esac
        case $option in --*)
            run "$option=x"
            case $err in *"$option takes no value"*) ;; *) fail "$option=x taken ($rc: $err)" ;; esac ;;
        esac
    fi
    bare=${option#-}
    bare=${bare#-}
    case $option in --*) other="-$bare" ;; *) other="--$bare" ;; esac
    near=$other
    [ ${#bare} -ge 2 ] && near="$near ${option%?}"
    for miss in $near; do
        listed "$miss" && continue
        run "$miss" x
        case $err in *"unknown option $miss "*) ;; *) fail "$miss (near $option) not refused as unknown ($rc: $err)" ;; esac
        [ "$rc" = 64 ] || fail "$miss: exit $rc, not 64"
    done
done < "$tmp/help"

# Exit codes: "exit codes: 0 done, 1 job failed, ..." in --help; ".TP" then ".B N" in EXIT STATUS.
sed -n '/^exit codes:/,$p' "$tmp/help.txt" | tr '\n' ' ' | tr -s ' ' | grep -oE '(: |, )[0-9]+ ' | tr -dc '0-9\n' |
    sort -n > "$tmp/help-exit"
awk '/^\.SH EXIT STATUS/ {on=1; next} /^\.SH/ {on=0} on && prev ~ /^\.TP/ && $1 == ".B" {print $2} {prev=$0}' \
    "$page" | sort -n > "$tmp/man-exit"
if [ ! -s "$tmp/help-exit" ]; then
    fail "--help has no \"exit codes:\" summary"
elif ! cmp -s "$tmp/help-exit" "$tmp/man-exit"; then
    fail "exit codes of --help ($(echo $(cat "$tmp/help-exit"))) and of $page ($(echo $(cat "$tmp/man-exit"))) differ"
fi

[ "$failed" = 0 ] || exit 1
echo "check-tool-options: $name: $(wc -l < "$tmp/help") option spellings and $(wc -l < "$tmp/help-exit") exit codes," \
    "--help, parser and $(basename "$page") agree"
