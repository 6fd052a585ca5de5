package plugins

import (
	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Output shapes of the commonest ops are worked out on the host, so that
// shape code between ops (gradients unbroadcasting, say) needs no round
// trip; every other op's shape waits for the plugin. The plugin's answer is
// checked against the guess, as for dtypes.

// sameShape ops give output 0 the shape of input 0.
var sameShape = set("Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cast", "CastLike", "Ceil",
	"Celu", "Cos", "Cosh", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid", "HardSwish", "Identity",
	"IsInf", "IsNaN", "LeakyRelu", "Log", "LogSoftmax", "Mish", "Neg", "Not", "Reciprocal", "Relu",
	"Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Softmax", "Softplus", "Softsign",
	"Sqrt", "Tan", "Tanh", "ThresholdedRelu")

// broadcastOps give output 0 the broadcast of all their inputs' shapes.
var broadcastOps = set("Add", "And", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Div", "Equal",
	"Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Max", "Mean", "Min", "Mod", "Mul", "Or", "Pow",
	"PRelu", "Sub", "Sum", "Where", "Xor")

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// knownShape is m's shape if the host knows it without waiting.
func knownShape(m *meta) ([]int, bool) {
	if m.shapeFixed {
		return m.shape, true
	}
	if done, err := m.settled(); done && err == nil {
		return m.shape, true
	}
	return nil, false
}

// inferShape returns the shape of a one-output op's output, or nil when
// the host cannot tell without the plugin.
func inferShape(s *backends.OpSpec, in []*meta) []int {
	if s.NumOutputs != 1 || len(in) == 0 || ir.NormDomain(s.Domain) != "" {
		return nil
	}
	shapes := make([][]int, 0, len(in))
	for _, m := range in {
		if m == nil {
			return nil
		}
		sh, ok := knownShape(m)
		if !ok {
			return nil
		}
		shapes = append(shapes, sh)
	}
	switch {
	case sameShape[s.Op]:
		return append([]int{}, shapes[0]...)
	case broadcastOps[s.Op]:
		return broadcastShapes(shapes)
	case s.Op == "MatMul" && len(shapes) == 2:
		return matmulShape(shapes[0], shapes[1])
	}
	return nil
}

// broadcastShapes is the numpy broadcast of shapes (nil if they clash).
func broadcastShapes(shapes [][]int) []int {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			switch o := out[off+i]; {
			case o == d || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil
			}
		}
	}
	return out
}

// matmulShape is numpy's matmul rule (nil if the shapes do not fit).
func matmulShape(a, b []int) []int {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	a1, b1 := len(a) == 1, len(b) == 1
	if a1 {
		a = []int{1, a[0]}
	}
	if b1 {
		b = []int{b[0], 1}
	}
	if a[len(a)-1] != b[len(b)-2] {
		return nil
	}
	batch := broadcastShapes([][]int{a[:len(a)-2], b[:len(b)-2]})
	if batch == nil {
		return nil
	}
	out := batch
	if !a1 {
		out = append(out, a[len(a)-2])
	}
	if !b1 {
		out = append(out, b[len(b)-1])
	}
	return out
}
