#!/usr/bin/env bash
# The eval-mode float64 NTK of ResNet-20 (10 outputs, 3x32x32 inputs):
# `repdyn bench ntk` against PyTorch's per-sample backward
# (lib/theory/testdata/ntk_bench.py) at 1 and 2 threads, interleaved, each
# repeated; quote PyTorch's best thread count and the medians. The machines
# are shared and noisy: compare within one run.
#
#   bench/ntk_compare.sh [n ...]          (default: 128)
#   REPDYN_NTK_REPEAT=2 REPDYN_NTK_THREADS=2 bench/ntk_compare.sh 128 512
#
# Needs python3-torch (apt) for /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=${REPDYN_NTK_REPEAT:-1}
threads=${REPDYN_NTK_THREADS:-2}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(128)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/repdyn" ./lib/cmd/repdyn
for n in "${sizes[@]}"; do
  for r in $(seq "$repeat"); do
    "$tmp/repdyn" bench ntk --model resnet20 --n "$n" --threads "$threads"
    for t in 1 2; do
      /usr/bin/python3 lib/theory/testdata/ntk_bench.py "$n" "$t" | grep '^{'
    done
  done
done
