package models

import (
	"testing"

	"repdyn/lib/nn"
	"repdyn/lib/tensor"
)

func benchStep(b *testing.B, name string, cfg Config, shape []int) {
	m, err := New[float32](name, cfg)
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.Must(tensor.New[float32](shape...))
	for i, d := 0, x.Data(); i < len(d); i++ {
		d[i] = float32(i%7) - 3
	}
	labels := make([]int, shape[0])
	ce := &nn.CrossEntropy[float32]{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		y, err := m.Forward(x, nn.Train)
		if err != nil {
			b.Fatal(err)
		}
		_, g, _ := ce.Forward(y, labels)
		nn.ZeroGrad[float32](m)
		if _, err := m.Backward(g); err != nil {
			b.Fatal(err)
		}
	}
}

// Training step (forward + loss + backward), float32.
func BenchmarkTrainStepResNet20B128(b *testing.B) {
	benchStep(b, "resnet20", Config{}, []int{128, 3, 32, 32})
}

func BenchmarkTrainStepPreActResNet18W025B32(b *testing.B) {
	benchStep(b, "preact-resnet18", Config{Width: 0.25}, []int{32, 3, 32, 32})
}

func BenchmarkTrainStepMLPB128(b *testing.B) {
	benchStep(b, "mlp", Config{InChannels: 1}, []int{128, 1, 28, 28})
}

func BenchmarkTrainStepResNet18CIFARB128(b *testing.B) {
	benchStep(b, "resnet18-cifar", Config{}, []int{128, 3, 32, 32})
}

func BenchmarkTrainStepResNet18CIFARB32(b *testing.B) {
	benchStep(b, "resnet18-cifar", Config{}, []int{32, 3, 32, 32})
}

func benchInfer(b *testing.B, name string, cfg Config, shape []int) {
	m, err := New[float32](name, cfg)
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.Must(tensor.New[float32](shape...))
	for i, d := 0, x.Data(); i < len(d); i++ {
		d[i] = float32(i%7) - 3
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(x, nn.Eval); err != nil {
			b.Fatal(err)
		}
	}
}

// Inference (eval-mode forward), float32.
func BenchmarkInferResNet20B128(b *testing.B) {
	benchInfer(b, "resnet20", Config{}, []int{128, 3, 32, 32})
}

func BenchmarkInferResNet18CIFARB128(b *testing.B) {
	benchInfer(b, "resnet18-cifar", Config{}, []int{128, 3, 32, 32})
}
