package eager_test

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// versionCase is a gradCase run at a given opset version (0: newest) of a
// domain ("": the default one).
type versionCase struct {
	gradCase
	version int
	domain  string
}

// checkGradientAt is checkGradient for an op at an older opset version: the
// tape's gradient of L = Σ op(xs)·w against central differences.
func checkGradientAt(t *testing.T, c versionCase) {
	t.Helper()
	nout := max(c.nout, 1)
	r := rand.New(rand.NewSource(99))
	var ws []*eager.Tensor
	loss := func(xs []*eager.Tensor) *eager.Tensor {
		outs, err := eager.CallDomain(c.domain, c.op, c.version, c.attrs, nout, xs...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var l *eager.Tensor
		for k, o := range outs {
			if o == nil || !o.DType().IsFloat() {
				continue
			}
			for len(ws) <= k {
				ws = append(ws, nil)
			}
			if ws[k] == nil {
				ws[k] = eager.New(randT(r, -1, 1, o.Shape()...).Data.([]float64), o.Shape()...)
			}
			term := eager.Sum(eager.Mul(o, ws[k]))
			if l == nil {
				l = term
			} else {
				l = eager.Add(l, term)
			}
		}
		return l
	}
	xs := hostInputs(t, c.in)
	tape := eager.NewTape()
	l := loss(xs)
	srcs := make([]*eager.Tensor, len(c.diff))
	for i, j := range c.diff {
		srcs[i] = xs[j]
	}
	grads := tape.Gradient(l, srcs...)
	const h = 1e-6
	for gi, j := range c.diff {
		an := grads[gi].Floats64()
		for e := range c.in[j].Data.([]float64) {
			eval := func(delta float64) float64 {
				p := c.in[j].Clone()
				p.Data.([]float64)[e] += delta
				pxs := append([]*eager.Tensor(nil), xs...)
				pxs[j], _ = eager.FromHost(nil, p)
				var v float64
				eager.NoGrad(func() { v = loss(pxs).Item() })
				return v
			}
			num := (eval(h) - eval(-h)) / (2 * h)
			if math.Abs(num-an[e]) > 1e-5+1e-4*math.Abs(num) {
				t.Errorf("%s: d/d input %d [%d]: analytic %.8g, numeric %.8g", c.name, j, e, an[e], num)
				return
			}
		}
	}
}

func hostInputs(t *testing.T, in []*ir.Tensor) []*eager.Tensor {
	t.Helper()
	xs := make([]*eager.Tensor, len(in))
	for i, h := range in {
		if h != nil {
			x, err := eager.FromHost(nil, h)
			if err != nil {
				t.Fatal(err)
			}
			xs[i] = x
		}
	}
	return xs
}

func TestGradConvTranspose(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	str := func(name, v string) ir.Attr { return ir.StringAttr(name, v) }
	ct := func(name string, attrs ir.Attrs, in ...*ir.Tensor) gradCase {
		diff := []int{0, 1}
		if len(in) > 2 {
			diff = append(diff, 2)
		}
		return gradCase{name: name, op: "ConvTranspose", attrs: attrs, in: in, diff: diff}
	}
	cases := []gradCase{
		ct("2D bias", nil, any(2, 3, 3, 3), any(3, 2, 2, 3), any(2)),
		ct("strides pads", ir.Attrs{ints("strides", 2, 2), ints("pads", 1, 0, 1, 2)}, any(1, 2, 3, 3), any(2, 3, 3, 3)),
		ct("output_padding", ir.Attrs{ints("strides", 3, 2), ints("output_padding", 2, 1), ints("pads", 1, 1, 0, 0)}, any(1, 2, 2, 3), any(2, 1, 3, 2)),
		ct("dilations", ir.Attrs{ints("dilations", 2, 1), ints("strides", 1, 2), ints("pads", 2, 1, 1, 0)}, any(1, 1, 3, 3), any(1, 2, 2, 3)),
		ct("groups", ir.Attrs{ir.IntAttr("group", 2), ints("strides", 2, 1)}, any(2, 4, 2, 3), any(4, 3, 2, 2), any(6)),
		ct("depthwise output_padding", ir.Attrs{ir.IntAttr("group", 3), ints("strides", 2, 2), ints("output_padding", 1, 0), ints("dilations", 1, 2)}, any(1, 3, 2, 2), any(3, 1, 2, 2)),
		ct("output_shape larger", ir.Attrs{ints("strides", 2, 2), ints("output_shape", 8, 9)}, any(1, 2, 3, 3), any(2, 1, 3, 3)),
		ct("output_shape smaller", ir.Attrs{ints("strides", 2, 1), ints("output_shape", 1, 1, 5, 4)}, any(1, 2, 3, 3), any(2, 1, 3, 3)),
		ct("output_shape SAME_UPPER", ir.Attrs{ints("strides", 2, 2), ints("output_shape", 10, 7), str("auto_pad", "SAME_UPPER")}, any(1, 1, 3, 2), any(1, 2, 2, 2)),
		ct("SAME_UPPER", ir.Attrs{str("auto_pad", "SAME_UPPER"), ints("strides", 2, 2)}, any(1, 2, 3, 2), any(2, 2, 3, 3)),
		ct("SAME_LOWER", ir.Attrs{str("auto_pad", "SAME_LOWER"), ints("strides", 2, 3)}, any(1, 2, 2, 3), any(2, 1, 3, 2)),
		ct("VALID ignores pads", ir.Attrs{str("auto_pad", "VALID"), ints("strides", 2, 2)}, any(1, 1, 2, 2), any(1, 2, 3, 3)),
		ct("1D", ir.Attrs{ints("strides", 2), ints("pads", 1, 1)}, any(2, 2, 4), any(2, 3, 3), any(3)),
		ct("3D", ir.Attrs{ints("strides", 2, 1, 1)}, any(1, 2, 2, 2, 2), any(2, 1, 2, 2, 2)),
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// ConvTranspose-1: the same geometry rules at the oldest opset.
	t.Run("opset 1", func(t *testing.T) {
		checkGradientAt(t, versionCase{ct("v1", ir.Attrs{ints("strides", 2, 2), ints("pads", 1, 1, 0, 0)}, any(1, 2, 2, 3), any(2, 2, 3, 2)), 1, ""})
	})
}

func TestGradLpPoolMaxUnpool(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	any := func(shape ...int) *ir.Tensor { return randT(r, -1, 1, shape...) }
	ints := func(name string, v ...int64) ir.Attr { return ir.IntsAttr(name, v...) }
	p := func(v int64) ir.Attr { return ir.IntAttr("p", v) }
	var cases []gradCase
	for _, pv := range []int64{1, 2, 3} {
		cases = append(cases,
			gradCase{name: "LpPool p" + string(rune('0'+pv)), op: "LpPool", attrs: ir.Attrs{p(pv), ints("kernel_shape", 2, 2), ints("strides", 2, 1)}, in: []*ir.Tensor{any(2, 2, 4, 3)}, diff: []int{0}},
			gradCase{name: "LpPool overlap pads p" + string(rune('0'+pv)), op: "LpPool", attrs: ir.Attrs{p(pv), ints("kernel_shape", 3, 2), ints("pads", 1, 0, 1, 1)}, in: []*ir.Tensor{any(1, 2, 4, 4)}, diff: []int{0}},
			gradCase{name: "GlobalLpPool p" + string(rune('0'+pv)), op: "GlobalLpPool", attrs: ir.Attrs{p(pv)}, in: []*ir.Tensor{any(2, 3, 2, 3)}, diff: []int{0}},
		)
	}
	cases = append(cases,
		gradCase{name: "LpPool default p", op: "LpPool", attrs: ir.Attrs{ints("kernel_shape", 2)}, in: []*ir.Tensor{any(2, 2, 5)}, diff: []int{0}},
		gradCase{name: "LpPool ceil dilations", op: "LpPool", attrs: ir.Attrs{p(2), ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("dilations", 1, 2), ir.IntAttr("ceil_mode", 1)}, in: []*ir.Tensor{any(1, 1, 5, 6)}, diff: []int{0}},
		gradCase{name: "LpPool SAME_LOWER", op: "LpPool", attrs: ir.Attrs{p(3), ints("kernel_shape", 3, 3), ints("strides", 2, 2), ir.StringAttr("auto_pad", "SAME_LOWER")}, in: []*ir.Tensor{any(1, 2, 4, 5)}, diff: []int{0}},
		gradCase{name: "LpPool 3D", op: "LpPool", attrs: ir.Attrs{p(2), ints("kernel_shape", 2, 2, 2)}, in: []*ir.Tensor{any(1, 1, 3, 2, 3)}, diff: []int{0}},
		gradCase{name: "GlobalLpPool 1D", op: "GlobalLpPool", in: []*ir.Tensor{any(2, 2, 5)}, diff: []int{0}},
		gradCase{name: "MaxUnpool", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)},
			in: []*ir.Tensor{any(1, 2, 2, 2), ir.FromSlice([]int64{0, 3, 9, 14, 16, 22, 25, 31}, 1, 2, 2, 2)}, diff: []int{0}},
		gradCase{name: "MaxUnpool output_shape", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 2, 2), ints("strides", 2, 2)},
			in: []*ir.Tensor{any(1, 1, 2, 2), ir.FromSlice([]int64{5, 2, 8, 15}, 1, 1, 2, 2), i64(1, 1, 5, 5)}, diff: []int{0}},
		gradCase{name: "MaxUnpool pads 1D", op: "MaxUnpool", attrs: ir.Attrs{ints("kernel_shape", 3), ints("strides", 2), ints("pads", 1, 1)},
			in: []*ir.Tensor{any(2, 1, 3), ir.FromSlice([]int64{0, 2, 4, 5, 6, 9}, 2, 1, 3)}, diff: []int{0}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradient(t, c) })
	}
	// LpPool-1 and GlobalLpPool-1 take p as a float.
	for _, c := range []versionCase{
		{gradCase{name: "LpPool-1 p=3", op: "LpPool", attrs: ir.Attrs{ir.FloatAttr("p", 3), ints("kernel_shape", 2, 2)}, in: []*ir.Tensor{any(1, 2, 3, 3)}, diff: []int{0}}, 1, ""},
		{gradCase{name: "GlobalLpPool-1 p=1.5", op: "GlobalLpPool", attrs: ir.Attrs{ir.FloatAttr("p", 1.5)}, in: []*ir.Tensor{randT(r, 0.2, 1, 1, 2, 2, 2)}, diff: []int{0}}, 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) { checkGradientAt(t, c) })
	}
}
