package safemath

import (
	"math"
	"math/big"
	"testing"
)

// bigProduct is the exact product, the oracle for Product.
func bigProduct(dims []int) (*big.Int, *big.Int) {
	all, nonzero := big.NewInt(1), big.NewInt(1)
	for _, d := range dims {
		all.Mul(all, big.NewInt(int64(d)))
		if d != 0 {
			nonzero.Mul(nonzero, big.NewInt(int64(d)))
		}
	}
	return all, nonzero
}

func TestProduct(t *testing.T) {
	cases := [][]int{
		{}, {0}, {7}, {2, 3, 4}, {1, 3 << 30, 3 << 30, 16}, {1 << 31, 1 << 31, 4},
		{0, 1 << 62, 1 << 62}, {math.MaxInt}, {math.MaxInt, 2}, {-1, 2}, {3, -4},
		{1 << 20, 1 << 20, 1 << 20, 0}, {60000, 28, 28},
	}
	for _, limit := range []int{-1, 1 << 40, 1000} {
		lim := big.NewInt(math.MaxInt64)
		if limit >= 0 {
			lim = big.NewInt(int64(limit))
		}
		for _, dims := range cases {
			got, ok := Product(dims, limit)
			all, nonzero := bigProduct(dims)
			neg := false
			for _, d := range dims {
				neg = neg || d < 0
			}
			wantOK := !neg && nonzero.Cmp(lim) <= 0
			if ok != wantOK {
				t.Errorf("Product(%v, %d) ok = %v, want %v", dims, limit, ok, wantOK)
				continue
			}
			if ok && big.NewInt(int64(got)).Cmp(all) != 0 {
				t.Errorf("Product(%v, %d) = %d, want %v", dims, limit, got, all)
			}
		}
	}
}

func TestMulAdd(t *testing.T) {
	if _, ok := Mul(math.MaxInt/2+1, 2); ok {
		t.Error("Mul overflow not detected")
	}
	if v, ok := Mul(math.MaxInt/2, 2); !ok || v != math.MaxInt-1 {
		t.Errorf("Mul = %d, %v", v, ok)
	}
	if _, ok := Mul(-1, 0); ok {
		t.Error("Mul accepted a negative factor")
	}
	if _, ok := Add(math.MaxInt, 1); ok {
		t.Error("Add overflow not detected")
	}
	if v, ok := Add(2, 3); !ok || v != 5 {
		t.Errorf("Add = %d, %v", v, ok)
	}
}
