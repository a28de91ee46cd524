#!/usr/bin/env bash
# Jupyter tests of the repdyn kernel and notebooks. Called by ./test.sh; can
# be run alone. Installs what it needs (Debian packages, npm packages) when
# missing, idempotently, and exits non-zero on any failure.
#
#   kernel/ci-test.sh                 all tests
#   kernel/ci-test.sh --no-browser    skip the Chromium test
#
# Tests:
#  1. the notebook module's and the kernel module's Go unit tests;
#  2. kernel/notebooks_test.go: installs the kernel into a temporary
#     JUPYTER_PATH and runs every notebook with `jupyter nbconvert --execute`
#     (no error or stderr output; verdict cells print the PASS marker);
#  3. kernel/tests/test_protocol.py: Jupyter protocol tests with
#     python3-jupyter-kernel-test, interrupt/resume, and the timing targets;
#  4. kernel/tests/test_course.py: every graded assignment of notebooks/course
#     released and autograded by nbgrader's rules (solution = full points,
#     released stub = 0 and runs around the stubs, delimiters in place);
#  5. kernel/browser-test: the classic Notebook server + Chromium via
#     playwright-core runs notebooks as a user would (Run All) and checks that
#     charts and progress bars rendered and every verdict passed
#     (REPDYN_BROWSER_NOTEBOOKS: a comma list; default 00, 03, 04 and 07);
#     every show.Explore slider is moved 20 times and its redraw timed.
# REPDYN_NOTEBOOKS=GLOB (e.g. "00-*.ipynb") limits test 2 to some notebooks.
# Screenshots, executed notebooks and timings go to $REPDYN_TEST_OUT (default:
# a new directory under /tmp, printed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
export PATH="/usr/local/go/bin:$PATH"
export GOTOOLCHAIN=local
export DEBIAN_FRONTEND=noninteractive
export REPDYN_STRICT=1  # failed verdicts fail their cells (no exploration mode)
browser=1
[ "${1:-}" = "--no-browser" ] && browser=0

out="${REPDYN_TEST_OUT:-$(mktemp -d /tmp/repdyn-kernel-test-XXXXXX)}"
mkdir -p "$out"
export REPDYN_TEST_OUT="$out"
tmp="$(mktemp -d /tmp/repdyn-ci-XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf '\n--- %s\n' "$*"; }
t_start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t_start ))s"; }

step "dependencies"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
pkgs="jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client python3-jupyter-kernel-test dataset-fashion-mnist"
[ "$browser" = 1 ] && pkgs="$pkgs chromium"
command -v node >/dev/null || pkgs="$pkgs nodejs npm"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "apt-get install:$missing"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ "$browser" = 1 ]; then
  want="$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' kernel/browser-test/package.json | head -1)"
  have=""
  pkg=kernel/browser-test/node_modules/playwright-core/package.json
  # A clean checkout has no node_modules: guard the read, set -e would end here.
  if [ -f "$pkg" ]; then have="$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$pkg" | head -1)"; fi
  if [ "$want" != "$have" ]; then
    (cd kernel/browser-test && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
py=/usr/bin/python3 # Debian's, which has the Jupyter modules (not a pyenv shim)

step "install the kernel into a temporary Jupyter path ($(elapsed))"
jpath="$tmp/jupyter"
t0=$(date +%s%N)
kernel/install.sh --data-dir "$jpath" --no-apt --quiet
echo "kernel install (tools up to date, library pre-built): $(( ($(date +%s%N) - t0) / 1000000 )) ms"

step "Go unit tests: notebook helpers and kernel module ($(elapsed))"
(cd notebook && go test -count=1 ./...)

step "notebooks: nbconvert --execute of notebooks/*.ipynb ($(elapsed))"
(cd kernel && REPDYN_KERNEL_TEST=1 go test -count=1 -v -run 'TestNotebooks' . 2>&1 | grep -v '^=== RUN') || exit 1

step "Jupyter protocol tests (jupyter_kernel_test), interrupt/resume, timings ($(elapsed))"
(cd kernel/tests && JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-protocol" "$py" -m unittest -v test_protocol 2>&1 | grep -v '^[IWE][0-9]\{4\} .*\(Error message\|Logging to\)') || exit 1

step "course: release and autograde every assignment by nbgrader's rules ($(elapsed))"
(cd kernel/tests && JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-course" "$py" -m unittest -v test_course 2>&1 \
  | grep -v '^[IWE][0-9]\{4\} .*\(Error message\|Logging to\)') || exit 1

if [ "$browser" = 1 ]; then
  step "browser: classic Notebook + Chromium (playwright-core) ($(elapsed))"
  mkdir -p "$tmp/nb"
  cp notebooks/*.ipynb "$tmp/nb/"
  port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-browser" JUPYTER_CONFIG_DIR="$tmp/jconfig" \
    jupyter notebook --no-browser --allow-root --ip=127.0.0.1 --port="$port" \
    --NotebookApp.token="$token" --NotebookApp.open_browser=False --notebook-dir="$tmp/nb" \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  "$py" - "$port" "$token" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/api/status?token=%s" % (sys.argv[1], sys.argv[2])
for _ in range(120):
    try:
        urllib.request.urlopen(url, timeout=2)
        break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("notebook server did not start")
PY
  if ! (cd kernel/browser-test && node test.mjs --url "http://127.0.0.1:$port" --token "$token" \
      --dir "$tmp/nb" \
      --notebook "${REPDYN_BROWSER_NOTEBOOKS:-00-start-here.ipynb,03-data-architecture-alignment.ipynb,04-sufficiency.ipynb,07-aligned-training.ipynb}" \
      --out "$out" --timeout-s 600); then
    echo "--- notebook server log (tail)"; tail -40 "$tmp/server.log"
    exit 1
  fi
  step "browser: a student's pass through a released assignment ($(elapsed))"
  mkdir -p "$tmp/nb/student"
  "$py" kernel/tests/course_release.py generate notebooks/course/source/c3-pl-rate/c3-pl-rate.ipynb "$tmp/nb/student/c3-pl-rate.ipynb"
  if ! (cd kernel/browser-test && node student.mjs --url "http://127.0.0.1:$port" --token "$token" \
      --notebook student/c3-pl-rate.ipynb --out "$out"); then
    echo "--- notebook server log (tail)"; tail -40 "$tmp/server.log"
    exit 1
  fi
fi

step "timings"
cat "$out/timings.json" 2>/dev/null || true
echo
echo "kernel tests passed in $(elapsed); outputs (screenshots, executed notebooks, timings) in $out"
