package nn

// Private im2col + GEMM convolution: the fallback used while lib/conv is not
// available (and the reference the tests compare lib/conv's results against).

type convWork[T Float] struct {
	col []T
}

// im2col writes the [Cin*K*K, OH*OW] column matrix of sample x (Cin*H*W).
func im2col[T Float](g convGeom, x, col []T) {
	ohw := g.OH * g.OW
	r := 0
	for ci := 0; ci < g.Cin; ci++ {
		xc := x[ci*g.H*g.W : (ci+1)*g.H*g.W]
		for kh := 0; kh < g.K; kh++ {
			for kw := 0; kw < g.K; kw++ {
				row := col[r*ohw : (r+1)*ohw]
				r++
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.Stride - g.Pad + kh*g.Dil
					dst := row[oh*g.OW : (oh+1)*g.OW]
					if ih < 0 || ih >= g.H {
						clear(dst)
						continue
					}
					for ow := range dst {
						iw := ow*g.Stride - g.Pad + kw*g.Dil
						if iw < 0 || iw >= g.W {
							dst[ow] = 0
						} else {
							dst[ow] = xc[ih*g.W+iw]
						}
					}
				}
			}
		}
	}
}

// col2im adds the column matrix back into dx (Cin*H*W), which it does not clear.
func col2im[T Float](g convGeom, col, dx []T) {
	ohw := g.OH * g.OW
	r := 0
	for ci := 0; ci < g.Cin; ci++ {
		dc := dx[ci*g.H*g.W : (ci+1)*g.H*g.W]
		for kh := 0; kh < g.K; kh++ {
			for kw := 0; kw < g.K; kw++ {
				row := col[r*ohw : (r+1)*ohw]
				r++
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.Stride - g.Pad + kh*g.Dil
					if ih < 0 || ih >= g.H {
						continue
					}
					for ow, v := range row[oh*g.OW : (oh+1)*g.OW] {
						iw := ow*g.Stride - g.Pad + kw*g.Dil
						if iw >= 0 && iw < g.W {
							dc[ih*g.W+iw] += v
						}
					}
				}
			}
		}
	}
}

func (w *convWork[T]) refForward(g convGeom, x, wt, b, y []T, beta T) error {
	kk := g.Cin * g.K * g.K
	ohw := g.OH * g.OW
	w.col = grow(w.col, kk*ohw)
	for n := 0; n < g.N; n++ {
		im2col(g, x[n*g.Cin*g.H*g.W:(n+1)*g.Cin*g.H*g.W], w.col)
		yn := y[n*g.Cout*ohw : (n+1)*g.Cout*ohw]
		if beta == 0 {
			clear(yn)
		}
		if b != nil {
			for co := 0; co < g.Cout; co++ {
				for i := range yn[co*ohw : (co+1)*ohw] {
					yn[co*ohw+i] += b[co]
				}
			}
		}
		gemm(false, false, g.Cout, ohw, kk, wt, kk, w.col, ohw, 1, yn, ohw)
	}
	return nil
}

func (w *convWork[T]) refBackwardWeights(g convGeom, x, dy, dw, db []T) error {
	kk := g.Cin * g.K * g.K
	ohw := g.OH * g.OW
	w.col = grow(w.col, kk*ohw)
	for n := 0; n < g.N; n++ {
		im2col(g, x[n*g.Cin*g.H*g.W:(n+1)*g.Cin*g.H*g.W], w.col)
		dyn := dy[n*g.Cout*ohw : (n+1)*g.Cout*ohw]
		gemm(false, true, g.Cout, kk, ohw, dyn, ohw, w.col, ohw, 1, dw, kk)
		if db != nil {
			for co := 0; co < g.Cout; co++ {
				var s T
				for _, v := range dyn[co*ohw : (co+1)*ohw] {
					s += v
				}
				db[co] += s
			}
		}
	}
	return nil
}

func (w *convWork[T]) refBackwardData(g convGeom, dy, wt, dx []T, beta T) error {
	kk := g.Cin * g.K * g.K
	ohw := g.OH * g.OW
	w.col = grow(w.col, kk*ohw)
	if beta == 0 {
		clear(dx)
	}
	for n := 0; n < g.N; n++ {
		dyn := dy[n*g.Cout*ohw : (n+1)*g.Cout*ohw]
		gemm(true, false, kk, ohw, g.Cout, wt, kk, dyn, ohw, 0, w.col, ohw)
		col2im(g, w.col, dx[n*g.Cin*g.H*g.W:(n+1)*g.Cin*g.H*g.W])
	}
	return nil
}
