#!/bin/sh
# compare_torch.sh — runs the C training step / inference benchmark and its
# PyTorch twin side by side, alternating, on the same cores, and prints the
# medians and the speed ratios (C over PyTorch; > 1 means C is faster).
# Usage: tests/bench/compare_torch.sh BUILD_DIR [batch] [threads] [rounds]
set -eu
build=${1:-build} batch=${2:-64} threads=${3:-2} rounds=${4:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
    "$build/tests/bench/bench_step" "$batch" "$threads" 5 | sed 's/^/c /' >>"$out"
    /usr/bin/python3 tests/bench/bench_torch.py "$batch" "$threads" 5 | sed 's/^/torch /' >>"$out"
done
awk -v rounds="$rounds" '
  /train step median/ { v = $5; t[$1, ++nt[$1]] = v }
  /inference median/ { v = $4; i[$1, ++ni[$1]] = v }
  function med(arr, who, n,   k, a, j, tmp) {
    for (k = 1; k <= n; k++) a[k] = arr[who, k]
    for (k = 1; k <= n; k++) for (j = k + 1; j <= n; j++) if (a[j] < a[k]) { tmp = a[k]; a[k] = a[j]; a[j] = tmp }
    return a[int((n + 1) / 2)]
  }
  END {
    ct = med(t, "c", nt["c"]); pt = med(t, "torch", nt["torch"])
    ci = med(i, "c", ni["c"]); pi = med(i, "torch", ni["torch"])
    printf "training step (batch '"$batch"', '"$threads"' threads): C %.1f ms, PyTorch %.1f ms, ratio %.2fx (target 1.5x)\n", ct, pt, pt / ct
    printf "inference (batch '"$batch"' tiles): C %.1f ms, PyTorch %.1f ms, ratio %.2fx (target 2x)\n", ci, pi, pi / ci
  }' "$out"
