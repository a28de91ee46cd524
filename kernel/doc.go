// Package kernel holds the tests of the repdyn Jupyter kernel (GoNB with the
// repdyn library preloaded): they install the kernel into a temporary
// Jupyter data directory and execute every notebook in notebooks/ headless.
//
// The kernel itself is installed by install.sh (see its header); the pinned
// tools module is in tools/. The tests need Debian's Jupyter packages and
// run only when REPDYN_KERNEL_TEST=1, which kernel/ci-test.sh sets after
// installing them.
package kernel
