package vecmath

// The constants of the approximations, shared by the Go twins and (parsed
// from this file by _asm) the generated assembly. The polynomial
// coefficients are weighted minimax fits from `go run ./fit` in _asm, each
// good to 0.1 ulp or better before float32 evaluation.

// exp: x = n·ln2 + r, |r| ≤ ln2/2, e^r = 1 + r + r²·q(r); the result is
// p·2^n1·2^n2 with n1 = n>>1, n2 = n-n1, both normal scales. Lanes whose
// result is 0 are computed on a harmless argument and replaced, because
// an arithmetic underflow costs a microcode assist of ~100 cycles on
// Intel cores (Go runs without flush-to-zero).
const (
	expZero  = -104 // below this e^x rounds to 0
	siluZero = -110 // below this x·e^x rounds to -0
	expHi    = 89   // above this e^x overflows
	expLog2e = 1.44269504
	expLn2Hi = 0.693359375 // 9 significant bits: n·expLn2Hi is exact
	expLn2Lo = -2.12194440e-4
	expQ0    = 0.49999994
	expQ1    = 0.166665211
	expQ2    = 0.041668389
	expQ3    = 0.00836871006
	expQ4    = 0.00138146128
)

// log: x = 2^e·m, √½ ≤ m < √2, f = m-1, log(1+f) = f - f²/2 + f³·P(f).
const (
	logSqrtHalfBits = 0x3f3504f3 // float32 bits of √½
	logMinNormal    = 1.17549435e-38
	logSubScale     = 8388608 // 2^23 lifts subnormals to normal
	logP0           = 0.333333313
	logP1           = -0.250008196
	logP2           = 0.200012267
	logP3           = -0.166233569
	logP4           = 0.142017573
	logP5           = -0.131601825
	logP6           = 0.12761578
	logP7           = -0.0763449967
)

// tanh: |x| < tanhSmall: x + x³·P(x²); else sign(x)·(1 - 2/(e^{2|x|}+1)),
// with |x| clamped to tanhBig where the result is ±1 in float32.
const (
	tanhSmall = 0.625
	tanhBig   = 9.5
	tanhP0    = -0.333332807
	tanhP1    = 0.133314416
	tanhP2    = -0.0537397154
	tanhP3    = 0.020639088
	tanhP4    = -0.00570498733
)

// erf: |x| < erfSmall: x + x·P(x²); else 1 - erfc(|x|), |x| clamped to
// erfBig where erf is ±1 in float32, and erfc(z) = e^{-z²}·t·Q(t),
// t = 1/(1 + z/2). z² is carried as an exact sum of two floats so that
// e^{-z²} keeps its precision.
const (
	erfSmall = 1
	erfBig   = 4
	tailP    = 0.5 // the p of t = 1/(1+p·z) in both tails: p·z is exact
	erfP0    = 0.128379166
	erfP1    = -0.37612626
	erfP2    = 0.112835884
	erfP3    = -0.0268539172
	erfP4    = 0.00518850051
	erfP5    = -0.000801156391
	erfP6    = 7.8580415e-05
	erfcQ0   = 0.282593101
	erfcQ1   = 0.274493903
	erfcQ2   = 0.295811266
	erfcQ3   = 0.00485111447
	erfcQ4   = 0.428828776
	erfcQ5   = -0.379512012
	erfcQ6   = 0.0928021297
)

// gelu: x·Φ(x) with Φ(x) = (1 + erf(x/√2))/2 while erf's polynomial holds
// (|x|/√2 < 1) and 1 - erf does not cancel (x > -geluSmallNeg); beyond,
// Φ(-a) = e^{-a²/2}·t·Q(t), t = 1/(1 + a/2), with a = |x| clamped to
// geluPosBig above zero (Φ rounds to 1 beyond) and -0 returned below
// -geluBig (x·Φ(x) rounds to -0). The rounding of t is corrected to first
// order with R'(a) = a·R - 1/√(2π), R = Φ(-a)·e^{a²/2}.
const (
	geluSmallNeg = 0.75
	geluSmallPos = 1.4
	geluPosBig   = 6
	geluBig      = 14.4
	sqrtHalf     = 0.707106781
	invSqrt2Pi   = 0.398942280
	geluQ0       = 0.199475959
	geluQ1       = 0.199312016
	geluQ2       = 0.15181905
	geluQ3       = 0.0329268649
	geluQ4       = 0.0147325862
	geluQ5       = -0.319157183
	geluQ6       = 0.246930063
	geluQ7       = 0.114346594
	geluQ8       = -0.216874912
	geluQ9       = 0.0767203346
)
