package backendtest

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/keenml/keen/ir"
)

// unaryCases: elementwise unary ops on [3,4,5] float32 inputs drawn from each
// op's domain, plus a few integer and bool ones.
func unaryCases() []opCase {
	type u struct {
		op     string
		lo, hi float64
		attrs  ir.Attrs
	}
	fl := []u{
		{op: "Abs", lo: -3, hi: 3}, {op: "Neg", lo: -3, hi: 3}, {op: "Exp", lo: -4, hi: 4},
		{op: "Log", lo: 0.05, hi: 20}, {op: "Sqrt", lo: 0, hi: 20}, {op: "Tanh", lo: -4, hi: 4},
		{op: "Sigmoid", lo: -6, hi: 6}, {op: "Relu", lo: -3, hi: 3}, {op: "Sin", lo: -4, hi: 4},
		{op: "Cos", lo: -4, hi: 4}, {op: "Floor", lo: -5, hi: 5}, {op: "Ceil", lo: -5, hi: 5},
		{op: "Erf", lo: -3, hi: 3}, {op: "Sign", lo: -3, hi: 3}, {op: "Softplus", lo: -5, hi: 5},
		{op: "Atan", lo: -5, hi: 5}, {op: "Round", lo: -5, hi: 5}, {op: "Identity", lo: -5, hi: 5},
		{op: "Elu", lo: -3, hi: 3, attrs: ir.Attrs{ir.FloatAttr("alpha", 0.7)}},
		{op: "LeakyRelu", lo: -3, hi: 3, attrs: ir.Attrs{ir.FloatAttr("alpha", 0.1)}},
		{op: "HardSigmoid", lo: -6, hi: 6},
		{op: "Selu", lo: -3, hi: 3},
		{op: "Gelu", lo: -4, hi: 4},
		{op: "Gelu", lo: -4, hi: 4, attrs: ir.Attrs{ir.StringAttr("approximate", "tanh")}},
	}
	var cs []opCase
	for _, c := range fl {
		lo, hi := c.lo, c.hi
		name := c.op
		if len(c.attrs) > 0 && c.attrs[0].Type == ir.AttrString {
			name += "/" + c.attrs[0].String
		}
		cs = append(cs, opCase{name: name, op: c.op, attrs: c.attrs, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{uniform(r, lo, hi, 3, 4, 5)}
		}})
	}
	return append(cs,
		opCase{name: "Reciprocal", op: "Reciprocal", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{awayFromZero(r, 3, 4, 5)}
		}},
		opCase{name: "Relu/specials", op: "Relu", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{withSpecials(normal(r, 4, 5))}
		}},
		opCase{name: "Exp/float64", op: "Exp", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toF64(uniform(r, -4, 4, 6, 7))}
		}},
		opCase{name: "Tanh/float16", op: "Tanh", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toSmall(ir.Float16, uniform(r, -3, 3, 6, 7))}
		}},
		opCase{name: "Abs/int32", op: "Abs", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int32, -1000, 1000, 4, 5)}
		}},
		opCase{name: "Neg/int64", op: "Neg", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int64, -1<<40, 1<<40, 4, 5)}
		}},
		opCase{name: "Not", op: "Not", in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{bools(r, 3, 4)} }},
		opCase{name: "IsNaN", op: "IsNaN", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{withSpecials(normal(r, 4, 5))}
		}},
		opCase{name: "Relu/empty", op: "Relu", in: inputs(ir.Zeros(ir.Float32, 0, 3))},
		opCase{name: "Exp/scalar", op: "Exp", in: inputs(ir.Scalar[float32](0.5))},
		opCase{name: "Clip", op: "Clip", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 4, 5), ir.Scalar[float32](-0.5), ir.Scalar[float32](0.7)}
		}},
		opCase{name: "Clip/max-only", op: "Clip", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 4, 5), nil, ir.Scalar[float32](0.2)}
		}},
	)
}

// broadcastPairs are input shape pairs of binary ops.
var broadcastPairs = [][2][]int{
	{{2, 3, 4}, {2, 3, 4}}, {{2, 3, 4}, {3, 1}}, {{1, 4}, {2, 3, 1}}, {{}, {2, 3}},
	{{5}, {}}, {{0, 3}, {1, 3}}, {{2, 1, 4, 1}, {3, 1, 5}},
}

// binaryCases: elementwise binary ops with broadcasting.
func binaryCases() []opCase {
	var cs []opCase
	for _, p := range broadcastPairs {
		a, b := p[0], p[1]
		cs = append(cs, opCase{name: "Add/" + shapeName(a) + "+" + shapeName(b), op: "Add",
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, b...)} }})
	}
	a, b := []int{2, 3, 4}, []int{3, 1}
	fl := func(op string, f func(r *rand.Rand) []*ir.Tensor) opCase { return opCase{op: op, in: f} }
	two := func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, b...)} }
	for _, op := range []string{"Sub", "Mul", "Max", "Min", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"} {
		cs = append(cs, fl(op, two))
	}
	return append(cs,
		fl("Div", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), awayFromZero(r, b...)} }),
		fl("Pow", func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{uniform(r, 0.5, 2, a...), uniform(r, -2, 2, b...)}
		}),
		fl("Sum", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, b...), normal(r, 4)} }),
		fl("Mean", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, b...)} }),
		fl("PRelu", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, a...), normal(r, 4)} }),
		fl("Equal", func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int32, 0, 3, a...), ints(r, ir.Int32, 0, 3, b...)}
		}),
		fl("And", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{bools(r, a...), bools(r, b...)} }),
		fl("Or", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{bools(r, a...), bools(r, b...)} }),
		fl("Xor", func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{bools(r, a...), bools(r, b...)} }),
		opCase{name: "Mod/int32", op: "Mod", in: func(r *rand.Rand) []*ir.Tensor {
			d := ints(r, ir.Int32, 1, 7, b...)
			for i, v := range ir.Data[int32](d) {
				if i%2 == 1 {
					ir.Data[int32](d)[i] = -v
				}
			}
			return []*ir.Tensor{ints(r, ir.Int32, -50, 50, a...), d}
		}},
		opCase{name: "Mod/fmod", op: "Mod", attrs: ir.Attrs{ir.IntAttr("fmod", 1)}, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{uniform(r, -10, 10, a...), awayFromZero(r, b...)}
		}},
		opCase{name: "Add/int64", op: "Add", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int64, -1<<40, 1<<40, a...), ints(r, ir.Int64, -1<<40, 1<<40, b...)}
		}},
		opCase{name: "Mul/int32", op: "Mul", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{ints(r, ir.Int32, -1000, 1000, a...), ints(r, ir.Int32, -1000, 1000, b...)}
		}},
		opCase{name: "Sub/float64", op: "Sub", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toF64(normal(r, a...)), toF64(normal(r, b...))}
		}},
		opCase{name: "Add/float16", op: "Add", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toSmall(ir.Float16, normal(r, a...)), toSmall(ir.Float16, normal(r, b...))}
		}},
		opCase{name: "Mul/bfloat16", op: "Mul", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{toSmall(ir.BFloat16, normal(r, a...)), toSmall(ir.BFloat16, normal(r, b...))}
		}},
	)
}

// castWhereCases: Cast between the common dtypes, and Where.
func castWhereCases() []opCase {
	cast := func(name string, to ir.DType, f func(r *rand.Rand) *ir.Tensor) opCase {
		return opCase{name: "Cast/" + name, op: "Cast", attrs: ir.Attrs{ir.IntAttr("to", int64(to))},
			in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{f(r)} }}
	}
	s := []int{4, 5}
	return []opCase{
		cast("f32-i32", ir.Int32, func(r *rand.Rand) *ir.Tensor { return uniform(r, -100, 100, s...) }),
		cast("f32-i64", ir.Int64, func(r *rand.Rand) *ir.Tensor { return uniform(r, -100, 100, s...) }),
		cast("f32-u8", ir.Uint8, func(r *rand.Rand) *ir.Tensor { return uniform(r, 0, 255, s...) }),
		cast("i64-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return ints(r, ir.Int64, -1<<20, 1<<20, s...) }),
		cast("i32-i64", ir.Int64, func(r *rand.Rand) *ir.Tensor { return ints(r, ir.Int32, -1<<30, 1<<30, s...) }),
		cast("i64-i32", ir.Int32, func(r *rand.Rand) *ir.Tensor { return ints(r, ir.Int64, -1<<30, 1<<30, s...) }),
		cast("u8-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return ints(r, ir.Uint8, 0, 255, s...) }),
		cast("f32-bool", ir.Bool, func(r *rand.Rand) *ir.Tensor { return withSpecials(normal(r, s...)) }),
		cast("bool-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return bools(r, s...) }),
		cast("bool-i64", ir.Int64, func(r *rand.Rand) *ir.Tensor { return bools(r, s...) }),
		cast("f32-f64", ir.Float64, func(r *rand.Rand) *ir.Tensor { return withSpecials(normal(r, s...)) }),
		cast("f64-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return toF64(normal(r, s...)) }),
		cast("f32-f16", ir.Float16, func(r *rand.Rand) *ir.Tensor { return withSpecials(normal(r, s...)) }),
		cast("f16-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return toSmall(ir.Float16, normal(r, s...)) }),
		cast("f32-bf16", ir.BFloat16, func(r *rand.Rand) *ir.Tensor { return normal(r, s...) }),
		cast("f32-f32", ir.Float32, func(r *rand.Rand) *ir.Tensor { return normal(r, s...) }),
		{name: "Where", op: "Where", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{bools(r, 2, 1, 4), normal(r, 3, 4), normal(r, 2, 3, 1)}
		}, tol: exact},
		{name: "Where/int64", op: "Where", in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{bools(r, 5), ints(r, ir.Int64, -9, 9, 3, 5), ir.Scalar[int64](-1)}
		}},
	}
}

// shapeName renders a shape for a subtest name ("2x3x4", "scalar").
func shapeName(s []int) string {
	if len(s) == 0 {
		return "scalar"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, "x")
}
