package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// generateB emits the tile's kernel that starts its accumulators from a
// bias per row instead of zero and overwrites c: c = bias[i] + a·b. It is
// the first depth block of a product with a bias (a convolution's), which
// otherwise costs a pass over c before the kernel. With unpacked, A is
// read in place as in generateU, else from a packed panel as in generate.
func (t *tile) generateB(unpacked bool, mov, bcast, fma insn) {
	name, sig := t.name+"B", "func(k int, a, b, bias, c *float32, ldc int)"
	if unpacked {
		name, sig = t.name+"UB", "func(k int, a *float32, lda int, b, bias, c *float32, ldc int)"
	}
	TEXT(name, NOSPLIT, sig)
	Doc(fmt.Sprintf("%s sets the %dx%d tile c to bias[i] + a·b (see %s).", name, t.mr, t.nr(), t.name))
	k := Load(Param("k"), GP64())
	b := Load(Param("b"), GP64())
	bias := Load(Param("bias"), GP64())
	for i := range t.mr {
		for v := range t.vecs {
			bcast(Mem{Base: bias, Disp: 4 * i}, t.acc[i*t.vecs+v])
		}
	}
	a := Load(Param("a"), GP64())
	var arows []Mem
	var bases []reg.Register
	aStep := 4 * t.mr // packed panel: mr floats per depth step
	if unpacked {
		lda := Load(Param("lda"), GP64())
		SHLQ(U8(2), lda)
		arows = rowAddrs(a, lda, t.mr)
		bases, aStep = baseRegs(arows), 4
	} else {
		for i := range t.mr {
			arows = append(arows, Mem{Base: a, Disp: 4 * i})
		}
		bases = []reg.Register{a}
	}
	bStep, vecBytes := 4*t.nr(), 4*t.lanes
	step := func(u int) {
		for v, r := range t.bv {
			mov(Mem{Base: b, Disp: u*bStep + v*vecBytes}, r)
		}
		for i := range t.mr {
			x := t.bc[i%len(t.bc)]
			bcast(arows[i].Offset(u*aStep), x)
			for v, r := range t.bv {
				fma(r, x, t.acc[i*t.vecs+v])
			}
		}
	}
	advance := func(steps int) {
		for _, r := range bases {
			ADDQ(U32(steps*aStep), r)
		}
		ADDQ(U32(steps*bStep), b)
	}
	depthLoops(name, k, step, advance)
	for i, r := range t.rows() {
		for v := range t.vecs {
			mov(t.acc[i*t.vecs+v], r.Offset(v*vecBytes))
		}
	}
	VZEROUPPER()
	RET()
}

// depthLoops emits the loop over k depth steps: four steps per iteration,
// then one at a time, ending at the label name_store.
func depthLoops(name string, k reg.Register, step func(u int), advance func(steps int)) {
	label := func(s string) string { return name + "_" + s }
	n4 := GP64()
	MOVQ(k, n4)
	SHRQ(U8(2), n4)
	JZ(LabelRef(label("tail")))
	Label(label("loop4"))
	for u := range 4 {
		step(u)
	}
	advance(4)
	DECQ(n4)
	JNZ(LabelRef(label("loop4")))
	Label(label("tail"))
	ANDQ(U32(3), k)
	JZ(LabelRef(label("store")))
	Label(label("loop1"))
	step(0)
	advance(1)
	DECQ(k)
	JNZ(LabelRef(label("loop1")))
	Label(label("store"))
}
