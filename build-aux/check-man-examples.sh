#!/bin/sh
# build-aux/check-man-examples.sh [LIB...]: the code in the documentation compiles against the public
# headers, so that no page shows a prototype or an example that has drifted from them.
# - SYNOPSIS of every page in man/man3 (rendered by mandoc): its #include and prototypes are
#   compiled as C; a prototype that differs from the header's declaration is a "conflicting types"
#   error.
# - EXAMPLE / EXAMPLES of every page: each .EX/.EE block is a whole program, compiled (not linked)
#   with cc -std=c11 -Wall -Wextra -Werror -pedantic -Iinclude -c.
# - README.md: every ```c block is compiled and, if LIB... (the shared libraries: libdcmmcm, and
#   libdcmmcm-media) are given, linked against libdcmmcm alone, or against both if it includes
#   <dcmmcm/media.h>, so that a program that writes no media is shown to need libdcmmcm only; a
#   block followed by a ```text block is run and must print that text; the README's SCP and SCU
#   examples are run against each other.
set -eu
lib=""
media_lib=""
for l in "$@"; do
    case "$(basename "$l")" in
    libdcmmcm-media.so*) media_lib=$l ;;
    *) lib=$l ;;
    esac
done
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

# README.md: every ```c block is a whole program. A block whose first line is "/* NAME.c: ..." is
# saved as NAME.c, the others as readme-N.c. Each is compiled and, with LIB, linked against it. A
# block followed by a ```text block (before the next ```c block) is run and must print exactly that
# text; shell sessions in the README are ```console blocks, which are not checked. mcm-publisher.c
# and mcm-send.c, the README's SCP and SCU, are run against each other (run_readme_pair below).
mkdir "$scratch/readme"
awk -v dir="$scratch/readme" '
    /^```c$/ { n++; block = "c"; first = 1; next }
    /^```text$/ && n > 0 && !(n in expected) { expected[n] = 1; block = "text"; next }
    /^```/ && block == "c" { close(dir "/" n ".c"); block = ""; next }
    /^```/ && block == "text" { close(dir "/" n ".expected"); block = ""; next }
    block == "c" {
        if (first && match($0, /^\/\* [a-z0-9-]+\.c:/))
            print substr($0, 4, RLENGTH - 6) > (dir "/" n ".name")
        first = 0
        print > (dir "/" n ".c")
        next
    }
    block == "text" { print > (dir "/" n ".expected") }
    ' README.md
readme_blocks=$(ls "$scratch/readme" | sed -n 's/^\([0-9][0-9]*\)\.c$/\1/p' | sort -n)
if [ -z "$readme_blocks" ]; then
    echo "check-man-examples: README.md has no \`\`\`c block" >&2
    fail=1
fi
libdir=
[ -n "$lib" ] && libdir=$(cd "$(dirname "$lib")" && pwd)
for n in $readme_blocks; do
    name=readme-$n
    [ -s "$scratch/readme/$n.name" ] && name=$(cat "$scratch/readme/$n.name")
    src="$scratch/readme/$name.c"
    mv "$scratch/readme/$n.c" "$src"
    compile "$src" "the C example $name.c of README.md"
    programs=$((programs + 1))
    if [ -z "$lib" ] || [ "$fail" != 0 ]; then
        continue
    fi
    link=$lib
    if grep -q '^#include <dcmmcm/media.h>' "$src"; then
        [ -n "$media_lib" ] || { echo "check-man-examples: $name.c of README.md needs libdcmmcm-media" >&2; fail=1; continue; }
        link="$media_lib $lib"
    fi
    if ! $cc $cflags -o "$scratch/readme/$name" "$src" $link 2>"$scratch/errors"; then
        echo "check-man-examples: the C example $name.c of README.md does not link:" >&2
        sed 's/^/  /' "$scratch/errors" >&2
        fail=1
        continue
    fi
    [ -e "$scratch/readme/$n.expected" ] || continue
    if ! LD_LIBRARY_PATH="$libdir" "$scratch/readme/$name" > "$scratch/readme/$name.out"; then
        echo "check-man-examples: the C example $name.c of README.md exits with a failure" >&2
        fail=1
    elif ! diff -u "$scratch/readme/$n.expected" "$scratch/readme/$name.out" >&2; then
        echo "check-man-examples: the C example $name.c of README.md prints something else than README.md says" >&2
        fail=1
    fi
done

# One image of a CT or MR study (KIND), made with DCMTK's dump2dcm: the attributes a DICOMDIR needs
# and 2 x 2 pixels.
write_image() { # write_image KIND NUMBER PATH
    if [ "$1" = CT ]; then class=CTImageStorage; else class=MRImageStorage; fi
    {
        echo "(0008,0005) CS [ISO_IR 100]"
        echo "(0008,0016) UI =$class"
        echo "(0008,0018) UI [1.2.826.0.1.3680043.10.1.1.$2]"
        echo "(0008,0020) DA [20261125]"
        echo "(0008,0030) TM [101500]"
        echo "(0008,0050) SH [ACC1]"
        echo "(0008,0060) CS [$1]"
        echo "(0010,0010) PN [Doe^Jane]"
        echo "(0010,0020) LO [PID1]"
        echo "(0020,000d) UI [1.2.826.0.1.3680043.10.1]"
        echo "(0020,000e) UI [1.2.826.0.1.3680043.10.1.$2]"
        echo "(0020,0010) SH [1]"
        echo "(0020,0011) IS [$2]"
        echo "(0020,0013) IS [1]"
        echo "(0028,0002) US 1"
        echo "(0028,0004) CS [MONOCHROME2]"
        echo "(0028,0010) US 2"
        echo "(0028,0011) US 2"
        echo "(0028,0100) US 16"
        echo "(0028,0101) US 12"
        echo "(0028,0102) US 11"
        echo "(0028,0103) US 0"
        echo '(7fe0,0010) OW 0000\0100\0200\0300'
    } > "$3.dump"
    dump2dcm +te "$3.dump" "$3" > /dev/null
}

# The README's SCP (mcm-publisher) on a free port in an empty directory, and its SCU (mcm-send)
# sending it a CT and an MR image: the SCU must end DONE with one volume, the SCP must have written
# the volume's ISO image, and SIGINT must stop the SCP with exit status 0.
run_readme_pair() {
    dir="$scratch/readme/run"
    mkdir "$dir"
    write_image CT 1 "$dir/ct.dcm" && write_image MR 2 "$dir/mr.dcm" || return 1
    (cd "$dir" && LD_LIBRARY_PATH="$libdir" exec ../mcm-publisher 0 > port.txt 2> scp.log) &
    scp_pid=$!
    port=
    tries=0
    while [ $tries -lt 100 ]; do
        port=$(sed -n 's/^listening on port \([0-9][0-9]*\)$/\1/p' "$dir/port.txt" 2>/dev/null)
        [ -n "$port" ] && break
        kill -0 $scp_pid 2>/dev/null || break
        sleep 0.1
        tries=$((tries + 1))
    done
    if [ -z "$port" ]; then
        echo "check-man-examples: mcm-publisher (README.md) did not start:" >&2
        sed 's/^/  /' "$dir/scp.log" >&2
        kill -INT $scp_pid 2>/dev/null
        wait $scp_pid
        return 1
    fi
    status=0
    LD_LIBRARY_PATH="$libdir" "$scratch/readme/mcm-send" 127.0.0.1 "$port" "$dir/ct.dcm" "$dir/mr.dcm" \
        > "$dir/send.out" 2> "$dir/send.err" || status=$?
    # SIGINT, as Ctrl-C would send it. A background job of a shell without job control starts with
    # SIGINT ignored, so only the program's own handler makes it stop: give it 30 s, then kill it.
    kill -INT $scp_pid
    tries=0
    while kill -0 $scp_pid 2>/dev/null && [ $tries -lt 300 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    kill -KILL $scp_pid 2>/dev/null
    scp_status=0
    wait $scp_pid || scp_status=$?
    if [ $status != 0 ] || ! grep -q ': DONE NORMAL, 2 pieces$' "$dir/send.out" ||
        ! grep -q '^  volume 1: File-set ID ' "$dir/send.out" || ! ls "$dir"/media/*/VOL001.iso > /dev/null 2>&1; then
        echo "check-man-examples: mcm-send did not make media with mcm-publisher (README.md; exit $status):" >&2
        cat "$dir/send.out" "$dir/send.err" "$dir/scp.log" | sed 's/^/  /' >&2
        return 1
    fi
    if [ $scp_status != 0 ]; then
        echo "check-man-examples: mcm-publisher (README.md) did not stop with status 0 on SIGINT ($scp_status)" >&2
        return 1
    fi
    echo "check-man-examples: README.md's mcm-send made media with README.md's mcm-publisher"
}
if [ -n "$lib" ] && [ "$fail" = 0 ]; then
    if [ -x "$scratch/readme/mcm-publisher" ] && [ -x "$scratch/readme/mcm-send" ]; then
        run_readme_pair || fail=1
    else
        echo "check-man-examples: README.md lacks the C examples mcm-publisher.c and mcm-send.c" >&2
        fail=1
    fi
fi

[ "$fail" = 0 ] || exit 1
echo "check-man-examples: every SYNOPSIS and $programs example programs compile against include/"
