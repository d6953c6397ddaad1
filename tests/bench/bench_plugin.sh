#!/bin/sh
# bench_plugin.sh — times the plug-in in gimp-console on a 4000×3000
# grayscale photo at the default working resolution, excluding GIMP's start:
# the plug-in reports its own time and peak memory (COLORIZE_VERBOSE).
# Usage: tests/bench/bench_plugin.sh BUILD_DIR [runs]
set -eu
build=${1:-build} runs=${2:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/profile/plug-ins/colorize-neural" "$dir/profile/gradients"
cp "$build/plugin/colorize-neural" data/colorize-cifar10.weights "$dir/profile/plug-ins/colorize-neural/"
# a 4000x3000 gray photo: the dune sample, scaled up by GIMP itself
cmds=""
i=0
while [ $i -lt "$runs" ]; do
    cmds="$cmds (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"data/samples/dune.png\" \"dune.png\"))) (layer (car (gimp-image-get-active-layer image)))) (gimp-image-scale image 4000 3000) (plug-in-nn-colorize RUN-NONINTERACTIVE image layer \"\" 0.5 1.0 256 -1) (gimp-image-delete image))"
    i=$((i + 1))
done
COLORIZE_VERBOSE=1 GIMP2_DIRECTORY="$dir/profile" gimp-console-2.10 -i -d -f -b "(begin $cmds)" -b '(gimp-quit 0)' 2>&1 |
    grep '^colorize-neural:' | tee "$dir/times"
echo "image buffers: 4000x3000 gray 8-bit source 12 MB; after the RGB conversion 36 MB, plus the new layer's 36 MB"
sort -t: -k2 "$dir/times" | awk -v n="$runs" 'NR == int((n + 1) / 2) {print "median run:" substr($0, index($0, ":") + 1)}'
