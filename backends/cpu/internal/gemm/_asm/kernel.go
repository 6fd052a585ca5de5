// Command _asm generates gemm_amd64.s and gemm_stub_amd64.go, the SIMD
// micro-kernels of package gemm, with avo. Run it through `go generate` in
// the parent package (`make generate`); it is its own module so that avo
// never becomes a dependency of Keen.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	kernelAVX2()
	kernelAVX512()
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
}

// kernelAVX512 is the 14x32 tile: 28 accumulators, 2 B vectors and 2
// broadcast registers fill the 32 ZMM registers.
func kernelAVX512() {
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}
	t := &tile{name: "kernel14x32AVX512", mr: 14, vecs: 2, lanes: 16,
		acc: zs[:28], bv: zs[28:30], bc: zs[30:32]}
	t.generate(VPXORD, VMOVUPS, VBROADCASTSS, VFMADD231PS, VADDPS)
}

type insn func(...Op)

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
	t.store(add, mov, label)
	VZEROUPPER()
	RET()
}

// store writes the accumulators to c; rows are addressed from two bases
// (c and c+3·ldc) with index scales 1, 2 so no row needs a multiply.
func (t *tile) store(add, mov insn, label func(string) string) {
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flag := Load(Param("accumulate"), GP8())
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
