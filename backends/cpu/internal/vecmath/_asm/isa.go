package main

import (
	"fmt"
	"go/constant"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// isa is one vector instruction set the kernels are generated for.
type isa struct {
	name  string // kernel name suffix
	lanes int    // float32 lanes per vector
	vec   func() reg.VecVirtual
}

var (
	avx2   = isa{name: "AVX2", lanes: 8, vec: YMM}
	avx512 = isa{name: "AVX512", lanes: 16, vec: ZMM}
)

// Comparison predicates of VCMPPS.
const (
	cmpEQ    = 0x00 // ordered, quiet
	cmpLT    = 0x01 // ordered, signalling
	cmpUnord = 0x03
	cmpNGE   = 0x09 // not >=: true for NaN
	cmpGE    = 0x0d
)

// gen emits code for one ISA: every helper allocates a fresh virtual
// register for its result, so the bodies read as straight-line math.
type gen struct {
	isa
	consts map[string]constant.Value
}

func newGen(s isa, consts map[string]constant.Value) *gen { return &gen{isa: s, consts: consts} }

// vecData holds the constant vectors emitted so far, by name.
var vecData = map[string]Mem{}

// bits returns a read-only vector with every lane set to b.
func (g *gen) bits(b uint32) Mem {
	name := fmt.Sprintf("c%d_%08x", g.lanes, b)
	if m, ok := vecData[name]; ok {
		return m
	}
	m := GLOBL(name, RODATA|NOPTR)
	for i := range g.lanes {
		DATA(4*i, U32(b))
	}
	vecData[name] = m
	return m
}

func (g *gen) f(v float32) Mem { return g.bits(math.Float32bits(v)) }

// kv is the float constant name of consts.go.
func (g *gen) kv(name string) float32 {
	c, ok := g.consts[name]
	if !ok {
		panic("no constant " + name)
	}
	v, _ := constant.Float32Val(constant.ToFloat(c))
	return v
}

// k is the float constant name of consts.go as a vector.
func (g *gen) k(name string) Mem { return g.f(g.kv(name)) }

// ki is the integer constant name of consts.go as a vector of raw bits.
func (g *gen) ki(name string) Mem {
	v, ok := constant.Uint64Val(g.consts[name])
	if !ok {
		panic("no integer constant " + name)
	}
	return g.bits(uint32(v))
}

func (g *gen) v() reg.VecVirtual { return g.vec() }

func (g *gen) load(m Op) reg.VecVirtual {
	r := g.v()
	VMOVUPS(m, r)
	return r
}

func (g *gen) zero() reg.VecVirtual {
	r := g.v()
	g.xorInto(r, r, r)
	return r
}

func (g *gen) xorInto(a Op, b, r reg.VecVirtual) {
	if g.lanes == 16 {
		VPXORD(a, b, r)
	} else {
		VXORPS(a, b, r)
	}
}

type op3 func(...Op)

// bin emits r = f(a, b) for a three-operand instruction (a may be memory).
func (g *gen) bin(f op3, a Op, b reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	f(a, b, r)
	return r
}

func (g *gen) mul(a Op, b reg.VecVirtual) reg.VecVirtual { return g.bin(VMULPS, a, b) }
func (g *gen) add(a Op, b reg.VecVirtual) reg.VecVirtual { return g.bin(VADDPS, a, b) }

// sub is a - b, div a / b.
func (g *gen) sub(a reg.VecVirtual, b Op) reg.VecVirtual { return g.bin(VSUBPS, b, a) }
func (g *gen) div(a reg.VecVirtual, b Op) reg.VecVirtual { return g.bin(VDIVPS, b, a) }

// max and min return a where either operand is NaN.
func (g *gen) max(a Op, b reg.VecVirtual) reg.VecVirtual { return g.bin(VMAXPS, a, b) }
func (g *gen) min(a Op, b reg.VecVirtual) reg.VecVirtual { return g.bin(VMINPS, a, b) }

// atLeast and atMost clamp x by the constant c, keeping NaN lanes NaN
// (the instructions return their first operand when either is NaN).
func (g *gen) atLeast(x reg.VecVirtual, c Mem) reg.VecVirtual { return g.max(x, g.load(c)) }
func (g *gen) atMost(x reg.VecVirtual, c Mem) reg.VecVirtual  { return g.min(x, g.load(c)) }

func (g *gen) and(a Op, b reg.VecVirtual) reg.VecVirtual {
	if g.lanes == 16 {
		return g.bin(VPANDD, a, b)
	}
	return g.bin(VANDPS, a, b)
}

func (g *gen) or(a Op, b reg.VecVirtual) reg.VecVirtual {
	if g.lanes == 16 {
		return g.bin(VPORD, a, b)
	}
	return g.bin(VORPS, a, b)
}

func (g *gen) xor(a Op, b reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	g.xorInto(a, b, r)
	return r
}

// Integer lanes: iadd a + b, isub a - b, shifts by an immediate.
func (g *gen) iadd(a Op, b reg.VecVirtual) reg.VecVirtual { return g.bin(VPADDD, a, b) }
func (g *gen) isub(a reg.VecVirtual, b Op) reg.VecVirtual { return g.bin(VPSUBD, b, a) }
func (g *gen) shl(n uint8, a reg.VecVirtual) reg.VecVirtual {
	return g.bin(VPSLLD, U8(n), a)
}
func (g *gen) sar(n uint8, a reg.VecVirtual) reg.VecVirtual {
	return g.bin(VPSRAD, U8(n), a)
}

func (g *gen) toInt(a reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	VCVTPS2DQ(a, r)
	return r
}

func (g *gen) toFloat(a reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	VCVTDQ2PS(a, r)
	return r
}

// roundEven rounds each lane to the nearest integer, ties to even.
func (g *gen) roundEven(a reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	if g.lanes == 16 {
		VRNDSCALEPS(U8(0), a, r)
	} else {
		VROUNDPS(U8(0), a, r)
	}
	return r
}

// fmaInto sets acc = m·acc + c.
func (g *gen) fmaInto(acc, m reg.VecVirtual, c Op) { VFMADD213PS(c, m, acc) }

// horner evaluates Σ c_i x^i with coefficients named cs[0] (constant term)
// to cs[n-1].
func (g *gen) horner(x reg.VecVirtual, cs ...string) reg.VecVirtual {
	acc := g.load(g.k(cs[len(cs)-1]))
	for i := len(cs) - 2; i >= 0; i-- {
		g.fmaInto(acc, x, g.k(cs[i]))
	}
	return acc
}

// cmp returns the lane mask of a pred b: a vector on AVX2, a K register on
// AVX-512.
func (g *gen) cmp(pred uint8, a reg.VecVirtual, b Op) Op {
	var m Op
	if g.lanes == 16 {
		m = K()
	} else {
		m = g.v()
	}
	VCMPPS(U8(pred), b, a, m)
	return m
}

// blend returns m ? t : f lane by lane.
func (g *gen) blend(m, t Op, f reg.VecVirtual) reg.VecVirtual {
	r := g.v()
	if g.lanes == 16 {
		VBLENDMPS(t, f, m, r)
	} else {
		VBLENDVPS(m, t, f, r)
	}
	return r
}

// Bit patterns used by several kernels.
const (
	signBit = 0x80000000
	absMask = 0x7fffffff
)

// broadcastParam broadcasts the float32 parameter name into r straight
// from memory. Loading it first with MOVSS, a legacy-SSE instruction, stalls
// for hundreds of cycles when AVX-512 code (the GEMM's, which uses Z16-Z31)
// left upper register state that VZEROUPPER does not clear: the CPU
// profile of MobileNetV2's conv epilogues showed it.
func broadcastParam(name string, r reg.VecVirtual) {
	p, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	VBROADCASTSS(p.Addr, r)
}
