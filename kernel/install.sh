#!/usr/bin/env bash
# Installs the repdyn Jupyter kernel: GoNB with the repdyn library preloaded.
#
#   kernel/install.sh                 user install (~/.local/share/jupyter)
#   kernel/install.sh --prefix DIR    into DIR/share/jupyter (e.g. /usr/local)
#   kernel/install.sh --data-dir DIR  into DIR/kernels/repdyn (use with
#                                     JUPYTER_PATH=DIR, e.g. for tests)
#   kernel/install.sh --uninstall [same location flags]
#
# Other flags:
#   --no-apt       do not install the Debian Jupyter packages
#   --no-prebuild  do not pre-build the library (first cell then takes ~20 s)
#   --name NAME    kernelspec name (default repdyn)
#   --quiet
#   --verbose-kernel  GoNB logs everything to the server's stderr (default:
#                  errors only)
#
# What it does, idempotently:
#  1. on Debian/Ubuntu, installs the Jupyter packages it needs with apt
#     (jupyter-notebook, jupyter-nbconvert, python3-nbclient, jupyter-client)
#     when they are missing;
#  2. builds GoNB v0.11.4, goimports and gopls v0.23.0 from the pinned tools
#     module kernel/tools into kernel/bin (skipped when up to date);
#  3. writes the kernelspec: absolute paths, the library and the notebook
#     helpers (repdyn/notebook) in GoNB's --go_work, GOTOOLCHAIN=local, the
#     tools and Go in front of the server's PATH (kernel/gonb-kernel.sh
#     extends PATH, it does not replace it), and the Go caches used at
#     install time;
#  4. pre-builds the library through a workspace like the one GoNB makes for
#     a notebook, so that the first cell starts in about 2 s instead of 20 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

name=repdyn
mode=user
target=""
apt=1
prebuild=1
uninstall=0
quiet=0
loglevel=ERROR
while [ $# -gt 0 ]; do
  case "$1" in
    --user) mode=user ;;
    --prefix) mode=prefix; target="$2"; shift ;;
    --prefix=*) mode=prefix; target="${1#*=}" ;;
    --data-dir|--jupyter-path) mode=data; target="$2"; shift ;;
    --data-dir=*|--jupyter-path=*) mode=data; target="${1#*=}" ;;
    --name) name="$2"; shift ;;
    --name=*) name="${1#*=}" ;;
    --no-apt) apt=0 ;;
    --no-prebuild) prebuild=0 ;;
    --uninstall) uninstall=1 ;;
    --quiet|-q) quiet=1 ;;
    --verbose-kernel) loglevel=INFO ;;
    -h|--help) sed -n "2,/^set -euo/p" "$0" | sed "$ d"; exit 0 ;;
    *) echo "kernel/install.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { [ "$quiet" = 1 ] || echo "repdyn-kernel: $*"; }

case "$mode" in
  user) datadir="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}" ;;
  prefix) datadir="$(mkdir -p "$target" && cd "$target" && pwd)/share/jupyter" ;;
  data) datadir="$(mkdir -p "$target" && cd "$target" && pwd)" ;;
esac
kdir="$datadir/kernels/$name"

if [ "$uninstall" = 1 ]; then
  rm -rf "$kdir"
  say "removed $kdir"
  exit 0
fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# 1. Debian packages.
if [ "$apt" = 1 ] && command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
  missing=""
  for p in jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

# Go.
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local
if ! command -v go >/dev/null; then
  echo "repdyn-kernel: Go is not installed: install Go 1.26 into /usr/local/go (https://go.dev/dl/)" >&2
  exit 1
fi
# -mod=mod breaks GoNB's workspace mode: drop it from the environment.
if [ -n "${GOFLAGS:-}" ]; then
  GOFLAGS="$(echo "$GOFLAGS" | sed 's/-mod=[a-z]*//g')"
  export GOFLAGS
fi
goroot="$(go env GOROOT)"
gocache="$(go env GOCACHE)"
gomodcache="$(go env GOMODCACHE)"
goflags="$(go env GOFLAGS | sed 's/-mod=[a-z]*//g')"

# 2. Tools, rebuilt only when kernel/tools/go.mod or go.sum or Go changed.
bin="$root/kernel/bin"
stamp="$(cat "$root/kernel/tools/go.mod" "$root/kernel/tools/go.sum" | sha256sum | cut -c1-16)-$(go env GOVERSION)"
if [ "$(cat "$bin/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$bin/gonb" ] || [ ! -x "$bin/gopls" ] || [ ! -x "$bin/goimports" ]; then
  say "building gonb, goimports, gopls into $bin (about a minute the first time)"
  mkdir -p "$bin"
  (cd "$root/kernel/tools" && GOBIN="$bin" GOFLAGS="$goflags" go install tool)
  echo "$stamp" > "$bin/.stamp"
fi

# 3. Kernelspec.
mkdir -p "$kdir"
kpath="$bin:$goroot/bin"
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
tmpjson="$(mktemp "$kdir/.kernel.json.XXXXXX")"
cat > "$tmpjson" <<EOF
{
  "argv": [
    $(json_str "$here/gonb-kernel.sh"),
    "--kernel",
    "{connection_file}",
    $(json_str "--go_work=$root,$root/notebook"),
    "--logtostderr=false",
    "--log_file=/dev/null",
    "--stderrthreshold=$loglevel"
  ],
  "display_name": "Go (repdyn)",
  "language": "go",
  "interrupt_mode": "message",
  "env": {
    "REPDYN_KERNEL_PATH": $(json_str "$kpath"),
    "GOTOOLCHAIN": "local",
    "GOROOT": $(json_str "$goroot"),
    "GOCACHE": $(json_str "$gocache"),
    "GOMODCACHE": $(json_str "$gomodcache"),
    "GOFLAGS": $(json_str "$goflags"),
    "REPDYN_ROOT": $(json_str "$root")
  },
  "metadata": {"repdyn": {"root": $(json_str "$root")}}
}
EOF
mv -f "$tmpjson" "$kdir/kernel.json"
logo="$(find "$gomodcache/github.com/janpfeifer" -path '*gonb@v0.11.4/internal/kernel/Go_gopher_favicon.svg' 2>/dev/null | head -1 || true)"
if [ -n "$logo" ]; then cp -f "$logo" "$kdir/logo-svg.svg" && chmod 644 "$kdir/logo-svg.svg"; fi
say "kernelspec '$name' (Go (repdyn)) written to $kdir"

# 4. Pre-build the library the way GoNB builds a cell: a throw-away module in a
# workspace with the library and the notebook helpers.
if [ "$prebuild" = 1 ]; then
  say "pre-building the library and notebook helpers"
  "$here/prebuild.sh" "$root"
fi
say "done: start Jupyter and pick the kernel 'Go (repdyn)'"
