#!/usr/bin/env bash
# Side-by-side benchmark of repdyn against the reference programs in
# ../shared/bench (FMA peak, OpenBLAS sgemm/dgemm, PyTorch conv and ResNet
# training). The machines are shared and noisy: this runs everything in one
# session, one after the other, so quote ratios from one run.
#
#   bench/compare.sh [gemm|conv|train|all]   (default all)
#   REPDYN_BENCH_LEVELS="native avx2"        (default: both on AVX-512 CPUs)
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

# The levels to compare: the native pair (repdyn's best level against
# OpenBLAS's own choice) and, on an AVX-512 machine, the AVX2 pair too
# (REPDYN_CPU=avx2 against OPENBLAS_CORETYPE=Haswell, PyTorch with
# ATEN_CPU_CAPABILITY=avx2 and ONEDNN_MAX_CPU_ISA=AVX2), each beside the FMA
# peak of its level (fma_peak.c built for it).
levels=${REPDYN_BENCH_LEVELS:-native}
if [ -z "${REPDYN_BENCH_LEVELS:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null; then
  levels="native avx2"
fi
envfor() { # level -> env assignments for repdyn, OpenBLAS and PyTorch
  if [ "$1" = avx2 ]; then
    echo "REPDYN_CPU=avx2 OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2"
  fi
}
if [ "$what" = all ] || [ "$what" = gemm ]; then
  gcc -O2 -march=native -pthread -o "$tmp/fma-native" "$ref/fma_peak.c"
  gcc -O2 -mavx2 -mfma -pthread -o "$tmp/fma-avx2" "$ref/fma_peak.c"
  gcc -O2 -o "$tmp/sgemm" "$ref/gemm_openblas.c" -lopenblas
  gcc -O2 -DDOUBLE -o "$tmp/dgemm" "$ref/gemm_openblas.c" -lopenblas
  echo "sq1024 1024 1024 1024 0 0" > "$tmp/d.txt"
  for lv in $levels; do
    e=$(envfor "$lv")
    say "[$lv] FMA peak (fma_peak.c built for $lv)"; env $e "$tmp/fma-$lv" 2
    say "[$lv] OpenBLAS sgemm ${e:+($e)}"; env $e "$tmp/sgemm" "$ref/shapes.txt" 1 2
    say "[$lv] repdyn sgemm ${e:+($e)}"; env $e "$tmp/repdyn" bench gemm --shapes "$ref/shapes.txt" --threads 1,2
    say "[$lv] OpenBLAS dgemm"; env $e "$tmp/dgemm" "$tmp/d.txt" 1 2
    say "[$lv] repdyn dgemm"; env $e "$tmp/repdyn" bench gemm --dtype f64 --shapes "$tmp/d.txt" --threads 1,2
  done
  say "gonum pure-Go sgemm (go test -bench GonumSgemm1024)"
  go test -run XXX -bench 'GonumSgemm1024' -benchtime 3x ./lib/internal/gemm | grep -E 'Benchmark|GFLOP'
fi
if [ "$what" = all ] || [ "$what" = conv ]; then
  for lv in $levels; do
    e=$(envfor "$lv")
    say "[$lv] PyTorch conv ${e:+($e)}"; env $e /usr/bin/python3 "$ref/torch_bench.py" --threads 2 --only conv
    say "[$lv] repdyn conv"; env $e "$tmp/repdyn" bench conv --batch 128 --cin 64 --cout 64 --hw 32 --kernel 3 --threads 2
  done
fi
if [ "$what" = all ] || [ "$what" = train ]; then
  for lv in $levels; do
    e=$(envfor "$lv")
    say "[$lv] PyTorch ResNets ${e:+($e)}"; env $e /usr/bin/python3 "$ref/torch_bench.py" --threads 2 --only r20 r18
    say "[$lv] repdyn ResNets"
    env $e "$tmp/repdyn" bench train --model resnet20 --batch 128 --steps 10 --threads 2
    env $e "$tmp/repdyn" bench train --model resnet18-cifar --batch 128 --steps 3 --threads 2
  done
fi
