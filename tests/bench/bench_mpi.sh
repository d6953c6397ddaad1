#!/bin/sh
# bench_mpi.sh — data-parallel training throughput on this machine, side by
# side and alternating: 1 rank × all cores' threads against N ranks × 1
# thread (mpirun --bind-to core), on CIFAR-10, batch 64. Prints the images
# per second of each run (the trainer's own figure, after its first 20
# steps) and the medians.
# Usage: tests/bench/bench_mpi.sh BUILD_DIR CIFAR_DIR [rounds] [steps]
set -eu
build=${1:?BUILD_DIR} data=${2:?CIFAR_DIR} rounds=${3:-3} steps=${4:-80}
exe="$build/trainer/colorize-train"
cores=$(nproc)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
args="train --data $data --batch 64 --max-steps $steps --log-every 10 --out $dir/m.weights --checkpoint $dir/m.ckpt"
# the last img/s figure a run printed
speed() { sed -n 's/.*step \([0-9]*\)\/.* \([0-9.]*\) img\/s.*/\1 \2/p' | awk '$1 >= 20 {v = $2} END {print v}'; }
i=1
while [ "$i" -le "$rounds" ]; do
    rm -f "$dir"/m.*
    one=$("$exe" $args --threads "$cores" 2>&1 | speed)
    rm -f "$dir"/m.*
    many=$(mpirun -np "$cores" --bind-to core "$exe" $args --threads 1 2>&1 | speed)
    echo "round $i: 1 rank x $cores threads $one img/s; $cores ranks x 1 thread $many img/s" | tee -a "$dir/all"
    i=$((i + 1))
done
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
echo "median: 1 rank x $cores threads $(awk '{print $8}' "$dir/all" | median) img/s;" \
     "$cores ranks x 1 thread $(awk '{print $15}' "$dir/all" | median) img/s"
