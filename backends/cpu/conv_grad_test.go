package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// keenOp runs a private com.keenml op on the CPU backend.
func keenOp(op string, attrs ir.Attrs, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	spec := &backends.OpSpec{Domain: keenDomain, Op: op, Version: 1, Attrs: attrs, NumOutputs: 1}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(bufs)
	if err != nil {
		return nil, err
	}
	return []*ir.Tensor{outs[0].(*Buf).T}, nil
}

// keenOp2 is keenOp asking for two outputs.
func keenOp2(op string, attrs ir.Attrs, in ...*ir.Tensor) ([]*ir.Tensor, error) {
	spec := &backends.OpSpec{Domain: keenDomain, Op: op, Version: 1, Attrs: attrs, NumOutputs: 2}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		return nil, err
	}
	outs, err := k.Run(bufs)
	if err != nil {
		return nil, err
	}
	return []*ir.Tensor{outs[0].(*Buf).T, outs[1].(*Buf).T}, nil
}

// TestConvGradFilter checks the float32 GEMM path against the float64
// definition on geometries with strides, pads, dilations and groups, and
// with the channel and image chunking forced.
func TestConvGradFilter(t *testing.T) {
	cases := []struct {
		name   string
		xs, ws []int
		attrs  ir.Attrs
		budget int
	}{
		{"3x3 pad 1", []int{3, 4, 7, 6}, []int{5, 4, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 0},
		{"stride 2 dilation 2", []int{2, 3, 9, 8}, []int{4, 3, 3, 2}, ir.Attrs{ir.IntsAttr("strides", 2, 2), ir.IntsAttr("dilations", 2, 1), ir.IntsAttr("pads", 0, 1, 2, 0)}, 0},
		{"group 2", []int{2, 4, 5, 5}, []int{6, 2, 3, 3}, ir.Attrs{ir.IntAttr("group", 2), ir.IntsAttr("pads", 1, 1, 1, 1)}, 0},
		{"1-D same", []int{3, 2, 11}, []int{3, 2, 4}, ir.Attrs{ir.StringAttr("auto_pad", "SAME_UPPER")}, 0},
		{"chunked", []int{5, 6, 20, 30}, []int{4, 6, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 2000},
	}
	r := rand.New(rand.NewPCG(3, 4))
	defer func(v int) { convGradPerImage = v }(convGradPerImage)
	for _, perImage := range []int{1 << 30, 1} { // both ways of reading dY
		convGradPerImage = perImage
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%d", c.name, perImage), func(t *testing.T) {
				if c.budget > 0 {
					old := convWideBudget
					convWideBudget = c.budget
					defer func() { convWideBudget = old }()
				}
				x, _ := convRandT(r, c.xs...)
				w, _ := convRandT(r, c.ws...)
				y := runOp(t, "Conv", 22, c.attrs, 1, x, w)[0]
				dy, _ := convRandT(r, y.Shape...)
				attrs := append(c.attrs, ir.IntsAttr("kernel_shape", toI64(c.ws[2:])...))
				got, err := keenOp("ConvGradFilter", attrs, x, dy)
				if err != nil {
					t.Fatal(err)
				}
				want, err := keenOp("ConvGradFilter", attrs, toF64(x), toF64(dy))
				if err != nil {
					t.Fatal(err)
				}
				assertClose(t, got[0], c.ws, want[0].Data.([]float64), 1e-5)
				// With two outputs, the bias gradient too.
				both, err := keenOp2("ConvGradFilter", attrs, x, dy)
				if err != nil {
					t.Fatal(err)
				}
				wantB := make([]float64, c.ws[0])
				per := dy.Len() / (dy.Shape[0] * dy.Shape[1])
				for i := 0; i < dy.Len(); i++ {
					wantB[i/per%c.ws[0]] += dy.Float64At(i)
				}
				assertClose(t, both[0], c.ws, want[0].Data.([]float64), 1e-5)
				assertClose(t, both[1], []int{c.ws[0]}, wantB, 1e-6)
				// The float64 definition agrees with a direct sum for one tap.
				wd := want[0].Data.([]float64)
				if c.name == "3x3 pad 1" {
					assertTap(t, x, dy, wd)
				}
			})
		}
	}
}

// assertTap checks dW[1,2,0,1] of the "3x3 pad 1" case by its definition.
func assertTap(t *testing.T, x, dy *ir.Tensor, dw []float64) {
	var s float64
	for n := 0; n < 3; n++ {
		for oy := 0; oy < 7; oy++ {
			for ox := 0; ox < 6; ox++ {
				iy, ix := oy-1+0, ox-1+1
				if iy < 0 || iy >= 7 || ix < 0 || ix >= 6 {
					continue
				}
				s += dy.Float64At(((n*5+1)*7+oy)*6+ox) * x.Float64At(((n*4+2)*7+iy)*6+ix)
			}
		}
	}
	if got := dw[((1*4+2)*3+0)*3+1]; math.Abs(got-s) > 1e-9 {
		t.Errorf("dW[1,2,0,1] = %v, want %v", got, s)
	}
}

func toI64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// TestMaxPoolGrad checks MaxPoolGrad against a scatter of dY through
// MaxPool's Indices (integer data: many ties, which must go to the same
// element).
func TestMaxPoolGrad(t *testing.T) {
	cases := []struct {
		name  string
		xs    []int
		attrs ir.Attrs
	}{
		{"2x2", []int{2, 3, 8, 6}, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}},
		{"2x2 odd", []int{1, 2, 7, 5}, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}},
		{"3x3 s2 pad overlap", []int{2, 2, 9, 9}, ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{"ceil dilation", []int{1, 2, 10, 9}, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 3), ir.IntsAttr("strides", 3, 2), ir.IntsAttr("dilations", 2, 1), ir.IntAttr("ceil_mode", 1)}},
		{"1-D", []int{2, 3, 10}, ir.Attrs{ir.IntsAttr("kernel_shape", 3), ir.IntsAttr("strides", 1)}},
		{"3-D", []int{1, 2, 4, 5, 4}, ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2, 2), ir.IntsAttr("strides", 2, 1, 2)}},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		for _, f64 := range []bool{false, true} {
			x, _ := convRandT(r, c.xs...)
			if f64 {
				x = toF64(x)
			}
			outs := runOp(t, "MaxPool", 22, c.attrs, 2, x)
			dy, _ := convRandT(r, outs[0].Shape...)
			if f64 {
				dy = toF64(dy)
			}
			for _, pos := range []bool{false, true} {
				want := make([]float64, x.Len())
				idx := outs[1].Data.([]int64)
				for i, at := range idx {
					if !pos || x.Float64At(int(at)) > 0 {
						want[at] += dy.Float64At(i)
					}
				}
				attrs := c.attrs
				if pos {
					attrs = append(attrs[:len(attrs):len(attrs)], ir.IntAttr("positive_only", 1))
				}
				got, err := keenOp("MaxPoolGrad", attrs, dy, x)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				assertClose(t, got[0], c.xs, want, 0)
			}
		}
	}
}

func TestReluGrad(t *testing.T) {
	x := ir.FromSlice([]float32{-1, 0, 2, float32(math.NaN()), 3, -0.5}, 2, 3)
	dy := ir.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	got, err := keenOp("ReluGrad", nil, dy, x)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, got[0], []int{2, 3}, []float64{0, 0, 3, 0, 5, 0}, 0)
	if _, err := keenOp("ReluGrad", nil, dy, ir.FromSlice([]float32{1, 2}, 2)); err == nil {
		t.Error("ReluGrad accepted dY [2 3] with X [2]")
	}
}

// TestConvGradErrors: bad shapes are errors naming the op.
func TestConvGradErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x, _ := convRandT(r, 2, 3, 5, 5)
	dy, _ := convRandT(r, 2, 4, 4, 4)
	k3 := ir.Attrs{ir.IntsAttr("kernel_shape", 3, 3)}
	if _, err := keenOp("ConvGradFilter", k3, x, dy); err == nil {
		t.Error("ConvGradFilter accepted dY [2 4 4 4] for a 3x3 kernel on 5x5")
	}
	if _, err := keenOp("ConvGradFilter", nil, x, dy); err == nil {
		t.Error("ConvGradFilter without kernel_shape was accepted")
	}
	if _, err := keenOp("MaxPoolGrad", ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2)}, dy, x); err == nil {
		t.Error("MaxPoolGrad accepted dY [2 4 4 4] for X [2 3 5 5]")
	}
}

// BenchmarkConvGradFilter: the weight gradients of the training
// benchmark's CNN (batch 64, 3x3 pad 1): 1→16 channels on 28², 16→32 on 14².
func BenchmarkConvGradFilter(b *testing.B) {
	for _, c := range []struct{ c, m, hw int }{{1, 16, 28}, {16, 32, 14}} {
		b.Run(fmt.Sprintf("%dx%d@%d", c.c, c.m, c.hw), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, _ := convRandT(r, 64, c.c, c.hw, c.hw)
			dy, _ := convRandT(r, 64, c.m, c.hw, c.hw)
			spec := &backends.OpSpec{Domain: keenDomain, Op: "ConvGradFilter", Version: 1, NumOutputs: 1,
				Attrs:      ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("kernel_shape", 3, 3)},
				InputTypes: []ir.DType{ir.Float32, ir.Float32}}
			benchKeen(b, spec, int64(2*64*c.m*c.c*9*c.hw*c.hw), x, dy)
		})
	}
}

// BenchmarkMaxPoolGrad: the CNN's first pool (64x16x28², 2x2), on any
// values and, with positive_only, over a Relu's output.
func BenchmarkMaxPoolGrad(b *testing.B) {
	for _, pos := range []bool{false, true} {
		b.Run(fmt.Sprintf("positive_only=%v", pos), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x, _ := convRandT(r, 64, 16, 28, 28)
			dy, _ := convRandT(r, 64, 16, 14, 14)
			attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}
			if pos {
				for i, v := range x.Data.([]float32) {
					x.Data.([]float32)[i] = max(v, 0)
				}
				attrs = append(attrs, ir.IntAttr("positive_only", 1))
			}
			spec := &backends.OpSpec{Domain: keenDomain, Op: "MaxPoolGrad", Version: 1, NumOutputs: 1,
				Attrs: attrs, InputTypes: []ir.DType{ir.Float32, ir.Float32}}
			benchKeen(b, spec, 0, dy, x)
		})
	}
}

func benchKeen(b *testing.B, spec *backends.OpSpec, flops int64, in ...*ir.Tensor) {
	k, err := New().Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		bufs[i] = &Buf{T: x}
	}
	for b.Loop() {
		if _, err := k.Run(bufs); err != nil {
			b.Fatal(err)
		}
	}
	if flops > 0 {
		b.ReportMetric(float64(flops)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
}

func BenchmarkReluGrad(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convRandT(r, 64, 16, 28, 28)
	dy, _ := convRandT(r, 64, 16, 28, 28)
	spec := &backends.OpSpec{Domain: keenDomain, Op: "ReluGrad", Version: 1, NumOutputs: 1,
		InputTypes: []ir.DType{ir.Float32, ir.Float32}}
	benchKeen(b, spec, 0, dy, x)
}

// TestConvShiftPlane compares the shifted-plane im2col row with the
// element-by-element definition for every shift that reaches the plane and
// some that do not.
func TestConvShiftPlane(t *testing.T) {
	for _, hw := range [][3]int{{5, 4, 5}, {3, 7, 4}, {6, 1, 6}, {4, 4, 2}} {
		h, w, oh := hw[0], hw[1], hw[2]
		plane := make([]float32, h*w)
		for i := range plane {
			plane[i] = float32(i + 1)
		}
		for offH := -h - 1; offH <= h+1; offH++ {
			for offW := -w - 1; offW <= w+1; offW++ {
				got := make([]float32, oh*w)
				for i := range got {
					got[i] = -1 // every element must be written
				}
				convShiftPlane(got, plane, h, w, oh, offH, offW)
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < w; ox++ {
						var want float32
						if iy, ix := oy+offH, ox+offW; iy >= 0 && iy < h && ix >= 0 && ix < w {
							want = plane[iy*w+ix]
						}
						if g := got[oy*w+ox]; g != want {
							t.Fatalf("%dx%d to %d rows, shift (%d, %d): [%d, %d] = %v, want %v", h, w, oh, offH, offW, oy, ox, g, want)
						}
					}
				}
			}
		}
	}
}

// TestMaxPoolGradPositiveNaN: with positive_only, a float32 2x2 window
// holding a NaN passes nothing; ties go to the first positive maximum.
func TestMaxPoolGradPositiveNaN(t *testing.T) {
	nan := float32(math.NaN())
	x := ir.FromSlice([]float32{1, nan, 2, 2, 0, 3, 0, 1}, 1, 1, 2, 4)
	dy := ir.FromSlice([]float32{5, 7}, 1, 1, 1, 2)
	attrs := ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2), ir.IntAttr("positive_only", 1)}
	got, err := keenOp("MaxPoolGrad", attrs, dy, x)
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, got[0], []int{1, 1, 2, 4}, []float64{0, 0, 7, 0, 0, 0, 0, 0}, 0)
}

// TestKeenOpsDeclaredOutputs: a node asking the private ops for more
// outputs than they make is refused at Prepare.
func TestKeenOpsDeclaredOutputs(t *testing.T) {
	cases := []struct {
		op   string
		nout int
		in   int
	}{{"AdamInPlace", 1, 6}, {"ReluGrad", 2, 2}, {"MaxPoolGrad", 2, 2}, {"ConvGradFilter", 3, 2}}
	for _, c := range cases {
		spec := &backends.OpSpec{Domain: keenDomain, Op: c.op, Version: 1, NumOutputs: c.nout,
			Attrs: ir.Attrs{ir.IntsAttr("kernel_shape", 2, 2)}}
		for i := 0; i < c.in; i++ {
			spec.InputTypes = append(spec.InputTypes, ir.Float32)
		}
		if _, err := New().Prepare(spec); err == nil || !strings.Contains(err.Error(), c.op) {
			t.Errorf("%s with %d outputs: err = %v", c.op, c.nout, err)
		}
	}
}

// TestAdamInPlace: the in-place update writes exactly the outputs of the
// ai.onnx.preview.training Adam kernel into X, V and H.
func TestAdamInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rnd := func() *ir.Tensor {
		v := make([]float32, 37)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return ir.FromSlice(v, 37)
	}
	x, g, v, h := rnd(), rnd(), rnd(), rnd()
	for i, e := range h.Data.([]float32) {
		h.Data.([]float32)[i] = e * e
	}
	rate, step := ir.FromSlice([]float32{0.01}), ir.FromSlice([]int64{3})
	attrs := ir.Attrs{ir.FloatAttr("alpha", 0.8), ir.FloatAttr("beta", 0.95), ir.FloatAttr("epsilon", 1e-3), ir.FloatAttr("norm_coefficient", 0.1)}
	run := func(domain, op string, nout int, in ...*ir.Tensor) []backends.Buffer {
		spec := &backends.OpSpec{Domain: domain, Op: op, Version: 1, Attrs: attrs, NumOutputs: nout}
		bufs := make([]backends.Buffer, len(in))
		for i, t := range in {
			spec.InputTypes = append(spec.InputTypes, t.DType)
			bufs[i] = &Buf{T: t}
		}
		k, err := New().Prepare(spec)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := k.Run(bufs)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	want := run("ai.onnx.preview.training", "Adam", 3, rate, step, x, g, v, h)
	xs, vs, hs := x.Clone(), v.Clone(), h.Clone()
	if outs := run(keenDomain, "AdamInPlace", 0, rate, step, xs, g, vs, hs); len(outs) != 0 {
		t.Fatalf("AdamInPlace returned %d outputs", len(outs))
	}
	for k, got := range []*ir.Tensor{xs, vs, hs} {
		w := want[k].(*Buf).T.Data.([]float32)
		for i, e := range got.Data.([]float32) {
			if e != w[i] {
				t.Fatalf("output %d [%d]: in place %v, Adam %v", k, i, e, w[i])
			}
		}
	}
}
