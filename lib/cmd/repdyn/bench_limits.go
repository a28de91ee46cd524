package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"

	"repdyn/lib/internal/safemath"
)

// Limits on the sizes `repdyn bench` accepts: every size flag is checked
// when it is parsed (a bad value is a flag error naming the flag), and the
// buffers a benchmark allocates are bounded in total before any of them is.
const (
	maxBenchDim      = 1 << 20 // a matrix dimension, batch, channel count or image side
	maxBenchElements = 1 << 31 // values allocated by one benchmark (8 GiB in float32)
	maxBenchThreads  = 4096
	maxBenchReps     = 1 << 20
)

// boundInts makes the named int flags of fs accept only values in lo..hi:
// parsing "-5" for one of them fails with `invalid value "-5" for flag -m:
// must be in 1..1048576`, a one-line flag error.
func boundInts(fs *flag.FlagSet, lo, hi int, names ...string) {
	for _, n := range names {
		f := fs.Lookup(n)
		if f == nil {
			panic("boundInts: no flag " + n)
		}
		f.Value = &boundedInt{Value: f.Value, lo: lo, hi: hi}
	}
}

type boundedInt struct {
	flag.Value
	lo, hi int
}

func (b *boundedInt) Set(s string) error {
	v, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return errors.New("not an integer")
	}
	if v < int64(b.lo) || v > int64(b.hi) {
		return fmt.Errorf("must be in %d..%d", b.lo, b.hi)
	}
	return b.Value.Set(s)
}

// checkThreadList bounds one entry of a --threads comma list.
func checkThreadList(v int) bool { return v >= 1 && v <= maxBenchThreads }

// benchElements checks that buffers of the given shapes (named in the
// error) hold at most maxBenchElements values together.
func benchElements(what string, shapes ...[]int) error {
	total := 0
	for _, s := range shapes {
		n, ok := safemath.Product(s, maxBenchElements)
		if ok {
			total, ok = safemath.Add(total, n)
		}
		if !ok || total > maxBenchElements {
			return fmt.Errorf("%s: the buffers would hold more than %d values (the limit)", what, maxBenchElements)
		}
	}
	return nil
}
