#!/usr/bin/env bash
# Pre-builds the repdyn library and the notebook helpers into the Go build
# cache through a workspace like the one GoNB creates for a notebook (a
# throw-away main module + `go work use` of the library and repdyn/notebook),
# so that the first cell of a fresh kernel only compiles the cell itself.
# Never fails the install: a package that does not build is reported and left
# out.
#   kernel/prebuild.sh [REPO_ROOT]
set -uo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export PATH="/usr/local/go/bin:$PATH" GOTOOLCHAIN=local
GOFLAGS="$(go env GOFLAGS | sed 's/-mod=[a-z]*//g')"; export GOFLAGS
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
go mod init gonb_prebuild >/dev/null 2>&1
go work init >/dev/null 2>&1
go work use "$root" "$root/notebook" . >/dev/null 2>&1
# Importable (non-internal, non-main) packages without load errors.
pkgs=$(go list -e -f '{{if and (ne .Name "main") (not .Error) (not .DepsErrors)}}{{.ImportPath}}{{end}}' \
  repdyn/lib/... repdyn/notebook/... 2>/dev/null | grep -v '/internal\(/\|$\)' | grep -v '^$' || true)
# Plus what cells use most: gonum's plotting, the GoNB UI package.
pkgs="$pkgs github.com/janpfeifer/gonb/gonbui gonum.org/v1/plot gonum.org/v1/plot/plotter gonum.org/v1/plot/vg gonum.org/v1/plot/vg/draw gonum.org/v1/plot/plotutil gonum.org/v1/gonum/mat gonum.org/v1/gonum/blas/blas32 golang.org/x/sys/cpu"
write_main() {
  { echo "package main"; echo "import ("; for p in "$@"; do echo "  _ \"$p\""; done; echo ")"; echo "func main() {}"; } > main.go
}
write_main $pkgs
if ! go build -o /dev/null . 2>"$tmp/err"; then
  # Build what builds, one package at a time (the library may be mid-change).
  good=""
  for p in $pkgs; do
    write_main "$p"
    if go build -o /dev/null . 2>/dev/null; then good="$good $p"; else echo "prebuild: skipping $p (does not build)" >&2; fi
  done
  write_main $good
  go build -o /dev/null . 2>/dev/null || true
fi
exit 0
