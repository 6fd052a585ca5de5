package gemm

import "fmt"

// Pointwise is the product of a pointwise (1x1) convolution with its
// epilogue, for the small planes where packing B and the edge tiles cost
// as much as the multiply:
//
//	c[i·ldc+j] = min(max(bias[i] + Σ_q a[i·lda+q]·b[q·ldb+j] + res[i·ldc+j], lo), hi)
//
// for i < m, j < n, q < k; res may be nil (nothing added), lo = -Inf and
// hi = +Inf clamp nothing, and NaN sums are kept. A (the weights) and B
// (the input planes) are read where they lie; tiles of 14 rows × 32
// columns walk B's columns outermost so a 32-column panel of B stays in L1
// for all of A, depth blocked by PointwiseDepth. A last panel of ≤ 16
// columns runs in 28×16 tiles; one of 17 or 18 columns as a 16-column
// panel and dot products (pwDotCols). Columns past n are masked off,
// never read or written. It reports false, doing nothing, where the
// CPU has no kernel for it (callers then run SgemmBias and the epilogue).
// It panics when a slice is too short.
func Pointwise(m, n, k int, a []float32, lda int, b []float32, ldb int, bias, res []float32, lo, hi float32, c []float32, ldc int) bool {
	if !pwAvail {
		return false
	}
	if m <= 0 || n <= 0 {
		return true
	}
	if err := pwCheck(m, n, k, a, lda, b, ldb, bias, res, c, ldc); err != nil {
		panic(err)
	}
	if k == 0 {
		pointwiseGeneric(m, n, 0, a, lda, b, ldb, bias, res, lo, hi, c, ldc)
		return true
	}
	kc := ceilDiv(k, ceilDiv(k, PointwiseDepth)) // even depth blocks
	var rp *float32
	for j0 := 0; j0 < n; j0 += 32 {
		cols, dots := min(32, n-j0), 0
		if cols > 16 && cols <= 16+pwDotCols { // 49 = 32 + 16 + 1 dot
			cols, dots = 16, cols-16
		}
		mask := uint32(1)<<cols - 1
		// A last panel of ≤ 16 columns runs in one-vector tiles.
		kernels, tall := pwKernels[:], 14
		if cols <= 16 {
			kernels, tall = pwKernels16[:], 28
		}
		for p0 := 0; p0 < k; p0 += kc {
			kb := min(kc, k-p0)
			flags := 0
			if p0 > 0 {
				flags |= 1
			}
			if p0+kb == k {
				flags |= 2
			}
			// The whole tall tiles in one call, then the rest.
			for i0 := 0; i0 < m; {
				rows, tiles := tall, m/tall
				if i0 > 0 || tiles == 0 {
					rows, tiles = m-i0, 1
				}
				if res != nil {
					rp = &res[i0*ldc+j0]
				}
				kernels[rows-1](kb, &a[i0*lda+p0], lda, &b[p0*ldb+j0], ldb, &bias[i0], &c[i0*ldc+j0], ldc, rp, lo, hi, mask, flags, tiles)
				i0 += rows * tiles
			}
		}
		for j := j0 + cols; j < j0+cols+dots; j++ {
			var r []float32
			if res != nil {
				r = res[j:]
			}
			pointwiseDot(m, k, a, lda, b[j:], ldb, bias, r, lo, hi, c[j:], ldc)
		}
	}
	return true
}

// pwDotCols is how many columns past a 16-column tile Pointwise computes
// as dot products (k/16 FMAs a row each) rather than as a masked tile
// (k FMAs a row): MobileNet's 7² planes are 32 + 16 + 1 columns.
const pwDotCols = 2

// pointwiseDot computes column 0 of c (k > 0) as m dot products of A's
// rows with column 0 of B, gathered once (pwDots), then the epilogue.
func pointwiseDot(m, k int, a []float32, lda int, b []float32, ldb int, bias, res []float32, lo, hi float32, c []float32, ldc int) {
	buf, sums := getBuffer(k), getBuffer(m)
	x := buf.f[:k]
	for q := range x {
		x[q] = b[q*ldb]
	}
	pwDots(a, lda, x, sums.f[:m])
	for i, d := range sums.f[:m] {
		s := bias[i] + d
		if res != nil {
			s += res[i*ldc]
		}
		if s < lo {
			s = lo
		}
		if s > hi {
			s = hi
		}
		c[i*ldc] = s
	}
	putBuffer(buf)
	putBuffer(sums)
}

// PointwiseDepth is the depth block of Pointwise: a 192×32 panel of B
// (24 KiB) stays in L1 while A streams from L2, as in the 14x32 GEMM.
const PointwiseDepth = 192

// pwCheck checks the operands of Pointwise.
func pwCheck(m, n, k int, a []float32, lda int, b []float32, ldb int, bias, res []float32, c []float32, ldc int) error {
	switch {
	case k < 0 || lda < k || ldb < n || ldc < n:
		return fmt.Errorf("gemm: Pointwise: bad sizes m %d n %d k %d lda %d ldb %d ldc %d", m, n, k, lda, ldb, ldc)
	case len(bias) < m:
		return fmt.Errorf("gemm: Pointwise: %d biases for %d rows", len(bias), m)
	case k > 0 && len(a) < (m-1)*lda+k:
		return fmt.Errorf("gemm: Pointwise: A holds %d values, want %d", len(a), (m-1)*lda+k)
	case k > 0 && len(b) < (k-1)*ldb+n:
		return fmt.Errorf("gemm: Pointwise: B holds %d values, want %d", len(b), (k-1)*ldb+n)
	case len(c) < (m-1)*ldc+n:
		return fmt.Errorf("gemm: Pointwise: C holds %d values, want %d", len(c), (m-1)*ldc+n)
	case res != nil && len(res) < (m-1)*ldc+n:
		return fmt.Errorf("gemm: Pointwise: the residual holds %d values, want %d", len(res), (m-1)*ldc+n)
	}
	return nil
}

// pointwiseGeneric is Pointwise in plain Go, the twin the tests check the
// kernels against (and the k = 0 case).
func pointwiseGeneric(m, n, k int, a []float32, lda int, b []float32, ldb int, bias, res []float32, lo, hi float32, c []float32, ldc int) {
	for i := range m {
		for j := range n {
			s := bias[i]
			for q := range k {
				s += a[i*lda+q] * b[q*ldb+j]
			}
			if res != nil {
				s += res[i*ldc+j]
			}
			if s < lo {
				s = lo
			}
			if s > hi {
				s = hi
			}
			c[i*ldc+j] = s
		}
	}
}
