package cuda

import (
	"encoding/binary"
	"math"
)

// fakeBLAS is a column-major GEMM on host memory, with cuBLAS's argument
// conventions, for the emulated device.
func fakeBLAS(f *fakeDevice) *cublas {
	gemm := func(f64 bool, ta, tb, m, n, k int32, alpha float64, a uintptr, lda int32, sa int64,
		b uintptr, ldb int32, sb int64, beta float64, c uintptr, ldc int32, sc int64, batch int32) int32 {
		es := int64(4)
		if f64 {
			es = 8
		}
		get := func(m []byte, i int64) float64 {
			if f64 {
				return math.Float64frombits(binary.LittleEndian.Uint64(m[i*8:]))
			}
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(m[i*4:])))
		}
		set := func(m []byte, i int64, v float64) {
			if f64 {
				binary.LittleEndian.PutUint64(m[i*8:], math.Float64bits(v))
			} else {
				binary.LittleEndian.PutUint32(m[i*4:], math.Float32bits(float32(v)))
			}
		}
		for bi := int64(0); bi < int64(batch); bi++ {
			pa, pb, pc := f.block(a+uintptr(bi*sa*es)), f.block(b+uintptr(bi*sb*es)), f.block(c+uintptr(bi*sc*es))
			for i := int64(0); i < int64(m); i++ {
				for j := int64(0); j < int64(n); j++ {
					s := 0.0
					for l := int64(0); l < int64(k); l++ {
						ia, ib := i+l*int64(lda), l+j*int64(ldb) // op(A)(i,l), op(B)(l,j), column-major
						if ta == opT {
							ia = l + i*int64(lda)
						}
						if tb == opT {
							ib = j + l*int64(ldb)
						}
						av, bv := get(pa, ia), get(pb, ib)
						s += av * bv
					}
					old := 0.0
					if beta != 0 {
						old = beta * get(pc, i+j*int64(ldc))
					}
					set(pc, i+j*int64(ldc), alpha*s+old)
				}
			}
		}
		return 0
	}
	return &cublas{
		create:  func(h *uintptr) int32 { *h = 1; return 0 },
		destroy: func(uintptr) int32 { return 0 },
		sgemm: func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32 {
			return gemm(false, ta, tb, m, n, k, float64(*alpha), a, lda, 0, b, ldb, 0, float64(*beta), c, ldc, 0, 1)
		},
		dgemm: func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, b uintptr, ldb int32, beta *float64, c uintptr, ldc int32) int32 {
			return gemm(true, ta, tb, m, n, k, *alpha, a, lda, 0, b, ldb, 0, *beta, c, ldc, 0, 1)
		},
		sgemmSB: func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, sa int64, b uintptr, ldb int32, sb int64, beta *float32, c uintptr, ldc int32, sc int64, batch int32) int32 {
			return gemm(false, ta, tb, m, n, k, float64(*alpha), a, lda, sa, b, ldb, sb, float64(*beta), c, ldc, sc, batch)
		},
		dgemmSB: func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, sa int64, b uintptr, ldb int32, sb int64, beta *float64, c uintptr, ldc int32, sc int64, batch int32) int32 {
			return gemm(true, ta, tb, m, n, k, *alpha, a, lda, sa, b, ldb, sb, *beta, c, ldc, sc, batch)
		},
	}
}
