#!/bin/sh
# build-aux/check-install.sh BUILD: install as a new user would and build programs out of tree with
# nothing but the installed .pc files. For the default PREFIX and for another one, each into a
# scratch DESTDIR (with PC_BUILD in the scratch directory, so that the build's own .pc files are
# left as they are):
# - the installed dcmmcm.pc and dcmmcm-media.pc name that PREFIX, and pkg-config --static --libs
#   dcmmcm names none of the media writer's libraries;
# - a program checking the version and a request's validation, and the README's SCU (mcm-send.c),
#   are built with `pkg-config --cflags --libs dcmmcm` against the shared library and run: the
#   SCU as far as connecting to a closed port, which must fail as the library says it does;
# - the same SCU is linked statically against libdcmmcm.a with `pkg-config --static` flags, the
#   system libraries shared, and must run without the shared libdcmmcm (and fully -static, if every
#   library has a static archive here: Debian 12 has none for DCMTK, then that step says so);
# - a small program using libdcmmcm-media is built and run both ways (`pkg-config dcmmcm-media`);
# then uninstall, which must leave nothing behind.
set -eu
build=$(cd "$1" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cc=${CC:-cc}
cflags="-std=c11 -Wall -Werror"
fail() { echo "check-install: $*" >&2; exit 1; }
own_pc_before=$(cat "$build/dcmmcm.pc" "$build/dcmmcm-media.pc" 2>/dev/null | cksum)

# The README's SCU, as make check's check-man-examples also builds it in the tree.
mkdir -p "$stage/src"
awk '/^```c$/ {on = 1; first = 1; next} /^```/ {on = 0}
     on && first {first = 0; keep = ($0 ~ /^\/\* mcm-send\.c:/)} on && keep' README.md > "$stage/src/mcm-send.c"
[ -s "$stage/src/mcm-send.c" ] || fail "README.md has no mcm-send.c"

cat > "$stage/src/app.c" <<'EOC'
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

# The media writer: refused options (its message set in libdcmmcm-media, read through libdcmmcm),
# then a writer for a real directory and its profiles.
cat > "$stage/src/media-app.c" <<'EOC'
#include <dcmmcm.h>
#include <dcmmcm/media.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    mcm_media_options media = MCM_MEDIA_OPTIONS_INIT;
    mcm_media_writer *writer;
    if (argc != 2 || mcm_media_writer_new(&writer, &media) != MCM_EINVAL)
        return 1;
    printf("%s\n", mcm_last_error());
    media.output_dir = argv[1];
    if (mcm_media_writer_new(&writer, &media) != MCM_OK) {
        fprintf(stderr, "%s\n", mcm_last_error());
        return 1;
    }
    printf("%s %d %d\n", mcm_version(), mcm_media_profile_supported("STD-GEN-CD"),
           mcm_media_profile_supported("STD-NOT-A-PROFILE"));
    mcm_media_writer_free(writer);
    return 0;
}
EOC

# A DICOM file for the SCU to propose (DCMTK's dump2dcm, as check-man-examples makes them).
printf '(0008,0016) UI =CTImageStorage\n(0008,0018) UI [1.2.826.0.1.3680043.10.1.1]\n' > "$stage/src/ct.dump"
dump2dcm +te "$stage/src/ct.dump" "$stage/src/ct.dcm" > /dev/null

# expect_scu_error BINARY [ENV...]: mcm-send on a closed port of 127.0.0.1 (1, tcpmux, which
# nothing serves) must fail to connect, with the library's message and exit status 3.
expect_scu_error() {
    bin=$1; shift
    status=0
    env "$@" "$bin" 127.0.0.1 1 "$stage/src/ct.dcm" > "$stage/out" 2>&1 || status=$?
    [ $status = 3 ] && grep -q '^127\.0\.0\.1:1 (MCMSCP): cannot connect' "$stage/out" ||
        fail "$bin (exit $status) did not fail to connect as expected: $(cat "$stage/out")"
}

# archives_for FLAGS: 0 if every -lNAME among FLAGS has a static archive, in a -L directory among
# FLAGS or where the compiler looks; the others are left in $missing.
archives_for() {
    missing=""
    dirs=""
    for flag in "$@"; do
        case "$flag" in -L*) dirs="$dirs ${flag#-L}" ;; esac
    done
    for flag in "$@"; do
        case "$flag" in
        -l*) name=lib${flag#-l}.a
             found=""
             for d in $dirs; do [ -f "$d/$name" ] && found=1; done
             [ -n "$found" ] || [ "$($cc -print-file-name="$name")" != "$name" ] || missing="$missing $name" ;;
        esac
    done
    [ -z "$missing" ]
}

n=0
for prefix in /usr/local /opt/dcmmcm; do
    n=$((n + 1))
    root="$stage/root$n"
    ${MAKE:-make} --no-print-directory -s BUILD="$build" PC_BUILD="$stage/pc$n" PREFIX="$prefix" DESTDIR="$root" \
        install >/dev/null
    pcdir="$root$prefix/lib/pkgconfig"
    for pc in dcmmcm dcmmcm-media; do
        [ -f "$pcdir/$pc.pc" ] || fail "make install PREFIX=$prefix installed no $pc.pc"
        grep -qx "prefix=$prefix" "$pcdir/$pc.pc" || fail "$pc.pc installed with PREFIX=$prefix says $(grep '^prefix=' "$pcdir/$pc.pc")"
    done
    export PKG_CONFIG_SYSROOT_DIR="$root"
    export PKG_CONFIG_PATH="$pcdir"
    libdir="$root$prefix/lib"
    app="$stage/app$n"
    mkdir -p "$app"

    flags=$(pkg-config --cflags --libs dcmmcm)
    static=$(pkg-config --static --libs dcmmcm)
    media_flags=$(pkg-config --cflags --libs dcmmcm-media)
    media_static=$(pkg-config --static --libs dcmmcm-media)
    version=$(pkg-config --modversion dcmmcm)
    for lib in cairo glib gobject pixman freetype isofs zint dcmjpeg dcmimage; do
        case " $static " in *" -l$lib"*) fail "pkg-config --static --libs dcmmcm names $lib: $static" ;; esac
    done

    # Shared: the request program and the README's SCU.
    (cd "$app" && $cc $cflags -o app "$stage/src/app.c" $flags && $cc $cflags -o mcm-send "$stage/src/mcm-send.c" $flags)
    result=$(LD_LIBRARY_PATH="$libdir" "$app/app")
    [ "$result" = "$version 0120 Missing Attribute" ] || fail "unexpected output '$result'"
    expect_scu_error "$app/mcm-send" LD_LIBRARY_PATH="$libdir"

    # Static libdcmmcm, the system libraries shared (README.md: Linking with pkg-config).
    (cd "$app" && $cc $cflags -o mcm-send-static "$stage/src/mcm-send.c" $(pkg-config --cflags dcmmcm) \
        -Wl,-Bstatic -ldcmmcm -Wl,-Bdynamic $static)
    ! objdump -p "$app/mcm-send-static" | grep -q 'NEEDED.*libdcmmcm' || fail "mcm-send-static needs the shared libdcmmcm"
    expect_scu_error "$app/mcm-send-static"
    # Fully static, where every library has an archive.
    if archives_for $static; then
        (cd "$app" && $cc $cflags -static -o mcm-send-full "$stage/src/mcm-send.c" $(pkg-config --static --cflags --libs dcmmcm))
        expect_scu_error "$app/mcm-send-full"
        full="fully static too"
    else
        full="fully static not possible here (no$missing)"
    fi

    # The media writer, shared and static.
    (cd "$app" && $cc $cflags -o media-app "$stage/src/media-app.c" $media_flags &&
        $cc $cflags -o media-app-static "$stage/src/media-app.c" $(pkg-config --cflags dcmmcm-media) \
            -Wl,-Bstatic -ldcmmcm-media -ldcmmcm -Wl,-Bdynamic $media_static)
    ! objdump -p "$app/media-app-static" | grep -q 'NEEDED.*libdcmmcm' || fail "media-app-static needs a shared libdcmmcm"
    expected="output_dir is required
$version 1 0"
    result=$(LD_LIBRARY_PATH="$libdir" "$app/media-app" "$app/media")
    [ "$result" = "$expected" ] || fail "media-app printed '$result'"
    result=$("$app/media-app-static" "$app/media-static")
    [ "$result" = "$expected" ] || fail "media-app-static printed '$result'"

    ${MAKE:-make} --no-print-directory -s BUILD="$build" PC_BUILD="$stage/pc$n" PREFIX="$prefix" DESTDIR="$root" \
        uninstall >/dev/null
    left=$(find "$root" -type f | head -5)
    [ -z "$left" ] || fail "uninstall left files behind: $left"
    echo "check-install: PREFIX=$prefix: DESTDIR install; README's SCU and a media program built out of tree" \
        "against the shared libraries and static libdcmmcm(-media).a with pkg-config --static flags, run;" \
        "$full; uninstall clean"
done
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH
[ "$(cat "$build/dcmmcm.pc" "$build/dcmmcm-media.pc" 2>/dev/null | cksum)" = "$own_pc_before" ] ||
    fail "the build's own .pc files changed"
echo "check-install: the build's own .pc files untouched"
