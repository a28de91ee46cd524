//go:build !unix

package experiment

// oNoFollow is 0 where the system has no O_NOFOLLOW.
const oNoFollow = 0
