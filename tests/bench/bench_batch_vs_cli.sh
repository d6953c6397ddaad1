#!/bin/sh
# bench_batch_vs_cli.sh — the README's batch example (gimp-console over the
# four sample photos) against `colorize-train colorize --out-dir` on the
# same photos with the same settings (installed model, vividness 0,
# saturation 1, resolution 256), run alternately in one run; wall time
# including each tool's start-up, as a user waits for it; medians. Then
# the largest and mean pixel difference between the two outputs of each
# photo (Debian's scikit-image).
# Usage: tests/bench/bench_batch_vs_cli.sh BUILD_DIR [runs]
set -eu
build=${1:-build} runs=${2:-3}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/profile/plug-ins/colorize-neural" "$dir/profile/gradients" "$dir/gimp" "$dir/cli"
cp "$build/plugin/colorize-neural" data/colorize-cifar10.weights "$dir/profile/plug-ins/colorize-neural/"
batch="(for-each (lambda (in) (let* ((image (car (gimp-file-load RUN-NONINTERACTIVE in in)))
  (source (car (gimp-image-get-active-layer image)))
  (layer (car (plug-in-nn-colorize RUN-NONINTERACTIVE image source \"\" 0 1.0 256 -1)))
  (out (string-append \"$dir/gimp/\" (car (reverse (strbreakup in \"/\"))))))
  (gimp-file-save RUN-NONINTERACTIVE image layer out out) (gimp-image-delete image)))
  (cadr (file-glob \"data/samples/*.png\" 1)))"
now() { date +%s.%N; }
i=0
while [ $i -lt "$runs" ]; do
    t0=$(now)
    GIMP2_DIRECTORY="$dir/profile" gimp-console-2.10 -i -d -f -b "$batch" -b '(gimp-quit 0)' >/dev/null 2>&1
    t1=$(now)
    "$build/trainer/colorize-train" colorize --model data/colorize-cifar10.weights --vividness 0 --saturation 1 \
        --resolution 256 --out-dir "$dir/cli" --overwrite data/samples/*.png >/dev/null 2>&1
    t2=$(now)
    echo "$t0 $t1 $t2" | awk '{printf "gimp-console %.2f s, colorize-train %.2f s\n", $2 - $1, $3 - $2}' | tee -a "$dir/times"
    i=$((i + 1))
done
for k in 2 5; do
    awk -v k=$k '{print $k}' "$dir/times" | sort -n | awk -v n="$runs" -v k=$k \
        'NR == int((n + 1) / 2) {printf "median %s: %.2f s\n", k == 2 ? "gimp-console" : "colorize-train", $1}'
done
/usr/bin/python3 - "$dir" <<'PY'
import os, sys
from skimage import io
d = sys.argv[1]
for name in sorted(os.listdir(d + "/gimp")):
    a = io.imread(f"{d}/gimp/{name}")[..., :3].astype(int)
    b = io.imread(f"{d}/cli/{name}")[..., :3].astype(int)
    diff = abs(a - b)
    print(f"{name}: largest difference {diff.max()}, mean {diff.mean():.3f} (of 255)")
PY
