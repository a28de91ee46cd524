#!/usr/bin/env bash
# Runs the whole repdyn test suite: formatting, vet, staticcheck, the library's
# tests on every kernel path (AVX-512, AVX2, portable Go), the nested modules,
# and the Jupyter kernel/notebook/browser tests.
#
#   ./test.sh            everything (installs missing tools/packages first)
#   ./test.sh --quick    only the Go checks and tests of the root module
#
# Long runs (full-size experiments) are behind REPDYN_LONG=1 in the tests.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin:$PATH"
export GOTOOLCHAIN=local

quick=0
[ "${1:-}" = "--quick" ] && quick=1

step() { printf '\n=== %s\n' "$*"; }

step "tools"
if ! command -v staticcheck >/dev/null || ! staticcheck -version 2>/dev/null | grep -q '0.8.2\|2026.1'; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
# PyTorch for the parity tests (lib/theory, lib/nn), as .ci/run installs it.
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y python3-torch || echo "python3-torch not installed: the PyTorch parity tests will be skipped"
fi

# Nested modules (each has its own go.mod) are tested on their own below.
modules=$(find . -name go.mod -not -path './go.mod' -not -path '*/node_modules/*' -not -path './kernel/tools/*' -exec dirname {} \; | sort)

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go') 2>/dev/null || true)
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

step "go vet + staticcheck (root module)"
go vet ./...
staticcheck ./...

step "go test (best kernels of this CPU; every level is also exercised in-process)"
go test -count=1 ./...

step "go test with REPDYN_NOASM=1 (portable Go path at run time)"
REPDYN_NOASM=1 go test -count=1 ./lib/...

step "go test -tags noasm (portable Go path at build time)"
go vet -tags noasm ./lib/...
go test -count=1 -tags noasm ./lib/...

step "arm64: kernel tests cross-compiled (GOARCH=arm64) and run under qemu-user (NEON GEMM, Go twins)"
if command -v qemu-aarch64-static >/dev/null; then
  GOARCH=arm64 go vet ./lib/...
  arm=$(mktemp -d)
  for p in lib/internal/gemm lib/internal/vec lib/conv; do
    GOARCH=arm64 go test -c -o "$arm/$(basename $p).test" "./$p"
    (cd "$p" && qemu-aarch64-static "$arm/$(basename $p).test" -test.short)
  done
  rm -rf "$arm"
else
  echo "skipped: qemu-aarch64-static not found (apt-get install qemu-user-static)"
fi

if [ "$quick" = 1 ]; then echo; echo "quick tests passed"; exit 0; fi

for m in $modules; do
  step "module $m: vet, staticcheck, test"
  (cd "$m" && go vet ./... && staticcheck ./... && go test -count=1 ./...)
done

if [ -x kernel/ci-test.sh ]; then
  step "Jupyter kernel, notebooks, protocol and browser tests"
  REPDYN_SIZE="${REPDYN_SIZE:-ci}" kernel/ci-test.sh
fi

echo; echo "all tests passed"
