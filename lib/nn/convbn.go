package nn

// Inference-mode fusion of a convolution with the batch norm after it. In
// eval mode batch norm only needs the running statistics, so its pass
// (with the residual add and ReLU that follow it) runs as the convolution's
// epilogue, on each image's output while that output is still in cache,
// instead of as a second pass over the whole batch from memory. The layers'
// state (the convolution's output, the batch norm's input and output) is
// the same as when they run one after the other, and so are the results,
// bit for bit: Backward and the forward-mode JVP work after either.

// fuseConvBN switches the fusion (tests compare both ways).
var fuseConvBN = true

// convBNEval computes relu?(bn(conv(x)) + res?) in eval mode (res nil: no
// residual).
func convBNEval[T Float](c *Conv2d[T], bn *BatchNorm[T], x, res *Tensor[T], relu bool) (*Tensor[T], error) {
	h, err := c.prepare(x)
	if err != nil {
		return nil, err
	}
	y, err := bn.setup(h, Eval, res, relu)
	if err != nil {
		return nil, err
	}
	err = c.run(h, &bn.task)
	bn.finish(Eval)
	if err != nil {
		return nil, err
	}
	return y, nil
}
