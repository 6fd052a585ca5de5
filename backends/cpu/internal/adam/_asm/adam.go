// Command _asm generates adam_amd64.s and adam_stub_amd64.go, the SIMD
// kernel of package adam, with avo. Run it through `go generate` in the
// parent package (`make generate`); it is its own module so that avo never
// becomes a dependency of Keen.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	adam()
	Generate()
}

// adam emits adamAVX2, eight floats a step. c holds the broadcast
// constants: norm, alpha, 1-alpha, beta, 1-beta, lr, eps, 1-post.
func adam() {
	TEXT("adamAVX2", NOSPLIT, "func(x, grad, v, h, nx, nv, nh *float32, n int, c *[8]float32)")
	Doc("adamAVX2 runs the Adam update on n floats (a multiple of 8); see stepGeneric.")
	ptrs := []Register{}
	for _, name := range []string{"x", "grad", "v", "h", "nx", "nv", "nh"} {
		ptrs = append(ptrs, Load(Param(name), GP64()))
	}
	x, g, v, h, nx, nv, nh := ptrs[0], ptrs[1], ptrs[2], ptrs[3], ptrs[4], ptrs[5], ptrs[6]
	n := Load(Param("n"), GP64())
	c := Load(Param("c"), GP64())
	norm, alpha, oma, beta, omb, lr, eps, omp := Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15
	for i, r := range []VecPhysical{norm, alpha, oma, beta, omb, lr, eps, omp} {
		VBROADCASTSS(Mem{Base: c, Disp: 4 * i}, r)
	}
	off := GP64()
	XORQ(off, off)
	SHLQ(U8(2), n)
	at := func(p Register) Mem { return Mem{Base: p, Index: off, Scale: 1} }
	Label("adam_loop")
	CMPQ(off, n)
	JGE(LabelRef("adam_done"))
	X, G, V, H, T := Y0, Y1, Y2, Y3, Y4
	VMOVUPS(at(x), X)
	VMOVUPS(at(g), G)
	VFMADD231PS(X, norm, G) // g += norm·x
	VMULPS(at(v), alpha, V) // v = alpha·v
	VFMADD231PS(G, oma, V)  // v += (1-alpha)·g
	VMULPS(G, G, T)         // g²
	VMULPS(at(h), beta, H)  // h = beta·h
	VFMADD231PS(T, omb, H)  // h += (1-beta)·g²
	VMOVUPS(V, at(nv))
	VMOVUPS(H, at(nh))
	VSQRTPS(H, T)     // √h
	VADDPS(eps, T, T) // √h + eps
	VMULPS(V, lr, V)  // lr·v
	VDIVPS(T, V, V)   // lr·v / (√h + eps)
	VSUBPS(V, X, X)   // x - ...
	VMULPS(omp, X, X) // (1-post)·(...)
	VMOVUPS(X, at(nx))
	ADDQ(U32(32), off)
	JMP(LabelRef("adam_loop"))
	Label("adam_done")
	VZEROUPPER()
	RET()
}
