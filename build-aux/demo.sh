#!/bin/sh
# build-aux/demo.sh BUILD: `make demo`. Starts mcmscp on a free port of 127.0.0.1 in a new
# temporary directory, writes a small CT and MR study there (BUILD/demo-study), makes a CD image of
# it with mcmscu, stops the mcmscp it started, and shows what came back: where the ISO image, the
# DICOMDIR and the label are, the DICOMDIR's records, the image's files, dciodvfy's verdict on the
# DICOMDIR and the SHA-256 manifest checked. Leaves everything in the directory it names.
# Needs what `build-aux/deps.sh media` checks; runs as any user (nothing outside that directory).
set -eu
build=${1:?usage: demo.sh BUILD}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(now_ms)

dir=$(mktemp -d "${TMPDIR:-/tmp}/dcmmcm-demo.XXXXXX")
mkdir "$dir/scp"
scp_pid=""
stop_scp() {
    [ -n "$scp_pid" ] || return 0
    kill -TERM "$scp_pid" 2>/dev/null || true
    scp_status=0
    wait "$scp_pid" || scp_status=$?
    scp_pid=""
}
fail() {
    echo "make demo: $*" >&2
    echo "make demo: everything so far is in $dir (mcmscp's log: $dir/scp/mcmscp.log)" >&2
    exit 1
}
trap stop_scp EXIT
trap 'exit 130' INT TERM

echo "== 1. a study: one patient, a head CT (12 images) and a brain MR (8 images)"
"$build/demo-study" "$dir/study"

echo "== 2. mcmscp, a media creation SCP, on a free port of 127.0.0.1"
"$build/mcmscp" --bind 127.0.0.1 --storage "$dir/scp/instances" --output "$dir/media" \
    --db "$dir/scp/jobs.sqlite" 0 > "$dir/scp/listening" 2> "$dir/scp/mcmscp.log" &
scp_pid=$!
# mcmscp prints "mcmscp: listening on ADDRESS port PORT as AETITLE" once it accepts connections.
port=""
tries=0
while [ -z "$port" ]; do
    port=$(sed -n 's/^mcmscp: listening on .* port \([0-9]*\) as .*/\1/p' "$dir/scp/listening")
    [ -n "$port" ] && break
    kill -0 "$scp_pid" 2>/dev/null || { scp_pid=""; fail "mcmscp did not start: $(cat "$dir/scp/mcmscp.log")"; }
    tries=$((tries + 1))
    [ $tries -lt 200 ] || fail "mcmscp printed no listening line within 10 s"
    sleep 0.05
done
cat "$dir/scp/listening"

echo "== 3. mcmscu sends the study, creates a media creation request, initiates it and waits"
t1=$(now_ms)
rc=0
"$build/mcmscu" -aet DEMO --label "dcmmcm demo" --fileset-id DEMO_HEAD --timeout 50 \
    127.0.0.1 "$port" "$dir/study" > "$dir/mcmscu.txt" || rc=$?
t2=$(now_ms)
cat "$dir/mcmscu.txt"
[ $rc -eq 0 ] || fail "mcmscu failed with exit code $rc"

echo "== 4. mcmscp stops on SIGTERM"
stop_scp
[ "$scp_status" -eq 0 ] || fail "mcmscp exited with $scp_status after SIGTERM"
tail -n 1 "$dir/scp/mcmscp.log"

uid=$(sed -n 's/^request //p' "$dir/mcmscu.txt")
job="$dir/media/$uid"
iso="$job/VOL001.iso"
[ -f "$iso" ] || fail "no image at $iso"

echo "== 5. what is on the disc image"
# The whole image read back, as a reader of the disc would see it.
xorriso -osirrox on -indev "$iso" -extract / "$dir/disc" > "$dir/xorriso.log" 2>&1 ||
    fail "xorriso cannot read $iso (see $dir/xorriso.log)"
chmod -R u+w "$dir/disc"
echo "  files:"
(cd "$dir/disc" && find . -type f | sort | sed 's|^\./||' |
    awk -F/ '{ d = $0; sub(/\/[^\/]*$/, "", d); if (d == $0) d = "";
               if (d != last) { if (n) print "    " last "/" first (n > 1 ? " .. " prev : "") " (" n " files)"; last = d; first = $NF; n = 0 }
               if (d == "") print "    " $0; else { n++; prev = $NF } }
               END { if (n) print "    " last "/" first (n > 1 ? " .. " prev : "") " (" n " files)" }')
echo "  records of the DICOMDIR:"
"$build/demo-study" --list "$dir/disc/DICOMDIR" | sed 's/^/  /'
errors=$(dciodvfy "$dir/disc/DICOMDIR" 2>&1 | grep -c '^Error' || true)
warnings=$(dciodvfy "$dir/disc/DICOMDIR" 2>&1 | grep -c '^Warning' || true)
[ "$errors" -eq 0 ] || fail "dciodvfy finds $errors errors in the DICOMDIR: dciodvfy $dir/disc/DICOMDIR"
echo "  dciodvfy (dicom3tools): no error in the DICOMDIR ($warnings warnings)"
(cd "$dir/disc" && sha256sum --quiet -c SHA256.TXT) || fail "the image's SHA256.TXT does not match its files"
echo "  sha256sum -c SHA256.TXT: every file of the image matches its manifest"

t3=$(now_ms)
size=$(wc -c < "$iso")
cat <<EOF

dcmmcm demo: 20 images became a CD image with a DICOMDIR and a label in $((t2 - t1)) ms
(mcmscu's whole workflow: C-STORE, N-CREATE, N-ACTION, N-GET; $((t3 - t0)) ms for the demo).

  ISO image:  $iso ($size bytes)
  DICOMDIR:   $dir/disc/DICOMDIR (the image's file-set, extracted from it)
  label:      $job/VOL001.png, VOL001.pdf, VOL001.json
  job:        $job/JOB.json
  logs:       $dir/scp/mcmscp.log

Look at the label: xdg-open $job/VOL001.png
Everything is in $dir; remove it with: rm -rf $dir
EOF
