package cuda

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// unaryDef is an elementwise op: an expression in a (and the scalars p0,
// p1 read from attributes) for floats, for integers, and for bools.
type unaryDef struct {
	f, i, b string
	params  func(ir.Attrs) (float64, float64)
}

func alpha(def float32) func(ir.Attrs) (float64, float64) {
	return func(a ir.Attrs) (float64, float64) { return float64(a.Float("alpha", def)), 0 }
}

var unaryOps = map[string]unaryDef{
	"Identity":        {f: "a", i: "a", b: "a"},
	"Abs":             {f: "k_fabs(a)", i: "a < 0 ? -a : a"},
	"Neg":             {f: "-a", i: "-a"},
	"Sign":            {f: "(T)((a > (T)0) - (a < (T)0))", i: "(T)((a > 0) - (a < 0))"},
	"Relu":            {f: "a < (T)0 ? (T)0 : a", i: "a > 0 ? a : 0"},
	"Not":             {b: "!a"},
	"Exp":             {f: "k_exp(a)"},
	"Log":             {f: "k_log(a)"},
	"Sqrt":            {f: "k_sqrt(a)"},
	"Reciprocal":      {f: "(T)1 / a"},
	"Floor":           {f: "k_floor(a)"},
	"Ceil":            {f: "k_ceil(a)"},
	"Round":           {f: "k_rint(a)"},
	"Sin":             {f: "k_sin(a)"},
	"Cos":             {f: "k_cos(a)"},
	"Tan":             {f: "k_tan(a)"},
	"Asin":            {f: "k_asin(a)"},
	"Acos":            {f: "k_acos(a)"},
	"Atan":            {f: "k_atan(a)"},
	"Sinh":            {f: "k_sinh(a)"},
	"Cosh":            {f: "k_cosh(a)"},
	"Asinh":           {f: "k_asinh(a)"},
	"Acosh":           {f: "k_acosh(a)"},
	"Atanh":           {f: "k_atanh(a)"},
	"Erf":             {f: "k_erf(a)"},
	"Tanh":            {f: "k_tanh(a)"},
	"Sigmoid":         {f: "a >= (T)0 ? (T)1 / ((T)1 + k_exp(-a)) : k_exp(a) / ((T)1 + k_exp(a))"},
	"Softplus":        {f: "a > (T)20 ? a : k_log1p(k_exp(a))"},
	"Softsign":        {f: "a / ((T)1 + k_fabs(a))"},
	"Mish":            {f: "a * k_tanh(a > (T)20 ? a : k_log1p(k_exp(a)))"},
	"HardSwish":       {f: "a * (a <= (T)-3 ? (T)0 : a >= (T)3 ? (T)1 : a / (T)6 + (T)0.5)"},
	"LeakyRelu":       {f: "a >= (T)0 ? a : (T)p0 * a", params: alpha(0.01)},
	"Elu":             {f: "a >= (T)0 ? a : (T)p0 * k_expm1(a)", params: alpha(1)},
	"ThresholdedRelu": {f: "a > (T)p0 ? a : (T)0", params: alpha(1)},
	"Celu":            {f: "a > (T)0 ? a : (T)p0 * k_expm1(a / (T)p0)", params: alpha(1)},
	"Selu": {f: "a > (T)0 ? (T)p1 * a : (T)p1 * (T)p0 * k_expm1(a)", params: func(a ir.Attrs) (float64, float64) {
		return float64(a.Float("alpha", 1.67326319217681884765625)), float64(a.Float("gamma", 1.05070102214813232421875))
	}},
	"HardSigmoid": {f: "a * (T)p0 + (T)p1 < (T)0 ? (T)0 : (a * (T)p0 + (T)p1 > (T)1 ? (T)1 : a * (T)p0 + (T)p1)",
		params: func(a ir.Attrs) (float64, float64) {
			return float64(a.Float("alpha", 0.2)), float64(a.Float("beta", 0.5))
		}},
	"Gelu": {f: "(T)0.5 * a * ((T)1 + k_erf(a * (T)0.70710678118654752))"},
}

// binaryDef is an elementwise op of two broadcast inputs; cmp ops make bools.
type binaryDef struct {
	f, i, b string
	cmp     bool
}

var binaryOps = map[string]binaryDef{
	"Add":            {f: "a + b", i: "a + b"},
	"Sub":            {f: "a - b", i: "a - b"},
	"Mul":            {f: "a * b", i: "a * b"},
	"Div":            {f: "a / b", i: "b == 0 ? 0 : a / b"},
	"Pow":            {f: "k_pow(a, b)"},
	"PRelu":          {f: "a < (T)0 ? b * a : a", i: "a < 0 ? b * a : a"},
	"Max":            {f: "(a > b || a != a) ? a : b", i: "a > b ? a : b"},
	"Min":            {f: "(a < b || a != a) ? a : b", i: "a < b ? a : b"},
	"Sum":            {f: "a + b", i: "a + b"},
	"Mean":           {f: "a + b"},
	"Equal":          {f: "a == b", i: "a == b", b: "a == b", cmp: true},
	"Less":           {f: "a < b", i: "a < b", cmp: true},
	"Greater":        {f: "a > b", i: "a > b", cmp: true},
	"LessOrEqual":    {f: "a <= b", i: "a <= b", cmp: true},
	"GreaterOrEqual": {f: "a >= b", i: "a >= b", cmp: true},
	"And":            {b: "a && b", cmp: true},
	"Or":             {b: "a || b", cmp: true},
	"Xor":            {b: "(a != 0) != (b != 0)", cmp: true},
}

func init() {
	for op, d := range unaryOps {
		ds := floats
		switch {
		case d.b != "" && d.f == "":
			ds = boolOnly
		case d.i != "" && d.b != "":
			ds = castable
		case d.i != "":
			ds = numeric
		}
		reg(op, 1, ds, prepUnary)
	}
	for op, d := range binaryOps {
		ds := floats
		switch {
		case d.b != "" && d.f == "":
			ds = boolOnly
		case d.b != "":
			ds = numBool
		case d.i != "":
			ds = numeric
		}
		reg(op, 1, ds, prepBinary)
	}
	reg("Mod", 10, numeric, prepMod)
	reg("Where", 9, append([]ir.DType{ir.Bool}, castable...), prepWhere)
	reg("Cast", 6, castable, prepCast)
	reg("CastLike", 15, castable, prepCast)
}

// pick chooses the expression for dtype dt.
func pick(dt ir.DType, f, i, b string) string {
	switch {
	case dt == ir.Bool:
		return b
	case dt.IsFloat():
		return f
	}
	return i
}

func prepUnary(b *Backend, s *backends.OpSpec) (kfunc, error) {
	d := unaryOps[s.Op]
	if s.Op == "Gelu" && s.Attrs.Str("approximate", "none") == "tanh" {
		d.f = "(T)0.5 * a * ((T)1 + k_tanh((T)0.79788456080286536 * (a + (T)0.044715 * a * a * a)))"
	}
	dt := s.InputTypes[0]
	expr, ct := pick(dt, d.f, d.i, d.b), ctype(dt)
	if expr == "" || ct == "" {
		return nil, notImpl("%s on %v", s.Op, dt)
	}
	var p0, p1 float64
	if d.params != nil {
		p0, p1 = d.params(s.Attrs)
	}
	src := mapSource([]string{ct}, ct, ct, expr)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(dt, x.shape)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.runMap(src, x.shape, []view{whole(x)}, whole(y), p0, p1)
	}, nil
}

// binary applies src to two inputs broadcast together.
func (b *Backend) binary(src string, out ir.DType, x, y *Buf) (*Buf, error) {
	shape, err := broadcast(x.shape, y.shape)
	if err != nil {
		return nil, err
	}
	z, err := b.alloc(out, shape)
	if err != nil {
		return nil, err
	}
	ins := []view{{ptr: x.ptr, strides: bstrides(x.shape, shape)}, {ptr: y.ptr, strides: bstrides(y.shape, shape)}}
	return z, b.runMap(src, shape, ins, whole(z), 0, 0)
}

// prepBinary serves the binary ops, and the variadic Sum, Max, Min, Mean
// as a fold over their inputs.
func prepBinary(b *Backend, s *backends.OpSpec) (kfunc, error) {
	d := binaryOps[s.Op]
	dt := s.InputTypes[0]
	for i, t := range s.InputTypes {
		if t != dt && s.Op != "PRelu" {
			return nil, notImpl("input %d is %v, input 0 %v", i, t, dt)
		}
	}
	expr, ct := pick(dt, d.f, d.i, d.b), ctype(dt)
	if expr == "" || ct == "" {
		return nil, notImpl("%s on %v", s.Op, dt)
	}
	out := dt
	if d.cmp {
		out = ir.Bool
	}
	src := mapSource([]string{ct, ct}, ctype(out), ct, expr)
	scale := mapSource([]string{ct}, ct, ct, "a * (T)p0")
	variadic := s.Op == "Sum" || s.Op == "Max" || s.Op == "Min" || s.Op == "Mean"
	return func(in []*Buf) ([]*Buf, error) {
		if !variadic && len(in) != 2 {
			return nil, fmt.Errorf("%s takes 2 inputs, got %d", s.Op, len(in))
		}
		acc, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		if len(in) == 1 { // Sum, Max, Min, Mean of one input
			acc, err = b.clone(acc, acc.shape)
		}
		for i := 1; i < len(in) && err == nil; i++ {
			var y *Buf
			if y, err = need(in, i); err == nil {
				acc, err = b.binary(src, out, acc, y)
			}
		}
		if err == nil && s.Op == "Mean" && len(in) > 1 {
			var m *Buf
			if m, err = b.alloc(dt, acc.shape); err == nil {
				err = b.runMap(scale, acc.shape, []view{whole(acc)}, whole(m), 1/float64(len(in)), 0)
				acc = m
			}
		}
		return []*Buf{acc}, err
	}, nil
}

func prepMod(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[0]
	expr := "k_fmod(a, b)"
	switch {
	case dt.IsFloat() && s.Attrs.Int("fmod", 0) == 0:
		return nil, fmt.Errorf("Mod of %v needs fmod=1", dt)
	case !dt.IsFloat() && s.Attrs.Int("fmod", 0) != 0:
		expr = "b == 0 ? 0 : a % b"
	case !dt.IsFloat():
		expr = "b == 0 ? 0 : ((a % b != 0 && ((a % b < 0) != (b < 0))) ? a % b + b : a % b)"
	}
	ct := ctype(dt)
	src := mapSource([]string{ct, ct}, ct, ct, expr)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		y, err := need(in, 1)
		if err != nil {
			return nil, err
		}
		z, err := b.binary(src, dt, x, y)
		return []*Buf{z}, err
	}, nil
}

func prepWhere(b *Backend, s *backends.OpSpec) (kfunc, error) {
	dt := s.InputTypes[1]
	ct := bitsType(dt)
	if len(s.InputTypes) != 3 || s.InputTypes[0] != ir.Bool || s.InputTypes[2] != dt || ct == "" {
		return nil, notImpl("Where of %v", s.InputTypes)
	}
	src := mapSource([]string{"unsigned char", ct, ct}, ct, ct, "a ? b : c")
	return func(in []*Buf) ([]*Buf, error) {
		var xs [3]*Buf
		for i := range xs {
			x, err := need(in, i)
			if err != nil {
				return nil, err
			}
			xs[i] = x
		}
		shape, err := broadcast(xs[0].shape, xs[1].shape, xs[2].shape)
		if err != nil {
			return nil, err
		}
		z, err := b.alloc(dt, shape)
		if err != nil {
			return nil, err
		}
		ins := make([]view, 3)
		for i, x := range xs {
			ins[i] = view{ptr: x.ptr, strides: bstrides(x.shape, shape)}
		}
		return []*Buf{z}, b.runMap(src, shape, ins, whole(z), 0, 0)
	}, nil
}

// prepCast serves Cast (to from the attribute) and CastLike (to the dtype
// of input 1). Float-to-integer conversion truncates, as C does; values out
// of the target's range are undefined there.
func prepCast(b *Backend, s *backends.OpSpec) (kfunc, error) {
	from := s.InputTypes[0]
	to := ir.DType(s.Attrs.Int("to", 0))
	if s.Op == "CastLike" {
		if len(s.InputTypes) < 2 {
			return nil, fmt.Errorf("CastLike needs two inputs")
		}
		to = s.InputTypes[1]
	}
	fc, tc := ctype(from), ctype(to)
	if fc == "" || tc == "" {
		return nil, notImpl("Cast from %v to %v", from, to)
	}
	expr := "a"
	if to == ir.Bool {
		expr = "a != 0"
	}
	src := mapSource([]string{fc}, tc, fc, expr)
	return func(in []*Buf) ([]*Buf, error) {
		x, err := need(in, 0)
		if err != nil {
			return nil, err
		}
		y, err := b.alloc(to, x.shape)
		if err != nil {
			return nil, err
		}
		return []*Buf{y}, b.runMap(src, x.shape, []view{whole(x)}, whole(y), 0, 0)
	}, nil
}
