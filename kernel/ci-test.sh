#!/usr/bin/env bash
# Jupyter tests of the repdyn kernel and notebooks. Called by ./test.sh; can
# be run alone. Installs what it needs (Debian packages, npm packages) when
# missing, idempotently, and exits non-zero on any failure.
#
#   kernel/ci-test.sh                 all tests
#   kernel/ci-test.sh --no-browser    skip the Chromium tests
#   kernel/ci-test.sh --no-pdf        export to LaTeX only (no texlive-xetex)
#
# Tests:
#  1. the notebook module's and the kernel module's Go unit tests;
#  2. kernel/notebooks_test.go: installs the kernel into a temporary
#     JUPYTER_PATH and runs every notebook with `jupyter nbconvert --execute`
#     (no error or stderr output; verdict cells print the PASS marker);
#  3. kernel/tests/test_export.py: executed notebooks (00, 04) exported with
#     `jupyter nbconvert --to pdf` keep every display's text/plain;
#  4. kernel/tests/test_protocol.py: Jupyter protocol tests with
#     python3-jupyter-kernel-test, interrupt/resume, and the timing targets,
#     once with kernels started by jupyter_client and once with kernels
#     started by the JupyterLab server (kernel/lab, built here by its
#     installer);
#  5. kernel/tests/test_course.py: every graded assignment of notebooks/course
#     released and autograded by nbgrader's rules (solution = full points,
#     released stub = 0 and runs around the stubs, delimiters in place);
#  6. kernel/browser-test: the classic Notebook server + Chromium via
#     playwright-core runs notebooks as a user would (Run All) and checks that
#     charts and progress bars rendered and every verdict passed
#     (REPDYN_BROWSER_NOTEBOOKS: a comma list; default 00, 03, 04 and 07);
#     every show.Explore slider is moved 20 times and its redraw timed; a
#     student's pass through a released assignment (student.mjs); then the
#     same in JupyterLab (REPDYN_LAB_NOTEBOOKS; default 00 and 04).
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
pdf=1
for a in "$@"; do
  case "$a" in
    --no-browser) browser=0 ;;
    --no-pdf) pdf=0 ;;
    *) echo "kernel/ci-test.sh: unknown flag $a" >&2; exit 2 ;;
  esac
done

out="${REPDYN_TEST_OUT:-$(mktemp -d /tmp/repdyn-kernel-test-XXXXXX)}"
mkdir -p "$out"
export REPDYN_TEST_OUT="$out"
tmp="$(mktemp -d /tmp/repdyn-ci-XXXXXX)"
server_pid=""
lab_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$lab_pid" ]; then kill "$lab_pid" 2>/dev/null || true; wait "$lab_pid" 2>/dev/null || true; fi
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
# JupyterLab (kernel/lab) and the export test (pandoc; xelatex and pdftotext for PDF).
pkgs="$pkgs python3-jupyter-server python3-jupyterlab-server libjs-mathjax pandoc"
[ "$pdf" = 1 ] && pkgs="$pkgs texlive-xetex texlive-fonts-recommended texlive-plain-generic poppler-utils"
[ "$browser" = 1 ] && pkgs="$pkgs chromium"
{ command -v node && command -v npm; } >/dev/null || pkgs="$pkgs nodejs npm"
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

step "JupyterLab front end: kernel/lab/install.sh (npm ci + webpack when not up to date) ($(elapsed))"
t0=$(date +%s)
kernel/lab/install.sh --bin "$tmp/bin"
echo "JupyterLab build step: $(( $(date +%s) - t0 )) s; build $(du -sh kernel/lab/build | cut -f1), node_modules $(du -sh kernel/lab/node_modules 2>/dev/null | cut -f1)"
PATH="$tmp/bin:$PATH" jupyter lab --version

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_server PORT TOKEN: until the Jupyter server answers /api/status.
wait_server() {
  "$py" - "$1" "$2" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/api/status?token=%s" % (sys.argv[1], sys.argv[2])
for _ in range(240):
    try:
        urllib.request.urlopen(url, timeout=2)
        break
    except Exception:
        time.sleep(0.5)
else:
    sys.exit("Jupyter server on port %s did not start" % sys.argv[1])
PY
}
# The JupyterLab server (for the protocol tests through a server and the Lab
# browser test), started as `jupyter lab` is typed, on a copy of notebooks/.
mkdir -p "$tmp/nb-lab" "$tmp/runtime-lab"
cp notebooks/*.ipynb "$tmp/nb-lab/"
lab_port="$(free_port)"
lab_token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PATH="$tmp/bin:$PATH" JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-lab" JUPYTER_CONFIG_DIR="$tmp/jconfig-lab" \
  JUPYTER_RUNTIME_DIR="$tmp/runtime-lab" \
  jupyter lab --no-browser --allow-root --ip=127.0.0.1 --port="$lab_port" \
  --ServerApp.token="$lab_token" --ServerApp.root_dir="$tmp/nb-lab" >"$tmp/lab.log" 2>&1 &
lab_pid=$!
wait_server "$lab_port" "$lab_token"

step "Go unit tests: notebook helpers and kernel module ($(elapsed))"
(cd notebook && go test -count=1 ./...)

step "notebooks: nbconvert --execute of notebooks/*.ipynb ($(elapsed))"
(cd kernel && REPDYN_KERNEL_TEST=1 go test -count=1 -v -run 'TestNotebooks' . 2>&1 | grep -v '^=== RUN') || exit 1

step "export: nbconvert --to pdf of executed notebooks keeps text/plain ($(elapsed))"
exports=""
for n in 00-start-here 04-sufficiency; do
  [ -f "$out/executed-$n.ipynb" ] && exports="$exports${exports:+,}$out/executed-$n.ipynb"
done
export_mode=latex
[ "$pdf" = 1 ] && export_mode=pdf
(cd kernel/tests && REPDYN_EXPORT="$export_mode" REPDYN_EXPORT_NOTEBOOKS="$exports" "$py" -m unittest -v test_export 2>&1) || exit 1

step "Jupyter protocol tests (jupyter_kernel_test), interrupt/resume, timings ($(elapsed))"
(cd kernel/tests && JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-protocol" "$py" -m unittest -v test_protocol 2>&1) || exit 1

step "Jupyter protocol tests, kernels started by the JupyterLab server ($(elapsed))"
(cd kernel/tests && PATH="$tmp/bin:$PATH" JUPYTER_PATH="$jpath" REPDYN_JUPYTER_SERVER="http://127.0.0.1:$lab_port" \
  REPDYN_JUPYTER_TOKEN="$lab_token" REPDYN_JUPYTER_RUNTIME="$tmp/runtime-lab" REPDYN_JUPYTER_SERVER_LOG="$tmp/lab.log" \
  REPDYN_TEST_OUT="$out/lab" "$py" -m unittest -v test_protocol 2>&1) || { echo "--- JupyterLab server log (tail)"; tail -40 "$tmp/lab.log"; exit 1; }

step "course: release and autograde every assignment by nbgrader's rules ($(elapsed))"
(cd kernel/tests && JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-course" "$py" -m unittest -v test_course 2>&1) || exit 1

if [ "$browser" = 1 ]; then
  step "browser: classic Notebook + Chromium (playwright-core) ($(elapsed))"
  mkdir -p "$tmp/nb"
  cp notebooks/*.ipynb "$tmp/nb/"
  port="$(free_port)"
  token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  JUPYTER_PATH="$jpath" REPDYN_CACHE="$tmp/cache-browser" JUPYTER_CONFIG_DIR="$tmp/jconfig" \
    jupyter notebook --no-browser --allow-root --ip=127.0.0.1 --port="$port" \
    --NotebookApp.token="$token" --NotebookApp.open_browser=False --notebook-dir="$tmp/nb" \
    >"$tmp/server.log" 2>&1 &
  server_pid=$!
  wait_server "$port" "$token"
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

  step "browser: JupyterLab (kernel/lab) + Chromium (playwright-core) ($(elapsed))"
  if ! (cd kernel/browser-test && node test.mjs --ui lab --url "http://127.0.0.1:$lab_port" --token "$lab_token" \
      --dir "$tmp/nb-lab" \
      --notebook "${REPDYN_LAB_NOTEBOOKS:-00-start-here.ipynb,04-sufficiency.ipynb}" \
      --out "$out" --timeout-s 600); then
    echo "--- JupyterLab server log (tail)"; tail -40 "$tmp/lab.log"
    exit 1
  fi
fi

step "timings"
cat "$out/timings.json" 2>/dev/null || true
echo
echo "kernel tests passed in $(elapsed); outputs (screenshots, executed notebooks, timings) in $out"
