package conv

import "fmt"

// Params describes a 2-D convolution of an NCHW batch.
//
// The input x has shape (N, Cin, H, W), the weights w (Cout, Cin, KH, KW),
// the optional bias (Cout), the output y (N, Cout, Ho, Wo) with
//
//	Ho = (H + PadTop + PadBottom - DilationH*(KH-1) - 1)/StrideH + 1
//	Wo = (W + PadLeft + PadRight - DilationW*(KW-1) - 1)/StrideW + 1
//
// and
//
//	y[n][co][oh][ow] = bias[co] + sum_{ci,kh,kw} w[co][ci][kh][kw] *
//	    x[n][ci][oh*StrideH + kh*DilationH - PadTop][ow*StrideW + kw*DilationW - PadLeft]
//
// (cross-correlation, as in PyTorch; x is zero outside the image).
// Strides and dilations must be at least 1: use New for the common case.
type Params struct {
	N, Cin, H, W int // input batch, channels, height, width
	Cout, KH, KW int // output channels, kernel height and width
	StrideH      int
	StrideW      int
	PadTop       int
	PadBottom    int
	PadLeft      int
	PadRight     int
	DilationH    int
	DilationW    int
}

// New returns the Params of a convolution with a square k×k kernel, the same
// stride and the same zero padding on every side, and dilation 1.
func New(n, cin, h, w, cout, k, stride, pad int) Params {
	return Params{
		N: n, Cin: cin, H: h, W: w, Cout: cout, KH: k, KW: k,
		StrideH: stride, StrideW: stride,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: pad,
		DilationH: 1, DilationW: 1,
	}
}

// WithDilation returns p with both dilations set to d.
func (p Params) WithDilation(d int) Params {
	p.DilationH, p.DilationW = d, d
	return p
}

// Validate reports the first field that makes p unusable.
func (p Params) Validate() error {
	pos := []struct {
		name string
		v    int
	}{
		{"N", p.N}, {"Cin", p.Cin}, {"H", p.H}, {"W", p.W}, {"Cout", p.Cout},
		{"KH", p.KH}, {"KW", p.KW}, {"StrideH", p.StrideH}, {"StrideW", p.StrideW},
		{"DilationH", p.DilationH}, {"DilationW", p.DilationW},
	}
	for _, f := range pos {
		if f.v < 1 {
			return fmt.Errorf("conv: %s = %d: must be at least 1", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"PadTop", p.PadTop}, {"PadBottom", p.PadBottom}, {"PadLeft", p.PadLeft}, {"PadRight", p.PadRight}} {
		if f.v < 0 {
			return fmt.Errorf("conv: %s = %d: must not be negative", f.name, f.v)
		}
	}
	if eh := p.DilationH*(p.KH-1) + 1; p.H+p.PadTop+p.PadBottom < eh {
		return fmt.Errorf("conv: H = %d with PadTop = %d and PadBottom = %d is smaller than the dilated kernel height %d (KH = %d, DilationH = %d)",
			p.H, p.PadTop, p.PadBottom, eh, p.KH, p.DilationH)
	}
	if ew := p.DilationW*(p.KW-1) + 1; p.W+p.PadLeft+p.PadRight < ew {
		return fmt.Errorf("conv: W = %d with PadLeft = %d and PadRight = %d is smaller than the dilated kernel width %d (KW = %d, DilationW = %d)",
			p.W, p.PadLeft, p.PadRight, ew, p.KW, p.DilationW)
	}
	const maxElems = 1 << 31
	n, c, h, w := p.OutputShape()
	// Per-image packed buffers are addressed with int32 offsets.
	eh, ew := p.DilationH*(p.KH-1), p.DilationW*(p.KW-1)
	if big := p.Cin * (p.H + p.PadTop + p.PadBottom + p.StrideH) * (p.W + p.PadLeft + p.PadRight + p.StrideW); big >= maxElems/2 || big < 0 {
		return fmt.Errorf("conv: one padded input image has %d elements: too large", big)
	}
	if big := p.Cout * (h + 2*eh + 1) * (w + 2*ew + 1); big >= maxElems/2 || big < 0 {
		return fmt.Errorf("conv: one padded output image has %d elements: too large", big)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"input", p.N * p.Cin * p.H * p.W}, {"output", n * c * h * w}, {"weights", p.Cout * p.Cin * p.KH * p.KW}} {
		if f.v >= maxElems || f.v < 0 {
			return fmt.Errorf("conv: %s has %d elements: too large", f.name, f.v)
		}
	}
	return nil
}

// OutputShape returns the shape (N, Cout, Ho, Wo) of the output.
func (p Params) OutputShape() (n, c, h, w int) {
	return p.N, p.Cout,
		(p.H+p.PadTop+p.PadBottom-p.DilationH*(p.KH-1)-1)/p.StrideH + 1,
		(p.W+p.PadLeft+p.PadRight-p.DilationW*(p.KW-1)-1)/p.StrideW + 1
}

// InputLen is N*Cin*H*W, the length of x and dx.
func (p Params) InputLen() int { return p.N * p.Cin * p.H * p.W }

// OutputLen is N*Cout*Ho*Wo, the length of y and dy.
func (p Params) OutputLen() int {
	n, c, h, w := p.OutputShape()
	return n * c * h * w
}

// WeightLen is Cout*Cin*KH*KW, the length of w and dw.
func (p Params) WeightLen() int { return p.Cout * p.Cin * p.KH * p.KW }

// FLOPs is 2*N*Cout*Ho*Wo*Cin*KH*KW, the multiply-adds of one pass
// (Forward, BackwardData or BackwardWeights) counted twice.
func (p Params) FLOPs() float64 {
	n, c, h, w := p.OutputShape()
	return 2 * float64(n) * float64(c) * float64(h) * float64(w) * float64(p.Cin*p.KH*p.KW)
}

func (p Params) String() string {
	return fmt.Sprintf("conv N=%d Cin=%d H=%d W=%d Cout=%d K=%dx%d stride=%dx%d pad=(%d,%d,%d,%d) dil=%dx%d",
		p.N, p.Cin, p.H, p.W, p.Cout, p.KH, p.KW, p.StrideH, p.StrideW,
		p.PadTop, p.PadBottom, p.PadLeft, p.PadRight, p.DilationH, p.DilationW)
}

func (p Params) check(what string, got, want int) error {
	if got != want {
		return fmt.Errorf("conv: len(%s) = %d, want %d for %v", what, got, want, p)
	}
	return nil
}
