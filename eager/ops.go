package eager

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

// The functions below are ONNX operators as Go functions, with attributes
// as arguments. They panic with the op's error (naming the op and shapes) on
// invalid arguments, as an out-of-range index does in Go; entry points that
// run user code on the user's behalf recover these panics into errors.

// Op runs any operator of the default domain and returns its outputs.
func Op(op string, attrs ir.Attrs, nout int, in ...*Tensor) []*Tensor {
	out, err := Call(op, attrs, nout, in...)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return out
}

// OpError is the panic value of a failed eager op.
type OpError struct{ Err error }

func (e *OpError) Error() string { return "eager: " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

func op1(op string, attrs ir.Attrs, in ...*Tensor) *Tensor { return Op(op, attrs, 1, in...)[0] }

// Elementwise binary ops with numpy broadcasting.
func Add(a, b *Tensor) *Tensor { return op1("Add", nil, a, b) }
func Sub(a, b *Tensor) *Tensor { return op1("Sub", nil, a, b) }
func Mul(a, b *Tensor) *Tensor { return op1("Mul", nil, a, b) }
func Div(a, b *Tensor) *Tensor { return op1("Div", nil, a, b) }
func Pow(a, b *Tensor) *Tensor { return op1("Pow", nil, a, b) }
func Max(a, b *Tensor) *Tensor { return op1("Max", nil, a, b) }
func Min(a, b *Tensor) *Tensor { return op1("Min", nil, a, b) }

// Comparisons (bool results).
func Equal(a, b *Tensor) *Tensor          { return op1("Equal", nil, a, b) }
func Greater(a, b *Tensor) *Tensor        { return op1("Greater", nil, a, b) }
func Less(a, b *Tensor) *Tensor           { return op1("Less", nil, a, b) }
func GreaterOrEqual(a, b *Tensor) *Tensor { return op1("GreaterOrEqual", nil, a, b) }
func LessOrEqual(a, b *Tensor) *Tensor    { return op1("LessOrEqual", nil, a, b) }
func Not(a *Tensor) *Tensor               { return op1("Not", nil, a) }
func And(a, b *Tensor) *Tensor            { return op1("And", nil, a, b) }

// Where selects x where cond is true, else y.
func Where(cond, x, y *Tensor) *Tensor { return op1("Where", nil, cond, x, y) }

// Unary math.
func Neg(x *Tensor) *Tensor        { return op1("Neg", nil, x) }
func Abs(x *Tensor) *Tensor        { return op1("Abs", nil, x) }
func Exp(x *Tensor) *Tensor        { return op1("Exp", nil, x) }
func Log(x *Tensor) *Tensor        { return op1("Log", nil, x) }
func Sqrt(x *Tensor) *Tensor       { return op1("Sqrt", nil, x) }
func Reciprocal(x *Tensor) *Tensor { return op1("Reciprocal", nil, x) }
func Sign(x *Tensor) *Tensor       { return op1("Sign", nil, x) }
func Sin(x *Tensor) *Tensor        { return op1("Sin", nil, x) }
func Cos(x *Tensor) *Tensor        { return op1("Cos", nil, x) }
func Tanh(x *Tensor) *Tensor       { return op1("Tanh", nil, x) }
func Sigmoid(x *Tensor) *Tensor    { return op1("Sigmoid", nil, x) }
func Relu(x *Tensor) *Tensor       { return op1("Relu", nil, x) }
func Erf(x *Tensor) *Tensor        { return op1("Erf", nil, x) }
func Floor(x *Tensor) *Tensor      { return op1("Floor", nil, x) }
func Identity(x *Tensor) *Tensor   { return op1("Identity", nil, x) }

// LeakyRelu is max(x, alpha*x).
func LeakyRelu(x *Tensor, alpha float32) *Tensor {
	return op1("LeakyRelu", ir.Attrs{ir.FloatAttr("alpha", alpha)}, x)
}

// Cast converts to dtype.
func Cast(x *Tensor, dt ir.DType) *Tensor {
	if x.DType() == dt {
		return x
	}
	return op1("Cast", ir.Attrs{ir.IntAttr("to", int64(dt))}, x)
}

// MatMul is numpy matmul.
func MatMul(a, b *Tensor) *Tensor { return op1("MatMul", nil, a, b) }

// Gemm is alpha*op(a)*op(b) + beta*c (c may be nil).
func Gemm(a, b, c *Tensor, alpha, beta float32, transA, transB bool) *Tensor {
	attrs := ir.Attrs{ir.FloatAttr("alpha", alpha), ir.FloatAttr("beta", beta),
		ir.IntAttr("transA", b2i(transA)), ir.IntAttr("transB", b2i(transB))}
	if c == nil {
		return op1("Gemm", attrs, a, b)
	}
	return op1("Gemm", attrs, a, b, c)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Transpose permutes axes (reverses them when perm is empty).
func Transpose(x *Tensor, perm ...int) *Tensor {
	if len(perm) == 0 {
		return op1("Transpose", nil, x)
	}
	return op1("Transpose", ir.Attrs{ir.IntsAttr("perm", ints64(perm)...)}, x)
}

// Reshape gives x a new shape; one dim may be -1, 0 copies the input dim.
func Reshape(x *Tensor, shape ...int) *Tensor {
	return op1("Reshape", nil, x, Int64s(x, ints64(shape)...))
}

// Flatten reshapes to 2-D, splitting at axis.
func Flatten(x *Tensor, axis int) *Tensor {
	return op1("Flatten", ir.Attrs{ir.IntAttr("axis", int64(axis))}, x)
}

// Expand broadcasts x to shape.
func Expand(x *Tensor, shape ...int) *Tensor {
	return op1("Expand", nil, x, Int64s(x, ints64(shape)...))
}

// Unsqueeze inserts size-1 axes.
func Unsqueeze(x *Tensor, axes ...int) *Tensor {
	return op1("Unsqueeze", nil, x, Int64s(x, ints64(axes)...))
}

// Squeeze removes size-1 axes (all of them when none are given).
func Squeeze(x *Tensor, axes ...int) *Tensor {
	if len(axes) == 0 {
		return op1("Squeeze", nil, x)
	}
	return op1("Squeeze", nil, x, Int64s(x, ints64(axes)...))
}

// Concat joins tensors along axis.
func Concat(axis int, xs ...*Tensor) *Tensor {
	return op1("Concat", ir.Attrs{ir.IntAttr("axis", int64(axis))}, xs...)
}

// Slice takes [start, end) along each of axes.
func Slice(x *Tensor, starts, ends, axes []int) *Tensor {
	return op1("Slice", nil, x, Int64s(x, ints64(starts)...), Int64s(x, ints64(ends)...), Int64s(x, ints64(axes)...))
}

// Gather takes entries of x along axis at indices.
func Gather(x, indices *Tensor, axis int) *Tensor {
	return op1("Gather", ir.Attrs{ir.IntAttr("axis", int64(axis))}, x, indices)
}

// ReduceSum sums over axes (all when axes is empty).
func ReduceSum(x *Tensor, axes []int64, keepdims bool) *Tensor {
	return reduce("ReduceSum", x, axes, keepdims)
}

// ReduceMean averages over axes (all when axes is empty).
func ReduceMean(x *Tensor, axes []int64, keepdims bool) *Tensor {
	return reduce("ReduceMean", x, axes, keepdims)
}

// ReduceMax takes the maximum over axes (all when axes is empty).
func ReduceMax(x *Tensor, axes []int64, keepdims bool) *Tensor {
	return reduce("ReduceMax", x, axes, keepdims)
}

func reduce(op string, x *Tensor, axes []int64, keepdims bool) *Tensor {
	attrs := ir.Attrs{ir.IntAttr("keepdims", b2i(keepdims))}
	if len(axes) == 0 {
		return op1(op, attrs, x)
	}
	return op1(op, attrs, x, Int64s(x, axes...))
}

// Sum adds every element to a scalar.
func Sum(x *Tensor) *Tensor { return ReduceSum(x, nil, false) }

// Mean averages every element to a scalar.
func Mean(x *Tensor) *Tensor { return ReduceMean(x, nil, false) }

// Softmax along axis.
func Softmax(x *Tensor, axis int) *Tensor {
	return op1("Softmax", ir.Attrs{ir.IntAttr("axis", int64(axis))}, x)
}

// LogSoftmax along axis.
func LogSoftmax(x *Tensor, axis int) *Tensor {
	return op1("LogSoftmax", ir.Attrs{ir.IntAttr("axis", int64(axis))}, x)
}

// ArgMax along axis.
func ArgMax(x *Tensor, axis int, keepdims bool) *Tensor {
	return op1("ArgMax", ir.Attrs{ir.IntAttr("axis", int64(axis)), ir.IntAttr("keepdims", b2i(keepdims))}, x)
}

// Shape returns the shape of x as an int64 tensor.
func ShapeOf(x *Tensor) *Tensor { return op1("Shape", nil, x) }

// ZerosLike is a tensor of zeros with x's dtype, shape and backend.
func ZerosLike(x *Tensor) *Tensor { return Full(x, x.DType(), 0, x.Shape()...) }

// OnesLike is a tensor of ones with x's dtype, shape and backend.
func OnesLike(x *Tensor) *Tensor { return Full(x, x.DType(), 1, x.Shape()...) }

// Full is a tensor of shape filled with v, on like's backend.
func Full(like *Tensor, dt ir.DType, v float64, shape ...int) *Tensor {
	h, err := ir.NewTensor(dt, shape...)
	if err != nil {
		panic(&OpError{Err: err})
	}
	fill(h, v)
	t, err := FromHost(like.dev, h)
	if err != nil {
		panic(&OpError{Err: err})
	}
	return t
}

// ScalarLike is a rank-0 tensor of v with like's dtype and backend.
func ScalarLike(like *Tensor, v float64) *Tensor { return Full(like, like.DType(), v) }

// Int64s makes a 1-D int64 tensor on like's backend (for shapes and axes).
func Int64s(like *Tensor, v ...int64) *Tensor {
	t, err := FromHost(like.dev, ir.FromSlice(append([]int64(nil), v...), len(v)))
	if err != nil {
		panic(&OpError{Err: err})
	}
	return t
}

func ints64(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// fill sets every element of a numeric host tensor to v.
func fill(t *ir.Tensor, v float64) {
	switch d := t.Data.(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	case []float64:
		for i := range d {
			d[i] = v
		}
	case []int64:
		for i := range d {
			d[i] = int64(v)
		}
	case []int32:
		for i := range d {
			d[i] = int32(v)
		}
	case []uint16:
		b := ir.Float32ToSmallFloat(t.DType, float32(v), true)
		if !t.DType.IsSmallFloat() {
			b = uint16(v)
		}
		for i := range d {
			d[i] = b
		}
	case []bool:
		for i := range d {
			d[i] = v != 0
		}
	default:
		for i := 0; i < t.Len(); i++ {
			setFloat(t, i, v)
		}
	}
}

func setFloat(t *ir.Tensor, i int, v float64) {
	switch d := t.Data.(type) {
	case []int8:
		d[i] = int8(v)
	case []int16:
		d[i] = int16(v)
	case []uint8:
		if t.DType.IsSmallFloat() {
			d[i] = uint8(ir.Float32ToSmallFloat(t.DType, float32(v), true))
		} else {
			d[i] = uint8(v)
		}
	case []uint32:
		d[i] = uint32(v)
	case []uint64:
		d[i] = uint64(v)
	case []complex64:
		d[i] = complex(float32(v), 0)
	case []complex128:
		d[i] = complex(v, 0)
	}
}

// Recover runs fn and returns the error of an eager op that panicked in it
// (or any other panic, as an error). Entry points that run user code on the
// user's behalf use it to turn shape errors into error values.
func Recover(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	fn()
	return nil
}
