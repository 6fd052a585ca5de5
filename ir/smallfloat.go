package ir

import "math"

// SmallFloatToFloat32 decodes the raw bits of one element of a float type
// narrower than 32 bits.
func SmallFloatToFloat32(dt DType, bits uint16) float32 {
	switch dt {
	case Float16:
		return Float16ToFloat32(bits)
	case BFloat16:
		return math.Float32frombits(uint32(bits) << 16)
	}
	return float8ToFloat32(dt, uint8(bits))
}

// Float32ToSmallFloat encodes f as a float type narrower than 32 bits, rounding
// to nearest even. With saturate, values beyond the largest finite value of an
// 8-bit format become that value (ONNX Cast's default) instead of Inf/NaN.
func Float32ToSmallFloat(dt DType, f float32, saturate bool) uint16 {
	switch dt {
	case Float16:
		return Float32ToFloat16(f)
	case BFloat16:
		return Float32ToBFloat16(f)
	}
	return uint16(float32ToFloat8(dt, f, saturate))
}

// Float16ToFloat32 decodes IEEE 754 half-precision bits.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0:
		if man == 0 {
			return math.Float32frombits(sign)
		}
		f := float32(man) / (1 << 24)
		if sign != 0 {
			return -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// Float32ToFloat16 encodes f as IEEE 754 half precision, rounding to nearest even.
func Float32ToFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	man := b & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := man >> shift
		rem := man & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// Float32ToBFloat16 encodes f as bfloat16, rounding to nearest even.
func Float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
