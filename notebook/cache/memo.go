package cache

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// NoCache reports whether REPDYN_NOCACHE asks to recompute cached results
// ("1", "true" or "yes"; in a cell: %env REPDYN_NOCACHE=1).
func NoCache() bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv("REPDYN_NOCACHE"))) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// EnvKey is k mixed with env: the key under which Memo stores k's result.
func EnvKey(k Key, env Env) (Key, error) {
	ns, _, found := strings.Cut(string(k), "/")
	if !found {
		ns = ""
	}
	return KeyOf(ns, string(k), env)
}

var announce sync.Once

// Memo returns the value stored under k for the current Env (the calling
// cell's code, module and Go versions, kernel level, library and notebook
// sources), or computes it with f, stores it and returns it. Values go
// through JSON (float64 and float32 round-trip exactly), so a later call
// returns what the first computed. Errors from f are not cached.
//
// A value read from the cache prints one line to stdout (once per
// process): "from cache (computed <time>); REPDYN_NOCACHE=1 to recompute".
// With REPDYN_NOCACHE=1, f always runs and its value replaces the entry. A
// corrupt entry is reported on stderr with its path and recomputed. When the
// cell's code or the sources cannot be hashed, Memo returns a *HashError
// and does not run f (REPDYN_NOCACHE=1 computes without the cache).
func Memo[T any](c *Cache, k Key, f func() (T, error)) (T, error) {
	var v T
	if NoCache() {
		env, err := CurrentEnv(1)
		v, ferr := f()
		if ferr != nil || err != nil {
			return v, ferr // nothing to store under an unknown key
		}
		ek, err := EnvKey(k, env)
		if err != nil {
			return v, err
		}
		return v, c.PutJSON(ek, v)
	}
	env, err := CurrentEnv(1)
	if err != nil {
		return v, err
	}
	ek, err := EnvKey(k, env)
	if err != nil {
		return v, err
	}
	written, ok, err := c.getJSON(ek, &v)
	var corrupt *CorruptError
	switch {
	case errors.As(err, &corrupt):
		fmt.Fprintf(os.Stderr, "%v: recomputing\n", corrupt)
		var zero T
		v = zero
	case err != nil:
		return v, err
	case ok:
		announce.Do(func() {
			fmt.Printf("from cache (computed %s); REPDYN_NOCACHE=1 to recompute\n", written.Local().Format(time.DateTime))
		})
		return v, nil
	}
	v, err = f()
	if err != nil {
		return v, err
	}
	return v, c.PutJSON(ek, v)
}
