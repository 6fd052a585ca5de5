package ir

import (
	"math"
	"math/bits"
)

// The 8- and 4-bit float formats follow the ONNX definitions (docs/Operators.md,
// Cast; the "float8" and "float4" technical notes):
//
//	format     bias  max     NaN             Inf    -0
//	E4M3FN      7    448     S.1111.111      none   yes
//	E4M3FNUZ    8    240     1.0000.000      none   no
//	E5M2       15    57344   S.11111.{01,10,11}  S.11111.00  yes
//	E5M2FNUZ   16    57344   1.00000.00      none   no
//	E2M1        1    6       none            none   yes
//	E8M0      127    2^127   11111111        none   no sign bit; 2^(e-127)
//
// Float4E2M1 values sit in the low 4 bits of their byte.

// f8format describes one sign/exponent/mantissa format for the generic codec.
type f8format struct {
	man    uint  // mantissa bits
	bias   int   // exponent bias
	maxMag uint8 // code of the largest finite magnitude (sign bit clear)
	nan    uint8 // canonical positive NaN code (for FNUZ: the only NaN)
	inf    uint8 // code of +Inf; 0 when the format has none
	uz     bool  // no negative zero; 0x80 is the only NaN
	signAt uint  // bit index of the sign
}

var (
	fmtE4M3FN   = f8format{man: 3, bias: 7, maxMag: 0x7e, nan: 0x7f, signAt: 7}
	fmtE4M3FNUZ = f8format{man: 3, bias: 8, maxMag: 0x7f, nan: 0x80, uz: true, signAt: 7}
	fmtE5M2     = f8format{man: 2, bias: 15, maxMag: 0x7b, nan: 0x7e, inf: 0x7c, signAt: 7}
	fmtE5M2FNUZ = f8format{man: 2, bias: 16, maxMag: 0x7f, nan: 0x80, uz: true, signAt: 7}
	fmtE2M1     = f8format{man: 1, bias: 1, maxMag: 0x7, signAt: 3}
)

func formatOf(dt DType) *f8format {
	switch dt {
	case Float8E4M3FN:
		return &fmtE4M3FN
	case Float8E4M3FNUZ:
		return &fmtE4M3FNUZ
	case Float8E5M2:
		return &fmtE5M2
	case Float8E5M2FNUZ:
		return &fmtE5M2FNUZ
	case Float4E2M1:
		return &fmtE2M1
	}
	return nil
}

// decode8 holds the float32 value of every code of every 8-bit format,
// indexed by DType-Float8E4M3FN (E2M1 and E8M0 included).
var decode8 = func() (t [Float8E8M0 - Float8E4M3FN + 1][256]float32) {
	for dt := Float8E4M3FN; dt <= Float8E8M0; dt++ {
		for c := range 256 {
			t[dt-Float8E4M3FN][c] = decodeSlow(dt, uint8(c))
		}
	}
	return t
}()

// float8ToFloat32 decodes one 8-bit (or low-4-bit) float code exactly.
func float8ToFloat32(dt DType, b uint8) float32 {
	if dt < Float8E4M3FN || dt > Float8E8M0 || dt == Uint4 || dt == Int4 {
		return float32(math.NaN())
	}
	return decode8[dt-Float8E4M3FN][b]
}

func decodeSlow(dt DType, b uint8) float32 {
	if dt == Float8E8M0 {
		if b == 0xff {
			return float32(math.NaN())
		}
		return float32(math.Ldexp(1, int(b)-127))
	}
	f := formatOf(dt)
	if f == nil {
		return float32(math.NaN())
	}
	if f == &fmtE2M1 {
		b &= 0x0f
	}
	neg := b>>f.signAt&1 == 1
	mag := b &^ (1 << f.signAt)
	switch {
	case f.uz && b == 0x80:
		return float32(math.NaN())
	case f.inf != 0 && mag == f.inf:
		return float32(math.Copysign(math.Inf(1), sign(neg)))
	case f.nan != 0 && !f.uz && mag > f.maxMag:
		return float32(math.Copysign(math.NaN(), sign(neg)))
	}
	e := int(mag >> f.man)
	m := int(mag) & (1<<f.man - 1)
	var v float64
	if e == 0 {
		v = math.Ldexp(float64(m), 1-f.bias-int(f.man))
	} else {
		v = math.Ldexp(float64(m|1<<f.man), e-f.bias-int(f.man))
	}
	return float32(math.Copysign(v, sign(neg)))
}

func sign(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}

// float32ToFloat8 encodes f, rounding to nearest even, with the special
// values of ONNX Cast's tables. saturate (Cast's default) clamps values
// beyond the largest finite one, and infinities, to that value; without it
// they become Inf (E5M2) or NaN. Float4E2M1 always saturates (it has neither
// Inf nor NaN). Float8E8M0 rounds up (Cast's default round_mode).
func float32ToFloat8(dt DType, f float32, saturate bool) uint8 {
	if dt == Float8E8M0 {
		return Float32ToFloat8E8M0(f, saturate, E8M0Up)
	}
	ft := formatOf(dt)
	if ft == nil {
		return 0
	}
	b := math.Float32bits(f)
	neg := b>>31 == 1
	var sgn uint8
	if neg {
		sgn = 1 << ft.signAt
	}
	abs := b &^ (1 << 31)
	switch {
	case abs > 0x7f800000: // NaN
		switch {
		case ft.uz:
			return 0x80
		case ft.nan == 0:
			// E2M1 has no NaN: ONNX's float4 note says 6, but the backend
			// tests (ml_dtypes) expect -0; we follow the tests.
			return 1 << ft.signAt
		}
		return ft.nan | sgn
	case abs == 0x7f800000: // Inf
		if saturate || ft.nan == 0 {
			return ft.maxMag | sgn
		}
		return overflow(ft, sgn)
	}
	mag := roundMag(ft, abs)
	if mag > uint32(ft.maxMag) {
		if saturate || ft.nan == 0 {
			return ft.maxMag | sgn
		}
		return overflow(ft, sgn)
	}
	if mag == 0 && ft.uz {
		return 0
	}
	return uint8(mag) | sgn
}

// overflow is the code of an out-of-range value without saturation.
func overflow(ft *f8format, sgn uint8) uint8 {
	switch {
	case ft.uz:
		return 0x80
	case ft.inf != 0:
		return ft.inf | sgn
	}
	return ft.nan | sgn
}

// roundMag rounds the finite float32 magnitude with bits abs to the nearest
// (ties to even) code of ft, without the sign. Results above ft.maxMag mean
// overflow; codes are monotonic in magnitude, so a carry out of the mantissa
// moves to the next exponent on its own.
func roundMag(ft *f8format, abs uint32) uint32 {
	e32 := int(abs >> 23)
	if e32 == 0 {
		return 0 // float32 subnormals are far below every format's smallest value
	}
	m := abs&0x7fffff | 1<<23 // 24-bit significand, value m * 2^(e32-150)
	e := e32 - 127 + ft.bias  // target biased exponent
	shift := 23 - int(ft.man)
	base := uint32(0)
	if e >= 1 {
		if e > 64 {
			return math.MaxUint32 // far beyond any maximum
		}
		base = uint32(e-1) << ft.man // the implicit bit adds the last 1 << man
	} else {
		shift += 1 - e // subnormal: the target exponent is fixed at 1-bias
		if shift > 25 {
			return 0
		}
	}
	q := m >> shift
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || rem == half && q&1 == 1 {
		q++
	}
	return base + q
}

// E8M0Rounding is Cast's round_mode for conversion to Float8E8M0.
type E8M0Rounding int

const (
	E8M0Up      E8M0Rounding = iota // to the next power of two (Cast's default)
	E8M0Down                        // to the previous power of two
	E8M0Nearest                     // to the nearer power of two; ties (1.5*2^k) up
)

// Float32ToFloat8E8M0 encodes |f| as the power of two 2^(code-127).
// NaN gives the NaN code 0xff. Results beyond 2^127 (and Inf) give 0xfe with
// saturate, else NaN; results below 2^-127 (and 0) give 0 with saturate,
// else NaN. The sign is ignored (ONNX leaves negative inputs unspecified).
func Float32ToFloat8E8M0(f float32, saturate bool, mode E8M0Rounding) uint8 {
	abs := math.Float32bits(f) &^ (1 << 31)
	switch {
	case abs > 0x7f800000:
		return 0xff
	case abs == 0x7f800000:
		if saturate {
			return 0xfe
		}
		return 0xff
	case abs == 0:
		if saturate {
			return 0
		}
		return 0xff
	}
	// Normalize to 1.frac * 2^exp with frac left-aligned in 23 bits.
	exp := int(abs>>23) - 127
	frac := abs & 0x7fffff
	if abs>>23 == 0 {
		lz := bits.LeadingZeros32(frac) - 9 // zeros after the 23-bit field's top
		exp = -127 - lz
		frac = frac << (lz + 1) & 0x7fffff
	}
	switch mode {
	case E8M0Up:
		if frac != 0 {
			exp++
		}
	case E8M0Nearest:
		if frac >= 1<<22 {
			exp++
		}
	}
	code := exp + 127
	switch {
	case code > 0xfe:
		if saturate {
			return 0xfe
		}
		return 0xff
	case code < 0:
		if saturate {
			return 0
		}
		return 0xff
	}
	return uint8(code)
}
