#!/bin/sh
# build-aux/check-layers.sh [-v] [-s SRCDIR] OBJECT...: prove from the objects' own symbol tables that
# data flows one way through the library's folders (issue 8, README "Layout").
#
# Each OBJECT belongs to the folder that follows the last "lib/" of its path (build/obj/lib/scp/
# service.o is in "scp", .../lib/dcmtk/media/dicomdir.o in "dcmtk/media"). `nm` gives every
# object's strong definitions and its undefined references; a reference that another OBJECT
# defines is an edge from the one object to the other (mcm_ names and C++'s mangled ones alike).
# The check fails, printing what it found, when:
#   1. the edges make a circle of objects (printed as a -> b -> a, with a symbol for each edge);
#   2. an edge leaves its folder other than by a row of the table below, or a row's "through"
#      restriction (a header whose names the edge may use, or the one source file it may reach);
#      lib/core may reach nothing outside itself; or an edge inside a folder leaves the folder's
#      base (a "base" row: the files at its bottom, which may call only one another there);
#   3. an undefined mcm_ name is defined by none of the OBJECTs (an incomplete object list would
#      otherwise hide an edge), or an object's folder has no row (a new folder must be placed);
#   4. a C/C++ file of SRCDIR's lib/ outside lib/dcmtk, include/ or examples/ includes a DCMTK
#      header, itself or through any of our headers (lib/dcmtk's included). tests/ may include
#      DCMTK: its peers are real DCMTK programs.
# The Makefile passes the objects of libdcmmcm and of libdcmmcm-media; test-check-layers.sh proves
# that each failure is caught, on tiny objects built for it. -v lists every edge ("a.o -> b.o:
# symbol"). Exit 0 clean, 1 a violation, 2 misuse.
set -eu

# The allowed folder edges: "from to [through]". A folder reaches itself freely; nothing else
# unless listed. "through" is a path under SRCDIR: a .h (only the mcm_ names it declares) or a
# .c/.cc (only the object built from it). "base FOLDER NAME...": inside FOLDER, the objects so named
# (without .o; a trailing * matches any ending) call only one another: lib/scp's runtime below the
# service (the workers, retention, the job store and its back ends, the media context, the options)
# never calls the service's files (lib/scp/service_internal.h).
table='
base scp     worker* retention* store* media_context* options*
core
scp          core
dcmtk        core
dcmtk        scp           lib/scp/service.h
scu          core
scu          dcmtk
dcmtk/media  core
media        core
media        scp           lib/scp/media_context.c
media        dcmtk/media
'

srcdir=.
verbose=0
while getopts s:v option; do
    case "$option" in
    s) srcdir=$OPTARG ;;
    v) verbose=1 ;;
    *) echo "usage: check-layers.sh [-v] [-s SRCDIR] OBJECT..." >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
    echo "usage: check-layers.sh [-v] [-s SRCDIR] OBJECT..." >&2
    exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# "through" headers: the mcm_ names each declares, as "header name" lines.
: > "$work/through"
for header in $(printf '%s\n' "$table" | awk 'NF == 3 && $3 ~ /\.h$/ {print $3}' | sort -u); do
    if [ ! -f "$srcdir/$header" ]; then
        echo "check-layers: the table names $header, which is not in $srcdir" >&2
        exit 2
    fi
    grep -o 'mcm_[A-Za-z0-9_]*' "$srcdir/$header" | sort -u | sed "s|^|$header |" >> "$work/through"
done

# Symbols: "object D|U|W name". Upper-case types other than U, W and V are strong definitions;
# W/V (weak: C++ inline functions and templates, defined in every object that uses them) resolve
# a name but make no edge; lower-case ones are local.
for object in "$@"; do
    if [ ! -f "$object" ]; then
        echo "check-layers: no object $object" >&2
        exit 2
    fi
    nm -P "$object" | awk -v object="$object" '
        NF >= 2 && $2 == "U" { print object, "U", $1; next }
        NF >= 2 && ($2 == "W" || $2 == "V") { print object, "W", $1; next }
        NF >= 2 && $2 ~ /^[A-Z]$/ { print object, "D", $1 }'
done > "$work/symbols"

status=0

printf '%s\n' "$table" | awk -v through_file="$work/through" -v verbose="$verbose" '
function folder_of(path,    f) {
    if (!match(path, /(^|\/)lib\/.*$/))
        return ""
    f = substr(path, RSTART, RLENGTH)
    sub(/^\/?lib\//, "", f)
    if (f !~ /\//)
        return ""
    sub(/\/[^\/]*$/, "", f)
    return f
}
function in_base(f, path,    i, s) {
    s = stem(path)
    for (i = 1; i <= base_count[f]; i++)
        if (s ~ base_pattern[f, i])
            return 1
    return 0
}
function stem(path,    s) {
    s = path
    sub(/^.*\//, "", s)
    sub(/\.o$/, "", s)
    return s
}
function short(path,    s) {
    s = path
    if (match(s, /(^|\/)lib\/.*$/)) {
        s = substr(s, RSTART, RLENGTH)
        sub(/^\//, "", s)
    }
    return s
}
# Depth-first search; a grey target closes a circle, printed from the stack.
function visit(u,    i, v, k, line) {
    colour[u] = 1
    stack[++depth] = u
    for (i = 1; i <= out_count[u]; i++) {
        v = out[u, i]
        if (colour[v] == 1) {
            line = ""
            for (k = depth; k >= 1 && stack[k] != v; k--)
                ;
            for (; k <= depth; k++)
                line = line short(stack[k]) " -(" via[stack[k], (k < depth ? stack[k + 1] : v)] ")-> "
            print "check-layers: circle of objects: " line short(v) > "/dev/stderr"
            circles++
        } else if (colour[v] == 0) {
            visit(v)
        }
    }
    depth--
    colour[u] = 2
}
FILENAME == "-" {
    if (NF == 0)
        next
    if ($1 == "base") {
        for (i = 3; i <= NF; i++) {
            pattern = $i
            gsub(/[.]/, "[.]", pattern)
            sub(/[*]$/, ".*", pattern)
            base_pattern[$2, ++base_count[$2]] = "^" pattern "$"
        }
        base_list[$2] = (NF >= 3 ? $3 : "")
        for (i = 4; i <= NF; i++)
            base_list[$2] = base_list[$2] ", " $i
        next
    }
    has_row[$1] = 1
    if (NF >= 2)
        allowed[$1, $2] = NF >= 3 ? $3 : "*"
    next
}
FILENAME == through_file { declared[$1, $2] = 1; next }
{
    object = $1
    if (!(object in seen)) {
        seen[object] = 1
        order[++objects] = object
    }
    if ($2 == "D") {
        if ($3 in defined_by && defined_by[$3] != object)
            twice[$3] = defined_by[$3] " and " object
        defined_by[$3] = object
    } else if ($2 == "W") {
        weak[$3] = 1
    } else {
        refs[++ref_count] = object SUBSEP $3
    }
}
END {
    bad = 0
    for (i = 1; i <= objects; i++) {
        f = folder_of(order[i])
        if (f == "") {
            print "check-layers: " order[i] " is not under a lib/FOLDER/ directory" > "/dev/stderr"
            bad++
        } else if (!(f in has_row)) {
            print "check-layers: folder lib/" f " (" short(order[i]) ") has no row in the table of layers" > "/dev/stderr"
            bad++
        }
        folder[order[i]] = f
    }
    for (name in twice)
        print "check-layers: " name " is defined by both " twice[name] > "/dev/stderr"
    edges = 0
    for (r = 1; r <= ref_count; r++) {
        split(refs[r], part, SUBSEP)
        from = part[1]; name = part[2]
        if (!(name in defined_by)) {
            if (name ~ /^mcm_/ && !(name in weak)) {
                print "check-layers: " short(from) " references " name ", which none of the objects defines" > "/dev/stderr"
                bad++
            }
            continue
        }
        to = defined_by[name]
        if (to == from)
            continue
        if (!((from, to) in via)) {
            via[from, to] = name
            out[from, ++out_count[from]] = to
            edges++
            if (verbose)
                print short(from) " -> " short(to) ": " name
        }
        f = folder[from]; t = folder[to]
        if (f == t && f != "" && in_base(f, from) && !in_base(f, to)) {
            print "check-layers: " short(from) " calls " name " of " short(to) ": the base of lib/" f " (" \
                  base_list[f] ") calls no other file of it" > "/dev/stderr"
            bad++
            continue
        }
        if (f == t || f == "" || t == "")
            continue
        if (!((f, t) in allowed)) {
            why = f == "core" ? "lib/core may call nothing outside itself" : "lib/" f " may not call lib/" t
            print "check-layers: " short(from) " calls " name " of " short(to) ": " why > "/dev/stderr"
            bad++
            continue
        }
        through = allowed[f, t]
        if (through ~ /\.h$/ && !((through, name) in declared)) {
            print "check-layers: " short(from) " calls " name " of " short(to) ": lib/" f " may call lib/" t \
                  " only through " through > "/dev/stderr"
            bad++
        } else if (through ~ /\.cc?$/) {
            target = through
            sub(/\.cc?$/, ".o", target)
            if (substr(to, length(to) - length(target) + 1) != target) {
                print "check-layers: " short(from) " calls " name " of " short(to) ": lib/" f " may call lib/" t \
                      " only in " through > "/dev/stderr"
                bad++
            }
        }
    }
    circles = 0
    for (i = 1; i <= objects; i++)
        if (colour[order[i]] == 0)
            visit(order[i])
    if (bad > 0 || circles > 0)
        exit 1
    print "check-layers: " objects " objects, " edges " edges between them: no circle, every edge allowed"
}' - "$work/through" "$work/symbols" || status=1

# DCMTK headers. Every C/C++ file of lib/ outside lib/dcmtk, include/ and examples/ is followed
# through the headers it includes (resolved as the compiler does with -Iinclude -Ilib: beside the
# file, then lib/, then include/), into lib/dcmtk too: an #include of dcmtk/... that is none of our
# files (lib/dcmtk/*.h, "dcmtk/FILE.h" and "dcmtk/media/FILE.h") is DCMTK's. (The Makefile's .d
# files cannot say: -MMD leaves out headers from system directories, DCMTK's among them.)
(cd "$srcdir" && find lib include examples -type f \( -name '*.c' -o -name '*.cc' -o -name '*.h' \) \
    -not -path 'lib/dcmtk/*' 2>/dev/null | sort) > "$work/sources"
awk -v srcdir="$srcdir" '
function readable(path,    line, r) {
    if (path in known)
        return known[path]
    r = (getline line < (srcdir "/" path)) >= 0
    if (r)
        close(srcdir "/" path)
    known[path] = r
    return r
}
function normal(path,    n, i, part, out, k) {
    n = split(path, part, "/")
    k = 0
    for (i = 1; i <= n; i++) {
        if (part[i] == "." || part[i] == "")
            continue
        if (part[i] == ".." && k > 0) {
            k--
            continue
        }
        out[++k] = part[i]
    }
    path = ""
    for (i = 1; i <= k; i++)
        path = path (i > 1 ? "/" : "") out[i]
    return path
}
# Follow file (a path under srcdir); origin is the file of the starting set, chain how we got here.
function follow(file, origin, chain,    line, name, quoted, dir, candidate) {
    if ((origin, file) in visited)
        return
    visited[origin, file] = 1
    dir = file
    if (!sub(/\/[^\/]*$/, "", dir))
        dir = "."
    while ((getline line < (srcdir "/" file)) > 0) {
        if (line !~ /^[ \t]*#[ \t]*include[ \t]*[<"]/)
            continue
        name = line
        sub(/^[ \t]*#[ \t]*include[ \t]*/, "", name)
        quoted = substr(name, 1, 1) == "\""
        name = substr(name, 2)
        sub(/[>"].*$/, "", name)
        candidate = ""
        if (quoted && readable(normal(dir "/" name)))
            candidate = normal(dir "/" name)
        else if (readable("lib/" name))
            candidate = "lib/" name
        else if (readable("include/" name))
            candidate = "include/" name
        if (candidate != "") {
            follow(candidate, origin, chain " -> " candidate)
        } else if (name ~ /^dcmtk\//) {
            print "check-layers: " origin " is outside lib/dcmtk but includes DCMTK header " name \
                  (chain != "" ? " (through" chain ")" : "") > "/dev/stderr"
            bad++
        }
    }
    close(srcdir "/" file)
}
{ follow($0, $0, "") }
END { exit bad > 0 }' "$work/sources" || status=1

exit $status
