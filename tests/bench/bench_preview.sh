#!/bin/sh
# bench_preview.sh — the dialog's preview latency in the real GIMP under
# Xvfb, on a 4000x3000 photo (the dune sample scaled up by GIMP): opens the
# dialog, then changes Vividness N times with the keyboard, 2 s apart; the
# plug-in (COLORIZE_VERBOSE) reports when each pass is shown, measured from
# the request. Prints every report and the medians of the quick (working
# resolution 128) and the full (256) passes.
# Usage: xvfb-run -a -s "-screen 0 1280x1024x24" tests/bench/bench_preview.sh BUILD_DIR [changes]
set -eu
build=${1:-build} changes=${2:-7}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
mkdir -p "$dir/profile/plug-ins/colorize-neural" "$dir/profile/gradients" "$dir/profile/brushes" "$dir/profile/patterns"
printf '(show-tips no)\n(restore-session no)\n' >"$dir/profile/gimprc"
cp "$build/plugin/colorize-neural" data/colorize-cifar10.weights "$dir/profile/plug-ins/colorize-neural/"
COLORIZE_VERBOSE=1 GIMP2_DIRECTORY="$dir/profile" gimp-2.10 -n -d -f -s -b "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"data/samples/dune.png\" \"dune.png\"))) (layer (car (gimp-image-get-active-layer image)))) (gimp-image-scale image 4000 3000) (plug-in-nn-colorize RUN-INTERACTIVE image layer \"\" 0.5 1.0 256 -1))" >"$dir/log" 2>&1 &
pid=$!
id=
for i in $(seq 1 240); do
    id=$(xdotool search --onlyvisible --name '^Colorize .Neural.$' 2>/dev/null | head -n 1) || true
    [ -n "$id" ] && break
    sleep 0.5
done
[ -n "$id" ] || { echo "the dialog did not appear" >&2; exit 1; }
sleep 4 # the first passes, and the one-time fetch of the pixels
i=0
while [ $i -lt "$changes" ]; do
    xdotool windowfocus --sync "$id"
    xdotool key --clearmodifiers alt+v Up
    sleep 2
    i=$((i + 1))
done
grep '^colorize-neural: preview' "$dir/log"
for res in 128 256; do
    grep "preview pass at resolution $res shown" "$dir/log" | sed 's/.*after \([0-9.]*\) ms/\1/' | sort -n |
        awk -v r=$res '{v[NR] = $1} END {if (NR) print "median preview pass at resolution " r ": " v[int((NR + 1) / 2)] " ms over " NR " passes"}'
done
