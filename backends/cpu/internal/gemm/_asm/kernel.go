// Command _asm generates gemm_amd64.s and gemm_stub_amd64.go, the SIMD
// micro-kernels of package gemm, with avo. Run it through `go generate` in
// the parent package (`make generate`); it is its own module so that avo
// never becomes a dependency of Keen.
package main

import (
	"fmt"
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	kernelAVX2()
	kernelAVX512()
	kernelAVX512x48()
	packRuns(16)
	packRuns(32)
	packRuns(48)
	transpose8()
	dot()
	axpy()
	Generate()
}

// tile describes one register-blocked micro-kernel: mr rows of the packed A
// panel times nr columns of the packed B panel, nr = vecs*lanes.
type tile struct {
	name  string
	mr    int
	vecs  int // vectors per row of the tile
	lanes int // float32 lanes per vector
	acc   []VecPhysical
	bv    []VecPhysical // B row, vecs registers
	bc    []VecPhysical // broadcast registers, used round robin
}

func (t *tile) nr() int { return t.vecs * t.lanes }

// kernelAVX2 is the 6x16 tile: 12 accumulators, 2 B vectors and 2
// broadcast registers fill the 16 YMM registers.
func kernelAVX2() {
	t := &tile{name: "kernel6x16AVX2", mr: 6, vecs: 2, lanes: 8,
		bv: []VecPhysical{Y12, Y13}, bc: []VecPhysical{Y14, Y15}}
	for i := range 12 {
		t.acc = append(t.acc, []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11}[i])
	}
	t.generate(VXORPS, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateU(VXORPS, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateB(false, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateB(true, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateI(VXORPS, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
}

// kernelAVX512 is the 14x32 tile: 28 accumulators, 2 B vectors and 2
// broadcast registers fill the 32 ZMM registers.
func kernelAVX512() {
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	t := &tile{name: "kernel14x32AVX512", mr: 14, vecs: 2, lanes: 16,
		acc: zs[:28], bv: zs[28:30], bc: zs[30:32]}
	t.generate(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateU(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateB(false, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateB(true, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateI(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
}

type insn func(...Op)

// prefetchDist is how far ahead of the loads the A panel is prefetched.
const prefetchDist = 512

// generate emits the kernel: acc = a·b over k steps (unrolled by 4), then
// c = acc or c += acc by the accumulate flag.
func (t *tile) generate(zero, mov, bcast, fma, add insn) {
	TEXT(t.name, NOSPLIT, "func(k int, a, b, c *float32, ldc int, accumulate bool)")
	Doc(fmt.Sprintf("%s sets the %dx%d tile c (row stride ldc) to a·b, or adds a·b to it when", t.name, t.mr, t.nr()),
		fmt.Sprintf("accumulate is set. a is a packed %d×k panel (k columns of %d floats), b a packed k×%d", t.mr, t.mr, t.nr()),
		fmt.Sprintf("panel (k rows of %d floats).", t.nr()))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	rows := t.rows()
	for _, r := range rows {
		for off := 0; off < 4*t.nr(); off += 64 {
			PREFETCHT0(r.Offset(off))
		}
	}
	for _, r := range t.acc {
		zero(r, r, r)
	}
	aStep, bStep := 4*t.mr, 4*t.nr()
	vecBytes := 4 * t.lanes
	step := func(u int) {
		for v, r := range t.bv {
			mov(Mem{Base: b, Disp: u*bStep + v*vecBytes}, r)
		}
		for i := range t.mr {
			x := t.bc[i%len(t.bc)]
			bcast(Mem{Base: a, Disp: u*aStep + 4*i}, x)
			for v, r := range t.bv {
				fma(r, x, t.acc[i*t.vecs+v])
			}
		}
	}
	label := func(s string) string { return t.name + "_" + s }

	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	JZ(LabelRef(label("tail")))
	Label(label("loop4"))
	for u := range 4 {
		step(u)
	}
	// A streams from L2: fetch the panel prefetchDist bytes ahead.
	for off := 0; off < 4*aStep; off += 64 {
		PREFETCHT0(Mem{Base: a, Disp: prefetchDist + off})
	}
	ADDQ(U32(4*aStep), a)
	ADDQ(U32(4*bStep), b)
	DECQ(n4)
	JNZ(LabelRef(label("loop4")))

	Label(label("tail"))
	ANDQ(U32(3), k)
	JZ(LabelRef(label("store")))
	Label(label("loop1"))
	step(0)
	ADDQ(U32(aStep), a)
	ADDQ(U32(bStep), b)
	DECQ(k)
	JNZ(LabelRef(label("loop1")))

	Label(label("store"))
	t.store(rows, add, mov, label)
	VZEROUPPER()
	RET()
}

// rows addresses the tile's rows of c from bases c, c+3·ldc, ... with
// index scales 1 and 2, so no row needs a multiply.
func (t *tile) rows() []Mem {
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	var rows []Mem
	base := c
	for i := range t.mr {
		if i > 0 && i%3 == 0 {
			next := GP64()
			LEAQ(Mem{Base: ldc, Index: ldc, Scale: 2}, next)
			ADDQ(base, next)
			base = next
		}
		switch i % 3 {
		case 0:
			rows = append(rows, Mem{Base: base})
		case 1:
			rows = append(rows, Mem{Base: base, Index: ldc, Scale: 1})
		case 2:
			rows = append(rows, Mem{Base: base, Index: ldc, Scale: 2})
		}
	}
	return rows
}

// store writes the accumulators to the rows of c, adding what is there
// when the accumulate flag is set.
func (t *tile) store(rows []Mem, add, mov insn, label func(string) string) {
	flag := Load(Param("accumulate"), GP8())
	vecBytes := 4 * t.lanes
	TESTB(flag, flag)
	JZ(LabelRef(label("overwrite")))
	for i, r := range rows {
		for v := range t.vecs {
			acc := t.acc[i*t.vecs+v]
			add(r.Offset(v*vecBytes), acc, acc)
		}
	}
	Label(label("overwrite"))
	for i, r := range rows {
		for v := range t.vecs {
			mov(t.acc[i*t.vecs+v], r.Offset(v*vecBytes))
		}
	}
}

// packRuns emits packRuns<nr>AVX, the row-copying half of packing B: for q
// in [0, kb) and r in [0, runs), the nr floats at src[q*ldb+r*nr] go to
// dst[r*kb*nr+q*nr], i.e. run r of row q lands in micro-panel r.
func packRuns(nr int) {
	name := fmt.Sprintf("packRuns%dAVX", nr)
	TEXT(name, NOSPLIT, "func(dst, src *float32, kb, runs, ldb int)")
	Doc(fmt.Sprintf("%s copies %d-float runs of kb rows of src (row stride ldb) into", name, nr),
		"consecutive micro-panels of dst; kb, runs ≥ 1.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	kb := Load(Param("kb"), GP64())
	runs := Load(Param("runs"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(2), ldb)
	stride := GP64() // bytes between micro-panels
	MOVQ(kb, stride)
	if nr&(nr-1) == 0 {
		SHLQ(U8(bits.TrailingZeros(uint(4*nr))), stride)
	} else {
		IMUL3Q(U32(4*nr), stride, stride)
	}
	regs := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}[:nr/8]
	Label(name + "_row")
	s, d, r := GP64(), GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(runs, r)
	Label(name + "_run")
	for i, y := range regs {
		VMOVUPS(Mem{Base: s, Disp: 32 * i}, y)
	}
	for i, y := range regs {
		VMOVUPS(y, Mem{Base: d, Disp: 32 * i})
	}
	ADDQ(U32(4*nr), s)
	ADDQ(stride, d)
	DECQ(r)
	JNZ(LabelRef(name + "_run"))
	ADDQ(ldb, src)
	ADDQ(U32(4*nr), dst)
	DECQ(kb)
	JNZ(LabelRef(name + "_row"))
	VZEROUPPER()
	RET()
}

// transpose8 emits transpose8AVX, the transposing half of packing: for
// each block of 8 columns it loads 8 rows of src, transposes the 8x8 block
// in registers (unpack, shuffle, lane permute) and stores its columns, times
// scale, as rows of dst with stride w.
func transpose8() {
	TEXT("transpose8AVX", NOSPLIT, "func(dst, src *float32, ld, blocks, w int, scale float32)")
	Doc("transpose8AVX sets dst[q*w+i] = scale·src[i*ld+q] for i < 8, q < 8·blocks; blocks ≥ 1.",
		"Each store writes 8 floats, so with w < 8 it runs past row q into row q+1.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	blocks := Load(Param("blocks"), GP64())
	w := Load(Param("w"), GP64())
	SHLQ(U8(2), ld)
	SHLQ(U8(2), w)
	srcRows := rowAddrs(src, ld, 8)
	dstRows := rowAddrs(dst, w, 8)
	dstStep := GP64() // 8 rows of dst
	LEAQ(Mem{Base: w, Index: w, Scale: 1}, dstStep)
	SHLQ(U8(2), dstStep)
	in := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7}
	tmp := []VecPhysical{Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	Label("transpose8AVX_block")
	for i, r := range srcRows {
		VMOVUPS(r, in[i])
	}
	for i := 0; i < 8; i += 2 { // tmp = rows interleaved in pairs
		VUNPCKLPS(in[i+1], in[i], tmp[i])
		VUNPCKHPS(in[i+1], in[i], tmp[i+1])
	}
	for i := 0; i < 8; i += 4 { // in = columns within 4-row groups, per 128-bit lane
		VSHUFPS(U8(0x44), tmp[i+2], tmp[i], in[i])
		VSHUFPS(U8(0xEE), tmp[i+2], tmp[i], in[i+1])
		VSHUFPS(U8(0x44), tmp[i+3], tmp[i+1], in[i+2])
		VSHUFPS(U8(0xEE), tmp[i+3], tmp[i+1], in[i+3])
	}
	for c := range 4 { // tmp[c] = column c, tmp[c+4] = column c+4
		VPERM2F128(U8(0x20), in[c+4], in[c], tmp[c])
		VPERM2F128(U8(0x31), in[c+4], in[c], tmp[c+4])
	}
	VBROADCASTSS(NewParamAddr("scale", 40), Y0)
	for c, r := range dstRows {
		VMULPS(Y0, tmp[c], tmp[c])
		VMOVUPS(tmp[c], r)
	}
	for _, b := range baseRegs(srcRows) {
		ADDQ(U8(32), b)
	}
	for _, b := range baseRegs(dstRows) {
		ADDQ(dstStep, b)
	}
	DECQ(blocks)
	JNZ(LabelRef("transpose8AVX_block"))
	VZEROUPPER()
	RET()
}

// rowAddrs addresses n rows of stride (bytes) from base as in tile.rows:
// a new base register every third row, index scales 1 and 2 between.
func rowAddrs(base, stride Register, n int) []Mem {
	var rows []Mem
	for i := range n {
		if i > 0 && i%3 == 0 {
			next := GP64()
			LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, next)
			ADDQ(base, next)
			base = next
		}
		switch i % 3 {
		case 0:
			rows = append(rows, Mem{Base: base})
		case 1:
			rows = append(rows, Mem{Base: base, Index: stride, Scale: 1})
		case 2:
			rows = append(rows, Mem{Base: base, Index: stride, Scale: 2})
		}
	}
	return rows
}

// baseRegs lists the distinct base registers of rows.
func baseRegs(rows []Mem) []Register {
	var regs []Register
	for i := 0; i < len(rows); i += 3 {
		regs = append(regs, rows[i].Base)
	}
	return regs
}

// dot emits dotAVX2: Σ x[i]·y[i] with four 8-lane FMA accumulators, then a
// scalar tail.
func dot() {
	TEXT("dotAVX2", NOSPLIT, "func(x, y *float32, n int) float32")
	Doc("dotAVX2 returns the sum of x[i]*y[i] for i < n.")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	for _, r := range acc {
		VXORPS(r, r, r)
	}
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef("dotAVX2_tail"))
	Label("dotAVX2_loop")
	for i, r := range acc {
		VMOVUPS(Mem{Base: x, Disp: 32 * i}, Y4)
		VFMADD231PS(Mem{Base: y, Disp: 32 * i}, Y4, r)
	}
	ADDQ(U32(128), x)
	ADDQ(U32(128), y)
	DECQ(blocks)
	JNZ(LabelRef("dotAVX2_loop"))
	Label("dotAVX2_tail")
	VADDPS(Y1, Y0, Y0)
	VADDPS(Y3, Y2, Y2)
	VADDPS(Y2, Y0, Y0)
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VHADDPS(X0, X0, X0)
	VHADDPS(X0, X0, X0)
	ANDQ(U32(31), n)
	JZ(LabelRef("dotAVX2_done"))
	Label("dotAVX2_scalar")
	VMOVSS(Mem{Base: x}, X1)
	VFMADD231SS(Mem{Base: y}, X1, X0)
	ADDQ(U32(4), x)
	ADDQ(U32(4), y)
	DECQ(n)
	JNZ(LabelRef("dotAVX2_scalar"))
	Label("dotAVX2_done")
	VZEROUPPER()
	Store(X0, ReturnIndex(0))
	RET()
}

// axpy emits axpyAVX2: y += alpha·x, 32 floats a step, then a scalar tail.
func axpy() {
	TEXT("axpyAVX2", NOSPLIT, "func(alpha float32, x, y *float32, n int)")
	Doc("axpyAVX2 sets y[i] += alpha*x[i] for i < n.")
	x := Load(Param("x"), GP64())
	y := Load(Param("y"), GP64())
	n := Load(Param("n"), GP64())
	VBROADCASTSS(NewParamAddr("alpha", 0), Y0)
	ys := []VecPhysical{Y1, Y2, Y3, Y4}
	blocks := GP64()
	MOVQ(n, blocks)
	SHRQ(U8(5), blocks)
	JZ(LabelRef("axpyAVX2_tail"))
	Label("axpyAVX2_loop")
	for i, r := range ys {
		VMOVUPS(Mem{Base: y, Disp: 32 * i}, r)
		VFMADD231PS(Mem{Base: x, Disp: 32 * i}, Y0, r)
		VMOVUPS(r, Mem{Base: y, Disp: 32 * i})
	}
	ADDQ(U32(128), x)
	ADDQ(U32(128), y)
	DECQ(blocks)
	JNZ(LabelRef("axpyAVX2_loop"))
	Label("axpyAVX2_tail")
	ANDQ(U32(31), n)
	JZ(LabelRef("axpyAVX2_done"))
	Label("axpyAVX2_scalar")
	VMOVSS(Mem{Base: y}, X1)
	VFMADD231SS(Mem{Base: x}, X0, X1)
	VMOVSS(X1, Mem{Base: y})
	ADDQ(U32(4), x)
	ADDQ(U32(4), y)
	DECQ(n)
	JNZ(LabelRef("axpyAVX2_scalar"))
	Label("axpyAVX2_done")
	VZEROUPPER()
	RET()
}
