//go:build unix

package checkpoint

import "syscall"

// openFlags keeps opening a FIFO from blocking until a writer appears (the
// file is then refused as not regular); it does not affect regular files.
const openFlags = syscall.O_NONBLOCK
