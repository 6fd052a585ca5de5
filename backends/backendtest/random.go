package backendtest

import (
	"math"
	"math/rand/v2"

	"github.com/keenml/keen/ir"
)

// newRand is the kit's seeded generator: every run sees the same inputs.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6b65656e)) }

// uniform is a float32 tensor of values in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64, shape ...int) *ir.Tensor {
	v := make([]float32, ir.Size(shape))
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return ir.FromSlice(v, shape...)
}

// normal is a float32 tensor of standard normal values.
func normal(r *rand.Rand, shape ...int) *ir.Tensor { return uniformLike(r, shape, r.NormFloat64) }

func uniformLike(r *rand.Rand, shape []int, f func() float64) *ir.Tensor {
	v := make([]float32, ir.Size(shape))
	for i := range v {
		v[i] = float32(f())
	}
	return ir.FromSlice(v, shape...)
}

// awayFromZero is a float32 tensor of values in ±[0.5, 2), for divisors.
func awayFromZero(r *rand.Rand, shape ...int) *ir.Tensor {
	t := uniform(r, 0.5, 2, shape...)
	for i, v := range ir.Data[float32](t) {
		if r.IntN(2) == 0 {
			ir.Data[float32](t)[i] = -v
		}
	}
	return t
}

// ints is an integer tensor of dtype dt (int8..int64, uint8..uint64) with
// values in [lo, hi].
func ints(r *rand.Rand, dt ir.DType, lo, hi int64, shape ...int) *ir.Tensor {
	t := ir.Zeros(dt, shape...)
	for i := range ir.Size(shape) {
		t.SetInt64At(i, lo+r.Int64N(hi-lo+1))
	}
	return t
}

// bools is a bool tensor of fair coin flips.
func bools(r *rand.Rand, shape ...int) *ir.Tensor {
	v := make([]bool, ir.Size(shape))
	for i := range v {
		v[i] = r.IntN(2) == 1
	}
	return ir.FromSlice(v, shape...)
}

// i64 is a 1-D int64 tensor (shapes, axes, pads, indices).
func i64(v ...int64) *ir.Tensor { return ir.FromSlice(v, len(v)) }

// f32 is a float32 tensor of the given values.
func f32(v []float32, shape ...int) *ir.Tensor { return ir.FromSlice(v, shape...) }

// toF64 converts a float32 tensor to float64.
func toF64(t *ir.Tensor) *ir.Tensor {
	s := ir.Data[float32](t)
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = float64(x)
	}
	return ir.FromSlice(v, t.Shape...)
}

// toSmall converts a float32 tensor to float16 or bfloat16.
func toSmall(dt ir.DType, t *ir.Tensor) *ir.Tensor {
	s := ir.Data[float32](t)
	v := make([]uint16, len(s))
	for i, x := range s {
		v[i] = ir.Float32ToSmallFloat(dt, x, false)
	}
	return &ir.Tensor{DType: dt, Shape: append([]int{}, t.Shape...), Data: v}
}

// withSpecials overwrites a few elements of a float32 tensor with zeros,
// NaN and infinities (when the tensor is large enough).
func withSpecials(t *ir.Tensor) *ir.Tensor {
	s := ir.Data[float32](t)
	sp := []float32{0, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}
	for i := 0; i < len(sp) && 3*i < len(s); i++ {
		s[3*i] = sp[i]
	}
	return t
}

// randomTensor fills a tensor of any dtype with random values valid for it:
// raw bits for the small float formats, in-range values for int4/uint4 and
// int2/uint2, mixed text for strings.
func randomTensor(r *rand.Rand, dt ir.DType, shape ...int) *ir.Tensor {
	t := ir.Zeros(dt, shape...)
	n := ir.Size(shape)
	switch s := t.Data.(type) {
	case []float32:
		for i := range s {
			s[i] = float32(r.NormFloat64())
		}
	case []float64:
		for i := range s {
			s[i] = r.NormFloat64()
		}
	case []bool:
		for i := range s {
			s[i] = r.IntN(2) == 1
		}
	case []string:
		words := []string{"", "keen", "ünïcödé ✓", "a longer string with spaces", "\x00nul"}
		for i := range s {
			s[i] = words[r.IntN(len(words))]
		}
	case []complex64:
		for i := range s {
			s[i] = complex(float32(r.NormFloat64()), float32(r.NormFloat64()))
		}
	case []complex128:
		for i := range s {
			s[i] = complex(r.NormFloat64(), r.NormFloat64())
		}
	case []int64:
		for i := range s {
			s[i] = int64(r.Uint64())
		}
	case []uint64:
		for i := range s {
			s[i] = r.Uint64()
		}
	default:
		lo, hi := intRange(dt)
		for i := range n {
			t.SetInt64At(i, lo+int64(r.Uint64N(uint64(hi-lo)+1)))
		}
	}
	return t
}

// intRange is the range of stored values of a dtype held in a Go integer
// slice no wider than 32 bits.
func intRange(dt ir.DType) (lo, hi int64) {
	switch dt {
	case ir.Int4:
		return -8, 7
	case ir.Int2:
		return -2, 1
	case ir.Uint4, ir.Float4E2M1:
		return 0, 15
	case ir.Uint2:
		return 0, 3
	case ir.Int8:
		return math.MinInt8, math.MaxInt8
	case ir.Int16:
		return math.MinInt16, math.MaxInt16
	case ir.Int32:
		return math.MinInt32, math.MaxInt32
	case ir.Uint16, ir.Float16, ir.BFloat16:
		return 0, math.MaxUint16
	case ir.Uint32:
		return 0, math.MaxUint32
	}
	return 0, math.MaxUint8 // uint8 and the 8-bit float formats
}
