//go:build !purego

package vecmath

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../vecmath_amd64.s -stubs ../vecmath_stub_amd64.go -pkg vecmath"

// impls lists the implementations this CPU can run, best first.
var impls = amd64Impls()

func amd64Impls() []*impl {
	var list []*impl
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.BMI2) {
		return []*impl{genericImpl}
	}
	avx2 := &impl{name: "avx2",
		exp: unary(expAVX2), log: unary(logAVX2), tanh: unary(tanhAVX2),
		sigmoid: unary(sigmoidAVX2), silu: unary(siluAVX2), erf: unary(erfAVX2),
		gelu: unary(geluAVX2), relu: unary(reluAVX2), expShiftSum: expShiftSum(expShiftSumAVX2),
		add: binary(addAVX2), sub: binary(subAVX2), mul: binary(mulAVX2), div: binary(divAVX2),
		addScalar: scalar(addScalarAVX2), mulScalar: scalar(mulScalarAVX2),
		clamp: clampAsm, addClamp: addClampAsm, leakyRelu: leakyReluAsm,
		axpy: axpyAsm, max3: max3Asm, dot: dotAsm, sum: sumAsm, sum64: sum64Asm, max: maxAsm,
	}
	if cpuid.CPU.Supports(cpuid.AVX512F) {
		// The transcendentals are bound by arithmetic, so the wider
		// vectors pay; the rest is bound by memory and stays AVX2.
		avx512 := *avx2
		avx512.name = "avx512"
		avx512.exp, avx512.log, avx512.tanh = unary(expAVX512), unary(logAVX512), unary(tanhAVX512)
		avx512.sigmoid, avx512.silu = unary(sigmoidAVX512), unary(siluAVX512)
		avx512.erf, avx512.gelu = unary(erfAVX512), unary(geluAVX512)
		avx512.expShiftSum = expShiftSum(expShiftSumAVX512)
		list = append(list, &avx512)
	}
	return append(list, avx2, genericImpl)
}

// The wrappers pass slice bases to the assembly, which takes any n ≥ 0
// (a masked tail handles the last partial vector); the exported functions
// have already cut the slices to one length.

func unary(k func(dst, x *float32, n int)) func(dst, x []float32) {
	return func(dst, x []float32) {
		if len(x) > 0 {
			k(&dst[0], &x[0], len(x))
		}
	}
}

func binary(k func(dst, a, b *float32, n int)) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		if len(dst) > 0 {
			k(&dst[0], &a[0], &b[0], len(dst))
		}
	}
}

func scalar(k func(dst, x *float32, s float32, n int)) func(dst, x []float32, s float32) {
	return func(dst, x []float32, s float32) {
		if len(x) > 0 {
			k(&dst[0], &x[0], s, len(x))
		}
	}
}

func expShiftSum(k func(dst, x *float32, shift float32, n int) float32) func(dst, x []float32, shift float32) float32 {
	return func(dst, x []float32, shift float32) float32 {
		if len(x) == 0 {
			return 0
		}
		return k(&dst[0], &x[0], shift, len(x))
	}
}

func clampAsm(dst, x []float32, lo, hi float32) {
	if len(x) > 0 {
		clampAVX2(&dst[0], &x[0], lo, hi, len(x))
	}
}

func leakyReluAsm(dst, x []float32, alpha float32) {
	if len(x) > 0 {
		leakyReluAVX2(&dst[0], &x[0], alpha, len(x))
	}
}

func addClampAsm(dst, a, b []float32, lo, hi float32) {
	if len(dst) > 0 {
		addClampAVX2(&dst[0], &a[0], &b[0], lo, hi, len(dst))
	}
}

func axpyAsm(alpha float32, x, y []float32) {
	if len(y) > 0 {
		axpyAVX2(alpha, &x[0], &y[0], len(y))
	}
}

func max3Asm(dst, a, b, c []float32) {
	if len(dst) > 0 {
		max3AVX2(&dst[0], &a[0], &b[0], &c[0], len(dst))
	}
}

func dotAsm(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return dotAVX2(&x[0], &y[0], len(x))
}

func sumAsm(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return sumAVX2(&x[0], len(x))
}

func sum64Asm(x []float32) float64 {
	if len(x) == 0 {
		return 0
	}
	return sum64AVX2(&x[0], len(x))
}

func maxAsm(x []float32) float32 { return maxAVX2(&x[0], len(x)) }
