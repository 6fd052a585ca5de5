// Command _asm generates winograd_amd64.s and winograd_stub_amd64.go, the
// SIMD tile transforms of package winograd, with avo. Run it through `go
// generate` in the parent package (`make generate`); it is its own module
// so that avo never becomes a dependency of Keen.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!purego")
	zs := []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}
	ys := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}
	// Float constants as their bits: avo prints F32(4) as the integer $(4).
	four := ConstData("wino4", U32(math.Float32bits(4)))
	five := ConstData("wino5", U32(math.Float32bits(5)))
	two := ConstData("wino2", U32(math.Float32bits(2)))
	eight := ConstData("wino8", U32(math.Float32bits(8)))
	k := consts{two: two, four: four, five: five, eight: eight}
	input(&vec{name: "AVX512", bytes: 64, r: zs, xor: VPXORD}, k)
	input(&vec{name: "AVX2", bytes: 32, r: ys, xor: VXORPS}, k)
	output(&vec{name: "AVX512", bytes: 64, r: zs, xor: VPXORD}, k)
	output(&vec{name: "AVX2", bytes: 32, r: ys, xor: VXORPS}, k)
	outputPlanes(&vec{name: "AVX512", bytes: 64, r: zs, xor: VPXORD}, k)
	outputPlanes(&vec{name: "AVX2", bytes: 32, r: ys, xor: VXORPS}, k)
	Generate()
}

type consts struct{ two, four, five, eight Mem }

// vec is one vector width: its registers (16 used) and size.
type vec struct {
	name  string
	bytes int
	r     []VecPhysical
	xor   func(...Op)
}

// input1 emits the 1-D input transform Bᵀd in place over d (6 registers),
// with temporaries t (4) and constants c2, c4, c5. The result is in
// d[0], d[1], d[2], d[3], t[2], d[5] (returned in order).
func input1(d, t []VecPhysical, c2, c4, c5 VecPhysical) []VecPhysical {
	t0, t1, t2, t3 := t[0], t[1], t[2], t[3]
	VMOVAPS(d[4], t0)
	VFNMADD231PS(c4, d[2], t0) // t0 = d4 - 4 d2
	VMOVAPS(d[3], t1)
	VFNMADD231PS(c4, d[1], t1) // t1 = d3 - 4 d1
	VSUBPS(d[2], d[4], t2)     // t2 = d4 - d2
	VSUBPS(d[1], d[3], t3)     // t3 = d3 - d1
	VMULPS(c4, d[0], d[0])
	VADDPS(d[4], d[0], d[0])
	VFNMADD231PS(c5, d[2], d[0]) // v0 = 4 d0 + d4 - 5 d2
	VFMADD231PS(c4, d[1], d[5])
	VFNMADD231PS(c5, d[3], d[5]) // v5 = d5 + 4 d1 - 5 d3
	VADDPS(t1, t0, d[1])         // v1 = t0 + t1
	VSUBPS(t1, t0, d[2])         // v2 = t0 - t1
	VMOVAPS(t2, d[3])
	VFMADD231PS(c2, t3, d[3]) // v3 = t2 + 2 t3
	VFNMADD231PS(c2, t3, t2)  // v4 = t2 - 2 t3
	return []VecPhysical{d[0], d[1], d[2], d[3], t2, d[5]}
}

// output1 emits the 1-D output transform Aᵀm over m (6 registers) with
// temporaries t (4) and constants c2, c4, c8; the result is in m[0],
// m[1], m[2], m[5].
func output1(m, t []VecPhysical, c2, c4, c8 VecPhysical) []VecPhysical {
	a, b, c, d := t[0], t[1], t[2], t[3]
	VADDPS(m[2], m[1], a)
	VSUBPS(m[2], m[1], b)
	VADDPS(m[4], m[3], c)
	VSUBPS(m[4], m[3], d)
	VADDPS(a, m[0], m[0])
	VADDPS(c, m[0], m[0]) // o0 = m0 + a + c
	VMOVAPS(b, m[1])
	VFMADD231PS(c2, d, m[1]) // o1 = b + 2d
	VMOVAPS(a, m[2])
	VFMADD231PS(c4, c, m[2]) // o2 = a + 4c
	VADDPS(b, m[5], m[5])
	VFMADD231PS(c8, d, m[5]) // o3 = m5 + b + 8d
	return []VecPhysical{m[0], m[1], m[2], m[5]}
}

// input emits inputV: per vector of lanes, the column pass (Bᵀ d, into a
// stack buffer of 36 vectors) then the row pass (· B, into v).
func input(w *vec, k consts) {
	name := "input" + w.name
	TEXT(name, 0, "func(v *float32, vStride int, x *float32, rowStride, colStride, n int)")
	Doc(fmt.Sprintf("%s is Input over n lanes (a multiple of %d), strides in bytes.", name, w.bytes/4))
	tmp := AllocLocal(36 * w.bytes)
	v := Load(Param("v"), GP64())
	vs := Load(Param("vStride"), GP64())
	x := Load(Param("x"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	n := Load(Param("n"), GP64())
	d, t := w.r[0:6], w.r[6:10]
	c2, c4, c5 := w.r[10], w.r[11], w.r[12]
	VBROADCASTSS(k.two, c2)
	VBROADCASTSS(k.four, c4)
	VBROADCASTSS(k.five, c5)
	col, p := GP64(), GP64()
	Label(name + "_loop")
	CMPQ(n, Imm(0))
	JLE(LabelRef(name + "_done"))
	MOVQ(x, col)
	for j := range 6 {
		MOVQ(col, p)
		for r := range 6 {
			VMOVUPS(Mem{Base: p}, d[r])
			if r < 5 {
				ADDQ(rs, p)
			}
		}
		res := input1(d, t, c2, c4, c5)
		for r, reg := range res {
			VMOVUPS(reg, tmp.Offset((r*6+j)*w.bytes))
		}
		if j < 5 {
			ADDQ(cs, col)
		}
	}
	MOVQ(v, p)
	for r := range 6 {
		for j := range 6 {
			VMOVUPS(tmp.Offset((r*6+j)*w.bytes), d[j])
		}
		res := input1(d, t, c2, c4, c5)
		for _, reg := range res {
			VMOVUPS(reg, Mem{Base: p})
			ADDQ(vs, p)
		}
	}
	ADDQ(Imm(uint64(w.bytes)), x)
	ADDQ(Imm(uint64(w.bytes)), v)
	SUBQ(Imm(uint64(w.bytes/4)), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// output emits outputV: per vector of lanes, the column pass (Aᵀ Z, into
// a stack buffer of 24 vectors) then the row pass (· A, plus bias,
// clamped, into y).
func output(w *vec, k consts) {
	name := "output" + w.name
	TEXT(name, 0, "func(y *float32, rowStride, colStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int)")
	Doc(fmt.Sprintf("%s is Output over n lanes (a multiple of %d), strides in bytes.", name, w.bytes/4))
	tmp := AllocLocal(24 * w.bytes)
	y := Load(Param("y"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("colStride"), GP64())
	z := Load(Param("z"), GP64())
	zs := Load(Param("zStride"), GP64())
	bias := Load(Param("bias"), GP64())
	n := Load(Param("n"), GP64())
	m, t := w.r[0:6], w.r[6:10]
	c2, c4, c8, bv, lo, hi := w.r[10], w.r[11], w.r[12], w.r[13], w.r[14], w.r[15]
	Load(Param("lo"), lo.AsX())
	Load(Param("hi"), hi.AsX())
	VBROADCASTSS(lo.AsX(), lo)
	VBROADCASTSS(hi.AsX(), hi)
	VBROADCASTSS(k.two, c2)
	VBROADCASTSS(k.four, c4)
	VBROADCASTSS(k.eight, c8)
	zs6 := GP64()
	LEAQ(Mem{Base: zs, Index: zs, Scale: 2}, zs6)
	SHLQ(Imm(1), zs6)
	col, p := GP64(), GP64()
	Label(name + "_loop")
	CMPQ(n, Imm(0))
	JLE(LabelRef(name + "_done"))
	MOVQ(z, col)
	for j := range 6 {
		MOVQ(col, p)
		for r := range 6 {
			VMOVUPS(Mem{Base: p}, m[r])
			if r < 5 {
				ADDQ(zs6, p)
			}
		}
		res := output1(m, t, c2, c4, c8)
		for i, reg := range res {
			VMOVUPS(reg, tmp.Offset((i*6+j)*w.bytes))
		}
		if j < 5 {
			ADDQ(zs, col)
		}
	}
	VMOVUPS(Mem{Base: bias}, bv)
	MOVQ(y, col)
	for i := range 4 {
		for j := range 6 {
			VMOVUPS(tmp.Offset((i*6+j)*w.bytes), m[j])
		}
		res := output1(m, t, c2, c4, c8)
		MOVQ(col, p)
		for j, reg := range res {
			VADDPS(bv, reg, reg)
			VMAXPS(reg, lo, reg) // NaN in reg stays
			VMINPS(reg, hi, reg)
			VMOVUPS(reg, Mem{Base: p})
			if j < 3 {
				ADDQ(cs, p)
			}
		}
		if i < 3 {
			ADDQ(rs, col)
		}
	}
	ADDQ(Imm(uint64(w.bytes)), z)
	ADDQ(Imm(uint64(w.bytes)), y)
	ADDQ(Imm(uint64(w.bytes)), bias)
	SUBQ(Imm(uint64(w.bytes/4)), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}

// outputPlanes emits outputPlanesV: Output's arithmetic, but each lane's
// 4x4 block goes to its own plane (lane l at y + l·chanStride, row i at
// + i·rowStride, 4 contiguous floats): per output row the four vectors
// (one per column) are transposed 4x4 within each 128-bit lane, giving
// lanes' rows of 4, stored 16 bytes at a time.
func outputPlanes(w *vec, k consts) {
	name := "outputPlanes" + w.name
	TEXT(name, 0, "func(y *float32, rowStride, chanStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int)")
	Doc(fmt.Sprintf("%s is OutputPlanes over n lanes (a multiple of %d), strides in bytes.", name, w.bytes/4))
	tmp := AllocLocal(24 * w.bytes)
	y := Load(Param("y"), GP64())
	rs := Load(Param("rowStride"), GP64())
	cs := Load(Param("chanStride"), GP64())
	z := Load(Param("z"), GP64())
	zs := Load(Param("zStride"), GP64())
	bias := Load(Param("bias"), GP64())
	n := Load(Param("n"), GP64())
	m, t := w.r[0:6], w.r[6:10]
	c2, c4, c8, bv, lo, hi := w.r[10], w.r[11], w.r[12], w.r[13], w.r[14], w.r[15]
	Load(Param("lo"), lo.AsX())
	Load(Param("hi"), hi.AsX())
	VBROADCASTSS(lo.AsX(), lo)
	VBROADCASTSS(hi.AsX(), hi)
	VBROADCASTSS(k.two, c2)
	VBROADCASTSS(k.four, c4)
	VBROADCASTSS(k.eight, c8)
	zs6 := GP64()
	LEAQ(Mem{Base: zs, Index: zs, Scale: 2}, zs6)
	SHLQ(Imm(1), zs6)
	cs3, cs4 := GP64(), GP64()
	LEAQ(Mem{Base: cs, Index: cs, Scale: 2}, cs3)
	MOVQ(cs, cs4)
	SHLQ(Imm(2), cs4)
	groups := w.bytes / 16 // 128-bit lanes per vector
	col, p := GP64(), GP64()
	Label(name + "_loop")
	CMPQ(n, Imm(0))
	JLE(LabelRef(name + "_done"))
	MOVQ(z, col)
	for j := range 6 {
		MOVQ(col, p)
		for r := range 6 {
			VMOVUPS(Mem{Base: p}, m[r])
			if r < 5 {
				ADDQ(zs6, p)
			}
		}
		res := output1(m, t, c2, c4, c8)
		for i, reg := range res {
			VMOVUPS(reg, tmp.Offset((i*6+j)*w.bytes))
		}
		if j < 5 {
			ADDQ(zs, col)
		}
	}
	VMOVUPS(Mem{Base: bias}, bv)
	MOVQ(y, col)
	for i := range 4 {
		for j := range 6 {
			VMOVUPS(tmp.Offset((i*6+j)*w.bytes), m[j])
		}
		res := output1(m, t, c2, c4, c8)
		for _, reg := range res {
			VADDPS(bv, reg, reg)
			VMAXPS(reg, lo, reg) // NaN in reg stays
			VMINPS(reg, hi, reg)
		}
		// 4x4 transpose per 128-bit lane: res = columns a, b, c, d.
		u0, u1, u2, u3 := t[0], t[1], t[2], t[3]
		VUNPCKLPS(res[1], res[0], u0) // a0 b0 a1 b1
		VUNPCKHPS(res[1], res[0], u1) // a2 b2 a3 b3
		VUNPCKLPS(res[3], res[2], u2) // c0 d0 c1 d1
		VUNPCKHPS(res[3], res[2], u3) // c2 d2 c3 d3
		out := []VecPhysical{m[3], m[4], res[0], res[1]}
		VSHUFPS(Imm(0x44), u2, u0, out[0]) // lane channel 0 of each 4
		VSHUFPS(Imm(0xee), u2, u0, out[1]) // channel 1
		VSHUFPS(Imm(0x44), u3, u1, out[2]) // channel 2
		VSHUFPS(Imm(0xee), u3, u1, out[3]) // channel 3
		MOVQ(col, p)
		for g := range groups {
			for c, reg := range out {
				var dst Mem
				switch c {
				case 0:
					dst = Mem{Base: p}
				case 1:
					dst = Mem{Base: p, Index: cs, Scale: 1}
				case 2:
					dst = Mem{Base: p, Index: cs, Scale: 2}
				default:
					dst = Mem{Base: p, Index: cs3, Scale: 1}
				}
				switch {
				case g == 0:
					VMOVUPS(reg.AsX(), dst)
				case w.bytes == 32:
					VEXTRACTF128(Imm(uint64(g)), reg, dst)
				default:
					VEXTRACTF32X4(Imm(uint64(g)), reg, dst)
				}
			}
			if g < groups-1 {
				ADDQ(cs4, p)
			}
		}
		if i < 3 {
			ADDQ(rs, col)
		}
	}
	ADDQ(Imm(uint64(w.bytes)), z)
	MOVQ(cs4, p)
	SHLQ(Imm(uint64(map[int]int{64: 2, 32: 1}[w.bytes])), p) // lanes·chanStride
	ADDQ(p, y)
	ADDQ(Imm(uint64(w.bytes)), bias)
	SUBQ(Imm(uint64(w.bytes/4)), n)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	RET()
}
