#!/bin/sh
# build-aux/check-exports.sh LIB: fail unless every symbol LIB exports is an mcm_ symbol and the
# soname carries the major version.
set -eu
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^mcm_' || true)
if [ -n "$bad" ]; then
    echo "check-exports: $lib exports symbols outside the mcm_ prefix:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
count=$(nm -D --defined-only "$lib" | grep -c ' mcm_' || true)
[ "$count" -gt 0 ] || { echo "check-exports: $lib exports no mcm_ symbol" >&2; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
case "$soname" in
libdcmmcm.so.[0-9]*) ;;
*) echo "check-exports: unexpected soname '$soname'" >&2; exit 1 ;;
esac
echo "check-exports: $count mcm_ symbols, soname $soname, nothing else exported"
