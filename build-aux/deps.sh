#!/bin/sh
# build-aux/deps.sh KIND: make sure what KIND (build, check, valgrind, media) needs is on this
# machine. Each need is checked by what it is (pkg-config module, header, command), not by a
# package manager. Missing ones are installed with apt-get when running as root on Debian;
# otherwise one line names the exact apt-get command and the script fails. No silent fallbacks.
set -u
kind=${1:-build}
missing=""

need() { # need PACKAGE TEST...
    pkg=$1; shift
    if ! "$@" >/dev/null 2>&1; then
        case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
    fi
}
have_cmd() { command -v "$1"; }
have_pc() { command -v pkg-config && pkg-config --exists "$1"; }
have_cxx_header() { printf '#include <%s>\n' "$1" | ${CXX:-c++} -x c++ -std=c++17 -E - ; }

need make have_cmd make
need gcc have_cmd cc
need g++ have_cmd c++
need pkg-config have_cmd pkg-config
need libsqlite3-dev have_pc sqlite3
need libdcmtk-dev have_cxx_header dcmtk/dcmnet/assoc.h
# The media writer is part of the library: every kind needs its libraries.
need libisofs-dev have_pc libisofs-1
need libcairo2-dev have_pc cairo
need libzint-dev test -f /usr/include/zint.h
case "$kind" in
check|valgrind|media)
    need dicom3tools have_cmd dciodvfy
    need xorriso have_cmd xorriso
    ;;
esac
case "$kind" in
check|valgrind)
    need check have_pc check
    need dcmtk have_cmd storescu
    need mandoc have_cmd mandoc
    need binutils have_cmd nm
    ;;
esac
case "$kind" in
valgrind) need valgrind have_cmd valgrind ;;
esac

[ -z "$missing" ] && exit 0
missing=${missing# }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "dcmmcm: installing missing packages: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
        echo "dcmmcm: apt-get install $missing failed" >&2; exit 1; }
    exit 0
fi
echo "dcmmcm: missing dependencies; install them with: sudo apt-get install -y $missing" >&2
exit 1
