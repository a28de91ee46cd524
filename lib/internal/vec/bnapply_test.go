package vec

import (
	"fmt"
	"math"
	"testing"
)

// TestBNApplyMatchesSequence checks BNApplyRows on one row bit for bit
// against the five kernels it fuses (bnApplyGo), at every level, for every length up to 70 (full vectors
// and tails), with and without residual and ReLU, in place and not, with
// NaN, infinities and signed zeros among the inputs.
func TestBNApplyMatchesSequence(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		for n := 0; n <= 70; n++ {
			x, res := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(math.Sin(float64(3*i+n))) * 5
				res[i] = float32(math.Cos(float64(7*i+n))) * 3
			}
			if n > 5 {
				x[1], x[2], x[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Copysign(0, -1))
				res[4] = float32(math.Inf(-1))
			}
			for _, withRes := range []bool{false, true} {
				for _, relu := range []bool{false, true} {
					for _, inPlace := range []bool{false, true} {
						var r []float32
						if withRes {
							r = res
						}
						mean, invstd, gamma, beta := float32(0.3), float32(1.7), float32(-0.9), float32(0.25)
						want := make([]float32, n)
						bnApplyGo(want, x, r, mean, invstd, gamma, beta, relu)
						got := make([]float32, n)
						src := x
						if inPlace {
							copy(got, x)
							src = got
						}
						one := func(v float32) []float32 { return []float32{v} }
						BNApplyRows(got, src, r, max(n, 1), one(mean), one(invstd), one(gamma), one(beta), relu)
						name := fmt.Sprintf("n=%d res=%v relu=%v inPlace=%v", n, withRes, relu, inPlace)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) &&
								!(got[i] != got[i] && want[i] != want[i]) {
								t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// TestBNApplyRowsMatchesRows checks BNApplyRows bit for bit against the
// sequence of kernels it fuses (bnApplyGo), row by row, for row lengths with and
// without a tail, with and without residual and ReLU, in place and not.
func TestBNApplyRowsMatchesRows(t *testing.T) {
	forLevels(t, func(t *testing.T) {
		for _, hw := range []int{1, 7, 16, 17, 33, 64} {
			for _, rows := range []int{1, 3, 8} {
				n := hw * rows
				x, res := make([]float32, n), make([]float32, n)
				for i := range x {
					x[i] = float32(math.Sin(float64(5*i+hw))) * 4
					res[i] = float32(math.Cos(float64(3*i+rows))) * 2
				}
				x[0] = float32(math.NaN())
				mean, invstd, gamma, beta := make([]float32, rows), make([]float32, rows), make([]float32, rows), make([]float32, rows)
				for r := range mean {
					mean[r], invstd[r] = float32(r)*0.3-0.4, 1+float32(r)*0.25
					gamma[r], beta[r] = 0.5-float32(r)*0.2, float32(r)*0.1-0.2
				}
				for _, withRes := range []bool{false, true} {
					for _, relu := range []bool{false, true} {
						for _, inPlace := range []bool{false, true} {
							var rs []float32
							if withRes {
								rs = res
							}
							want := make([]float32, n)
							for r := 0; r < rows; r++ {
								o := r * hw
								var rr []float32
								if rs != nil {
									rr = rs[o : o+hw]
								}
								bnApplyGo(want[o:o+hw], x[o:o+hw], rr, mean[r], invstd[r], gamma[r], beta[r], relu)
							}
							got := make([]float32, n)
							src := x
							if inPlace {
								copy(got, x)
								src = got
							}
							BNApplyRows(got, src, rs, hw, mean, invstd, gamma, beta, relu)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
									t.Fatalf("hw=%d rows=%d res=%v relu=%v inPlace=%v: [%d] = %v, want %v",
										hw, rows, withRes, relu, inPlace, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		}
		// float64: the same rows, through the Go sequence
		x := []float64{1, -2, 3, 4}
		BNApplyRows(x, x, nil, 2, []float64{1, 0}, []float64{2, 1}, []float64{3, 1}, []float64{4, -5}, true)
		if x[0] != 4 || x[1] != 0 || x[2] != 0 || x[3] != 0 {
			t.Errorf("float64 BNApplyRows = %v, want [4 0 0 0]", x)
		}
	})
}
