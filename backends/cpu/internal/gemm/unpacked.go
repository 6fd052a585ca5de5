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

// macro multiplies the mb×kb block of A by the packed kb×nb slice of B
// into c: A's tiles above a.full read in place by kernelU, the rest from
// the packed panels ap (starting at row a.full); partial tiles go through
// the edge buffer. With bias set (mb values), the kernels start from it and
// overwrite c.
func (im *impl) macro(a unpackedRows, ap, bp []float32, mb, nb, kb int, c []float32, ldc int, acc bool, edge, bias []float32) {
	mr, nr := im.mr, im.nr
	var padBias [maxTile]float32
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		b := bp[jr*kb:]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			full := rows == mr && cols == nr
			dst, ld, accumulate := edge, nr, false
			if full {
				dst, ld, accumulate = c[ir*ldc+jr:], ldc, acc
			}
			var tb []float32
			if bias != nil {
				tb = bias[ir:min(ir+mr, mb)]
				if rows < mr {
					copy(padBias[:], tb)
					clear(padBias[rows:mr])
					tb = padBias[:mr]
				}
			}
			switch {
			case ir < a.full && tb != nil:
				im.kernelUB(kb, a.a[ir*a.lda:], a.lda, b, tb, dst, ld)
			case ir < a.full:
				im.kernelU(kb, a.a[ir*a.lda:], a.lda, b, dst, ld, accumulate)
			case tb != nil:
				im.kernelB(kb, ap[(ir-a.full)*kb:], b, tb, dst, ld)
			default:
				im.kernel(kb, ap[(ir-a.full)*kb:], b, dst, ld, accumulate)
			}
			if full {
				continue
			}
			for i := range rows {
				dst := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				src := edge[i*nr : i*nr+cols]
				if acc && tb == nil {
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
