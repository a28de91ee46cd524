package models_test

import (
	"fmt"

	"repdyn/lib/models"
	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

// One training step's forward and backward passes of a CIFAR ResNet-20 at
// width 1/4 on Fashion-MNIST-shaped inputs (1x28x28).
func Example() {
	m, err := models.New[float32]("resnet20", models.Config{InChannels: 1, NumClasses: 10, Width: 0.25, Seed: 1})
	if err != nil {
		panic(err)
	}
	x := tensor.Must(tensor.New[float32](8, 1, 28, 28))
	labels := []int{0, 1, 2, 3, 4, 5, 6, 7}
	logits, err := m.Forward(x, nn.Train)
	if err != nil {
		panic(err)
	}
	ce := &nn.CrossEntropy[float32]{Smoothing: 0.1}
	_, dlogits, err := ce.Forward(logits, labels)
	if err != nil {
		panic(err)
	}
	nn.ZeroGrad[float32](m)
	if _, err := m.Backward(dlogits); err != nil {
		panic(err)
	}
	// An optimizer now updates p.Data from p.Grad for p in m.Params().
	ps := m.Params()
	fmt.Println(logits.Shape(), len(ps), ps[0].Name, ps[len(ps)-1].Name, nn.NumParams[float32](m))
	// Output: [8 10] 65 conv1.weight fc.bias 17462
}

func ExampleNew_unknown() {
	_, err := models.New[float64]("vgg16", models.Config{})
	fmt.Println(err)
	// Output: models.New: unknown model "vgg16"; known models: mlp, preact-resnet18, resnet18, resnet18-cifar, resnet18-imagenet, resnet20, resnet32, resnet34, resnet34-cifar, resnet34-imagenet, resnet44, resnet56
}
