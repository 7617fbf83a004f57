#!/bin/sh
# build-aux/test-check-layers.sh: prove that build-aux/check-layers.sh fails when it should. Each
# case compiles a few tiny C (or C++) files laid out as lib/FOLDER/NAME.c in a directory of its own,
# runs the check on their objects, and expects its exit status and, for a failure, the line that
# names it; two clean cases prove that it does not fail on everything. Uses CC and CXX.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
check=$here/check-layers.sh
CC=${CC:-cc}
CXX=${CXX:-c++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
cases=0

# new_case NAME: a fresh tree (with the lib/scp/service.h the table names) as $dir.
new_case() {
    dir=$work/$1
    mkdir -p "$dir/lib/scp"
    printf 'int mcm_service_open(void);\n' > "$dir/lib/scp/service.h"
    objects=""
}

# unit PATH CODE: write lib/PATH (.c or .cc) and compile it (-Ilib, as the Makefile does).
unit() {
    mkdir -p "$(dirname "$dir/lib/$1")"
    printf '%s\n' "$2" > "$dir/lib/$1"
    object=$dir/lib/${1%.*}.o
    case "$1" in
    *.cc) "$CXX" -std=c++17 -I"$dir/lib" -c -o "$object" "$dir/lib/$1" ;;
    *) "$CC" -std=c11 -I"$dir/lib" -c -o "$object" "$dir/lib/$1" ;;
    esac
    objects="$objects $object"
}

# expect STATUS [TEXT]: run the check on this case's objects; it must exit with STATUS and, if TEXT
# is given, print a line containing it.
expect() {
    cases=$((cases + 1))
    status=0
    # shellcheck disable=SC2086 # the object list is meant to split
    "$check" -s "$dir" $objects > "$dir/out" 2>&1 || status=$?
    if [ "$status" -ne "$1" ] || { [ $# -gt 1 ] && ! grep -qF -- "$2" "$dir/out"; }; then
        echo "test-check-layers: case $(basename "$dir"): expected exit $1${2:+ and \"$2\"}, got $status:" >&2
        sed 's/^/  /' "$dir/out" >&2
        failures=$((failures + 1))
    fi
}

new_case circle
unit core/a.c 'int mcm_b(void); int mcm_a(void) { return mcm_b(); }'
unit core/b.c 'int mcm_a(void); int mcm_b(void) { return mcm_a() + 1; }'
expect 1 "circle of objects: lib/core/a.o -(mcm_b)-> lib/core/b.o -(mcm_a)-> lib/core/a.o"

new_case circle_of_three
unit scp/a.c 'int mcm_b(void); int mcm_a(void) { return mcm_b(); }'
unit scp/b.c 'int mcm_c(void); int mcm_b(void) { return mcm_c(); }'
unit scp/c.c 'int mcm_a(void); int mcm_c(void) { return mcm_a(); }'
expect 1 "-(mcm_c)-> lib/scp/c.o -(mcm_a)-> lib/scp/a.o"

new_case clean_one_way
unit core/a.c 'int mcm_b(void); int mcm_a(void) { return mcm_b(); }'
unit core/b.c 'int mcm_b(void) { return 1; }'
unit scp/s.c 'int mcm_a(void); int mcm_s(void) { return mcm_a(); }'
unit dcmtk/d.c 'int mcm_service_open(void); int mcm_d(void) { return mcm_service_open(); }'
unit scp/service.c 'int mcm_s(void); int mcm_service_open(void) { return mcm_s(); }'
expect 0 "no circle, every edge allowed"

new_case clean_cxx
unit dcmtk/x.cc 'namespace mcm { int helper() { return 1; } }'
unit dcmtk/y.cc 'namespace mcm { int helper(); } extern "C" int mcm_y(void) { return mcm::helper(); }'
expect 0 "2 objects, 1 edges"

new_case cxx_circle
unit dcmtk/x.cc 'namespace mcm { int back(); int helper() { return back(); } }'
unit dcmtk/y.cc 'namespace mcm { int helper(); int back() { return 0; } int y() { return helper(); } }'
expect 1 "circle of objects"

new_case core_calls_out
unit core/a.c 'int mcm_s(void); int mcm_a(void) { return mcm_s(); }'
unit scp/s.c 'int mcm_s(void) { return 1; }'
expect 1 "lib/core/a.o calls mcm_s of lib/scp/s.o: lib/core may call nothing outside itself"

new_case folder_edge
unit scp/s.c 'int mcm_d(void); int mcm_s(void) { return mcm_d(); }'
unit dcmtk/d.c 'int mcm_d(void) { return 1; }'
expect 1 "lib/scp/s.o calls mcm_d of lib/dcmtk/d.o: lib/scp may not call lib/dcmtk"

new_case through_header
unit dcmtk/d.c 'int mcm_service_secret(void); int mcm_d(void) { return mcm_service_secret(); }'
unit scp/service.c 'int mcm_service_secret(void) { return 1; }'
expect 1 "lib/dcmtk may call lib/scp only through lib/scp/service.h"

new_case through_source
unit media/m.c 'int mcm_store_open(void); int mcm_m(void) { return mcm_store_open(); }'
unit scp/store.c 'int mcm_store_open(void) { return 1; }'
expect 1 "lib/media may call lib/scp only in lib/scp/media_context.c"

new_case base_calls_up
unit scp/worker.c 'void mcm_service_log(void); void mcm_w(void) { mcm_service_log(); }'
unit scp/reply.c 'void mcm_service_log(void) {}'
expect 1 "lib/scp/worker.o calls mcm_service_log of lib/scp/reply.o: the base of lib/scp"

new_case base_may_use_its_own
unit scp/worker.c 'int mcm_store_claim(void); int mcm_w(void) { return mcm_store_claim(); }'
unit scp/store.c 'int mcm_store_sqlite_claim(void); int mcm_store_claim(void) { return mcm_store_sqlite_claim(); }'
unit scp/store_sqlite.c 'int mcm_store_sqlite_claim(void) { return 1; }'
unit scp/service.c 'int mcm_w(void); int mcm_s(void) { return mcm_w(); }'
expect 0

new_case unresolved
unit core/a.c 'int mcm_nowhere(void); int mcm_a(void) { return mcm_nowhere(); }'
expect 1 "lib/core/a.o references mcm_nowhere, which none of the objects defines"

new_case unknown_folder
unit gui/g.c 'int mcm_g(void) { return 1; }'
expect 1 "folder lib/gui (lib/gui/g.o) has no row"

new_case dcmtk_header
unit scp/x.cc '#include <dcmtk/config/osconfig.h>
extern "C" int mcm_x(void) { return 1; }'
expect 1 "lib/scp/x.cc is outside lib/dcmtk but includes DCMTK header dcmtk/config/osconfig.h"

new_case dcmtk_header_in_a_header
unit scp/x.c 'int mcm_x(void) { return 1; }'
printf '#include "dcmtk/dcmnet/assoc.h"\n' > "$dir/lib/scp/x.h"
expect 1 "lib/scp/x.h is outside lib/dcmtk but includes DCMTK header dcmtk/dcmnet/assoc.h"

new_case dcmtk_header_through_ours
mkdir -p "$dir/lib/dcmtk" "$dir/lib/media"
printf '#include <dcmtk/dcmnet/assoc.h>\n' > "$dir/lib/dcmtk/transport.h"
printf '#include "scp/inner.h"\n' > "$dir/lib/media/outer.h"
printf '#include "../dcmtk/transport.h"\n' > "$dir/lib/scp/inner.h"
printf 'int mcm_w(void) { return 1; }\n' > "$dir/lib/media/w.c"
"$CC" -std=c11 -c -o "$dir/lib/media/w.o" "$dir/lib/media/w.c"
printf '#include "outer.h"\n' >> "$dir/lib/media/w.c" # after compiling: DCMTK is C++
objects=$dir/lib/media/w.o
expect 1 "lib/media/w.c is outside lib/dcmtk but includes DCMTK header dcmtk/dcmnet/assoc.h (through -> lib/media/outer.h -> lib/scp/inner.h -> lib/dcmtk/transport.h)"

new_case dcmtk_may
mkdir -p "$dir/lib/dcmtk/media" "$dir/lib/media"
printf '#include <stddef.h>\n' > "$dir/lib/dcmtk/media/dicomdir.h"
unit dcmtk/x.cc '#include <dcmtk/config/osconfig.h>
extern "C" int mcm_x(void) { return 1; }'
unit media/w.c '#include "dcmtk/media/dicomdir.h"
int mcm_w(void) { return 1; }'
expect 0

if [ "$failures" -gt 0 ]; then
    echo "test-check-layers: $failures of $cases cases failed" >&2
    exit 1
fi
echo "test-check-layers: $cases cases: check-layers.sh fails on each violation and passes clean trees"
