package cpu

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Cache sizes of one core in bytes, read once at start-up (Linux sysfs,
// /sys/devices/system/cpu/cpu0/cache); 0 where unknown. The GEMM blocking
// sizes its cache blocks from them.
var (
	L1D int // level-1 data cache
	L2  int // level-2 cache (unified)
)

func init() {
	L1D, L2 = readCaches("/sys/devices/system/cpu/cpu0/cache")
}

// readCaches reads the level-1 data and level-2 cache sizes under dir
// (index*/level, type, size as sysfs writes them: "48K", "2048K", "1M").
func readCaches(dir string) (l1d, l2 int) {
	idx, _ := filepath.Glob(filepath.Join(dir, "index*"))
	for _, d := range idx {
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(d, name))
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		size := parseSize(read("size"))
		switch level, typ := read("level"), read("type"); {
		case level == "1" && typ == "Data":
			l1d = size
		case level == "2" && (typ == "Unified" || typ == "Data"):
			l2 = size
		}
	}
	return l1d, l2
}

// parseSize parses "48K", "2048K", "1M", "512" (bytes); 0 if malformed.
func parseSize(s string) int {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n * mult
}
