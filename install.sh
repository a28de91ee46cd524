#!/usr/bin/env bash
# One command from a fresh Debian 12 / Ubuntu machine to Jupyter with the
# repdyn Go kernel open on notebooks/:
#
#   ./install.sh                 install everything, then start JupyterLab
#   ./install.sh --no-start      install only (CI, Docker)
#   ./install.sh --classic       start the classic Notebook instead
#
# Flags:
#   --no-start        do not start Jupyter at the end
#   --system          kernel for every user (/usr/local/share/jupyter)
#   --prefix DIR      kernel into DIR/share/jupyter
#   --user            kernel for this user (default)
#   --no-apt          do not install Debian packages
#   --ip ADDR         address Jupyter listens on (default 127.0.0.1)
#   --port N          port (default 8888)
#   --classic         start the classic Notebook instead of JupyterLab
#   --lab-pip         JupyterLab from PyPI (pip, in a venv) instead of the
#                     npm build (needs PyPI; REPDYN_LAB_VENV: the venv,
#                     default ~/.local/share/repdyn/lab-venv; REPDYN_LAB_PIP:
#                     the requirements, default jupyterlab==3.6.8)
#   --no-lab          do not build JupyterLab (classic Notebook only)
#   --uninstall       remove the kernelspec and the jupyter-lab launcher
#                     (same location flags)
#
# What it installs: Debian's Jupyter (jupyter-notebook, nbconvert, nbclient,
# jupyter-client) and Fashion-MNIST (dataset-fashion-mnist) via apt; Go
# ${GO_VERSION} into /usr/local/go if no Go >= 1.26 is found; then
# kernel/install.sh builds the pinned GoNB/gopls/goimports, writes the
# "Go (repdyn)" kernelspec and pre-builds the library; kernel/lab/install.sh
# builds JupyterLab 3.6 from the pinned npm packages (nodejs, npm from apt)
# and writes the `jupyter-lab` launcher into ~/.local/bin (--system:
# /usr/local/bin, --prefix DIR: DIR/bin), which serves it with Debian's
# jupyter-server and jupyterlab-server. It then starts JupyterLab (or, with
# --classic, the classic Notebook) on notebooks/.
# Running it again is safe and quick.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(pwd)"

GO_VERSION="${GO_VERSION:-1.26.8}"
# SHA-256 of the official Go tarballs (https://go.dev/dl/?mode=json&include=all);
# for another GO_VERSION set GO_SHA256 to the published value.
go_sha256() {
  if [ -n "${GO_SHA256:-}" ]; then echo "$GO_SHA256"; return; fi
  case "$GO_VERSION-$1" in
    1.26.8-amd64) echo d0f743b33e8d8945e6b1f432edd15785c70507121d6e2a723b21285eddf8b57b ;;
    1.26.8-arm64) echo 211ffced9dcb9633a55eac6364816ec0ddd951389a740e88fa8b3337971bdda0 ;;
  esac
}
start=1
apt=1
classic=0
ip=127.0.0.1
port=8888
kflags=()
lab=npm
labbin="$HOME/.local/bin"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-start) start=0 ;;
    --system) kflags+=(--prefix /usr/local); labbin=/usr/local/bin ;;
    --prefix) kflags+=(--prefix "$2"); labbin="$2/bin"; shift ;;
    --user) kflags+=(--user) ;;
    --no-apt) apt=0; kflags+=(--no-apt) ;;
    --ip) ip="$2"; shift ;;
    --port) port="$2"; shift ;;
    --classic) classic=1 ;;
    --lab-pip) lab=pip ;;
    --no-lab) lab=none ;;
    --uninstall) "$root/kernel/lab/install.sh" --uninstall --bin "$labbin"
      exec "$root/kernel/install.sh" --uninstall "${kflags[@]}" ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$ d'; exit 0 ;;
    *) echo "install.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "repdyn: $*"; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# 1. Debian packages.
if [ "$apt" = 1 ] && command -v apt-get >/dev/null; then
  pkgs="ca-certificates curl jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client dataset-fashion-mnist"
  [ "$lab" = npm ] && pkgs="$pkgs python3-jupyter-server python3-jupyterlab-server libjs-mathjax"
  [ "$lab" = pip ] && pkgs="$pkgs python3-venv python3-pip"
  if [ "$lab" = npm ] && ! { command -v node && command -v npm; } >/dev/null; then pkgs="$pkgs nodejs npm"; fi
  missing=""
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    say "apt-get install$missing"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

# 2. Go >= 1.26.
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local
go_ok() {
  command -v go >/dev/null || return 1
  local v
  v="$(go env GOVERSION 2>/dev/null | sed 's/^go//')"
  [ "$(printf '%s\n1.26\n' "$v" | sort -V | head -1)" = "1.26" ]
}
if ! go_ok; then
  arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  case "$arch" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac
  sum="$(go_sha256 "$arch")"
  if [ -z "$sum" ]; then
    echo "repdyn: no SHA-256 known for go${GO_VERSION}.linux-${arch}.tar.gz: set GO_SHA256 to the value published at https://go.dev/dl/" >&2
    exit 1
  fi
  say "installing Go $GO_VERSION into /usr/local/go"
  tmp="$(mktemp -d)"
  curl -fsSL "https://go.dev/dl/go${GO_VERSION}.linux-${arch}.tar.gz" -o "$tmp/go.tgz"
  echo "$sum  $tmp/go.tgz" | sha256sum -c --quiet - || {
    echo "repdyn: go${GO_VERSION}.linux-${arch}.tar.gz does not have the SHA-256 $sum; not installing it" >&2
    rm -rf "$tmp"; exit 1
  }
  $SUDO rm -rf /usr/local/go
  $SUDO tar -C /usr/local -xzf "$tmp/go.tgz"
  rm -rf "$tmp"
  go_ok || { echo "repdyn: Go install failed" >&2; exit 1; }
fi
say "$(go version)"

# 3. Tools, kernelspec, pre-built library.
"$root/kernel/install.sh" --no-apt "${kflags[@]}"

# 4. JupyterLab: the npm build served by Debian's jupyter-server (default),
# or pip's JupyterLab in a venv (--lab-pip).
if [ "$lab" = npm ]; then
  "$root/kernel/lab/install.sh" --bin "$labbin"
elif [ "$lab" = pip ]; then
  # REPDYN_LAB_VENV: where the venv goes; REPDYN_LAB_PIP: what pip installs.
  venv="${REPDYN_LAB_VENV:-${XDG_DATA_HOME:-$HOME/.local/share}/repdyn/lab-venv}"
  spec="${REPDYN_LAB_PIP:-jupyterlab==3.6.8}"
  say "pip install $spec into $venv"
  [ -x "$venv/bin/pip" ] || "$(command -v /usr/bin/python3 || command -v python3)" -m venv "$venv"
  # shellcheck disable=SC2086 # a list of requirements
  "$venv/bin/pip" install --no-cache-dir -q $spec || { echo "repdyn: pip install $spec failed (no PyPI? use the default npm build)" >&2; exit 1; }
  mkdir -p "$labbin"
  ln -sf "$venv/bin/jupyter-lab" "$labbin/jupyter-lab"
fi
case ":$PATH:" in
  *":$labbin:"*) ;;
  *) [ "$lab" = none ] || say "note: add $labbin to PATH to type 'jupyter lab' (Debian's ~/.profile does so for ~/.local/bin at the next login)" ;;
esac
export PATH="$labbin:$PATH"

# 5. Jupyter.
if [ "$start" = 0 ]; then
  say "installed; start JupyterLab with: jupyter lab --notebook-dir=$root/notebooks (or ./install.sh; --classic for the classic Notebook)"
  exit 0
fi
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
if [ "$classic" = 0 ] && jupyter lab --version >/dev/null 2>&1; then
  say "starting JupyterLab on http://$ip:$port (notebooks/00-start-here.ipynb first)"
  exec jupyter lab --no-browser --ip="$ip" --port="$port" --ServerApp.root_dir="$root/notebooks" "${extra[@]}"
fi
say "starting the classic Notebook on http://$ip:$port (open 00-start-here.ipynb first)"
exec jupyter notebook --no-browser --ip="$ip" --port="$port" --notebook-dir="$root/notebooks" "${extra[@]}"
