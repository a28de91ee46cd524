// Package models builds the networks repdyn studies, on lib/nn: ResNet-18/34
// (torchvision structure, with the ImageNet 7x7 stem or the CIFAR 3x3 stem),
// pre-activation ResNet-18 (Kuang Liu's pytorch-cifar), the CIFAR ResNets
// 20/32/44/56 of He et al. (2016) and MLPs. Every model ends in an affine
// (Linear) layer, takes a width multiplier, any number of input channels and
// classes, and any input size large enough for its strides (global average
// pooling before the head). Parameter names are PyTorch state_dict names, so
// checkpoints load into the equivalent PyTorch models; initialization follows
// PyTorch for each model, drawn from per-parameter named RNG streams.
//
//	m, err := models.New[float32]("resnet20", models.Config{InChannels: 1, Width: 0.5, Seed: 1})
//	y, err := m.Forward(x, nn.Train) // m is an nn.Module[float32]
//	s, err := m.Summary([]int{1, 1, 28, 28}); fmt.Print(s)
package models

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"repdyn/lib/nn"
)

// Config configures a model. Zero fields take the defaults noted.
type Config struct {
	InChannels int     // input channels (default 3; 1 for Fashion-MNIST)
	NumClasses int     // outputs of the final Linear layer (default 10)
	Width      float64 // width multiplier on every hidden width (default 1)
	Seed       uint64  // initialization seed

	// MLP only.
	InFeatures int        // input features after flattening (default InChannels*28*28)
	Hidden     []int      // hidden widths before the width multiplier (default [512, 512])
	Activation nn.ActKind // hidden activation (default ReLU)
	Slope      float64    // LeakyReLU negative slope (default 0.01)
	NoBias     bool       // MLP Linear layers without bias
}

func (c Config) withDefaults() Config {
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.NumClasses == 0 {
		c.NumClasses = 10
	}
	if c.Width == 0 {
		c.Width = 1
	}
	if c.Slope == 0 {
		c.Slope = 0.01
	}
	return c
}

// scale applies the width multiplier (rounded, at least 1).
func (c Config) scale(ch int) int { return max(1, int(math.Round(float64(ch)*c.Width))) }

// Model is a network built by this package: an nn.Sequential of named
// top-level children (so it is an nn.Module) with its architecture name.
type Model[T nn.Float] struct {
	*nn.Sequential[T]
	Arch   string
	Config Config
}

// Summary traces the model on an input shape (batch first).
func (m *Model[T]) Summary(in []int) (*nn.Summary, error) { return nn.Summarize[T](m, in) }

type builder[T nn.Float] func(cfg Config) (*Model[T], error)

// constructors by name; see Names.
func registry[T nn.Float]() map[string]builder[T] {
	return map[string]builder[T]{
		"resnet18":          func(c Config) (*Model[T], error) { return ResNet[T](18, false, c) },
		"resnet34":          func(c Config) (*Model[T], error) { return ResNet[T](34, false, c) },
		"resnet18-imagenet": func(c Config) (*Model[T], error) { return ResNet[T](18, false, c) },
		"resnet34-imagenet": func(c Config) (*Model[T], error) { return ResNet[T](34, false, c) },
		"resnet18-cifar":    func(c Config) (*Model[T], error) { return ResNet[T](18, true, c) },
		"resnet34-cifar":    func(c Config) (*Model[T], error) { return ResNet[T](34, true, c) },
		"preact-resnet18":   PreActResNet18[T],
		"resnet20":          func(c Config) (*Model[T], error) { return CIFARResNet[T](20, c) },
		"resnet32":          func(c Config) (*Model[T], error) { return CIFARResNet[T](32, c) },
		"resnet44":          func(c Config) (*Model[T], error) { return CIFARResNet[T](44, c) },
		"resnet56":          func(c Config) (*Model[T], error) { return CIFARResNet[T](56, c) },
		"mlp":               MLP[T],
	}
}

// Names lists the model names New accepts, sorted.
func Names() []string {
	var n []string
	for k := range registry[float32]() {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// New builds the named model:
//
//	resnet18, resnet34              torchvision ResNet (7x7/2 stem + max-pool;
//	                                also named resnet18-imagenet, resnet34-imagenet)
//	resnet18-cifar, resnet34-cifar  same with a 3x3/1 stem and no max-pool
//	preact-resnet18                 pytorch-cifar PreActResNet18
//	resnet20, resnet32, resnet44, resnet56
//	                                He et al. CIFAR ResNets (16/32/64 channels,
//	                                option B projection shortcuts)
//	mlp                             MLP with cfg.Hidden widths
//
// Names are matched ignoring case, '-' and '_' ("PreAct_ResNet18" works).
func New[T nn.Float](name string, cfg Config) (*Model[T], error) {
	var b builder[T]
	for k, v := range registry[T]() {
		if canonical(k) == canonical(name) {
			b = v
		}
	}
	if b == nil {
		return nil, fmt.Errorf("models.New: unknown model %q; known models: %s", name, strings.Join(Names(), ", "))
	}
	return b(cfg)
}

// canonical lower-cases a model name and drops '-' and '_'.
func canonical(s string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
}

func newModel[T nn.Float](arch string, cfg Config, layers ...nn.Module[T]) *Model[T] {
	m := &Model[T]{Sequential: nn.NewSequential[T]("", layers...), Arch: arch, Config: cfg}
	nn.ShareScratch[T](m)
	return m
}

// ResNet builds torchvision's ResNet-18 (depth 18) or ResNet-34 (depth 34):
// conv1, bn1, relu, [maxpool], layer1..layer4 of BasicBlocks with 64, 128,
// 256, 512 channels (times Width; strides 1, 2, 2, 2; downsample = 1x1 conv +
// BN), global average pooling and fc. cifarStem replaces the 7x7/2 conv and
// the 3x3/2 max-pool with a 3x3/1 conv (the usual CIFAR variant).
// Initialization as torchvision: convs kaiming_normal_(fan_out, relu), BN
// weight 1 bias 0, fc PyTorch's Linear default.
func ResNet[T nn.Float](depth int, cifarStem bool, cfg Config) (*Model[T], error) {
	if _, err := resnetPlan(depth, cifarStem, cfg); err != nil { // bounds, before allocating
		return nil, err
	}
	cfg = cfg.withDefaults()
	blocks := []int{2, 2, 2, 2}
	if depth == 34 {
		blocks = []int{3, 4, 6, 3}
	}
	c0 := cfg.scale(64)
	var layers []nn.Module[T]
	arch := fmt.Sprintf("resnet%d", depth)
	if cifarStem {
		arch += "-cifar"
		layers = append(layers, nn.NewConv2d[T]("conv1", cfg.InChannels, c0, 3, 1, 1, false),
			nn.NewBatchNorm2d[T]("bn1", c0), nn.NewReLU[T]("relu"))
	} else {
		layers = append(layers, nn.NewConv2d[T]("conv1", cfg.InChannels, c0, 7, 2, 3, false),
			nn.NewBatchNorm2d[T]("bn1", c0), nn.NewReLU[T]("relu"), nn.NewMaxPool2d[T]("maxpool", 3, 2, 1))
	}
	in := c0
	for s, n := range blocks {
		out := cfg.scale(64 << s)
		name := fmt.Sprintf("layer%d", s+1)
		stage := nn.NewSequential[T](name)
		for i := 0; i < n; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			stage.Append(nn.NewBasicBlock[T](fmt.Sprintf("%s.%d", name, i), in, out, stride))
			in = out
		}
		layers = append(layers, stage)
	}
	layers = append(layers, nn.NewGlobalAvgPool[T]("avgpool"), nn.NewLinear[T]("fc", in, cfg.NumClasses, true))
	m := newModel(arch, cfg, layers...)
	initModel(m, cfg.Seed, convFanOut)
	return m, nil
}

// CIFARResNet builds the ResNet-20/32/44/56 of He et al. (2016, sec. 4.2) for
// 32x32 inputs: conv1 (3x3, 16 channels), bn1, relu, three stages layer1..3
// of n = (depth-2)/6 BasicBlocks with 16, 32, 64 channels (times Width;
// strides 1, 2, 2), global average pooling and fc. Shortcuts that change shape
// use OPTION B, a projection (1x1 conv + BN, named "downsample.0/1" as in
// torchvision), not the paper's option A (zero-padding identity), which
// torchvision does not provide. Initialization as torchvision's ResNet.
func CIFARResNet[T nn.Float](depth int, cfg Config) (*Model[T], error) {
	if _, err := cifarResNetPlan(depth, cfg); err != nil { // bounds, before allocating
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := (depth - 2) / 6
	c0 := cfg.scale(16)
	layers := []nn.Module[T]{nn.NewConv2d[T]("conv1", cfg.InChannels, c0, 3, 1, 1, false),
		nn.NewBatchNorm2d[T]("bn1", c0), nn.NewReLU[T]("relu")}
	in := c0
	for s := 0; s < 3; s++ {
		out := cfg.scale(16 << s)
		name := fmt.Sprintf("layer%d", s+1)
		stage := nn.NewSequential[T](name)
		for i := 0; i < n; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			stage.Append(nn.NewBasicBlock[T](fmt.Sprintf("%s.%d", name, i), in, out, stride))
			in = out
		}
		layers = append(layers, stage)
	}
	layers = append(layers, nn.NewGlobalAvgPool[T]("avgpool"), nn.NewLinear[T]("fc", in, cfg.NumClasses, true))
	m := newModel(fmt.Sprintf("resnet%d", depth), cfg, layers...)
	initModel(m, cfg.Seed, convFanOut)
	return m, nil
}

// PreActResNet18 builds Kuang Liu's pytorch-cifar PreActResNet18: conv1
// (3x3/1, 64), layer1..layer4 of two PreActBlocks each (64, 128, 256, 512
// channels times Width; strides 1, 2, 2, 2; projection shortcut "shortcut.0"
// = 1x1 conv without BN), then — as in that code, without a final BN/ReLU —
// global average pooling (F.avg_pool2d(out, 4) there: the same on 32x32
// inputs) and "linear". Initialization: PyTorch's defaults (that code does
// not re-initialize): convs and linear kaiming_uniform_(a=sqrt(5)).
func PreActResNet18[T nn.Float](cfg Config) (*Model[T], error) {
	if _, err := preactPlan(cfg); err != nil { // bounds, before allocating
		return nil, err
	}
	cfg = cfg.withDefaults()
	c0 := cfg.scale(64)
	layers := []nn.Module[T]{nn.NewConv2d[T]("conv1", cfg.InChannels, c0, 3, 1, 1, false)}
	in := c0
	for s := 0; s < 4; s++ {
		out := cfg.scale(64 << s)
		name := fmt.Sprintf("layer%d", s+1)
		stage := nn.NewSequential[T](name)
		for i := 0; i < 2; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			stage.Append(nn.NewPreActBlock[T](fmt.Sprintf("%s.%d", name, i), in, out, stride, false))
			in = out
		}
		layers = append(layers, stage)
	}
	layers = append(layers, nn.NewGlobalAvgPool[T]("avgpool"), nn.NewLinear[T]("linear", in, cfg.NumClasses, true))
	m := newModel("preact-resnet18", cfg, layers...)
	initModel(m, cfg.Seed, convDefault)
	return m, nil
}

// MLP builds flatten -> [Linear -> activation] x len(Hidden) -> Linear, with
// hidden widths Hidden (default [512, 512]) times Width. The input is
// flattened ([N, ...] -> [N, InFeatures]); InFeatures defaults to
// InChannels*28*28. Layer names follow a PyTorch module whose attribute
// "layers" is the nn.Sequential of the Linear and activation modules
// ("layers.0.weight", "layers.2.weight", ...). Initialization: PyTorch's
// Linear default.
func MLP[T nn.Float](cfg Config) (*Model[T], error) {
	if _, err := mlpPlan(cfg); err != nil { // bounds, before allocating
		return nil, err
	}
	cfg, widths, _ := mlpConfig(cfg)
	layers := []nn.Module[T]{nn.NewFlatten[T]("flatten")}
	in, idx := cfg.InFeatures, 0
	for _, w := range widths {
		layers = append(layers, nn.NewLinear[T](fmt.Sprintf("layers.%d", idx), in, w, !cfg.NoBias),
			nn.NewActivation[T](fmt.Sprintf("layers.%d", idx+1), cfg.Activation, cfg.Slope))
		in, idx = w, idx+2
	}
	layers = append(layers, nn.NewLinear[T](fmt.Sprintf("layers.%d", idx), in, cfg.NumClasses, !cfg.NoBias))
	m := newModel("mlp", cfg, layers...)
	initModel(m, cfg.Seed, convDefault)
	return m, nil
}

// Convert returns a copy of m with element type U (same architecture,
// configuration, parameters and batch-norm statistics): e.g. a model trained
// in float32 converted to float64 for Jacobians and NTKs.
func Convert[U, T nn.Float](m *Model[T]) (*Model[U], error) {
	c, err := New[U](m.Arch, m.Config)
	if err != nil {
		return nil, err
	}
	if err := nn.CopyState[U, T](c, m); err != nil {
		return nil, err
	}
	return c, nil
}
