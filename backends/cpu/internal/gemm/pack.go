package gemm

import (
	"math/bits"
	"sync"
	"unsafe"
)

// packA packs rows [i0, i0+mb) × depth [p0, p0+kb) of alpha·op(A) into dst
// as micro-panels of mr rows: panel r holds, for each depth step, mr
// consecutive values; rows past mb are zero.
func (im *impl) packA(dst []float32, p *problem, i0, mb, p0, kb int) {
	mr, alpha := im.mr, p.alpha
	for ir := 0; ir < mb; ir += mr {
		rows := min(mr, mb-ir)
		d := dst[ir*kb : (ir+mr)*kb]
		if p.transA { // A is k×m: one depth step is a contiguous run of rows
			for q := range kb {
				src := p.a[(p0+q)*p.lda+i0+ir:][:rows]
				out := d[q*mr : q*mr+mr]
				for i, v := range src {
					out[i] = alpha * v
				}
				clear(out[rows:])
			}
			continue
		}
		for i := range rows {
			src := p.a[(i0+ir+i)*p.lda+p0:][:kb]
			for q, v := range src {
				d[q*mr+i] = alpha * v
			}
		}
		if rows < mr {
			for q := range kb {
				clear(d[q*mr+rows : q*mr+mr])
			}
		}
	}
}

// packB packs depth [p0, p0+kb) × columns [j0, j0+nb) of op(B) into dst as
// micro-panels of nr columns: panel j holds, for each depth step, nr
// consecutive values; columns past nb are zero.
func (im *impl) packB(dst []float32, p *problem, p0, kb, j0, nb int) {
	nr := im.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		d := dst[jr*kb : (jr+nr)*kb]
		if !p.transB { // B is k×n: one depth step is a contiguous run of columns
			for q := range kb {
				out := d[q*nr : q*nr+nr]
				copy(out, p.b[(p0+q)*p.ldb+j0+jr:][:cols])
				clear(out[cols:])
			}
			continue
		}
		for j := range cols {
			src := p.b[(j0+jr+j)*p.ldb+p0:][:kb]
			for q, v := range src {
				d[q*nr+j] = v
			}
		}
		if cols < nr {
			for q := range kb {
				clear(d[q*nr+cols : q*nr+nr])
			}
		}
	}
}

// buffer is a 64-byte aligned float32 scratch slice kept in a pool.
type buffer struct {
	raw   []float32
	f     []float32
	class int
}

// bufPools holds buffers by size class: class c holds 1<<c floats, so a
// call never takes a buffer too small for it and drops it.
var bufPools [48]sync.Pool

const (
	alignFloats = 16 // 64 bytes: one cache line, one ZMM vector
	minClass    = 10
)

// getBuffer returns a pooled buffer of at least n floats (contents
// undefined).
func getBuffer(n int) *buffer {
	class := max(bits.Len(uint(n-1)), minClass)
	b, _ := bufPools[class].Get().(*buffer)
	if b == nil {
		b = &buffer{raw: make([]float32, 1<<class+alignFloats), class: class}
	}
	off := 0
	if r := uintptr(unsafe.Pointer(&b.raw[0])) % (4 * alignFloats); r != 0 {
		off = int(4*alignFloats-r) / 4
	}
	b.f = b.raw[off : off+n]
	return b
}

func putBuffer(b *buffer) { bufPools[b.class].Put(b) }
