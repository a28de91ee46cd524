//go:build ignore

// asmgen writes kernels_amd64.s: the AVX-512 and AVX2+FMA versions of the
// float32 and float64 kernels, and kernels_amd64.go: their declarations and
// the typed functions that dispatch on cpu.Selected. Run it with `go
// generate` in lib/internal/vec.
//
// Every kernel has the same structure: a main loop over 4 vectors, a loop
// over 1 vector, then the tail (AVX-512: one masked vector; AVX2: a scalar
// loop). Reductions keep 4 vector accumulators, add them as (0+1)+(2+3),
// then reduce the lanes pairwise (high half onto low half) down to one.
//
// Register plan (same numbers for Z and Y): accumulators 0-3, temporaries
// 4-11 (two per unrolled vector), constants 12-14, zero 15.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"strings"
)

type isa struct {
	name  string // suffix: AVX512, AVX2
	reg   string // Z or Y
	width int    // bytes per vector
}

type elem struct {
	name  string // 32 or 64
	size  int
	p, s  string // PS/PD, SS/SD
	bcast string // VBROADCASTSS/SD
	movs  string // VMOVSS/VMOVSD
}

var (
	avx512 = isa{"AVX512", "Z", 64}
	avx2   = isa{"AVX2", "Y", 32}
	f32    = elem{name: "32", size: 4, p: "PS", s: "SS", bcast: "VBROADCASTSS", movs: "VMOVSS"}
	f64    = elem{name: "64", size: 8, p: "PD", s: "SD", bcast: "VBROADCASTSD", movs: "VMOVSD"}
)

// kernel describes one kernel. ptrs are the slice arguments (name, register);
// the length is taken from the first. body emits one vector (or, with
// scalar, one element) at byte offset off with unroll index g; masked means
// the AVX-512 tail with the lane mask in K1.
type kernel struct {
	name string
	ptrs [][2]string

	setup  func(i isa, e elem) []string
	body   func(i isa, e elem, g int, off string, masked, scalar bool) []string
	reduce bool
	lead   bool // scalar argument comes first (axpy)
	lenIdx int  // the slice whose length is the kernel length
}

func r(i isa, n int) string    { return fmt.Sprintf("%s%d", i.reg, n) }
func t(i isa, g, k int) string { return r(i, 4+2*g+k) }
func x(n int) string           { return fmt.Sprintf("X%d", n) }

// reg returns the register to use: X for the scalar tail.
func reg(i isa, scalar bool, n int) string {
	if scalar {
		return x(n)
	}
	return r(i, n)
}

func treg(i isa, scalar bool, g, k int) string { return reg(i, scalar, 4+2*g+k) }

// load emits a vector (or scalar) load from mem into dst.
func load(i isa, e elem, mem, dst string, masked, scalar bool) string {
	switch {
	case scalar:
		return fmt.Sprintf("%s %s, %s", e.movs, mem, dst)
	case masked:
		return fmt.Sprintf("VMOVUP%s.Z %s, K1, %s", e.p[1:], mem, dst)
	}
	return fmt.Sprintf("VMOVUP%s %s, %s", e.p[1:], mem, dst)
}

func store(i isa, e elem, src, mem string, masked, scalar bool) string {
	switch {
	case scalar:
		return fmt.Sprintf("%s %s, %s", e.movs, src, mem)
	case masked:
		return fmt.Sprintf("VMOVUP%s %s, K1, %s", e.p[1:], src, mem)
	}
	return fmt.Sprintf("VMOVUP%s %s, %s", e.p[1:], src, mem)
}

func op(e elem, scalar bool, name string) string {
	if scalar {
		return name + e.s
	}
	return name + e.p
}

func mem(base, off string) string {
	if off == "" || off == "0" {
		return "(" + base + ")"
	}
	return off + "(" + base + ")"
}

func binop(name string) func(i isa, e elem, g int, off string, masked, scalar bool) []string {
	return func(i isa, e elem, g int, off string, masked, scalar bool) []string {
		a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
		return []string{
			load(i, e, mem("SI", off), a, masked, scalar),
			load(i, e, mem("DX", off), b, masked, scalar),
			fmt.Sprintf("%s %s, %s, %s", op(e, scalar, name), b, a, a),
			store(i, e, a, mem("DI", off), masked, scalar),
		}
	}
}

var kernels = []kernel{
	{
		name: "axpy", ptrs: [][2]string{{"x", "SI"}, {"y", "DI"}}, lead: true, lenIdx: 1,
		setup: func(i isa, e elem) []string { return []string{fmt.Sprintf("%s a+0(FP), %s", e.bcast, r(i, 12))} },
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
			return []string{
				load(i, e, mem("SI", off), a, masked, scalar),
				load(i, e, mem("DI", off), b, masked, scalar),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VFMADD231"), a, reg(i, scalar, 12), b),
				store(i, e, b, mem("DI", off), masked, scalar),
			}
		},
	},
	{
		name: "axpb", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}},
		setup: func(i isa, e elem) []string {
			return []string{
				fmt.Sprintf("%s a+48(FP), %s", e.bcast, r(i, 12)),
				fmt.Sprintf("%s b+%d(FP), %s", e.bcast, 48+e.size, r(i, 13)),
			}
		},
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a := treg(i, scalar, g, 0)
			return []string{
				load(i, e, mem("SI", off), a, masked, scalar),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VFMADD213"), reg(i, scalar, 13), reg(i, scalar, 12), a),
				store(i, e, a, mem("DI", off), masked, scalar),
			}
		},
	},
	{
		name: "axpbyc", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}, {"y", "DX"}},
		setup: func(i isa, e elem) []string {
			return []string{
				fmt.Sprintf("%s a+72(FP), %s", e.bcast, r(i, 12)),
				fmt.Sprintf("%s b+%d(FP), %s", e.bcast, 72+e.size, r(i, 13)),
				fmt.Sprintf("%s c+%d(FP), %s", e.bcast, 72+2*e.size, r(i, 14)),
			}
		},
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
			return []string{
				load(i, e, mem("SI", off), a, masked, scalar),
				load(i, e, mem("DX", off), b, masked, scalar),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VFMADD213"), reg(i, scalar, 14), reg(i, scalar, 12), a),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VFMADD231"), b, reg(i, scalar, 13), a),
				store(i, e, a, mem("DI", off), masked, scalar),
			}
		},
	},
	{
		name: "scale", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}},
		setup: func(i isa, e elem) []string { return []string{fmt.Sprintf("%s a+48(FP), %s", e.bcast, r(i, 12))} },
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a := treg(i, scalar, g, 0)
			return []string{
				load(i, e, mem("SI", off), a, masked, scalar),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VMUL"), reg(i, scalar, 12), a, a),
				store(i, e, a, mem("DI", off), masked, scalar),
			}
		},
	},
	{name: "add", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}, {"y", "DX"}}, body: binop("VADD")},
	{name: "sub", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}, {"y", "DX"}}, body: binop("VSUB")},
	{name: "mul", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}, {"y", "DX"}}, body: binop("VMUL")},
	{
		name: "relu", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}},
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a := treg(i, scalar, g, 0)
			// Intel MAX(0, x) = 0 > x ? 0 : x: it returns x (its second source)
			// when x is NaN, so NaNs propagate, as in reluGo and PyTorch.
			return []string{
				load(i, e, mem("SI", off), a, masked, scalar),
				fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VMAX"), a, reg(i, scalar, 15), a),
				store(i, e, a, mem("DI", off), masked, scalar),
			}
		},
	},
	{
		name: "reluBackward", ptrs: [][2]string{{"dx", "DI"}, {"dy", "DX"}, {"x", "SI"}},
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
			if i.name == "AVX512" && !scalar {
				k := fmt.Sprintf("K%d", 2+g)
				out := []string{load(i, e, mem("SI", off), a, masked, false)}
				if masked {
					out = append(out, fmt.Sprintf("VCMP%s $0x1e, %s, %s, K1, %s", e.p, r(i, 15), a, k))
				} else {
					out = append(out, fmt.Sprintf("VCMP%s $0x1e, %s, %s, %s", e.p, r(i, 15), a, k))
				}
				out = append(out,
					fmt.Sprintf("VMOVUP%s.Z %s, %s, %s", e.p[1:], mem("DX", off), k, b),
					store(i, e, b, mem("DI", off), masked, false))
				return out
			}
			return []string{
				load(i, e, mem("SI", off), a, false, scalar),
				fmt.Sprintf("%s $0x1e, %s, %s, %s", op(e, scalar, "VCMP"), reg(i, scalar, 15), a, a),
				load(i, e, mem("DX", off), b, false, scalar),
				fmt.Sprintf("VANDP%s %s, %s, %s", e.p[1:], a, b, b),
				store(i, e, b, mem("DI", off), false, scalar),
			}
		},
	},
	{
		name: "leakyRelu", ptrs: [][2]string{{"dst", "DI"}, {"x", "SI"}},
		setup: func(i isa, e elem) []string { return []string{fmt.Sprintf("%s slope+48(FP), %s", e.bcast, r(i, 12))} },
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			// x < 0 (sign bit set, including -0) selects slope*x; slope*(-0) is
			// -0 and slope*NaN is NaN, so this equals x > 0 ? x : slope*x.
			a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
			out := []string{load(i, e, mem("SI", off), a, masked, scalar)}
			if i.name == "AVX512" && !scalar {
				k := fmt.Sprintf("K%d", 2+g)
				mv := "VPMOVD2M"
				if e.size == 8 {
					mv = "VPMOVQ2M"
				}
				out = append(out,
					fmt.Sprintf("%s %s, %s", mv, a, k),
					fmt.Sprintf("VMUL%s %s, %s, %s, %s", e.p, r(i, 12), a, k, a))
			} else {
				out = append(out,
					fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VMUL"), reg(i, scalar, 12), a, b),
					fmt.Sprintf("VBLENDVP%s %s, %s, %s, %s", e.p[1:], a, b, a, a))
			}
			return append(out, store(i, e, a, mem("DI", off), masked, scalar))
		},
	},
	{
		name: "leakyReluBackward", ptrs: [][2]string{{"dx", "DI"}, {"dy", "DX"}, {"x", "SI"}},
		setup: func(i isa, e elem) []string { return []string{fmt.Sprintf("%s slope+72(FP), %s", e.bcast, r(i, 12))} },
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			a, b := treg(i, scalar, g, 0), treg(i, scalar, g, 1)
			if i.name == "AVX512" && !scalar {
				// K = !(x > 0) (NGT_UQ: true for NaN) selects slope*dy.
				k := fmt.Sprintf("K%d", 2+g)
				out := []string{load(i, e, mem("SI", off), a, masked, false)}
				if masked {
					out = append(out, fmt.Sprintf("VCMP%s $0x1a, %s, %s, K1, %s", e.p, r(i, 15), a, k))
				} else {
					out = append(out, fmt.Sprintf("VCMP%s $0x1a, %s, %s, %s", e.p, r(i, 15), a, k))
				}
				return append(out,
					load(i, e, mem("DX", off), b, masked, false),
					fmt.Sprintf("VMUL%s %s, %s, %s, %s", e.p, r(i, 12), b, k, b),
					store(i, e, b, mem("DI", off), masked, false))
			}
			// mask = x > 0 selects dy, else slope*dy.
			c := reg(i, scalar, 13)
			if !scalar {
				c = treg(i, false, g, 1)
			}
			out := []string{
				load(i, e, mem("SI", off), a, false, scalar),
				fmt.Sprintf("%s $0x1e, %s, %s, %s", op(e, false, "VCMP"), reg(i, scalar, 15), a, a),
				load(i, e, mem("DX", off), b, false, scalar),
			}
			if scalar {
				out = append(out,
					fmt.Sprintf("%s %s, %s, %s", op(e, true, "VMUL"), reg(i, true, 12), b, c),
					fmt.Sprintf("VBLENDVP%s %s, %s, %s, %s", e.p[1:], a, b, c, a))
			} else {
				out = out[:2]
				out = append(out,
					load(i, e, mem("DX", off), c, false, false),
					fmt.Sprintf("%s %s, %s, %s", op(e, false, "VMUL"), reg(i, false, 12), c, c),
					fmt.Sprintf("VBLENDVP%s %s, %s, %s, %s", e.p[1:], a, mem("DX", off), c, a))
			}
			return append(out, store(i, e, a, mem("DI", off), false, scalar))
		},
	},
	{
		name: "sum", ptrs: [][2]string{{"x", "SI"}}, reduce: true,
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			acc := reg(i, scalar, g)
			if scalar {
				return []string{fmt.Sprintf("%s %s, %s, %s", op(e, true, "VADD"), mem("SI", off), acc, acc)}
			}
			if masked {
				a := treg(i, false, g, 0)
				return []string{load(i, e, mem("SI", off), a, true, false), fmt.Sprintf("%s %s, %s, %s", op(e, false, "VADD"), a, acc, acc)}
			}
			return []string{fmt.Sprintf("%s %s, %s, %s", op(e, false, "VADD"), mem("SI", off), acc, acc)}
		},
	},
	{
		name: "dot", ptrs: [][2]string{{"x", "SI"}, {"y", "DX"}}, reduce: true,
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			acc, a := reg(i, scalar, g), treg(i, scalar, g, 0)
			out := []string{load(i, e, mem("SI", off), a, masked, scalar)}
			if scalar {
				b := treg(i, true, g, 1)
				return append(out, load(i, e, mem("DX", off), b, false, true),
					fmt.Sprintf("%s %s, %s, %s", op(e, true, "VFMADD231"), b, a, acc))
			}
			if masked { // masked-off lanes of x are zero
				b := treg(i, false, g, 1)
				return append(out, load(i, e, mem("DX", off), b, true, false),
					fmt.Sprintf("%s %s, %s, %s", op(e, false, "VFMADD231"), b, a, acc))
			}
			return append(out, fmt.Sprintf("%s %s, %s, %s", op(e, false, "VFMADD231"), mem("DX", off), a, acc))
		},
	},
	{
		name: "sumSqDev", ptrs: [][2]string{{"x", "SI"}}, reduce: true,
		setup: func(i isa, e elem) []string { return []string{fmt.Sprintf("%s m+24(FP), %s", e.bcast, r(i, 12))} },
		body: func(i isa, e elem, g int, off string, masked, scalar bool) []string {
			acc, a := reg(i, scalar, g), treg(i, scalar, g, 0)
			out := []string{load(i, e, mem("SI", off), a, masked, scalar)}
			if masked {
				out = append(out, fmt.Sprintf("%s.Z %s, %s, K1, %s", op(e, false, "VSUB"), reg(i, false, 12), a, a))
			} else {
				out = append(out, fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VSUB"), reg(i, scalar, 12), a, a))
			}
			return append(out, fmt.Sprintf("%s %s, %s, %s", op(e, scalar, "VFMADD231"), a, a, acc))
		},
	},
}

func frame(k kernel, e elem) (size int) {
	off := 0
	if k.lead {
		off = 8
	}
	off += 24 * len(k.ptrs)
	switch k.name {
	case "axpb":
		off += 2 * e.size
	case "axpbyc":
		off += 3 * e.size
	case "scale", "leakyRelu", "leakyReluBackward":
		off += e.size
	case "sumSqDev":
		off += e.size
	}
	if k.reduce {
		off = (off + 7) &^ 7
		off += e.size
	}
	return off
}

// goSig is each kernel's Go parameter list (T stands for the element type)
// and the argument list that passes them on; reductions return a T.
var goSig = map[string][2]string{
	"axpy":              {"a T, x, y []T", "a, x, y"},
	"axpb":              {"dst, x []T, a, b T", "dst, x, a, b"},
	"axpbyc":            {"dst, x, y []T, a, b, c T", "dst, x, y, a, b, c"},
	"scale":             {"dst, x []T, a T", "dst, x, a"},
	"add":               {"dst, x, y []T", "dst, x, y"},
	"sub":               {"dst, x, y []T", "dst, x, y"},
	"mul":               {"dst, x, y []T", "dst, x, y"},
	"relu":              {"dst, x []T", "dst, x"},
	"reluBackward":      {"dx, dy, x []T", "dx, dy, x"},
	"leakyRelu":         {"dst, x []T, slope T", "dst, x, slope"},
	"leakyReluBackward": {"dx, dy, x []T, slope T", "dx, dy, x, slope"},
	"sum":               {"x []T", "x"},
	"dot":               {"x, y []T", "x, y"},
	"sumSqDev":          {"x []T, m T", "x, m"},
}

// genGo writes the Go side of the kernels: the assembly declarations and
// the typed function (axpy32, ...) that picks AVX-512, AVX2 or the portable
// version (axpyGo, ...) from cpu.Selected at every call (a predictable
// branch), so cpu.Set takes effect at once.
func genGo() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by asmgen.go; DO NOT EDIT.\n\n//go:build !noasm\n\npackage vec\n\n")
	b.WriteString("import \"repdyn/lib/internal/cpu\"\n\n//go:generate go run asmgen.go\n")
	for _, e := range []elem{f32, f64} {
		typ := "float" + e.name
		for _, k := range kernels {
			sig, ok := goSig[k.name]
			if !ok {
				panic("no Go signature for kernel " + k.name)
			}
			params := strings.ReplaceAll(sig[0], "T", typ)
			ret, call := "", ""
			if k.reduce {
				ret, call = " "+typ, "return "
			}
			fn := k.name + e.name
			fmt.Fprintf(&b, "\nfunc %s(%s)%s {\n\tswitch cpu.Selected {\n", fn, params, ret)
			for _, i := range []isa{avx512, avx2} {
				fmt.Fprintf(&b, "\tcase cpu.%s:\n\t\t%s%s%s(%s)\n", i.name, call, fn, i.name, sig[1])
			}
			fmt.Fprintf(&b, "\tdefault:\n\t\t%s%sGo(%s)\n\t}\n}\n", call, k.name, sig[1])
			for _, i := range []isa{avx512, avx2} {
				fmt.Fprintf(&b, "\n//go:noescape\nfunc %s%s(%s)%s\n", fn, i.name, params, ret)
			}
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return src
}

// genNoasm writes kernels_noasm.go: the typed functions on the portable
// versions, for other platforms and the noasm build tag.
func genNoasm() []byte {
	var b bytes.Buffer
	b.WriteString("// Code generated by asmgen.go; DO NOT EDIT.\n\n//go:build !(amd64 || arm64) || noasm\n\npackage vec\n\n")
	for _, e := range []elem{f32, f64} {
		typ := "float" + e.name
		for _, k := range kernels {
			sig := goSig[k.name]
			ret, call := "", ""
			if k.reduce {
				ret, call = " "+typ, "return "
			}
			fmt.Fprintf(&b, "func %s%s(%s)%s { %s%sGo(%s) }\n", k.name, e.name, strings.ReplaceAll(sig[0], "T", typ), ret, call, k.name, sig[1])
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		panic(err)
	}
	return src
}

func main() {
	if err := os.WriteFile("kernels_amd64.go", genGo(), 0o644); err != nil {
		panic(err)
	}
	if err := os.WriteFile("kernels_noasm.go", genNoasm(), 0o644); err != nil {
		panic(err)
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by asmgen.go; DO NOT EDIT.\n\n//go:build !noasm\n\n#include \"textflag.h\"\n")
	for _, e := range []elem{f32, f64} {
		for _, i := range []isa{avx512, avx2} {
			for _, k := range kernels {
				gen(&b, k, i, e)
			}
		}
	}
	if err := os.WriteFile("kernels_amd64.s", b.Bytes(), 0o644); err != nil {
		panic(err)
	}
}

func gen(b *bytes.Buffer, k kernel, i isa, e elem) {
	w := func(format string, a ...any) { fmt.Fprintf(b, "\t"+format+"\n", a...) }
	lines := func(ls []string) {
		for _, l := range ls {
			w("%s", l)
		}
	}
	size := frame(k, e)
	name := k.name + e.name + i.name
	fmt.Fprintf(b, "\n// func %s(...)\nTEXT ·%s(SB), NOSPLIT, $0-%d\n", name, name, size)
	base := 0
	if k.lead {
		base = 8
	}
	for j, p := range k.ptrs {
		w("MOVQ %s_base+%d(FP), %s", p[0], base+24*j, p[1])
	}
	w("MOVQ %s_len+%d(FP), CX", k.ptrs[k.lenIdx][0], base+24*k.lenIdx+8)
	if k.setup != nil {
		lines(k.setup(i, e))
	}
	w("VXORPS %s, %s, %s", r(i, 15), r(i, 15), r(i, 15))
	if k.reduce {
		for a := 0; a < 4; a++ {
			w("VXORPS %s, %s, %s", r(i, a), r(i, a), r(i, a))
		}
	}
	lanes := i.width / e.size
	L := "L" + name
	adv := func(n int) {
		for _, p := range k.ptrs {
			w("ADDQ $%d, %s", n, p[1])
		}
	}
	// main loop: 4 vectors
	w("CMPQ CX, $%d", 4*lanes)
	w("JLT %s_one", L)
	fmt.Fprintf(b, "%s_four:\n", L)
	for g := 0; g < 4; g++ {
		lines(k.body(i, e, g, fmt.Sprint(g*i.width), false, false))
	}
	adv(4 * i.width)
	w("SUBQ $%d, CX", 4*lanes)
	w("CMPQ CX, $%d", 4*lanes)
	w("JGE %s_four", L)
	// one vector at a time
	fmt.Fprintf(b, "%s_one:\n", L)
	w("CMPQ CX, $%d", lanes)
	w("JLT %s_tail", L)
	lines(k.body(i, e, 0, "0", false, false))
	adv(i.width)
	w("SUBQ $%d, CX", lanes)
	w("JMP %s_one", L)
	fmt.Fprintf(b, "%s_tail:\n", L)
	if i.name == "AVX512" {
		w("TESTQ CX, CX")
		w("JEQ %s_done", L)
		w("MOVQ $1, AX")
		w("SHLQ CX, AX")
		w("DECQ AX")
		w("KMOVW AX, K1")
		lines(k.body(i, e, 0, "0", true, false))
		fmt.Fprintf(b, "%s_done:\n", L)
		if k.reduce {
			hsum(w, i, e)
			w("%s X0, ret+%d(FP)", e.movs, size-e.size)
		}
	} else {
		if k.reduce {
			hsum(w, i, e)
		}
		fmt.Fprintf(b, "%s_scalar:\n", L)
		w("TESTQ CX, CX")
		w("JEQ %s_done", L)
		lines(k.body(i, e, 0, "0", false, true))
		adv(e.size)
		w("DECQ CX")
		w("JMP %s_scalar", L)
		fmt.Fprintf(b, "%s_done:\n", L)
		if k.reduce {
			w("%s X0, ret+%d(FP)", e.movs, size-e.size)
		}
	}
	w("VZEROUPPER")
	w("RET")
}

// hsum reduces accumulators 0..3 into the low lane of X0.
func hsum(w func(string, ...any), i isa, e elem) {
	p := e.p
	w("VADD%s %s, %s, %s", p, r(i, 1), r(i, 0), r(i, 0))
	w("VADD%s %s, %s, %s", p, r(i, 3), r(i, 2), r(i, 2))
	w("VADD%s %s, %s, %s", p, r(i, 2), r(i, 0), r(i, 0))
	if i.name == "AVX512" {
		if e.size == 4 {
			w("VEXTRACTF32X8 $1, Z0, Y1")
		} else {
			w("VEXTRACTF64X4 $1, Z0, Y1")
		}
		w("VADD%s Y1, Y0, Y0", p)
	}
	w("VEXTRACTF128 $1, Y0, X1")
	w("VADD%s X1, X0, X0", p)
	w("VMOVHLPS X0, X1, X1")
	if e.size == 4 {
		w("VADDPS X1, X0, X0")
		w("VMOVSHDUP X0, X1")
		w("VADDSS X1, X0, X0")
	} else {
		w("VADDSD X1, X0, X0")
	}
}
