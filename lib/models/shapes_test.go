package models

import (
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestShapesMatchModels checks Shapes against the models New builds (the
// independent reference: the real layers' parameters and buffers).
func TestShapesMatchModels(t *testing.T) {
	if !slices.Equal(slices.Sorted(maps.Keys(planners())), Names()) {
		t.Fatalf("planners %v and registry %v differ", slices.Sorted(maps.Keys(planners())), Names())
	}
	cfgs := []Config{
		{Width: 0.125, NumClasses: 7, InChannels: 1},
		{Width: 0.3, InChannels: 2},
		{Width: 0.125, InChannels: 3, NumClasses: 3, InFeatures: 12, Hidden: []int{6, 5}, NoBias: true},
	}
	for _, name := range Names() {
		for _, cfg := range cfgs {
			m, err := New[float32](name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			type ts struct {
				shape  []int
				buffer bool
			}
			want := map[string]ts{}
			for _, p := range m.Params() {
				want[p.Name] = ts{p.Shape, false}
			}
			for _, b := range m.Buffers() {
				want[b.Name] = ts{b.Shape, true}
			}
			got, err := Shapes(name, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s %+v: Shapes has %d tensors, the model %d", name, cfg, len(got), len(want))
			}
			for _, g := range got {
				w, ok := want[g.Name]
				if !ok || !slices.Equal(w.shape, g.Shape) || w.buffer != g.Buffer {
					t.Fatalf("%s %+v: Shapes gives %s %v (buffer %v), the model %v (found %v)", name, cfg, g.Name, g.Shape, g.Buffer, w, ok)
				}
			}
		}
	}
	if _, err := Shapes("resnet99", Config{}); err == nil || !strings.Contains(err.Error(), "resnet20") {
		t.Errorf("unknown name: %v", err)
	}
}

// TestConfigBounds: sizes in a Config are bounded before anything is
// allocated (probe 1 of issue 17: an edited checkpoint spec with Hidden
// [2000000000], Hidden [200000, 200000] or resnet20 Width 100000 made the
// runtime die asking for terabytes). Each case must fail naming the field,
// allocating almost nothing.
func TestConfigBounds(t *testing.T) {
	long := make([]int, MaxLayers+1)
	for i := range long {
		long[i] = 1
	}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"mlp", Config{Hidden: []int{2000000000}}, "Hidden[0] = 2000000000"},
		{"mlp", Config{Hidden: []int{200000, 200000}}, "Hidden [200000 200000]"},
		{"mlp", Config{Hidden: []int{1 << 19}, Width: 4}, "Width 4 makes Hidden[0]"},
		{"mlp", Config{Hidden: long}, "1025 Hidden layers"},
		{"mlp", Config{InFeatures: 1 << 40}, "InFeatures 1099511627776"},
		{"mlp", Config{InFeatures: -3}, "InFeatures -3"},
		{"mlp", Config{Hidden: []int{4, -1}}, "Hidden[1] = -1"},
		{"mlp", Config{NumClasses: 1 << 40}, "NumClasses 1099511627776"},
		{"mlp", Config{InFeatures: 1 << 25, Hidden: []int{1 << 10}}, "InFeatures 33554432"},
		{"resnet20", Config{Width: 100000}, "Width 100000"},
		{"resnet20", Config{Width: 3000}, "Width 3000 makes layer2 96000 channels"},
		{"resnet56", Config{Width: 500}, "resnet56 with Width 500"},
		{"resnet18", Config{Width: 200}, "Width 200 makes layer4 102400"},
		{"resnet18-cifar", Config{InChannels: 1 << 20}, "InChannels 1048576"},
		{"preact-resnet18", Config{Width: 1e300}, "Width 1e+300"},
		{"resnet34", Config{NumClasses: 1 << 30}, "NumClasses 1073741824"},
		{"resnet20", Config{Width: -1}, "Width -1"},
	}
	for _, c := range cases {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := New[float32](c.name, c.cfg)
		_, serr := Shapes(c.name, c.cfg)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%s, %+v): error %v, want one containing %q", c.name, c.cfg, err, c.want)
			continue
		}
		if serr == nil || serr.Error() != err.Error() {
			t.Errorf("Shapes(%s, %+v): error %v, want New's %v", c.name, c.cfg, serr, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("New(%s, %+v) allocated %d bytes before failing", c.name, c.cfg, d)
		}
	}
	if _, err := CIFARResNet[float32](MaxDepth+6, Config{}); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Errorf("CIFARResNet depth %d: %v", MaxDepth+6, err)
	}
	// The limits leave room for real models: ResNet-18 at width 4, an MLP
	// with 100000-wide hidden layers.
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"resnet18", Config{Width: 4, NumClasses: 1000}}, {"mlp", Config{Hidden: []int{100000, 1000}}}} {
		if _, err := Shapes(c.name, c.cfg); err != nil {
			t.Errorf("%s %+v: %v", c.name, c.cfg, err)
		}
	}
}
