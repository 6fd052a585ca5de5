package main

import (
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// stream emits the loop skeleton shared by the kernels: unroll vectors per
// iteration, then one vector per iteration, then a masked tail of fewer
// than lanes elements. body(v, mask) works on vector v of the current
// block (byte offset v·vector size from each pointer); mask is nil except
// in the tail, where ld and st honour it. The pointers advance past each
// block; n is clobbered.
func (g *gen) stream(fn string, n reg.GPVirtual, ptrs []reg.GPVirtual, unroll int, body func(v int, mask Op)) {
	blocks := GP64()
	step := 4 * g.lanes
	if unroll > 1 {
		MOVQ(n, blocks)
		SHRQ(U8(bits.TrailingZeros(uint(g.lanes*unroll))), blocks)
		JZ(LabelRef(fn + "_one"))
		Label(fn + "_loopn")
		for v := range unroll {
			body(v, nil)
		}
		for _, p := range ptrs {
			ADDQ(U32(step*unroll), p)
		}
		DECQ(blocks)
		JNZ(LabelRef(fn + "_loopn"))
		Label(fn + "_one")
		ANDQ(U32(g.lanes*unroll-1), n)
	}
	MOVQ(n, blocks)
	SHRQ(U8(bits.TrailingZeros(uint(g.lanes))), blocks)
	JZ(LabelRef(fn + "_tail"))
	Label(fn + "_loop1")
	body(0, nil)
	for _, p := range ptrs {
		ADDQ(U32(step), p)
	}
	DECQ(blocks)
	JNZ(LabelRef(fn + "_loop1"))
	Label(fn + "_tail")
	ANDQ(U32(g.lanes-1), n)
	JZ(LabelRef(fn + "_done"))
	body(0, g.tailMask(n))
	Label(fn + "_done")
}

// tailMask returns the mask of the first n lanes, 0 < n < lanes: a vector
// of all-ones lanes on AVX2, a K register on AVX-512.
func (g *gen) tailMask(n reg.GPVirtual) Op {
	if g.lanes == 16 {
		t := GP32()
		MOVL(U32(0xffff), t)
		BZHIL(n.As32(), t, t)
		k := K()
		KMOVW(t, k)
		return k
	}
	base, off := GP64(), GP64()
	LEAQ(tailTable(), base)
	MOVQ(U32(8), off)
	SUBQ(n, off)
	m := g.v()
	VMOVUPS(Mem{Base: base, Index: off, Scale: 4}, m)
	return m
}

var tailMem *Mem

// tailTable is eight all-ones words then eight zero words: the eight
// words from word 8-n on are the AVX2 mask of the first n lanes.
func tailTable() Mem {
	if tailMem == nil {
		m := GLOBL("tailmask", RODATA|NOPTR)
		for i := range 16 {
			v := uint32(0)
			if i < 8 {
				v = 0xffffffff
			}
			DATA(4*i, U32(v))
		}
		tailMem = &m
	}
	return *tailMem
}

// ld loads vector v at p, only the masked lanes (others 0) when mask is set.
func (g *gen) ld(p reg.GPVirtual, v int, mask Op) reg.VecVirtual {
	r := g.v()
	g.ldInto(p, v, mask, r)
	return r
}

func (g *gen) ldInto(p reg.GPVirtual, v int, mask Op, r reg.VecVirtual) {
	m := Mem{Base: p, Disp: 4 * g.lanes * v}
	switch {
	case mask == nil:
		VMOVUPS(m, r)
	case g.lanes == 16:
		VMOVUPS_Z(m, mask, r)
	default:
		VMASKMOVPS(m, mask, r)
	}
}

// st stores r as vector v at p, only the masked lanes when mask is set.
func (g *gen) st(r reg.VecVirtual, p reg.GPVirtual, v int, mask Op) {
	m := Mem{Base: p, Disp: 4 * g.lanes * v}
	switch {
	case mask == nil:
		VMOVUPS(r, m)
	case g.lanes == 16:
		VMOVUPS(r, mask, m)
	default:
		VMASKMOVPS(r, mask, m)
	}
}

// params loads the named pointer or int parameters.
func params(names ...string) []reg.GPVirtual {
	out := make([]reg.GPVirtual, len(names))
	for i, name := range names {
		out[i] = Load(Param(name), GP64()).(reg.GPVirtual)
	}
	return out
}
