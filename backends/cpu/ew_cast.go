package cpu

import (
	"fmt"
	"strings"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Cast, CastLike and Identity. Conversions go through the plain Go numeric
// types: narrow floats are decoded to float32 first, and narrow targets are
// encoded from float64 (rounding once); bool is 0/1; strings parse and
// print as numbers.

func init() {
	reg("Cast", 1, prepCast)
	reg("CastLike", 15, prepCastLike)
	reg("Identity", 1, prepIdentity)
}

// ewTensorProtoNames maps Cast-1's string `to` to dtypes.
var ewTensorProtoNames = map[string]ir.DType{
	"FLOAT": ir.Float32, "UINT8": ir.Uint8, "INT8": ir.Int8, "UINT16": ir.Uint16,
	"INT16": ir.Int16, "INT32": ir.Int32, "INT64": ir.Int64, "STRING": ir.String,
	"BOOL": ir.Bool, "FLOAT16": ir.Float16, "DOUBLE": ir.Float64, "UINT32": ir.Uint32,
	"UINT64": ir.Uint64, "BFLOAT16": ir.BFloat16,
}

// ewCastTarget reads Cast's `to` attribute (an int, or a type name in Cast-1).
func ewCastTarget(op string, a ir.Attrs) (ir.DType, error) {
	at := a.Find("to")
	if at == nil {
		return 0, ewAttrErr(op, "attribute to is missing")
	}
	if at.Type == ir.AttrString {
		dt, ok := ewTensorProtoNames[strings.ToUpper(at.String)]
		if !ok {
			return 0, ewAttrErr(op, "to = %q is not a type name", at.String)
		}
		return dt, nil
	}
	dt := ir.DType(at.Int)
	if !dt.Valid() {
		return 0, ewAttrErr(op, "to = %d is not a dtype", at.Int)
	}
	return dt, nil
}

func prepCast(s *backends.OpSpec) (kernelFunc, error) {
	to, err := ewCastTarget("Cast", s.Attrs)
	if err != nil {
		return nil, err
	}
	return ewCastKernel(inputType(s.InputTypes, 0), to, s.Attrs)
}

func prepCastLike(s *backends.OpSpec) (kernelFunc, error) {
	to := inputType(s.InputTypes, 1)
	if !to.Valid() {
		return nil, fmt.Errorf("%w: CastLike target_type (input 1) is missing", errInput)
	}
	k, err := ewCastKernel(inputType(s.InputTypes, 0), to, s.Attrs)
	if err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		return k(in[:1])
	}, nil
}

func ewCastKernel(from, to ir.DType, a ir.Attrs) (kernelFunc, error) {
	if from.IsComplex() || to.IsComplex() {
		return nil, fmt.Errorf("%w: Cast from %v to %v (complex is not castable)", errDType, from, to)
	}
	sat := a.Int("saturate", 1) != 0
	round := a.Str("round_mode", "up")
	if round != "up" && round != "down" && round != "nearest" {
		return nil, ewAttrErr("Cast", "round_mode %q is not up, down or nearest", round)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		if x.DType == to {
			return one(in[0])
		}
		d, err := ewCastData(x, to, sat, round)
		if err != nil {
			return nil, err
		}
		return one(&ir.Tensor{DType: to, Shape: append([]int(nil), x.Shape...), Data: d})
	}, nil
}

func prepIdentity(*backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		return one(in[0])
	}, nil
}

// ewCastData converts t's elements to dtype to and returns the new Data.
func ewCastData(t *ir.Tensor, to ir.DType, sat bool, round string) (any, error) {
	from := t.DType
	if from == to {
		return ir.CloneSlice(t.Data), nil
	}
	src := t.Data
	switch {
	case from.IsComplex() || to.IsComplex():
		return nil, fmt.Errorf("%w: Cast from %v to %v", errDType, from, to)
	case from == ir.String:
		return ewCastStrings(t.Data.([]string), to, sat, round)
	case to == ir.String:
		return ewFormatStrings(t), nil
	case from.IsSmallFloat():
		src = ewDecodeSmall(t)
	case from == ir.Bool:
		b := t.Data.([]bool)
		u := make([]uint8, len(b))
		for i, v := range b {
			if v {
				u[i] = 1
			}
		}
		src = u
	}
	return ewCastNumeric(src, to, sat, round)
}

// ewCastNumeric converts a plain Go numeric slice to the storage of to.
func ewCastNumeric(src any, to ir.DType, sat bool, round string) (any, error) {
	switch to {
	case ir.Float32:
		return ewConvTo[float32](src), nil
	case ir.Float64:
		return ewConvTo[float64](src), nil
	case ir.Int8:
		return ewConvTo[int8](src), nil
	case ir.Int16:
		return ewConvTo[int16](src), nil
	case ir.Int32:
		return ewConvTo[int32](src), nil
	case ir.Int64:
		return ewConvTo[int64](src), nil
	case ir.Uint8:
		return ewConvTo[uint8](src), nil
	case ir.Uint16:
		return ewConvTo[uint16](src), nil
	case ir.Uint32:
		return ewConvTo[uint32](src), nil
	case ir.Uint64:
		return ewConvTo[uint64](src), nil
	case ir.Bool:
		f := ewConvTo[float64](src)
		out := make([]bool, len(f))
		for i, v := range f {
			out[i] = v != 0
		}
		return out, nil
	case ir.Int4, ir.Int2, ir.Uint4, ir.Uint2:
		return ewWrapSubByte(ewConvTo[int64](src), to), nil
	}
	if to.IsSmallFloat() {
		if f, ok := src.([]float32); ok {
			return ewEncodeSmall32(f, to, sat, round), nil
		}
		return ewEncodeSmall(ewConvTo[float64](src), to, sat, round), nil
	}
	return nil, fmt.Errorf("%w: Cast to %v", errDType, to)
}

// ewWrapSubByte keeps the low bits of each value (two's complement for the
// signed types), as ONNX casts integers to narrower integers.
func ewWrapSubByte(v []int64, to ir.DType) any {
	bits := uint(to.Bits())
	if to.IsSigned() {
		out := make([]int8, len(v))
		for i, x := range v {
			out[i] = int8(x << (64 - bits) >> (64 - bits))
		}
		return out
	}
	out := make([]uint8, len(v))
	for i, x := range v {
		out[i] = uint8(x) & (1<<bits - 1)
	}
	return out
}

// ewConvTo converts any plain Go numeric slice to []D with Go conversion
// semantics (integers wrap, floats truncate toward zero).
func ewConvTo[D ewNum](src any) []D {
	switch s := src.(type) {
	case []float32:
		return ewConv[float32, D](s)
	case []float64:
		return ewConv[float64, D](s)
	case []int8:
		return ewConv[int8, D](s)
	case []int16:
		return ewConv[int16, D](s)
	case []int32:
		return ewConv[int32, D](s)
	case []int64:
		return ewConv[int64, D](s)
	case []uint8:
		return ewConv[uint8, D](s)
	case []uint16:
		return ewConv[uint16, D](s)
	case []uint32:
		return ewConv[uint32, D](s)
	case []uint64:
		return ewConv[uint64, D](s)
	}
	return nil
}

// o (n) = D(s (n))
func ewConv[S, D ewNum](s []S) []D {
	out := make([]D, len(s))
	parallelFor(len(s), 1, func(lo, hi int) {
		o, x := out[lo:hi], s[lo:hi]
		for i, v := range x {
			o[i] = D(v)
		}
	})
	return out
}
