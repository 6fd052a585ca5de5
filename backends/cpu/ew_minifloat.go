package cpu

import (
	"math"

	"github.com/keenml/keen/ir"
)

// Encoders of the float formats narrower than 32 bits from float64, so that
// Cast from float64 (or int64) rounds once; ir's codecs encode from float32
// and decode. The tests check both agree on float32 inputs.

// ewMiniFmt describes a sign/exponent/mantissa format.
type ewMiniFmt struct {
	exp, man uint    // field widths in bits
	bias     int     // exponent bias
	ieee     bool    // all-ones exponent is Inf (mantissa 0) or NaN
	fn       bool    // only all-ones exponent and mantissa is NaN (E4M3FN)
	uz       bool    // the negative-zero code is the only NaN (FNUZ)
	max      float64 // largest finite value
	maxCode  uint16  // its code
}

var ewFormats = map[ir.DType]*ewMiniFmt{
	ir.Float16:        {exp: 5, man: 10, bias: 15, ieee: true, max: 65504},
	ir.BFloat16:       {exp: 8, man: 7, bias: 127, ieee: true, max: (2 - 1.0/128) * math.Exp2(127)},
	ir.Float8E4M3FN:   {exp: 4, man: 3, bias: 7, fn: true, max: 448},
	ir.Float8E4M3FNUZ: {exp: 4, man: 3, bias: 8, uz: true, max: 240},
	ir.Float8E5M2:     {exp: 5, man: 2, bias: 15, ieee: true, max: 57344},
	ir.Float8E5M2FNUZ: {exp: 5, man: 2, bias: 16, uz: true, max: 57344},
	ir.Float4E2M1:     {exp: 2, man: 1, bias: 1, max: 6},
}

func init() {
	for _, f := range ewFormats {
		f.maxCode = f.encode(f.max, false)
	}
}

func (f *ewMiniFmt) signBit() uint16 { return 1 << (f.exp + f.man) }

// encode rounds x to nearest even. Values beyond the largest finite value
// (after rounding) become it with sat (or for formats without Inf or NaN),
// else Inf where the format has one, else NaN.
func (f *ewMiniFmt) encode(x float64, sat bool) uint16 {
	sb := f.signBit()
	var s uint16
	if math.Signbit(x) {
		s = sb
	}
	noSpecial := !f.ieee && !f.fn && !f.uz
	switch {
	case math.IsNaN(x):
		switch {
		case f.ieee:
			return s | (1<<f.exp-1)<<f.man | 1<<(f.man-1)
		case f.fn:
			return s | (sb - 1)
		}
		return sb // FNUZ NaN; float4 (no NaN) gives -0 like the reference
	case math.IsInf(x, 0):
		return s | f.overflow(sat || noSpecial)
	}
	a := math.Abs(x)
	emin := 1 - f.bias
	_, e2 := math.Frexp(a)
	ue := max(e2-1, emin)
	q := ue - int(f.man)
	n := math.RoundToEven(math.Ldexp(a, -q))
	if math.Ldexp(n, q) > f.max {
		return s | f.overflow(sat || noSpecial)
	}
	if n == 0 {
		if f.uz {
			return 0
		}
		return s
	}
	ni := uint16(n)
	if ni >= 1<<(f.man+1) {
		ni >>= 1
		ue++
	}
	if ni < 1<<f.man {
		return s | ni
	}
	return s | uint16(ue+f.bias)<<f.man | (ni - 1<<f.man)
}

// overflow is the unsigned code of an out-of-range value.
func (f *ewMiniFmt) overflow(sat bool) uint16 {
	switch {
	case sat:
		return f.maxCode
	case f.ieee:
		return (1<<f.exp - 1) << f.man
	case f.fn:
		return f.signBit() - 1
	}
	return f.signBit() // FNUZ NaN (its sign bit is the NaN)
}

// ewE8M0Encode converts x to float8e8m0 (a power of two, 2^(code-127)) with
// round_mode up, down or nearest (ties up).
func ewE8M0Encode(x float64, sat bool, mode string) uint8 {
	a := math.Abs(x)
	switch {
	case math.IsNaN(x):
		return 0xFF
	case math.IsInf(x, 0):
		if sat {
			return 0xFE
		}
		return 0xFF
	case a == 0:
		if sat {
			return 0
		}
		return 0xFF
	}
	fr, e2 := math.Frexp(a)
	m, e := 2*fr, e2-1
	switch mode {
	case "up":
		if m > 1 {
			e++
		}
	case "nearest":
		if m >= 1.5 {
			e++
		}
	}
	code := e + 127
	switch {
	case code > 254:
		if sat {
			return 0xFE
		}
		return 0xFF
	case code < 0:
		if sat {
			return 0
		}
		return 0xFF
	}
	return uint8(code)
}

// ewDecodeSmall decodes a narrow float tensor's data to float32.
func ewDecodeSmall(t *ir.Tensor) []float32 {
	out := make([]float32, t.Len())
	switch d := t.Data.(type) {
	case []uint16:
		for i, v := range d {
			out[i] = ir.SmallFloatToFloat32(t.DType, v)
		}
	case []uint8:
		for i, v := range d {
			out[i] = ir.SmallFloatToFloat32(t.DType, uint16(v))
		}
	}
	return out
}

// ewEncodeSmall encodes float64 values as the narrow float dt.
func ewEncodeSmall(src []float64, dt ir.DType, sat bool, round string) any {
	if dt == ir.Float8E8M0 {
		out := make([]uint8, len(src))
		for i, v := range src {
			out[i] = ewE8M0Encode(v, sat, round)
		}
		return out
	}
	f := ewFormats[dt]
	if dt == ir.Float16 || dt == ir.BFloat16 {
		out := make([]uint16, len(src))
		for i, v := range src {
			out[i] = f.encode(v, false)
		}
		return out
	}
	out := make([]uint8, len(src))
	for i, v := range src {
		out[i] = uint8(f.encode(v, sat))
	}
	return out
}

// ewE8M0Modes maps Cast's round_mode to ir's.
var ewE8M0Modes = map[string]ir.E8M0Rounding{"up": ir.E8M0Up, "down": ir.E8M0Down, "nearest": ir.E8M0Nearest}

// ewEncodeSmall32 encodes float32 values as the narrow float dt with ir's
// codecs (split over workers: Cast to float16 is common in mixed precision).
func ewEncodeSmall32(src []float32, dt ir.DType, sat bool, round string) any {
	if dt == ir.Float16 || dt == ir.BFloat16 {
		out := make([]uint16, len(src))
		parallelFor(len(src), 4, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = ir.Float32ToSmallFloat(dt, src[i], true)
			}
		})
		return out
	}
	out := make([]uint8, len(src))
	if dt == ir.Float8E8M0 {
		mode := ewE8M0Modes[round]
		for i, v := range src {
			out[i] = ir.Float32ToFloat8E8M0(v, sat, mode)
		}
		return out
	}
	for i, v := range src {
		out[i] = uint8(ir.Float32ToSmallFloat(dt, v, sat))
	}
	return out
}
