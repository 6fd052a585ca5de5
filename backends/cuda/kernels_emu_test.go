package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// mapCall declares the Sh struct for a map kernel and returns the call.
func mapCall(ns string, dims []int, ins []view, inNames []string, y view, yName string, p0, p1 float64) (string, string) {
	w, err := mapStruct(dims, ins, y)
	if err != nil {
		panic(err)
	}
	decl := words("sh", ns+"::Sh", w)
	return decl, fmt.Sprintf("%s::k(%s, %s, sh, %v, %v)", ns, strings.Join(inNames, ", "),
		yName, p0, p1)
}

func TestKernelsElementwise(t *testing.T) {
	e := newEmu()
	// Sigmoid and Selu, float32.
	x := seq(600, -30, 0.1)
	for _, op := range []string{"Sigmoid", "Selu", "Softplus", "Gelu"} {
		d := unaryOps[op]
		var p0, p1 float64
		if d.params != nil {
			p0, p1 = d.params(nil)
		}
		ns := e.kernel(mapSource([]string{"float"}, "float", "float", d.f))
		shape := []int{len(x)}
		decl, call := mapCall(ns, shape, []view{{strides: contiguous(shape)}}, []string{"x"}, view{strides: contiguous(shape)}, "y", p0, p1)
		want := make([]float64, len(x))
		for i, v := range x {
			switch op {
			case "Sigmoid":
				want[i] = 1 / (1 + math.Exp(-v))
			case "Selu":
				want[i] = p1 * v
				if v <= 0 {
					want[i] = p1 * p0 * math.Expm1(v)
				}
			case "Softplus":
				want[i] = math.Log1p(math.Exp(v))
			case "Gelu":
				want[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
			}
		}
		e.run(op, array("x", "float", x)+out("y", "float", len(x))+decl, 3, call, "y", want, 1e-5)
	}
	// Add with broadcasting, int64: (2,3) + (3).
	a, b := []float64{1, 2, 3, 4, 5, 6}, []float64{10, 20, 30}
	ns := e.kernel(mapSource([]string{"long long", "long long"}, "long long", "long long", binaryOps["Add"].i))
	shape := []int{2, 3}
	decl, call := mapCall(ns, shape, []view{{strides: bstrides([]int{2, 3}, shape)}, {strides: bstrides([]int{3}, shape)}},
		[]string{"a", "b"}, view{strides: contiguous(shape)}, "y", 0, 0)
	e.run("AddBroadcast", array("a", "long long", a)+array("b", "long long", b)+out("y", "long long", 6)+decl, 1, call, "y",
		[]float64{11, 22, 33, 14, 25, 36}, 0)
	// Python-style integer Mod, via prepMod's expression.
	modExpr := "b == 0 ? 0 : ((a % b != 0 && ((a % b < 0) != (b < 0))) ? a % b + b : a % b)"
	ns = e.kernel(mapSource([]string{"int", "int"}, "int", "int", modExpr))
	shape = []int{4}
	decl, call = mapCall(ns, shape, []view{{strides: contiguous(shape)}, {strides: contiguous(shape)}}, []string{"a", "b"},
		view{strides: contiguous(shape)}, "y", 0, 0)
	e.run("Mod", array("a", "int", []float64{7, -7, 7, -7})+array("b", "int", []float64{3, 3, -3, -3})+out("y", "int", 4)+decl,
		1, call, "y", []float64{1, 2, -2, -1}, 0)
	// Where with a broadcast condition, and Cast float -> bool.
	ns = e.kernel(mapSource([]string{"unsigned char", "unsigned int", "unsigned int"}, "unsigned int", "unsigned int", "a ? b : c"))
	shape = []int{2, 2}
	decl, call = mapCall(ns, shape, []view{{strides: bstrides([]int{2}, shape)}, {strides: contiguous(shape)}, {strides: bstrides([]int{1}, shape)}},
		[]string{"c", "x", "z"}, view{strides: contiguous(shape)}, "y", 0, 0)
	e.run("Where", array("c", "unsigned char", []float64{1, 0})+array("x", "unsigned int", []float64{1, 2, 3, 4})+
		array("z", "unsigned int", []float64{9})+out("y", "unsigned int", 4)+decl, 1, call, "y", []float64{1, 9, 3, 9}, 0)
	ns = e.kernel(mapSource([]string{"float"}, "unsigned char", "float", "a != 0"))
	shape = []int{3}
	decl, call = mapCall(ns, shape, []view{{strides: contiguous(shape)}}, []string{"x"}, view{strides: contiguous(shape)}, "y", 0, 0)
	e.run("CastBool", array("x", "float", []float64{0, -2.5, math.NaN()})+out("y", "unsigned char", 3)+decl, 1, call, "y",
		[]float64{0, 1, 1}, 0)
	e.check(t)
}

func TestKernelsMovement(t *testing.T) {
	e := newEmu()
	copyF := e.kernel(mapSource([]string{"unsigned int"}, "unsigned int", "unsigned int", "a"))
	x := seq(24, 0, 1) // (2,3,4)
	in := &Buf{shape: []int{2, 3, 4}}
	// Transpose perm (2,0,1).
	shape, st, err := transposeLayout(in.shape, []int64{2, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	decl, call := mapCall(copyF, shape, []view{{strides: st}}, []string{"x"}, view{strides: contiguous(shape)}, "y", 0, 0)
	want := make([]float64, 24)
	for i := range 4 {
		for j := range 2 {
			for k := range 3 {
				want[(i*2+j)*3+k] = x[(j*3+k)*4+i]
			}
		}
	}
	e.run("Transpose", array("x", "unsigned int", x)+out("y", "unsigned int", 24)+decl, 1, call, "y", want, 0)
	// Slice axis 2 from -1 backwards by 2, axis 1 from 1 to end.
	dims, v, err := sliceView(in, []int64{-1, 1}, []int64{-100, 100}, []int64{2, 1}, []int64{-2, 1})
	if err != nil {
		t.Fatal(err)
	}
	decl, call = mapCall(copyF, dims, []view{v}, []string{"x"}, view{strides: contiguous(dims)}, "y", 0, 0)
	want = nil
	for i := range 2 {
		for j := 1; j < 3; j++ {
			for k := 3; k >= 0; k -= 2 {
				want = append(want, x[(i*3+j)*4+k])
			}
		}
	}
	if fmt.Sprint(dims) != "[2 2 2]" {
		t.Fatalf("slice dims %v", dims)
	}
	e.run("Slice", array("x", "unsigned int", x)+out("y", "unsigned int", 8)+decl, 1, call, "y", want, 0)
	// Concat (2,1) and (2,2) along axis 1: two copies into views of (2,3).
	ys := contiguous([]int{2, 3})
	d1, c1 := mapCall(copyF, []int{2, 1}, []view{{strides: contiguous([]int{2, 1})}}, []string{"p"}, view{strides: ys}, "y", 0, 0)
	d2, c2 := mapCall(copyF, []int{2, 2}, []view{{strides: contiguous([]int{2, 2})}}, []string{"q"}, view{strides: ys, off: 1}, "y", 0, 0)
	d2 = strings.ReplaceAll(d2, "sh", "sh2")
	c2 = strings.ReplaceAll(c2, "sh,", "sh2,")
	e.run("Concat", array("p", "unsigned int", []float64{1, 4})+array("q", "unsigned int", []float64{2, 3, 5, 6})+
		out("y", "unsigned int", 6)+d1+d2, 1, c1+"; "+c2, "y", []float64{1, 2, 3, 4, 5, 6}, 0)
	// Gather axis 1 with a negative index; and one out of range sets the flag.
	g := e.kernel(gatherSource("unsigned int", "long long"))
	e.run("Gather", array("x", "unsigned int", x)+array("ind", "long long", []float64{-1, 0})+out("y", "unsigned int", 16)+
		"static int flag = 0;\n", 1, g+"::k(x, ind, y, 16, 2, 4, 3, &flag)", "y",
		[]float64{8, 9, 10, 11, 0, 1, 2, 3, 20, 21, 22, 23, 12, 13, 14, 15}, 0)
	e.run("GatherRange", array("x", "unsigned int", x)+array("ind", "long long", []float64{3})+out("y", "unsigned int", 8)+
		"static int flag = 0;\n", 1, g+"::k(x, ind, y, 8, 1, 4, 3, &flag)", "&flag", []float64{1}, 0)
	e.check(t)
}

func TestKernelsReduce(t *testing.T) {
	e := newEmu()
	x := seq(2*300*3, -1, 0.01) // (2,300,3): a long reduced axis crosses the block size
	sum := func(o, i int) float64 {
		s := 0.0
		for j := range 300 {
			s += x[(o*300+j)*3+i]
		}
		return s
	}
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceLogSumExp"} {
		d := redOps[op]
		low, _ := limits(ir.Float64)
		init := d.init
		if init == "LOW" {
			init = low
		}
		ns := e.kernel(reduceSource("double", "double", "double", init, d.mapv, d.combine, d.final))
		w, shape, nout, nred, err := redLayout([]int{2, 300, 3}, []int64{1}, true)
		if err != nil || fmt.Sprint(shape) != "[2 1 3]" || nout != 6 || nred != 300 {
			t.Fatalf("redLayout: %v %v %d %d", err, shape, nout, nred)
		}
		var want []float64
		for o := range 2 {
			for i := range 3 {
				switch op {
				case "ReduceSum":
					want = append(want, sum(o, i))
				case "ReduceMean":
					want = append(want, sum(o, i)/300)
				case "ReduceMax":
					want = append(want, x[(o*300+299)*3+i])
				case "ReduceLogSumExp":
					s := 0.0
					for j := range 300 {
						s += math.Exp(x[(o*300+j)*3+i])
					}
					want = append(want, math.Log(s))
				}
			}
		}
		aux := "(const double*)nullptr"
		decls := array("x", "double", x) + out("y", "double", 6) + words("rd", ns+"::Rd", w)
		if op == "ReduceLogSumExp" {
			mx := e.kernel(reduceSource("double", "double", "double", low, "v", redOps["ReduceMax"].combine, "t"))
			decls += out("m", "double", 6) + fmt.Sprintf("launch(2, [&] { %s::k(x, m, nullptr, *(%s::Rd*)&rd, 0); });\n", mx, mx)
			aux = "m"
		}
		e.run(op, decls, 2, fmt.Sprintf("%s::k(x, y, %s, rd, %v)", ns, aux, 1.0/300), "y", want, 1e-9)
	}
	// ArgMax with ties, first and last.
	vals := []float64{1, 5, 5, 2, 7, 7}
	for _, last := range []bool{false, true} {
		ns := e.kernel(argSource("float", true, last))
		want := []float64{1, 1}
		if last {
			want = []float64{2, 2}
		}
		e.run(fmt.Sprint("ArgMaxLast", last), array("x", "float", vals)+out("y", "long long", 2), 1,
			ns+"::k(x, y, 2, 3, 1)", "y", want, 0)
	}
	// Softmax along a long axis, and log-softmax.
	sx := seq(2*400, -4, 0.01)
	for _, logS := range []bool{false, true} {
		ns := e.kernel(softmaxSource("double", logS))
		want := make([]float64, len(sx))
		for r := range 2 {
			row := sx[r*400 : (r+1)*400]
			s := 0.0
			for _, v := range row {
				s += math.Exp(v)
			}
			for j, v := range row {
				want[r*400+j] = math.Exp(v) / s
				if logS {
					want[r*400+j] = v - math.Log(s)
				}
			}
		}
		e.run(fmt.Sprint("Softmax", logS), array("x", "double", sx)+out("y", "double", len(sx)), 2,
			ns+"::k(x, y, 2, 400, 1)", "y", want, 1e-9)
	}
	e.check(t)
}

// TestKernelsConv unfolds an image with im2col and multiplies by the
// weights in Go, against a direct convolution.
func TestKernelsConv(t *testing.T) {
	e := newEmu()
	s := &backends.OpSpec{Op: "Conv", Attrs: ir.Attrs{ir.IntsAttr("strides", 2, 1), ir.IntsAttr("pads", 1, 0, 1, 2),
		ir.IntsAttr("dilations", 1, 2)}}
	xs, ws := []int{1, 2, 5, 6}, []int{3, 2, 3, 2}
	g, err := convGeometry(s, xs, ws)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(g.out) != "[3 6]" {
		t.Fatalf("output dims %v", g.out)
	}
	x := seq(ir.Size(xs), -3, 0.1)
	w := seq(ir.Size(ws), 1, -0.05)
	words_, n := g.cvStruct(2)
	ns := e.kernel(im2colSource("double"))
	kk, oo := 2*3*2, 18
	// col (kk, oo) times w (3, kk) in Go gives y; compare col with its definition instead.
	col := make([]float64, kk*oo)
	for c := range 2 {
		for k0 := range 3 {
			for k1 := range 2 {
				for o0 := range 3 {
					for o1 := range 6 {
						p0, p1 := o0*2-1+k0, o1*1-0+k1*2
						v := 0.0
						if p0 >= 0 && p0 < 5 && p1 >= 0 && p1 < 6 {
							v = x[(c*5+p0)*6+p1]
						}
						col[((c*3+k0)*2+k1)*oo+o0*6+o1] = v
					}
				}
			}
		}
	}
	if n != kk*oo {
		t.Fatalf("im2col size %d, want %d", n, kk*oo)
	}
	e.run("Im2col", array("x", "double", x)+out("col", "double", n)+words("cv", ns+"::Cv", words_), 2,
		ns+"::k(x, col, cv)", "col", col, 0)
	e.check(t)
	_ = w
}
