package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// prefetchDistI is how far ahead the indirect kernels prefetch A.
const prefetchDistI = 2048

// generateI emits the tile's kernel for a B that is not packed at all:
// depth step q reads its nr floats at b + offs[q] (offsets in floats), so
// a convolution multiplies its input planes where they lie, each tap one
// offset (implicit GEMM without an im2col or packing copy). A is a packed
// mr×k panel as for generate; c is set to a·B or, with the accumulate
// flag, a·B is added to it (depth blocks).
func (t *tile) generateI(zero, mov, bcast, fma, add insn) {
	name := t.name + "I"
	TEXT(name, NOSPLIT, "func(k int, a, b *float32, offs *int32, c *float32, ldc int, accumulate bool)")
	Doc(fmt.Sprintf("%s sets the %dx%d tile c (row stride ldc) to a·B, or adds a·B to it when", name, t.mr, t.nr()),
		fmt.Sprintf("accumulate is set: a is a packed %d×k panel, row q of B the %d floats at b+offs[q]; k ≥ 1.", t.mr, t.nr()))
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	offs := Load(Param("offs"), GP64())
	for _, r := range t.acc {
		zero(r, r, r)
	}
	aStep := 4 * t.mr
	vecBytes := 4 * t.lanes
	o := []Register{GP64(), GP64()}
	step := func(u int) {
		r := o[u%2]
		MOVLQSX(Mem{Base: offs, Disp: 4 * u}, r)
		for v, z := range t.bv {
			mov(Mem{Base: b, Index: r, Scale: 4, Disp: v * vecBytes}, z)
		}
		for i := range t.mr {
			x := t.bc[i%len(t.bc)]
			bcast(Mem{Base: a, Disp: u*aStep + 4*i}, x)
			for v, z := range t.bv {
				fma(z, x, t.acc[i*t.vecs+v])
			}
		}
	}
	label := func(s string) string { return name + "_" + s }
	depthLoops(name, k, step, func(steps int) {
		if steps == 4 {
			// A streams from memory when few column tiles share it (7²
			// planes): fetch it further ahead than generate does.
			for off := 0; off < 4*aStep; off += 64 {
				PREFETCHT0(Mem{Base: a, Disp: prefetchDistI + off})
			}
		}
		ADDQ(U32(steps*aStep), a)
		ADDQ(U32(4*steps), offs)
	})
	t.store(t.rows(), add, mov, label)
	VZEROUPPER()
	RET()
}
