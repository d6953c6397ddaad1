#!/bin/sh
# bench_preview.sh — the dialog's preview latency in the real GIMP under
# Xvfb, on a 4000x3000 photo (the dune sample scaled up by GIMP): opens the
# dialog, then changes Vividness N times with the keyboard, 2 s apart, then
# places N points with a click each, 2 s apart, then drags the last one
# across the preview for about a second. The plug-in (COLORIZE_VERBOSE)
# reports when each pass is shown, measured from its start and from the
# change it shows (the key or the click, or for a drag the step it shows).
# Prints every report, the medians of the quick (working resolution 128)
# and the full (256) passes after a key, the medians from a click to the
# network's pass that shows it (the full one when the click's point could
# be carried over a full pass, else the quick one), from a drag step to
# the quick pass that shows it, and from a click and
# from a drag step to the points carried over the last pass (no network)
# on screen.
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
keys_end=$(wc -l <"$dir/log")
# the preview area's place in the dialog, logged by the plug-in
area=$(grep 'colorize-neural: preview area' "$dir/log" | tail -n 1 |
    sed 's/.*area \([0-9]*\)x\([0-9]*\) at (\([0-9]*\), \([0-9]*\)).*/\1 \2 \3 \4/')
set -- $area
cx=$(($3 + $1 / 2)) cy=$(($4 + $2 / 2))
i=0
while [ $i -lt "$changes" ]; do
    xdotool mousemove --sync --window "$id" $((cx - 90 + 30 * i)) $((cy - 60 + 20 * (i % 3))) click 1
    sleep 2
    i=$((i + 1))
done
clicks_end=$(wc -l <"$dir/log")
x=$((cx - 90 + 30 * (i - 1))) y=$((cy - 60 + 20 * ((i - 1) % 3)))
xdotool mousemove --sync --window "$id" $x $y mousedown 1
for step in $(seq 1 20); do
    xdotool mousemove --window "$id" $((x + 4 * step)) $((y + 2 * step))
    sleep 0.05
done
xdotool mouseup 1
sleep 2
grep "^colorize-neural: preview\|released after" "$dir/log"
median() { sort -n | awk -v what="$1" '{v[NR] = $1} END {if (NR) print "median " what ": " v[int((NR + 1) / 2)] " ms over " NR " passes"}'; }
for res in 128 256; do
    head -n "$keys_end" "$dir/log" | grep "preview pass (.*) at resolution $res shown" |
        sed 's/.*shown after \([0-9.]*\) ms.*/\1/' | median "preview pass at resolution $res, from its start"
done
sed -n "$((keys_end + 1)),${clicks_end}p" "$dir/log" | grep 'preview pass (.*).*after the change' |
    sed 's/.*, \([0-9.]*\) ms after the change.*/\1/' | median "network pass from the click that placed a point"
sed -n "$((keys_end + 1)),${clicks_end}p" "$dir/log" | grep 'preview points carried.*after the change' |
    sed 's/.*, \([0-9.]*\) ms after the change.*/\1/' | median "a new point guessed and carried over the last pass, from the click"
sed -n "$((clicks_end + 1)),\$p" "$dir/log" | grep 'preview pass (quick).*after the change' |
    sed 's/.*, \([0-9.]*\) ms after the change.*/\1/' | median "quick pass from the drag step it shows"
sed -n "$((clicks_end + 1)),\$p" "$dir/log" | grep 'preview points carried.*after the change' |
    sed 's/.*, \([0-9.]*\) ms after the change.*/\1/' | median "the dragged point carried over the last pass, from the drag step"
