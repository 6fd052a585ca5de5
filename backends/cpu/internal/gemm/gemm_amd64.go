//go:build !purego

package gemm

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../gemm_amd64.s -stubs ../gemm_stub_amd64.go -pkg gemm"

// impls lists the implementations this CPU can run, best first.
var impls = amd64Impls()

// narrowImpl is the 8-row AVX-512 tile where the CPU has AVX-512 (see
// pick), else nil.
var narrowImpl *impl

func amd64Impls() []*impl {
	avx2Impl.indirect = &Indirect{MR: 6, NR: 16, name: "avx2-6x16", run: func(k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool) {
		kernel6x16AVX2I(k, &a[0], &b[0], &offs[0], &c[0], ldc, acc)
	}}
	avx512Impl.indirect = &Indirect{MR: 14, NR: 32, name: "avx512-14x32", run: func(k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool) {
		kernel14x32AVX512I(k, &a[0], &b[0], &offs[0], &c[0], ldc, acc)
	}}
	avx512x48Impl.indirect = &Indirect{MR: 8, NR: 48, name: "avx512-8x48", run: func(k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool) {
		kernel8x48AVX512I(k, &a[0], &b[0], &offs[0], &c[0], ldc, acc)
	}}
	var list []*impl
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3) {
		list = append(list, avx512Impl, avx512x48Impl)
		narrowImpl = avx512x48Impl
	}
	if cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3) {
		list = append(list, avx2Impl)
	}
	return append(list, genericImpl)
}

// avx2Impl: the 6x16 tile. A kc×16 B panel (24 KiB) stays in L1 while
// the mc×kc A block (216 KiB) streams from L2, and the kc×nc B slice
// (1.5 MiB) stays in L2 rather than L3 (nc = 4080 measured ~10% slower on
// 64x3136x576, kc = 256 ~3% slower on 1024³; Xeon, 48 KiB L1, 2 MiB L2).
var avx2Impl = &impl{name: "avx2", mr: 6, nr: 16, mc: 144, kc: 384, nc: 1024,
	kernel: kernelAVX2, kernelU: kernelAVX2U, kernelB: kernelAVX2B, kernelUB: kernelAVX2UB, packRuns: packRuns16, transpose8: transpose8, dot: dotAVX, axpy: axpyAVX}

// avx512Impl: the 14x32 tile. A kc×32 B panel (24 KiB) stays in L1 while
// the mc×kc A block (126 KiB) streams from L2 and the kc×nc B slice
// (768 KiB) stays in L2.
var avx512Impl = &impl{name: "avx512", mr: 14, nr: 32, mc: 168, kc: 192, nc: 1024,
	kernel: kernelAVX512, kernelU: kernelAVX512U, kernelB: kernelAVX512B, kernelUB: kernelAVX512UB, packRuns: packRuns32, transpose8: transpose8, dot: dotAVX, axpy: axpyAVX}

// avx512x48Impl: the 8x48 tile, for row counts that are multiples of 8
// but not of 14. A kc×48 B panel (36 KiB) stays in L1, the mc×kc A block
// (108 KiB) and the kc×nc B slice (756 KiB) in L2.
var avx512x48Impl = &impl{name: "avx512-8x48", mr: 8, nr: 48, mc: 144, kc: 192, nc: 1008,
	kernel: kernelAVX512x48, kernelU: kernelAVX512x48U, kernelB: kernelAVX512x48B, kernelUB: kernelAVX512x48UB, packRuns: packRuns48, transpose8: transpose8, dot: dotAVX, axpy: axpyAVX}

// The wrappers check the panels the assembly reads and writes.

func kernelAVX2(k int, a, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512(k int, a, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[14*k-1], b[32*k-1], c[13*ldc+31]
	kernel14x32AVX512(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelAVX2U(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[5*lda+k-1], b[16*k-1], c[5*ldc+15]
	kernel6x16AVX2U(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512U(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[13*lda+k-1], b[32*k-1], c[13*ldc+31]
	kernel14x32AVX512U(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512x48(k int, a, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[8*k-1], b[48*k-1], c[7*ldc+47]
	kernel8x48AVX512(k, &a[0], &b[0], &c[0], ldc, accumulate)
}

func kernelAVX512x48U(k int, a []float32, lda int, b, c []float32, ldc int, accumulate bool) {
	_, _, _ = a[7*lda+k-1], b[48*k-1], c[7*ldc+47]
	kernel8x48AVX512U(k, &a[0], lda, &b[0], &c[0], ldc, accumulate)
}

func kernelAVX2B(k int, a, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[6*k-1], b[16*k-1], bias[5], c[5*ldc+15]
	kernel6x16AVX2B(k, &a[0], &b[0], &bias[0], &c[0], ldc)
}

func kernelAVX2UB(k int, a []float32, lda int, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[5*lda+k-1], b[16*k-1], bias[5], c[5*ldc+15]
	kernel6x16AVX2UB(k, &a[0], lda, &b[0], &bias[0], &c[0], ldc)
}

func kernelAVX512B(k int, a, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[14*k-1], b[32*k-1], bias[13], c[13*ldc+31]
	kernel14x32AVX512B(k, &a[0], &b[0], &bias[0], &c[0], ldc)
}

func kernelAVX512UB(k int, a []float32, lda int, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[13*lda+k-1], b[32*k-1], bias[13], c[13*ldc+31]
	kernel14x32AVX512UB(k, &a[0], lda, &b[0], &bias[0], &c[0], ldc)
}

func kernelAVX512x48B(k int, a, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[8*k-1], b[48*k-1], bias[7], c[7*ldc+47]
	kernel8x48AVX512B(k, &a[0], &b[0], &bias[0], &c[0], ldc)
}

func kernelAVX512x48UB(k int, a []float32, lda int, b, bias, c []float32, ldc int) {
	_, _, _, _ = a[7*lda+k-1], b[48*k-1], bias[7], c[7*ldc+47]
	kernel8x48AVX512UB(k, &a[0], lda, &b[0], &bias[0], &c[0], ldc)
}

func packRuns48(dst, src []float32, kb, runs, ldb int) {
	_, _ = dst[(runs*kb)*48-1], src[(kb-1)*ldb+runs*48-1]
	packRuns48AVX(&dst[0], &src[0], kb, runs, ldb)
}

func packRuns16(dst, src []float32, kb, runs, ldb int) {
	_, _ = dst[(runs*kb)*16-1], src[(kb-1)*ldb+runs*16-1]
	packRuns16AVX(&dst[0], &src[0], kb, runs, ldb)
}

func packRuns32(dst, src []float32, kb, runs, ldb int) {
	_, _ = dst[(runs*kb)*32-1], src[(kb-1)*ldb+runs*32-1]
	packRuns32AVX(&dst[0], &src[0], kb, runs, ldb)
}

func transpose8(dst, src []float32, ld, blocks, w int, scale float32) {
	_, _ = dst[(8*blocks-1)*w+7], src[7*ld+8*blocks-1]
	transpose8AVX(&dst[0], &src[0], ld, blocks, w, scale)
}

func dotAVX(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	_ = y[len(x)-1]
	return dotAVX2(&x[0], &y[0], len(x))
}

func axpyAVX(alpha float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	_ = y[len(x)-1]
	axpyAVX2(alpha, &x[0], &y[0], len(x))
}
