package gemm

// useUnpackedA lets Sgemm read a row-major A in place (impl.kernelU)
// instead of packing it; tests turn it off to compare.
var useUnpackedA = true

// unpackedMaxN is the product width from which A is packed again (a
// variable so tests can reach both paths with small shapes).
var unpackedMaxN = 1024

// unpackedRows is an mb×kb block of a row-major A read in place: rows
// [0, full) from a (row stride lda), the partial tile past them packed.
type unpackedRows struct {
	a         []float32
	lda, full int
}

// macroU is macro with A's whole tiles read in place by kernelU; the last
// partial tile (rows full..mb) comes packed in ap.
func (im *impl) macroU(a unpackedRows, ap, bp []float32, mb, nb, kb int, c []float32, ldc int, acc bool, edge []float32) {
	mr, nr := im.mr, im.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		b := bp[jr*kb:]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			dst, ld, accumulate := edge, nr, false
			if rows == mr && cols == nr {
				dst, ld, accumulate = c[ir*ldc+jr:], ldc, acc
			}
			if ir < a.full {
				im.kernelU(kb, a.a[ir*a.lda:], a.lda, b, dst, ld, accumulate)
			} else {
				im.kernel(kb, ap, b, dst, ld, accumulate)
			}
			if rows == mr && cols == nr {
				continue
			}
			for i := range rows {
				dst := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				src := edge[i*nr : i*nr+cols]
				if acc {
					for j, v := range src {
						dst[j] += v
					}
				} else {
					copy(dst, src)
				}
			}
		}
	}
}
