package cpu

import (
	"math/bits"
	"sync"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
)

// convSgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices,
// op(X) = X or X^T. op(A) is m×k, op(B) is k×n, C is m×n with row stride ldc.
// With beta == 0, C is overwritten (its old contents, NaN included, ignored).
// All float32 matrix products of the CPU backend go through here, to the
// packed SIMD GEMM of internal/gemm (threads from SetThreads); the pure-Go
// blocked product it replaced is the reference twin in the tests.
func convSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if k <= 0 || alpha == 0 {
		convScaleC(m, n, beta, c, ldc)
		return
	}
	gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// convSgemmBatch sets C_i = A_i·B_i for i < nb: A_i (m×k) starts at
// a[i*strideA], B_i (k×n) at b[i*strideB], C_i (m×n) at c[i*m*n]; a stride
// of 0 shares one matrix. Small products are dealt out over the threads.
func convSgemmBatch(m, n, k int, a []float32, strideA int, b []float32, strideB int, c []float32, nb int) {
	if m <= 0 || n <= 0 || nb <= 0 {
		return
	}
	if k <= 0 {
		clear(c[:nb*m*n])
		return
	}
	gemm.SgemmStrided(false, false, m, n, k, 1, a, k, strideA, b, n, strideB, 0, c, n, m*n, nb)
}

// convScaleC sets C = beta*C (C = 0 when beta is 0, without reading C).
func convScaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// convNum lists the element types of the non-float32 matrix products.
type convNum interface {
	~float32 | ~float64 | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// convGemmT is the plain reference product for every other element type:
// C = op(A)*op(B) (+ C when acc), same layout conventions as convSgemm.
func convGemmT[T convNum](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, acc bool, c []T, ldc int) {
	parallelFor(m, n*k, func(lo, hi int) {
		row := make([]T, n)
		for i := lo; i < hi; i++ {
			clear(row)
			for p := 0; p < k; p++ {
				var av T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					for j := range row {
						row[j] += av * b[j*ldb+p]
					}
				} else {
					bp := b[p*ldb : p*ldb+n]
					for j, bv := range bp {
						row[j] += av * bv
					}
				}
			}
			ci := c[i*ldc : i*ldc+n]
			if acc {
				for j, v := range row {
					ci[j] += v
				}
			} else {
				copy(ci, row)
			}
		}
	})
}

// convF32Pools recycles float32 scratch buffers (im2col / col2im matrices)
// by power-of-two size class, so a conv per call does not churn the GC.
var convF32Pools [48]sync.Pool

// convScratch returns a scratch slice of n elements with arbitrary contents
// (callers overwrite every element). float32 slices come from a pool.
func convScratch[T any](n int) []T {
	var z T
	if _, ok := any(z).(float32); !ok || n < 1024 {
		return make([]T, n)
	}
	class := bits.Len(uint(n - 1))
	if p, _ := convF32Pools[class].Get().(*[]float32); p != nil {
		return any((*p)[:n]).([]T)
	}
	return any(make([]float32, n, 1<<class)).([]T)
}

// convRelease gives a slice from convScratch back to its pool.
func convRelease[T any](s []T) {
	f, ok := any(s).([]float32)
	if !ok || cap(f) < 1024 || cap(f)&(cap(f)-1) != 0 {
		return
	}
	f = f[:cap(f)]
	convF32Pools[bits.Len(uint(cap(f)-1))].Put(&f)
}
