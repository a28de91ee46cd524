#!/usr/bin/env bash
# Starts GoNB for the "Go (repdyn)" kernelspec that kernel/install.sh writes:
#
#   gonb-kernel.sh --kernel CONNECTION_FILE [more GoNB flags]
#
#  - PATH is extended, not replaced: $REPDYN_KERNEL_PATH (the kernel's tools
#    and Go, set in the kernelspec) goes in front of the PATH that the
#    Jupyter server was started with.
#  - GoNB v0.11.4 logs a test line "Error message" at every start (main.go's
#    setUpKlog gets a nil *os.File as a non-nil io.Writer when --extra_log is
#    not set); that one line is dropped from stderr, everything else passes.
#    exec keeps GoNB's process id, so Jupyter's signals reach it directly.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="${REPDYN_KERNEL_PATH:+$REPDYN_KERNEL_PATH:}${PATH:-/usr/local/bin:/usr/bin:/bin}"
exec "$here/bin/gonb" "$@" 2> >(exec sed -u '/main\.go:[0-9]*\] .*Error message$/d' >&2)
