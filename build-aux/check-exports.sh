#!/bin/sh
# build-aux/check-exports.sh LIB...: for each shared library LIB (libNAME.so.VERSION): fail unless
# every symbol it exports is an mcm_ symbol and its soname is libNAME.so.MAJOR; and, across them,
# unless each mcm_ symbol is exported by one library only. libdcmmcm itself must need none of the
# media writer's libraries (cairo and what it pulls, libisofs, zint): those belong to
# libdcmmcm-media, so that a program writing no media does not load them.
set -eu
all=""
for lib in "$@"; do
    bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^mcm_' || true)
    if [ -n "$bad" ]; then
        echo "check-exports: $lib exports symbols outside the mcm_ prefix:" >&2
        echo "$bad" | sed 's/^/  /' >&2
        exit 1
    fi
    count=$(nm -D --defined-only "$lib" | grep -c ' mcm_' || true)
    [ "$count" -gt 0 ] || { echo "check-exports: $lib exports no mcm_ symbol" >&2; exit 1; }
    name=$(basename "$lib" | sed 's/\.so\..*//')
    soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
    case "$soname" in
    "$name".so.[0-9]*) ;;
    *) echo "check-exports: $lib: unexpected soname '$soname' (expected $name.so.MAJOR)" >&2; exit 1 ;;
    esac
    if [ "$name" = libdcmmcm ]; then
        media=$(ldd "$lib" | awk '{print $1}' |
            grep -E '^lib(cairo|glib|gobject|pixman|freetype|fontconfig|png|isofs|zint|dcmjpeg|dcmjpls|dcmimage)' || true)
        if [ -n "$media" ]; then
            echo "check-exports: $lib needs the media writer's libraries:" $media >&2
            exit 1
        fi
    fi
    all="$all $(nm -D --defined-only "$lib" | awk '{print $3}')"
    echo "check-exports: $(basename "$lib"): $count mcm_ symbols, soname $soname, nothing else exported"
done
twice=$(echo "$all" | tr ' ' '\n' | grep . | sort | uniq -d)
if [ -n "$twice" ]; then
    echo "check-exports: symbols exported by more than one library:" $twice >&2
    exit 1
fi
