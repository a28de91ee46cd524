#!/usr/bin/env bash
# Side-by-side benchmark of repdyn against the reference programs in
# ../shared/bench (FMA peak, OpenBLAS sgemm/dgemm, PyTorch conv and ResNet
# training). The machines are shared and noisy: this runs everything in one
# session, one after the other, so quote ratios from one run.
#
#   bench/compare.sh [gemm|conv|train|all]   (default all)
#
# Needs: apt-get install -y libopenblas-dev libopenblas0-pthread python3-torch python3-torchvision
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${REPDYN_BENCH_REF:-$(cd .. && pwd)/shared/bench}
what=${1:-all}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/repdyn" ./lib/cmd/repdyn

say() { printf '\n### %s\n' "$*"; }

if [ "$what" = all ] || [ "$what" = gemm ]; then
  gcc -O2 -march=native -pthread -o "$tmp/fma" "$ref/fma_peak.c"
  gcc -O2 -o "$tmp/sgemm" "$ref/gemm_openblas.c" -lopenblas
  gcc -O2 -DDOUBLE -o "$tmp/dgemm" "$ref/gemm_openblas.c" -lopenblas
  say "FMA peak"; "$tmp/fma" 2
  say "OpenBLAS sgemm"; "$tmp/sgemm" "$ref/shapes.txt" 1 2
  say "repdyn sgemm"; "$tmp/repdyn" bench gemm --shapes "$ref/shapes.txt" --threads 1,2
  echo "sq1024 1024 1024 1024 0 0" > "$tmp/d.txt"
  say "OpenBLAS dgemm"; "$tmp/dgemm" "$tmp/d.txt" 1 2
  say "repdyn dgemm"; "$tmp/repdyn" bench gemm --dtype f64 --shapes "$tmp/d.txt" --threads 1,2
  say "gonum pure-Go sgemm (go test -bench GonumSgemm1024)"
  go test -run XXX -bench 'GonumSgemm1024' -benchtime 3x ./lib/internal/gemm | grep -E 'Benchmark|GFLOP'
fi
if [ "$what" = all ] || [ "$what" = conv ]; then
  say "PyTorch conv"; /usr/bin/python3 "$ref/torch_bench.py" --threads 2 --only conv
  say "repdyn conv"; "$tmp/repdyn" bench conv --batch 128 --cin 64 --cout 64 --hw 32 --kernel 3 --threads 2
fi
if [ "$what" = all ] || [ "$what" = train ]; then
  say "PyTorch ResNets"; /usr/bin/python3 "$ref/torch_bench.py" --threads 2 --only r20 r18
  say "repdyn ResNets"
  "$tmp/repdyn" bench train --model resnet20 --batch 128 --steps 10 --threads 2
  "$tmp/repdyn" bench train --model resnet18-cifar --batch 128 --steps 3 --threads 2
fi
