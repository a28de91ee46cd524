package train

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"repdyn/lib/checkpoint"
)

// OpenAppend opens path, a file in a run's output folder such as
// metrics.jsonl, for appending (creating it with mode 0644). It never
// follows a symbolic link (O_NOFOLLOW), does not block on a FIFO and
// refuses anything but a regular file, so a link planted in the folder
// cannot make training write outside it. Checkpoints and sidecars are
// written atomically instead (a temporary file renamed into place, which
// replaces a link rather than following it).
func OpenAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("train: %s is a symbolic link; refusing to write through it (remove it)", path)
		}
		if errors.Is(err, syscall.ENXIO) {
			return nil, fmt.Errorf("train: %s is not a regular file (a FIFO?); remove it", path)
		}
		return nil, fmt.Errorf("train: %w", err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("train: %s is not a regular file (it is %s); remove it", path, checkpoint.FileKind(st.Mode()))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
