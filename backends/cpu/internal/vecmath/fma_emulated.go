//go:build !(arm64 || loong64 || ppc64 || ppc64le || riscv64 || s390x)

package vecmath

import "math"

// fma32 is a·b + c rounded once, through float64: a·b is exact there, and
// rounding the float64 sum again to float32 differs from a single rounding
// in about one case in 2^29.
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}
