#!/bin/sh
# build-aux/check-headers.sh BUILD: every public header compiles alone as strict C11 (and as C++17),
# without any other library's header.
set -eu
build=$1
dir=$build/header-check
mkdir -p "$dir"
n=0
for h in include/dcmmcm.h include/dcmmcm/*.h; do
    name=$(echo "$h" | sed 's|^include/||')
    printf '#include <%s>\nint main(void) { return 0; }\n' "$name" > "$dir/t.c"
    ${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -c -o "$dir/t.o" "$dir/t.c"
    cp "$dir/t.c" "$dir/t.cc"
    ${CXX:-c++} -std=c++17 -pedantic -Wall -Wextra -Werror -Iinclude -c -o "$dir/t.o" "$dir/t.cc"
    if grep -n 'dcmtk\|sqlite' "$h" | grep -v '^\S*:\s*\*\|DCMTK' | grep -q '#include'; then
        echo "check-headers: $h includes another library's header" >&2; exit 1
    fi
    n=$((n + 1))
done
echo "check-headers: $n public headers compile alone as C11 and C++17"
