#!/bin/sh
# build-aux/check-man.sh LIB...: the section 3 manual is complete and consistent. LIB... are the
# shared libraries (libdcmmcm first, then libdcmmcm-media).
# - every page passes mandoc -Tlint without warnings;
# - every function a LIB exports, and every function the public headers declare with MCM_EXTERN (so
#   that functions not built yet are documented too), is named in the NAME section of a page, and
#   every name there is such a function (or "dcmmcm", the overview);
# - every name in a NAME section has a file man/man3/NAME.3 (the page or a symbolic link to it), so
#   that `man NAME` finds it;
# - every page of a function has the sections NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, EXAMPLE,
#   SEE ALSO; every cross-reference NAME(3) names a page that exists;
# - a page's functions come from one library, and its SYNOPSIS says which: "#include <dcmmcm.h>"
#   and pkg-config dcmmcm for libdcmmcm's, "#include <dcmmcm/media.h>" and pkg-config dcmmcm-media
#   for libdcmmcm-media's;
# - build-aux/check-man-examples.sh: the prototypes and examples compile against the headers.
set -eu
[ $# -gt 0 ] || { echo "usage: check-man.sh LIB..." >&2; exit 2; }
here=$(dirname "$0")

out=$(mandoc -Tlint -W warning man/man3/*.3 $(ls man/man1/*.1 2>/dev/null) 2>&1 || true)
if [ -n "$out" ]; then
    echo "check-man: mandoc -Tlint reports:" >&2
    echo "$out" >&2
    exit 1
fi

# Pages proper; link pages (symbolic links) are checked through their target.
pages=$(for f in man/man3/*.3; do [ -L "$f" ] || echo "$f"; done)
fail=0

# NAME section: "name, name, ... \- description" on one or more lines; only the part before \-
# lists names (the description may contain commas).
name_section() {
    awk '/^\.SH NAME/ {on = 1; next} /^\.SH/ {on = 0} on' "$1" | tr '\n' ' ' | sed 's/\\-.*//'
}
names=$(for f in $pages; do name_section "$f"; echo; done | tr ',' '\n' |
    sed -e 's/^[ \t]*//' -e 's/[ \t\\]*$//' | grep -v '^$' | sort -u)

declared=$(grep -hv "^[[:space:]]*#" include/dcmmcm/*.h | tr '\n' ' ' | grep -o 'MCM_EXTERN [^;(]*(' |
    sed -e 's/($//' -e 's/.*[ *]//' | sort -u)
exported=$(for lib in "$@"; do nm -D --defined-only "$lib" | awk '$2 == "T" {print $3}'; done | grep '^mcm_' | sort -u)
# "MODULE SYMBOL" for every function a LIB exports, MODULE its pkg-config name (libNAME.so.N: NAME).
modules_of_exports=$(for lib in "$@"; do
    module=$(basename "$lib" | sed -e 's/\.so\..*//' -e 's/^lib//')
    nm -D --defined-only "$lib" | awk -v m="$module" '$2 == "T" && $3 ~ /^mcm_/ {print m, $3}'
done)

missing=""
for sym in $exported $declared; do
    echo "$names" | grep -qx "$sym" || case " $missing " in *" $sym "*) ;; *) missing="$missing $sym" ;; esac
done
if [ -n "$missing" ]; then
    echo "check-man: functions without a man page:$missing" >&2
    fail=1
fi
for name in $names; do
    [ "$name" = dcmmcm ] && continue
    echo "$declared" | grep -qx "$name" ||
        { echo "check-man: $name is in a NAME section but no public header declares it" >&2; fail=1; }
    [ -e "man/man3/$name.3" ] || { echo "check-man: no man/man3/$name.3 (page or link) for $name" >&2; fail=1; }
done
for f in man/man3/*.3; do
    [ -L "$f" ] || continue
    target=$(readlink "$f")
    case "$target" in */*) echo "check-man: $f links outside man/man3: $target" >&2; fail=1 ;; esac
done

for f in $pages; do
    # The library of the page's functions, and what its SYNOPSIS must say for it.
    page_names=$(name_section "$f" | tr ',' '\n' | sed -e 's/^[ \t]*//' -e 's/[ \t\\]*$//' | grep -v '^$' || true)
    modules=$(for name in $page_names; do echo "$modules_of_exports" | awk -v n="$name" '$2 == n {print $1}'; done |
        sort -u)
    synopsis=$(awk '/^\.SH SYNOPSIS/ {on = 1; next} /^\.SH/ {on = 0} on' "$f")
    case "$modules" in
    "") ;;
    *" "*|*"
"*) echo "check-man: $f documents functions of several libraries:" $modules >&2; fail=1 ;;
    *)
        case "$modules" in
        dcmmcm) header='.B #include <dcmmcm.h>' ;;
        *) header='.B #include <dcmmcm/'${modules#dcmmcm-}'.h>' ;;
        esac
        link="pkg\\-config \\-\\-cflags \\-\\-libs $(echo "$modules" | sed 's/-/\\-/g')\\fP"
        printf "%s\n" "$synopsis" | grep -qxF "$header" ||
            { echo "check-man: $f: its SYNOPSIS lacks the line '$header' (its functions are in lib$modules)" >&2
              fail=1; }
        printf "%s\n" "$synopsis" | grep -qF "$link" ||
            { echo "check-man: $f: its SYNOPSIS does not say to link with pkg-config $modules" >&2; fail=1; }
        ;;
    esac
    case "$f" in
    */dcmmcm.3) required="NAME SYNOPSIS DESCRIPTION EXAMPLES SEE_ALSO" ;;
    *) required="NAME SYNOPSIS DESCRIPTION RETURN_VALUE EXAMPLE SEE_ALSO" ;;
    esac
    # The required sections, in this order; others may come between them.
    have=$(sed -n 's/^\.SH "*\([^"]*\)"*$/\1/p' "$f" | tr ' ' '_' | tr '\n' ' ')
    rest=" $have"
    for section in $required; do
        case "$rest" in
        *" $section "*) rest=" ${rest#*" $section "}" ;;
        *) echo "check-man: $f lacks section '$(echo "$section" | tr '_' ' ')' or has it out of order" >&2
           fail=1 ;;
        esac
    done
    for ref in $(sed -n 's/^\.BR \([a-z_0-9]*\) (3).*/\1/p' "$f"); do
        [ -e "man/man3/$ref.3" ] || { echo "check-man: $f refers to $ref(3), which does not exist" >&2; fail=1; }
    done
done

# The overview names every function's page.
for name in $names; do
    [ "$name" = dcmmcm ] && continue
    grep -q "^\.BR $name (3)" man/man3/dcmmcm.3 ||
        { echo "check-man: dcmmcm(3) does not list $name(3)" >&2; fail=1; }
done
[ "$fail" = 0 ] || exit 1

"$here/check-man-examples.sh" "$@"
echo "check-man: $(echo "$pages" | wc -l) section 3 pages ($(ls man/man3/*.3 | wc -l) names) lint clean;" \
    "every declared and exported function documented"
