package gemm

import "fmt"

// Indirect is a micro-kernel whose B is not packed: depth step q reads
// its NR floats at b[offs[q]:], so a convolution multiplies its (padded,
// phase-split) input planes where they lie, one offset per tap, and
// packs only its weights, once (PackA). The MR×NR tile of C is set, not
// accumulated unless asked: a call covers the whole depth or one block.
type Indirect struct {
	MR, NR int
	name   string
	run    func(k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool)
}

// Offsets are B's row offsets for Indirect kernels with their range,
// found once so that each kernel call checks its reads in O(1).
type Offsets struct {
	o      []int32
	lo, hi int
}

// NewOffsets wraps o (not copied; it must not change afterwards).
func NewOffsets(o []int32) *Offsets {
	off := &Offsets{o: o}
	if len(o) > 0 {
		off.lo, off.hi = int(o[0]), int(o[0])
	}
	for _, v := range o {
		off.lo, off.hi = min(off.lo, int(v)), max(off.hi, int(v))
	}
	return off
}

// Block returns the offsets of depth steps [lo, hi) (sharing o's).
func (o *Offsets) Block(lo, hi int) *Offsets { return NewOffsets(o.o[lo:hi]) }

// IndirectFor returns the indirect kernel for m×n products, chosen as
// Sgemm's pick would (the tile that wastes least); nil where only the Go
// kernel exists (the callers' other paths are faster there).
func IndirectFor(m, n int) *Indirect {
	im := pick(max(m, 1), max(n, 1))
	if im.indirect == nil {
		return nil
	}
	return im.indirect
}

// IndirectKernels lists the indirect kernels this machine runs (for tests).
func IndirectKernels() []*Indirect {
	var ks []*Indirect
	for _, im := range impls {
		if im.indirect != nil {
			ks = append(ks, im.indirect)
		}
	}
	return ks
}

// IndirectGo is the plain Go twin of the kernels with an mr×nr tile, for
// tests.
func IndirectGo(mr, nr int) *Indirect {
	return &Indirect{MR: mr, NR: nr, name: fmt.Sprintf("go%dx%d", mr, nr), run: func(k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool) {
		indirectGeneric(mr, nr, k, a, b, offs, c, ldc, acc)
	}}
}

func (ik *Indirect) String() string { return ik.name }

// Run sets the MR×NR tile c (row stride ldc) to a·B over depth k, or adds
// a·B to it with acc: a is a panel packed by PackA, row q of B the NR
// floats at b[off[q]:]. It panics when a read or write would leave a slice.
func (ik *Indirect) Run(k int, a, b []float32, off *Offsets, c []float32, ldc int, acc bool) {
	if k <= 0 {
		if acc {
			return
		}
		for i := range ik.MR {
			clear(c[i*ldc : i*ldc+ik.NR])
		}
		return
	}
	if k > len(off.o) || off.lo < 0 || off.hi+ik.NR > len(b) || len(a) < ik.MR*k || len(c) < (ik.MR-1)*ldc+ik.NR || ldc < ik.NR {
		panic(fmt.Sprintf("gemm: Indirect.Run: k=%d offsets [%d,%d] (of %d) B %d A %d C %d ldc %d",
			k, off.lo, off.hi, len(off.o), len(b), len(a), len(c), ldc))
	}
	ik.run(k, a, b, off.o, c, ldc, acc)
}

// PackA packs rows [i0, i0+MR) of the row-major m×k matrix a (row
// stride lda) into dst (MR·k floats) as the kernel reads them: for each
// depth step MR consecutive values, rows past m zero.
func (ik *Indirect) PackA(dst, a []float32, lda, m, i0, k int) {
	mr := ik.MR
	dst = dst[:mr*k]
	n := min(mr, m-i0)
	for i := range n {
		row := a[(i0+i)*lda:][:k]
		for q, v := range row {
			dst[q*mr+i] = v
		}
	}
	for i := n; i < mr; i++ {
		for q := range k {
			dst[q*mr+i] = 0
		}
	}
}

func indirectGeneric(mr, nr, k int, a, b []float32, offs []int32, c []float32, ldc int, acc bool) {
	for i := range mr {
		row := c[i*ldc : i*ldc+nr]
		if !acc {
			clear(row)
		}
		for q := range k {
			av := a[q*mr+i]
			br := b[offs[q]:][:nr]
			for j, bv := range br {
				row[j] += av * bv
			}
		}
	}
}
