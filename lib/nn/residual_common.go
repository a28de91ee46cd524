package nn

import "slices"

// Helpers shared by the residual blocks (BasicBlock, PreActBlock): shape
// checks of the branch against the shortcut, and the sum of the two in
// forward mode.

// residualOutShape is the output shape of a block whose residual branch is
// the layers of branch (in order) and whose shortcut is the identity (nil) or
// the projection sc; the two must agree.
func residualOutShape[T Float](kind, name string, in []int, sc *Sequential[T], branch ...Module[T]) ([]int, error) {
	main, err := NewSequential[T]("", branch...).OutShape(in)
	if err != nil {
		return nil, err
	}
	short := in
	if sc != nil {
		if short, err = sc.OutShape(in); err != nil {
			return nil, err
		}
	}
	if !slices.Equal(main, short) {
		return nil, layerError(kind, name, "residual branch shape %v does not match shortcut shape %v (input %v)", main, short, in)
	}
	return main, nil
}

// checkInputShape validates x against outShape when its shape differs from
// the last one seen (kept in *last), so a block checks each new shape once.
func checkInputShape[T Float](last *[]int, x *Tensor[T], outShape func([]int) ([]int, error)) error {
	in := shapeOf(x)
	if slices.Equal(*last, in) {
		return nil
	}
	*last = (*last)[:0]
	if _, err := outShape(in); err != nil {
		return err
	}
	*last = append(*last, in...)
	return nil
}

// residualSumJVP returns h + sc and its tangent dh + dsc (dsc nil: a
// constant shortcut, tangent dh), in the buffers sum and tan.
func residualSumJVP[T Float](sum, tan *buf[T], h, dh, sc, dsc *Tensor[T]) (*Tensor[T], *Tensor[T]) {
	s := sum.get(shapeOf(h)...)
	addInto(dataOf(s), dataOf(h), dataOf(sc))
	ds := tan.get(shapeOf(h)...)
	if dsc != nil {
		addInto(dataOf(ds), dataOf(dh), dataOf(dsc))
	} else {
		copy(dataOf(ds), dataOf(dh))
	}
	return s, ds
}
