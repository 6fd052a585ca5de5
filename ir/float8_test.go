package ir

import (
	"math"
	"testing"
)

func TestFloat8Decode(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		dt   DType
		code uint8
		want float32
	}{
		{Float8E4M3FN, 0x00, 0},
		{Float8E4M3FN, 0x80, negZero},
		{Float8E4M3FN, 0x38, 1},
		{Float8E4M3FN, 0x7e, 448},
		{Float8E4M3FN, 0xfe, -448},
		{Float8E4M3FN, 0x7f, nan},
		{Float8E4M3FN, 0xff, nan},
		{Float8E4M3FN, 0x01, 1.0 / 512},    // smallest subnormal 2^-9
		{Float8E4M3FN, 0x07, 7.0 / 512},    // largest subnormal
		{Float8E4M3FN, 0x08, 1.0 / 64},     // smallest normal 2^-6
		{Float8E4M3FNUZ, 0x40, 1},          // bias 8
		{Float8E4M3FNUZ, 0x7f, 240},        // max
		{Float8E4M3FNUZ, 0xff, -240},       // min
		{Float8E4M3FNUZ, 0x80, nan},        // the only NaN, no -0
		{Float8E4M3FNUZ, 0x01, 1.0 / 1024}, // 2^-10
		{Float8E5M2, 0x3c, 1},
		{Float8E5M2, 0x7b, 57344},
		{Float8E5M2, 0x7c, inf},
		{Float8E5M2, 0xfc, -inf},
		{Float8E5M2, 0x7d, nan},
		{Float8E5M2, 0x7e, nan},
		{Float8E5M2, 0xff, nan},
		{Float8E5M2, 0x01, 1.0 / 65536}, // 2^-16
		{Float8E5M2, 0x80, negZero},
		{Float8E5M2FNUZ, 0x40, 1}, // bias 16
		{Float8E5M2FNUZ, 0x7f, 57344},
		{Float8E5M2FNUZ, 0xfc, -32768},
		{Float8E5M2FNUZ, 0x80, nan},
		{Float8E5M2FNUZ, 0x01, 1.0 / 131072}, // 2^-17
		{Float4E2M1, 0x0, 0},
		{Float4E2M1, 0x1, 0.5},
		{Float4E2M1, 0x2, 1},
		{Float4E2M1, 0x3, 1.5},
		{Float4E2M1, 0x4, 2},
		{Float4E2M1, 0x5, 3},
		{Float4E2M1, 0x6, 4},
		{Float4E2M1, 0x7, 6},
		{Float4E2M1, 0x8, negZero},
		{Float4E2M1, 0xf, -6},
		{Float4E2M1, 0xa, -1},
		{Float4E2M1, 0xf2, 1}, // only the low 4 bits count
		{Float8E8M0, 127, 1},
		{Float8E8M0, 0, float32(math.Ldexp(1, -127))},
		{Float8E8M0, 0xfe, float32(math.Ldexp(1, 127))},
		{Float8E8M0, 0xff, nan},
		{Float8E8M0, 124, 0.125},
	}
	for _, c := range cases {
		got := float8ToFloat32(c.dt, c.code)
		if !sameFloat(got, c.want) {
			t.Errorf("%v code %#02x: got %v (%#08x), want %v", c.dt, c.code, got, math.Float32bits(got), c.want)
		}
	}
}

// sameFloat is equality with NaN == NaN and -0 != +0.
func sameFloat(a, b float32) bool {
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

func TestFloat8Encode(t *testing.T) {
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(0xffc00000)
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	cases := []struct {
		dt   DType
		f    float32
		sat  bool
		want uint8
	}{
		// E4M3FN: NaN keeps its sign; Inf saturates or becomes NaN.
		{Float8E4M3FN, 448, true, 0x7e},
		{Float8E4M3FN, 464, true, 0x7e},  // tie between 448 and 480: even
		{Float8E4M3FN, 465, false, 0x7f}, // rounds past max: NaN
		{Float8E4M3FN, 464, false, 0x7e},
		{Float8E4M3FN, 1e6, true, 0x7e},
		{Float8E4M3FN, -1e6, true, 0xfe},
		{Float8E4M3FN, 1e6, false, 0x7f},
		{Float8E4M3FN, -1e6, false, 0xff},
		{Float8E4M3FN, inf, true, 0x7e},
		{Float8E4M3FN, -inf, true, 0xfe},
		{Float8E4M3FN, inf, false, 0x7f},
		{Float8E4M3FN, -inf, false, 0xff},
		{Float8E4M3FN, nan, true, 0x7f},
		{Float8E4M3FN, negNaN, false, 0xff},
		{Float8E4M3FN, negZero, true, 0x80},
		{Float8E4M3FN, -1e-7, true, 0x80},
		{Float8E4M3FN, 1.0 / 1024, true, 0x00},  // half the smallest subnormal: tie to 0
		{Float8E4M3FN, 1.01 / 1024, true, 0x01}, // just above the tie
		{Float8E4M3FN, 3.0 / 1024, true, 0x02},  // 1.5 units: tie to even 2
		{Float8E4M3FN, 0.47892547, true, 0x2f},  // from the ONNX Cast test
		{Float8E4M3FN, 0.81910545, true, 0x35},  // from the ONNX Cast test
		{Float8E4M3FN, 15.5 / 1024, true, 0x08}, // subnormal rounding carries into the first normal
		{Float8E4M3FN, 1 + 1.0/16, true, 0x38},  // tie to even mantissa 0
		{Float8E4M3FN, 1 + 3.0/16, true, 0x3a},  // tie to even mantissa 2
		// E4M3FNUZ: no -0, one NaN, Inf saturates per Operators.md.
		{Float8E4M3FNUZ, 240, true, 0x7f},
		{Float8E4M3FNUZ, 248, true, 0x7f},
		{Float8E4M3FNUZ, 249, false, 0x80},
		{Float8E4M3FNUZ, inf, true, 0x7f},
		{Float8E4M3FNUZ, -inf, true, 0xff},
		{Float8E4M3FNUZ, -inf, false, 0x80},
		{Float8E4M3FNUZ, negZero, true, 0x00},
		{Float8E4M3FNUZ, -1e-7, false, 0x00},
		{Float8E4M3FNUZ, negNaN, true, 0x80},
		{Float8E4M3FNUZ, 1, true, 0x40},
		// E5M2: Inf exists.
		{Float8E5M2, 57344, true, 0x7b},
		{Float8E5M2, 61440, true, 0x7b}, // tie between 57344 and 65536: even
		{Float8E5M2, 61441, false, 0x7c},
		{Float8E5M2, -1e6, false, 0xfc},
		{Float8E5M2, 1e6, true, 0x7b},
		{Float8E5M2, inf, false, 0x7c},
		{Float8E5M2, -inf, true, 0xfb},
		{Float8E5M2, nan, true, 0x7e},
		{Float8E5M2, negNaN, false, 0xfe},
		{Float8E5M2, 1.0 / 65536, true, 0x01},
		{Float8E5M2, negZero, false, 0x80},
		// E5M2FNUZ
		{Float8E5M2FNUZ, 57344, true, 0x7f},
		{Float8E5M2FNUZ, 1e6, false, 0x80},
		{Float8E5M2FNUZ, -1e6, true, 0xff},
		{Float8E5M2FNUZ, inf, true, 0x7f},
		{Float8E5M2FNUZ, 1.0 / 131072, true, 0x01},
		{Float8E5M2FNUZ, 1, true, 0x40},
		// E2M1: always saturates; the ONNX backend tests' values.
		{Float4E2M1, 0.48, true, 0x1},
		{Float4E2M1, 0.25, true, 0x0}, // tie between 0 and 0.5
		{Float4E2M1, 1.05, true, 0x2},
		{Float4E2M1, -3.5, true, 0xe}, // tie between 3 and 4: even (4)
		{Float4E2M1, -8, true, 0xf},
		{Float4E2M1, 9, false, 0x7},
		{Float4E2M1, 5, true, 0x6}, // tie between 4 and 6: even (4)
		{Float4E2M1, inf, false, 0x7},
		{Float4E2M1, -inf, true, 0xf},
		{Float4E2M1, nan, true, 0x8},
		{Float4E2M1, negZero, true, 0x8},
		{Float4E2M1, 0.01, true, 0x0},
		// E8M0: round up by default.
		{Float8E8M0, 0, true, 0x00},
		{Float8E8M0, 0.124, true, 0x7c},
		{Float8E8M0, 0.25, true, 0x7d},
		{Float8E8M0, 1.1, true, 0x80},
		{Float8E8M0, 8, true, 0x82},
		{Float8E8M0, inf, true, 0xfe},
		{Float8E8M0, inf, false, 0xff},
		{Float8E8M0, nan, true, 0xff},
		{Float8E8M0, 3e38, true, 0xfe}, // rounds up past 2^127
		{Float8E8M0, 3e38, false, 0xff},
		{Float8E8M0, 1e-45, true, 0x00}, // smallest float32 subnormal rounds up to 2^-127
	}
	for _, c := range cases {
		got := float32ToFloat8(c.dt, c.f, c.sat)
		if got != c.want {
			t.Errorf("%v(%v, saturate=%v) = %#02x, want %#02x", c.dt, c.f, c.sat, got, c.want)
		}
	}
}

func TestFloat8E8M0Modes(t *testing.T) {
	cases := []struct {
		f    float32
		sat  bool
		mode E8M0Rounding
		want uint8
	}{
		{3, true, E8M0Up, 129},
		{3, true, E8M0Down, 128},
		{3, true, E8M0Nearest, 129},   // 1.5*2: ties up
		{2.9, true, E8M0Nearest, 128}, // below the midpoint
		{-4, true, E8M0Down, 129},     // sign ignored
		{0, false, E8M0Nearest, 0xff},
		{float32(math.Ldexp(1, -127)), false, E8M0Down, 0},
		{float32(math.Ldexp(1, -128)), false, E8M0Down, 0xff},
		{float32(math.Ldexp(1, -128)), true, E8M0Down, 0},
		{float32(math.Ldexp(1.5, -128)), true, E8M0Nearest, 0},
		{float32(math.Ldexp(1.25, -128)), false, E8M0Nearest, 0xff},
		{float32(math.Ldexp(1.25, -128)), false, E8M0Up, 0},
		{float32(math.Ldexp(1.75, 127)), true, E8M0Nearest, 0xfe},
		{float32(math.Ldexp(1.75, 127)), false, E8M0Nearest, 0xff},
		{float32(math.Ldexp(1.25, 127)), false, E8M0Nearest, 0xfe},
	}
	for _, c := range cases {
		if got := Float32ToFloat8E8M0(c.f, c.sat, c.mode); got != c.want {
			t.Errorf("E8M0(%v, sat=%v, mode=%d) = %#02x, want %#02x", c.f, c.sat, c.mode, got, c.want)
		}
	}
}

// TestFloat8RoundTrip decodes every code and encodes it again: each code
// comes back, except that NaNs take their format's canonical code and, with
// saturation, E5M2's infinities become ±57344.
func TestFloat8RoundTrip(t *testing.T) {
	for _, dt := range []DType{Float8E4M3FN, Float8E4M3FNUZ, Float8E5M2, Float8E5M2FNUZ, Float4E2M1, Float8E8M0} {
		n := 256
		if dt == Float4E2M1 {
			n = 16
		}
		for c := range n {
			code := uint8(c)
			f := float8ToFloat32(dt, code)
			for _, sat := range []bool{false, true} {
				want := code
				switch {
				case f != f:
					want = canonicalNaN(dt, code)
				case sat && dt == Float8E5M2 && math.IsInf(float64(f), 0):
					want = code - 1
				}
				if got := float32ToFloat8(dt, f, sat); got != want {
					t.Errorf("%v code %#02x -> %v -> %#02x (saturate=%v), want %#02x", dt, code, f, got, sat, want)
				}
			}
		}
	}
}

func canonicalNaN(dt DType, code uint8) uint8 {
	switch dt {
	case Float8E4M3FN:
		return code | 0x7f
	case Float8E5M2:
		return code&0x80 | 0x7e
	case Float8E8M0:
		return 0xff
	}
	return 0x80
}

func TestSmallFloatDispatch(t *testing.T) {
	if got := SmallFloatToFloat32(Float8E4M3FN, 0x7e); got != 448 {
		t.Errorf("SmallFloatToFloat32(e4m3fn, 0x7e) = %v, want 448", got)
	}
	if got := Float32ToSmallFloat(Float8E5M2, 1e6, true); got != 0x7b {
		t.Errorf("Float32ToSmallFloat(e5m2, 1e6) = %#x, want 0x7b", got)
	}
	if got := float8ToFloat32(Int4, 1); got == got {
		t.Errorf("float8ToFloat32(int4) = %v, want NaN", got)
	}
}
