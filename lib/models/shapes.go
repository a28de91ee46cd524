package models

import (
	"fmt"
	"math"
	"strings"

	"repdyn/lib/internal/safemath"
	"repdyn/lib/nn"
)

// Upper bounds on a Config, checked by New, every constructor and Shapes
// before anything is allocated, so that a configuration read from a file
// (a checkpoint's model spec, a notebook's parameters) fails with an error
// naming the field instead of asking the runtime for terabytes.
const (
	MaxInChannels = 1 << 16 // Config.InChannels
	MaxClasses    = 1 << 20 // Config.NumClasses
	MaxWidth      = 4096    // Config.Width (the multiplier)
	MaxChannels   = 1 << 16 // channels of any convolution, after Width
	MaxInFeatures = 1 << 26 // Config.InFeatures (MLP)
	MaxHidden     = 1 << 20 // each MLP hidden width, before and after Width
	MaxLayers     = 1024    // len(Config.Hidden)
	MaxDepth      = 2048    // depth of CIFARResNet
	// MaxValues bounds the parameter and buffer values of one model
	// (2^30: 4 GiB in float32, before gradients and optimizer state).
	MaxValues = 1 << 30
)

// TensorShape is one parameter or buffer a model holds: its state_dict name
// and shape.
type TensorShape = nn.TensorShape

// Shapes returns the name and shape of every parameter and buffer the named
// model has for cfg, in module order (parameters and buffers of each layer
// together), without allocating the model: it checks the same bounds as New
// and returns the same errors. Compare them with a checkpoint's header
// before building a model from a configuration stored in that checkpoint.
func Shapes(name string, cfg Config) ([]TensorShape, error) {
	for k, p := range planners() {
		if canonical(k) == canonical(name) {
			pl, err := p(cfg)
			if err != nil {
				return nil, err
			}
			return pl.ts, nil
		}
	}
	return nil, fmt.Errorf("models.Shapes: unknown model %q; known models: %s", name, strings.Join(Names(), ", "))
}

// planners mirrors registry: the shapes of each named model.
func planners() map[string]func(Config) (*plan, error) {
	return map[string]func(Config) (*plan, error){
		"resnet18":          func(c Config) (*plan, error) { return resnetPlan(18, false, c) },
		"resnet34":          func(c Config) (*plan, error) { return resnetPlan(34, false, c) },
		"resnet18-imagenet": func(c Config) (*plan, error) { return resnetPlan(18, false, c) },
		"resnet34-imagenet": func(c Config) (*plan, error) { return resnetPlan(34, false, c) },
		"resnet18-cifar":    func(c Config) (*plan, error) { return resnetPlan(18, true, c) },
		"resnet34-cifar":    func(c Config) (*plan, error) { return resnetPlan(34, true, c) },
		"preact-resnet18":   preactPlan,
		"resnet20":          func(c Config) (*plan, error) { return cifarResNetPlan(20, c) },
		"resnet32":          func(c Config) (*plan, error) { return cifarResNetPlan(32, c) },
		"resnet44":          func(c Config) (*plan, error) { return cifarResNetPlan(44, c) },
		"resnet56":          func(c Config) (*plan, error) { return cifarResNetPlan(56, c) },
		"mlp":               mlpPlan,
	}
}

// check validates the fields every model uses (after withDefaults).
func (c Config) check() error {
	switch {
	case c.InChannels < 1 || c.InChannels > MaxInChannels:
		return fmt.Errorf("models: invalid config: InChannels %d, want 1..%d", c.InChannels, MaxInChannels)
	case c.NumClasses < 1 || c.NumClasses > MaxClasses:
		return fmt.Errorf("models: invalid config: NumClasses %d, want 1..%d", c.NumClasses, MaxClasses)
	case !(c.Width > 0) || math.IsInf(c.Width, 0) || c.Width > MaxWidth:
		return fmt.Errorf("models: invalid config: Width %v, want a multiplier in (0, %d]", c.Width, MaxWidth)
	}
	return nil
}

// plan collects the tensors of a model being described and counts their
// values; it stops at the first error.
type plan struct {
	arch   string
	cfg    Config
	ts     []TensorShape
	values int
	err    error
}

func newPlan(arch string, cfg Config) *plan { return &plan{arch: arch, cfg: cfg} }

func (p *plan) add(name string, buffer bool, shape ...int) {
	if p.err != nil {
		return
	}
	n, ok := safemath.Product(shape, MaxValues)
	if ok {
		n, ok = safemath.Add(p.values, n)
	}
	if !ok || n > MaxValues {
		p.err = fmt.Errorf("models: %s with %s has more than %d parameter and buffer values (the limit; tensor %s is %v)",
			p.arch, describe(p.arch, p.cfg), MaxValues, name, shape)
		return
	}
	p.values = n
	p.ts = append(p.ts, TensorShape{Name: name, Shape: shape, Buffer: buffer})
}

// stages returns the stem's channels (base times Width) and those of
// stages layer1..layerN (base<<s times Width), bounding each.
func (p *plan) stages(base, n int) (int, []int) {
	c0 := p.channels(base, "conv1")
	outs := make([]int, n)
	for s := range outs {
		outs[s] = p.channels(base<<s, fmt.Sprintf("layer%d", s+1))
	}
	return c0, outs
}

// channels applies the width multiplier to a convolution width and bounds it.
func (p *plan) channels(ch int, where string) int {
	w := p.cfg.scale(ch)
	if w > MaxChannels && p.err == nil {
		p.err = fmt.Errorf("models: %s: Width %v makes %s %d channels wide, above the limit of %d", p.arch, p.cfg.Width, where, w, MaxChannels)
	}
	return w
}

func (p *plan) conv(name string, in, out, k int, bias bool) {
	p.add(name+".weight", false, out, in, k, k)
	if bias {
		p.add(name+".bias", false, out)
	}
}

func (p *plan) linear(name string, in, out int, bias bool) {
	p.add(name+".weight", false, out, in)
	if bias {
		p.add(name+".bias", false, out)
	}
}

func (p *plan) bn(name string, c int) {
	p.add(name+".weight", false, c)
	p.add(name+".bias", false, c)
	p.add(name+".running_mean", true, c)
	p.add(name+".running_var", true, c)
	p.add(name+".num_batches_tracked", true)
}

// basicBlock mirrors nn.NewBasicBlock.
// basicStages adds the residual stages layer1, layer2, ... of basic blocks
// (blocks[s] in stage s, stride 2 at the start of every stage but the first)
// from in channels and returns the channels of the last stage.
func (p *plan) basicStages(in int, outs, blocks []int) int {
	for s, n := range blocks {
		name, out := fmt.Sprintf("layer%d", s+1), outs[s]
		for i := 0; i < n; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			p.basicBlock(fmt.Sprintf("%s.%d", name, i), in, out, stride)
			in = out
		}
	}
	return in
}

func (p *plan) basicBlock(name string, in, out, stride int) {
	p.conv(name+".conv1", in, out, 3, false)
	p.bn(name+".bn1", out)
	p.conv(name+".conv2", out, out, 3, false)
	p.bn(name+".bn2", out)
	if stride != 1 || in != out {
		p.conv(name+".downsample.0", in, out, 1, false)
		p.bn(name+".downsample.1", out)
	}
}

// preActBlock mirrors nn.NewPreActBlock without the shortcut's batch norm.
func (p *plan) preActBlock(name string, in, out, stride int) {
	p.bn(name+".bn1", in)
	p.conv(name+".conv1", in, out, 3, false)
	p.bn(name+".bn2", out)
	p.conv(name+".conv2", out, out, 3, false)
	if stride != 1 || in != out {
		p.conv(name+".shortcut.0", in, out, 1, false)
	}
}

func (p *plan) result() (*plan, error) {
	if p.err != nil {
		return nil, p.err
	}
	return p, nil
}

// describe names the configuration fields that size the model arch.
func describe(arch string, c Config) string {
	if arch == "mlp" {
		return fmt.Sprintf("InFeatures %d, Hidden %v, Width %v, NumClasses %d", c.InFeatures, c.Hidden, c.Width, c.NumClasses)
	}
	return fmt.Sprintf("Width %v, InChannels %d, NumClasses %d", c.Width, c.InChannels, c.NumClasses)
}

// resnetPlan mirrors ResNet.
func resnetPlan(depth int, cifarStem bool, cfg Config) (*plan, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	var blocks []int
	switch depth {
	case 18:
		blocks = []int{2, 2, 2, 2}
	case 34:
		blocks = []int{3, 4, 6, 3}
	default:
		return nil, fmt.Errorf("models.ResNet: depth %d, want 18 or 34", depth)
	}
	arch := fmt.Sprintf("resnet%d", depth)
	if cifarStem {
		arch += "-cifar"
	}
	p := newPlan(arch, cfg)
	c0, outs := p.stages(64, len(blocks))
	if p.err != nil {
		return nil, p.err
	}
	k := 7
	if cifarStem {
		k = 3
	}
	p.conv("conv1", cfg.InChannels, c0, k, false)
	p.bn("bn1", c0)
	p.linear("fc", p.basicStages(c0, outs, blocks), cfg.NumClasses, true)
	return p.result()
}

// cifarResNetPlan mirrors CIFARResNet.
func cifarResNetPlan(depth int, cfg Config) (*plan, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if depth < 8 || depth > MaxDepth || (depth-2)%6 != 0 {
		return nil, fmt.Errorf("models.CIFARResNet: depth %d, want 6n+2 (20, 32, 44, 56, ...) up to %d", depth, MaxDepth)
	}
	n := (depth - 2) / 6
	p := newPlan(fmt.Sprintf("resnet%d", depth), cfg)
	c0, outs := p.stages(16, 3)
	if p.err != nil {
		return nil, p.err
	}
	p.conv("conv1", cfg.InChannels, c0, 3, false)
	p.bn("bn1", c0)
	p.linear("fc", p.basicStages(c0, outs, []int{n, n, n}), cfg.NumClasses, true)
	return p.result()
}

// preactPlan mirrors PreActResNet18.
func preactPlan(cfg Config) (*plan, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, err
	}
	p := newPlan("preact-resnet18", cfg)
	c0, outs := p.stages(64, 4)
	if p.err != nil {
		return nil, p.err
	}
	p.conv("conv1", cfg.InChannels, c0, 3, false)
	in := c0
	for s := 0; s < 4; s++ {
		name, out := fmt.Sprintf("layer%d", s+1), outs[s]
		for i := 0; i < 2; i++ {
			stride := 1
			if i == 0 && s > 0 {
				stride = 2
			}
			p.preActBlock(fmt.Sprintf("%s.%d", name, i), in, out, stride)
			in = out
		}
	}
	p.linear("linear", in, cfg.NumClasses, true)
	return p.result()
}

// mlpConfig applies the MLP defaults and bounds; it returns the hidden
// widths after the multiplier.
func mlpConfig(cfg Config) (Config, []int, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return cfg, nil, err
	}
	if cfg.InFeatures == 0 {
		cfg.InFeatures = cfg.InChannels * 28 * 28
	}
	if cfg.InFeatures < 1 || cfg.InFeatures > MaxInFeatures {
		return cfg, nil, fmt.Errorf("models.MLP: invalid config: InFeatures %d, want 1..%d", cfg.InFeatures, MaxInFeatures)
	}
	hidden := cfg.Hidden
	if hidden == nil {
		hidden = []int{512, 512}
	}
	if len(hidden) > MaxLayers {
		return cfg, nil, fmt.Errorf("models.MLP: invalid config: %d Hidden layers, want at most %d", len(hidden), MaxLayers)
	}
	widths := make([]int, len(hidden))
	for i, h := range hidden {
		if h < 1 || h > MaxHidden {
			return cfg, nil, fmt.Errorf("models.MLP: invalid config: Hidden[%d] = %d, want 1..%d", i, h, MaxHidden)
		}
		widths[i] = cfg.scale(h)
		if widths[i] > MaxHidden {
			return cfg, nil, fmt.Errorf("models.MLP: invalid config: Width %v makes Hidden[%d] = %d a layer of %d, above the limit of %d", cfg.Width, i, h, widths[i], MaxHidden)
		}
	}
	return cfg, widths, nil
}

// mlpPlan mirrors MLP.
func mlpPlan(cfg Config) (*plan, error) {
	cfg, widths, err := mlpConfig(cfg)
	if err != nil {
		return nil, err
	}
	p := newPlan("mlp", cfg)
	in, idx := cfg.InFeatures, 0
	for _, w := range widths {
		p.linear(fmt.Sprintf("layers.%d", idx), in, w, !cfg.NoBias)
		in, idx = w, idx+2
	}
	p.linear(fmt.Sprintf("layers.%d", idx), in, cfg.NumClasses, !cfg.NoBias)
	return p.result()
}
