package nn

import "repdyn/lib/conv"

// Conv2d is a 2-D convolution (cross-correlation) of NCHW inputs, PyTorch
// nn.Conv2d semantics: weight [Out, In, K, K], optional bias [Out], stride,
// zero padding and dilation (groups = 1).
type Conv2d[T Float] struct {
	name                         string
	In, Out, K, Stride, Pad, Dil int
	Weight                       *Param[T]
	Bias                         *Param[T] // nil without bias
	x                            *Tensor[T]
	g                            convGeom
	out, dx                      buf[T]
	ws                           convWork[T]
	ps                           []*Param[T]
	tan                          buf[T] // forward-mode tangent of the output
}

// convGeom is the geometry of one convolution call.
type convGeom struct {
	N, Cin, H, W, Cout, K, Stride, Pad, Dil, OH, OW int
}

// NewConv2d returns a k x k convolution with zero parameters (initialize them
// with lib/models' initializers).
func NewConv2d[T Float](name string, in, out, k, stride, pad int, bias bool) *Conv2d[T] {
	c := &Conv2d[T]{name: name, In: in, Out: out, K: k, Stride: stride, Pad: pad, Dil: 1}
	c.Weight = paramNew[T](name, "weight", false, out, in, k, k)
	if bias {
		c.Bias = paramNew[T](name, "bias", true, out)
	}
	return c
}

func (c *Conv2d[T]) Name() string { return c.name }

func (c *Conv2d[T]) Params() []*Param[T] {
	if c.ps == nil {
		c.ps = []*Param[T]{c.Weight}
		if c.Bias != nil {
			c.ps = append(c.ps, c.Bias)
		}
	}
	return c.ps
}

func (c *Conv2d[T]) Buffers() []*Buffer[T] { return nil }

func (c *Conv2d[T]) geom(in []int) (convGeom, error) {
	if len(in) != 4 || in[1] != c.In {
		return convGeom{}, layerError("Conv2d", c.name, "input shape %v, want [N %d H W]", in, c.In)
	}
	ek := c.Dil*(c.K-1) + 1
	if in[2]+2*c.Pad < ek || in[3]+2*c.Pad < ek {
		return convGeom{}, layerError("Conv2d", c.name, "input shape %v is smaller than the %dx%d kernel (pad %d, dilation %d)", in, c.K, c.K, c.Pad, c.Dil)
	}
	g := convGeom{N: in[0], Cin: in[1], H: in[2], W: in[3], Cout: c.Out, K: c.K, Stride: c.Stride, Pad: c.Pad, Dil: c.Dil}
	g.OH = (g.H+2*g.Pad-ek)/g.Stride + 1
	g.OW = (g.W+2*g.Pad-ek)/g.Stride + 1
	return g, nil
}

func (c *Conv2d[T]) OutShape(in []int) ([]int, error) {
	g, err := c.geom(in)
	if err != nil {
		return nil, err
	}
	return []int{g.N, g.Cout, g.OH, g.OW}, nil
}

// FLOPs of the forward pass for input shape in (2 per multiply-add).
func (c *Conv2d[T]) flops(in []int) int64 {
	g, err := c.geom(in)
	if err != nil {
		return 0
	}
	return 2 * int64(g.N) * int64(g.Cout*g.OH*g.OW) * int64(g.Cin*g.K*g.K)
}

func (c *Conv2d[T]) Forward(x *Tensor[T], mode Mode) (*Tensor[T], error) {
	y, err := c.prepare(x)
	if err != nil {
		return nil, err
	}
	return y, c.run(y, nil)
}

// prepare checks x, records it for Backward and returns the output tensor
// that run fills.
func (c *Conv2d[T]) prepare(x *Tensor[T]) (*Tensor[T], error) {
	g, err := c.geom(shapeOf(x))
	if err != nil {
		return nil, err
	}
	c.g, c.x = g, x
	return c.out.get(g.N, g.Cout, g.OH, g.OW), nil
}

// run computes the convolution of the prepared input into y, then ep (nil:
// none) on each part of y as soon as it is final (conv.ForwardThen).
func (c *Conv2d[T]) run(y *Tensor[T], ep conv.Epilogue) error {
	var b []T
	if c.Bias != nil {
		b = c.Bias.Data
	}
	if err := c.ws.forwardThen(c.g, dataOf(c.x), c.Weight.Data, b, dataOf(y), 0, ep); err != nil {
		return layerError("Conv2d", c.name, "%v", err)
	}
	return nil
}

func (c *Conv2d[T]) Backward(dy *Tensor[T]) (*Tensor[T], error) {
	if err := checkGrad("Conv2d", c.name, dy, c.out.shape); err != nil {
		return nil, err
	}
	dx := c.dx.get(c.g.N, c.g.Cin, c.g.H, c.g.W)
	if err := c.backwardInto(dataOf(dy), dataOf(dx), 0); err != nil {
		return nil, err
	}
	return dx, nil
}

// backwardInto is Backward on slices: it accumulates the parameter gradients
// and sets dst = dx + beta*dst (beta 0 or 1: adding the input gradient to
// dst saves a pass where two branches of a block meet).
func (c *Conv2d[T]) backwardInto(dy, dst []T, beta T) error {
	g := c.g
	if c.out.shape == nil {
		return layerError("Conv2d", c.name, "Backward before Forward")
	}
	if len(dy) != g.N*g.Cout*g.OH*g.OW || len(dst) != g.N*g.Cin*g.H*g.W {
		return layerError("Conv2d", c.name, "gradient of %d and input gradient of %d values, want %d and %d",
			len(dy), len(dst), g.N*g.Cout*g.OH*g.OW, g.N*g.Cin*g.H*g.W)
	}
	var db []T
	if c.Bias != nil {
		db = c.Bias.Grad
	}
	if err := c.ws.backwardWeights(g, dataOf(c.x), dy, c.Weight.Grad, db); err != nil {
		return layerError("Conv2d", c.name, "%v", err)
	}
	if err := c.ws.backwardDataBeta(g, dy, c.Weight.Data, dst, beta); err != nil {
		return layerError("Conv2d", c.name, "%v", err)
	}
	return nil
}
