#!/bin/sh
# build-aux/check-install.sh BUILD: install into a scratch DESTDIR, then build and run a small
# program out of tree with nothing but `pkg-config --cflags --libs dcmmcm`; then uninstall and
# check that nothing is left behind.
set -eu
build=$(cd "$1" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
${MAKE:-make} --no-print-directory -s BUILD="$build" PREFIX=/usr DESTDIR="$stage/root" install >/dev/null
export PKG_CONFIG_SYSROOT_DIR="$stage/root"
export PKG_CONFIG_PATH="$stage/root/usr/lib/pkgconfig"
export PKG_CONFIG_LIBDIR="$stage/root/usr/lib/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig"
flags=$(pkg-config --cflags --libs dcmmcm)
version=$(pkg-config --modversion dcmmcm)
mkdir -p "$stage/app"
cat > "$stage/app/app.c" <<'EOC'
#include <dcmmcm.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    mcm_request *req;
    mcm_response rsp;
    if (mcm_request_new(&req) != MCM_OK) return 1;
    mcm_request_validate(req, 0, &rsp);
    printf("%s %04X %s\n", mcm_version(), rsp.status, mcm_status_name(rsp.status, MCM_OP_N_CREATE));
    mcm_request_free(req);
    return strcmp(mcm_version(), MCM_VERSION_STRING) != 0 || rsp.status != 0x0120;
}
EOC
(cd "$stage/app" && ${CC:-cc} -std=c11 -Wall -Werror -o app app.c $flags)
result=$(LD_LIBRARY_PATH="$stage/root/usr/lib" "$stage/app/app")
[ "$result" = "$version 0120 Missing Attribute" ] || { echo "check-install: unexpected output '$result'" >&2; exit 1; }
${MAKE:-make} --no-print-directory -s BUILD="$build" PREFIX=/usr DESTDIR="$stage/root" uninstall >/dev/null
left=$(find "$stage/root" -type f | head -5)
[ -z "$left" ] || { echo "check-install: uninstall left files behind: $left" >&2; exit 1; }
echo "check-install: DESTDIR install, out-of-tree pkg-config build ($flags) and uninstall work"
