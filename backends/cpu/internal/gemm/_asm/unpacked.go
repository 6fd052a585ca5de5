package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// generateU emits the tile's kernel for an A that is not packed: A's mr
// rows are read where they lie (row stride lda floats), so a row-major A
// (a convolution's weights, a layer's matrix) needs no transposing copy.
// Otherwise it is generate's kernel: acc = a·b over k steps (unrolled by
// 4), then c = acc or c += acc.
func (t *tile) generateU(zero, mov, bcast, fma, add insn) {
	name := t.name + "U"
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, accumulate bool)")
	Doc(fmt.Sprintf("%s is %s with A unpacked: a points at %d rows of k floats, row stride lda.", name, t.name, t.mr))
	k := Load(Param("k"), GP64())
	b := Load(Param("b"), GP64())
	for _, r := range t.rows() {
		for off := 0; off < 4*t.nr(); off += 64 {
			PREFETCHT0(r.Offset(off))
		}
	}
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	arows := rowAddrs(a, lda, t.mr)
	bases := baseRegs(arows)
	for _, r := range t.acc {
		zero(r, r, r)
	}
	bStep := 4 * t.nr()
	vecBytes := 4 * t.lanes
	step := func(u int) {
		for v, r := range t.bv {
			mov(Mem{Base: b, Disp: u*bStep + v*vecBytes}, r)
		}
		for i := range t.mr {
			x := t.bc[i%len(t.bc)]
			bcast(arows[i].Offset(4*u), x)
			for v, r := range t.bv {
				fma(r, x, t.acc[i*t.vecs+v])
			}
		}
	}
	label := func(s string) string { return name + "_" + s }

	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	JZ(LabelRef(label("tail")))
	Label(label("loop4"))
	for u := range 4 {
		step(u)
	}
	for _, r := range bases {
		ADDQ(U32(16), r)
	}
	ADDQ(U32(4*bStep), b)
	DECQ(n4)
	JNZ(LabelRef(label("loop4")))

	Label(label("tail"))
	ANDQ(U32(3), k)
	JZ(LabelRef(label("store")))
	Label(label("loop1"))
	step(0)
	for _, r := range bases {
		ADDQ(U32(4), r)
	}
	ADDQ(U32(bStep), b)
	DECQ(k)
	JNZ(LabelRef(label("loop1")))

	Label(label("store"))
	t.store(t.rows(), add, mov, label)
	VZEROUPPER()
	RET()
}

// kernelAVX512x48 is the 8x48 tile: 24 accumulators, 3 B vectors and 2
// broadcast registers. Eight rows fit the channel counts of convolutional
// networks (16, 24, 32, 64, 96, ...) exactly, where the 14-row tile leaves
// part of its last row panel empty.
func kernelAVX512x48() {
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28}
	t := &tile{name: "kernel8x48AVX512", mr: 8, vecs: 3, lanes: 16,
		acc: zs[:24], bv: zs[24:27], bc: zs[27:29]}
	t.generate(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateU(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
	t.generateB(false, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateB(true, VMOVUPS, VBROADCASTSS, VFMADD231PS)
	t.generateI(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
}
