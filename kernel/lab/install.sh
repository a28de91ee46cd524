#!/usr/bin/env bash
# Builds the JupyterLab front end from the pinned npm packages and installs
# the `jupyter-lab` launcher, so that `jupyter lab` works with Debian's
# jupyter-server and jupyterlab-server alone (no PyPI).
#
#   kernel/lab/install.sh --bin DIR      build if needed, write DIR/jupyter-lab
#   kernel/lab/install.sh --build-only   build only
#   kernel/lab/install.sh --uninstall --bin DIR
#
# Other flags:
#   --force       rebuild even if build/ is up to date
#   --prune       remove node_modules after the build (saves ~200 MB; the
#                 next rebuild downloads the packages again)
#   --quiet
#
# The build (npm ci from package-lock.json, then webpack in production mode)
# goes to kernel/lab/build.new and replaces kernel/lab/build when complete;
# it is skipped when build/.stamp matches package.json, package-lock.json,
# webpack.config.js, index.js and the Node.js version. Needs node and npm
# (Debian: apt-get install nodejs npm). An existing jupyter-lab that this
# script did not write (e.g. pip's JupyterLab) is left alone.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin=""
build_only=0
force=0
prune=0
quiet=0
uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift ;;
    --bin=*) bin="${1#*=}" ;;
    --build-only) build_only=1 ;;
    --force) force=1 ;;
    --prune) prune=1 ;;
    --quiet|-q) quiet=1 ;;
    --uninstall) uninstall=1 ;;
    -h|--help) sed -n "2,/^set -euo/p" "$0" | sed "$ d"; exit 0 ;;
    *) echo "kernel/lab/install.sh: unknown flag $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { [ "$quiet" = 1 ] || echo "repdyn-lab: $*"; }
marker="repdyn-lab launcher"

if [ "$uninstall" = 1 ]; then
  [ -n "$bin" ] || { echo "kernel/lab/install.sh: --uninstall needs --bin DIR" >&2; exit 2; }
  if grep -qs "$marker" "$bin/jupyter-lab"; then rm -f "$bin/jupyter-lab"; say "removed $bin/jupyter-lab"; fi
  exit 0
fi
if [ "$build_only" = 0 ] && [ -z "$bin" ]; then
  echo "kernel/lab/install.sh: need --bin DIR or --build-only (see --help)" >&2; exit 2
fi

# 1. Build.
for t in node npm; do
  command -v "$t" >/dev/null || { echo "kernel/lab/install.sh: $t not found (Debian: apt-get install nodejs npm)" >&2; exit 1; }
done
cd "$here"
stamp="$(cat package.json package-lock.json webpack.config.js index.js | sha256sum | cut -c1-16)-node$(node --version)"
if [ "$force" = 0 ] && [ -f build/bundle.js ] && [ "$(cat build/.stamp 2>/dev/null)" = "$stamp" ]; then
  say "JupyterLab front end up to date ($here/build)"
else
  say "building the JupyterLab $(sed -n 's/^  "version": "\(.*\)",/\1/p' package.json | head -1) front end from npm (a few minutes the first time)"
  t0=$(date +%s)
  npm ci --no-audit --no-fund --loglevel=error >&2
  rm -rf build.new
  REPDYN_LAB_OUT="$here/build.new" ./node_modules/.bin/webpack --no-stats >&2 || {
    rm -rf build.new; echo "kernel/lab/install.sh: webpack build failed" >&2; exit 1; }
  [ -f build.new/bundle.js ] || { echo "kernel/lab/install.sh: webpack wrote no bundle.js" >&2; exit 1; }
  echo "$stamp" > build.new/.stamp
  rm -rf build.old
  [ -d build ] && mv build build.old
  mv build.new build
  rm -rf build.old
  say "built in $(( $(date +%s) - t0 )) s: $(du -sh build | cut -f1) in $here/build, node_modules $(du -sh node_modules | cut -f1)"
fi
if [ "$prune" = 1 ]; then rm -rf node_modules; say "removed node_modules"; fi
[ "$build_only" = 1 ] && exit 0

# 2. Launcher: `jupyter lab` runs DIR/jupyter-lab when DIR is on PATH.
py=""
for c in /usr/bin/python3 python3; do
  if command -v "$c" >/dev/null && "$c" -c 'import jupyter_server, jupyterlab_server' 2>/dev/null; then py="$(command -v "$c")"; break; fi
done
[ -n "$py" ] || { echo "kernel/lab/install.sh: no python3 with jupyter_server and jupyterlab_server (Debian: apt-get install python3-jupyter-server python3-jupyterlab-server)" >&2; exit 1; }
mkdir -p "$bin"
if [ -e "$bin/jupyter-lab" ] && ! grep -qs "$marker" "$bin/jupyter-lab"; then
  say "$bin/jupyter-lab exists and is not ours (pip's JupyterLab?): left as it is"
  exit 0
fi
tmp="$(mktemp "$bin/.jupyter-lab.XXXXXX")"
cat > "$tmp" <<SH
#!/bin/sh
# jupyter-lab: JupyterLab for the repdyn kernel ($marker, written by
# $here/install.sh): the npm build in $here/build served
# by Debian's jupyter-server and jupyterlab-server.
exec $py $here/repdyn_lab.py "\$@"
SH
chmod 755 "$tmp"
mv -f "$tmp" "$bin/jupyter-lab"
say "launcher $bin/jupyter-lab written ('jupyter lab' runs it when $bin is on PATH)"
