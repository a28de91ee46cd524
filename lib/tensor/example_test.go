package tensor_test

import (
	"fmt"

	"repdyn/lib/tensor"
)

func Example() {
	// Constructors and shape-dependent ops return errors; Must panics on them
	// where the shapes are valid by construction.
	x := tensor.Must(tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	xt := tensor.Must(x.Transpose(0, 1)) // a view: no copy
	fmt.Println(xt.Shape(), xt.IsContiguous(), xt.At(2, 1))

	_, err := tensor.Add(x, xt)
	fmt.Println(err)

	y := tensor.Must(tensor.Ones[float32](2, 3))
	tensor.Check(tensor.AddScaled(y, 2, x)) // y += 2*x, no allocation
	fmt.Println(y.Data(), tensor.Sum(y))

	classes := tensor.Must(tensor.ArgMax(x))
	fmt.Println(classes)
	// Output:
	// [3 2] false 6
	// tensor.Add: shapes [2 3] and [3 2] differ at dim 0 (2 vs 3)
	// [3 5 7 9 11 13] 48
	// [2 2]
}

func ExampleRNG_Split() {
	root := tensor.NewRNG(1)
	w := tensor.Must(tensor.New[float32](64, 16, 3, 3))
	// Each parameter draws from its own stream, named after it.
	tensor.Check(tensor.KaimingNormal(w, root.Split("layer1.0.conv1.weight"), 0, tensor.FanOut, "relu"))
	fanIn, fanOut, _ := tensor.Fans(w.Shape())
	fmt.Println(fanIn, fanOut)

	// The state can be saved in a checkpoint and restored exactly.
	state, _ := root.MarshalBinary()
	var resumed tensor.RNG
	_ = resumed.UnmarshalBinary(state)
	fmt.Println(root.Uint64() == resumed.Uint64())
	// Output:
	// 144 576
	// true
}
