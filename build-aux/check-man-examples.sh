#!/bin/sh
# build-aux/check-man-examples.sh [LIB]: the code in the documentation compiles against the public
# headers, so that no page shows a prototype or an example that has drifted from them.
# - SYNOPSIS of every page in man/man3 (rendered by mandoc): its #include and prototypes are
#   compiled as C; a prototype that differs from the header's declaration is a "conflicting types"
#   error.
# - EXAMPLE / EXAMPLES of every page: each .EX/.EE block is a whole program, compiled (not linked)
#   with cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c.
# - README.md: the first ```c block is compiled, and if LIB (the shared library) is given, linked
#   against it and run; its output must equal the ```text block that follows it.
set -eu
lib=${1:-}
cc=${CC:-cc}
cflags="-std=c11 -Wall -Wextra -Werror -pedantic -Iinclude"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
programs=0

compile() { # compile FILE WHAT
    if ! $cc $cflags -c -o "$scratch/out.o" "$1" 2>"$scratch/errors"; then
        echo "check-man-examples: $2 does not compile:" >&2
        sed 's/^/  /' "$scratch/errors" >&2
        fail=1
    fi
}

# Undo the roff escapes that appear in example code (\e backslash, \- minus, \(aq, \(dq, \&).
unroff() {
    sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

for page in man/man3/*.3; do
    [ -L "$page" ] && continue
    base=$(basename "$page" .3)

    mandoc -Tascii -O width=500 "$page" | col -b |
        awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} on' |
        sed -e 's/^[ \t]*//' | grep -v '^Compile and link' > "$scratch/$base-synopsis.c"
    compile "$scratch/$base-synopsis.c" "the SYNOPSIS of $page"

    awk -v dir="$scratch" -v base="$base" '
        /^\.SH/ { example = ($0 ~ /^\.SH "?EXAMPLES?"?$/); next }
        example && /^\.EX/ { n++; file = dir "/" base "-example" n ".c"; printf "" > file; next }
        example && /^\.EE/ { close(file); file = ""; next }
        file != "" { print > file }
        END { if (n == 0) print base > (dir "/no-example") }' "$page"
    for f in "$scratch/$base"-example*.c; do
        [ -e "$f" ] || continue
        unroff < "$f" > "$f.tmp" && mv "$f.tmp" "$f"
        compile "$f" "an example of $page ($(basename "$f"))"
        programs=$((programs + 1))
    done
done
if [ -e "$scratch/no-example" ]; then
    echo "check-man-examples: pages without an .EX block in EXAMPLE: $(tr '\n' ' ' < "$scratch/no-example")" >&2
    fail=1
fi

awk '/^```c$/ && !seen { on = 1; seen = 1; next } on && /^```$/ { exit } on' README.md > "$scratch/readme.c"
awk '/^```c$/ { c = 1 } c && /^```text$/ { on = 1; next } on && /^```$/ { exit } on' README.md \
    > "$scratch/readme.expected"
if [ ! -s "$scratch/readme.c" ]; then
    echo "check-man-examples: README.md has no \`\`\`c block" >&2
    fail=1
else
    compile "$scratch/readme.c" "the C example of README.md"
    programs=$((programs + 1))
    if [ -n "$lib" ] && [ "$fail" = 0 ]; then
        libdir=$(cd "$(dirname "$lib")" && pwd)
        $cc $cflags -o "$scratch/readme" "$scratch/readme.c" "$lib"
        if ! LD_LIBRARY_PATH="$libdir" "$scratch/readme" > "$scratch/readme.out"; then
            echo "check-man-examples: the C example of README.md exits with a failure" >&2
            fail=1
        elif ! diff -u "$scratch/readme.expected" "$scratch/readme.out" >&2; then
            echo "check-man-examples: the C example of README.md prints something else than README.md says" >&2
            fail=1
        fi
    fi
fi

[ "$fail" = 0 ] || exit 1
echo "check-man-examples: every SYNOPSIS and $programs example programs compile against include/"
