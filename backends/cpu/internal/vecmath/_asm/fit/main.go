// Command fit derives the polynomial coefficients of package vecmath's
// approximations with the Remez exchange algorithm (weighted minimax, the
// weight turning each fit's error into the relative error of the final
// function), and prints them rounded to float32 with their fit error.
//
//	go run ./fit            (from the _asm module)
package main

import (
	"fmt"
	"math"
	"math/big"
)

// problem is one fit: target ≈ Σ c_i v(x)^i on [lo, hi], error weighted by w.
type problem struct {
	name   string
	lo, hi float64
	n      int                   // number of coefficients
	v      func(float64) float64 // the polynomial's variable
	target func(float64) float64
	weight func(float64) float64
}

// tailP is the p of t = 1/(1+p·z) in the tail fits: a power of two, so
// that p·z is exact.
const tailP = 0.5

func main() {
	for _, p := range problems() {
		c, e := remez(p)
		fmt.Printf("%s: max weighted error %.3g (%.2f ulp of 2^-24)\n", p.name, e, e*(1<<24))
		for i, v := range c {
			f := float32(v)
			fmt.Printf("\tc%d = %.9g (0x%08x)\n", i, f, math.Float32bits(f))
		}
	}
}

func problems() []problem {
	id := func(x float64) float64 { return x }
	sq := func(x float64) float64 { return x * x }
	return []problem{{
		// e^r = 1 + r + r²·q(r), |r| ≤ ln2/2
		name: "exp q", lo: -math.Ln2 / 2, hi: math.Ln2 / 2, n: 5, v: id,
		target: func(r float64) float64 {
			if math.Abs(r) < 1e-4 {
				return 0.5 + r/6 + r*r/24
			}
			return (math.Expm1(r) - r) / (r * r)
		},
		weight: func(r float64) float64 { return r * r / math.Exp(r) },
	}, {
		// log(1+f) = f - f²/2 + f³·P(f), √½ ≤ 1+f < √2
		name: "log P", lo: math.Sqrt2/2 - 1, hi: math.Sqrt2 - 1, n: 8, v: id,
		target: func(f float64) float64 {
			if math.Abs(f) < 1e-4 {
				return 1.0/3 - f/4 + f*f/5
			}
			return (math.Log1p(f) - f + f*f/2) / (f * f * f)
		},
		weight: func(f float64) float64 {
			if f == 0 {
				return 0
			}
			return f * f * f / math.Log1p(f)
		},
	}, {
		// tanh x = x + x³·P(x²), |x| ≤ 0.625
		name: "tanh P", lo: 0, hi: 0.625, n: 5, v: sq,
		target: func(x float64) float64 {
			if x < 1e-3 {
				return -1.0/3 + 2*x*x/15 - 17*x*x*x*x/315
			}
			return (math.Tanh(x) - x) / (x * x * x)
		},
		weight: func(x float64) float64 {
			if x == 0 {
				return 0
			}
			return x * x * x / math.Tanh(x)
		},
	}, {
		// erf x = x + x·P(x²), |x| ≤ 1
		name: "erf P", lo: 0, hi: 1, n: 7, v: sq,
		target: func(x float64) float64 {
			if x < 1e-6 {
				return 2/math.SqrtPi - 1
			}
			return math.Erf(x)/x - 1
		},
		weight: func(x float64) float64 {
			if x < 1e-6 {
				return 1
			}
			return x / math.Erf(x)
		},
	},
		// erfc z = e^{-z²}·t·Q(t), t = 1/(1+p·z), 1 ≤ z ≤ 4 (the tail of erf)
		tail("erfc Q", tailP, 1, 4, 7, func(z float64) float64 { return math.Erfc(z) * math.Exp(z*z) }),
		// Φ(-a) = e^{-a²/2}·t·Q(t), t = 1/(1+p·a), 0.75 ≤ a ≤ 14.5 (the tail of gelu)
		tail("gelu Q", tailP, 0.75, 14.5, 10, func(a float64) float64 {
			return math.Erfc(a/math.Sqrt2) / 2 * math.Exp(a*a/2)
		}),
	}
}

// tail fits f(z) = t·Q(t), t = 1/(1+p·z), for z in [zlo, zhi], in relative error.
func tail(name string, p, zlo, zhi float64, n int, f func(float64) float64) problem {
	z := func(t float64) float64 { return (1/t - 1) / p }
	return problem{name: name, lo: 1 / (1 + p*zhi), hi: 1 / (1 + p*zlo), n: n,
		v:      func(t float64) float64 { return t },
		target: func(t float64) float64 { return f(z(t)) / t },
		weight: func(t float64) float64 { return t / f(z(t)) },
	}
}

// remez returns the weighted minimax coefficients and their error.
func remez(p problem) ([]float64, float64) {
	m := p.n + 1
	ref := make([]float64, m)
	for j := range ref {
		ref[j] = (p.lo+p.hi)/2 - (p.hi-p.lo)/2*math.Cos(math.Pi*float64(j)/float64(m-1))
	}
	var c []float64
	var emax float64
	for iter := 0; iter < 60; iter++ {
		var lev float64
		c, lev = solve(p, ref)
		var ext []float64
		ext, emax = extrema(p, c)
		if len(ext) == m {
			ref = ext
		}
		if math.Abs(emax/math.Abs(lev)-1) < 1e-4 && iter > 2 {
			break
		}
	}
	return c, emax
}

// solve finds c and E with w(x_j)(g(x_j) - P(x_j)) = (-1)^j E on the reference.
func solve(p problem, ref []float64) ([]float64, float64) {
	m := len(ref)
	const prec = 256
	a := make([][]*big.Float, m)
	for j, x := range ref {
		row := make([]*big.Float, m+1)
		v, pw := p.v(x), 1.0
		for i := 0; i < p.n; i++ {
			row[i] = new(big.Float).SetPrec(prec).SetFloat64(pw)
			pw *= v
		}
		s := 1.0
		if j%2 == 1 {
			s = -1
		}
		w := p.weight(x)
		if w == 0 {
			w = 1e-300
		}
		row[p.n] = new(big.Float).SetPrec(prec).SetFloat64(s / w)
		row[m] = new(big.Float).SetPrec(prec).SetFloat64(p.target(x))
		a[j] = row
	}
	for col := 0; col < m; col++ {
		piv := col
		for r := col + 1; r < m; r++ {
			if new(big.Float).Abs(a[r][col]).Cmp(new(big.Float).Abs(a[piv][col])) > 0 {
				piv = r
			}
		}
		a[col], a[piv] = a[piv], a[col]
		for r := 0; r < m; r++ {
			if r == col || a[r][col].Sign() == 0 {
				continue
			}
			f := new(big.Float).SetPrec(prec).Quo(a[r][col], a[col][col])
			for k := col; k <= m; k++ {
				a[r][k].Sub(a[r][k], new(big.Float).SetPrec(prec).Mul(f, a[col][k]))
			}
		}
	}
	out := make([]float64, m)
	for i := range out {
		out[i], _ = new(big.Float).Quo(a[i][m], a[i][i]).Float64()
	}
	return out[:p.n], out[p.n]
}

// errAt is the weighted error of c at x.
func errAt(p problem, c []float64, x float64) float64 {
	v, s := p.v(x), 0.0
	for i := len(c) - 1; i >= 0; i-- {
		s = s*v + c[i]
	}
	return p.weight(x) * (p.target(x) - s)
}

// extrema returns the alternating extrema of the error on a dense grid
// (one per sign run, trimmed to n+1) and the largest |error|.
func extrema(p problem, c []float64) ([]float64, float64) {
	const grid = 40000
	var xs, es []float64
	emax := 0.0
	for k := 0; k <= grid; k++ {
		x := (p.lo+p.hi)/2 - (p.hi-p.lo)/2*math.Cos(math.Pi*float64(k)/grid)
		e := errAt(p, c, x)
		emax = max(emax, math.Abs(e))
		if n := len(es); n > 0 && (es[n-1] < 0) == (e < 0) {
			if math.Abs(e) > math.Abs(es[n-1]) {
				xs[n-1], es[n-1] = x, e
			}
			continue
		}
		xs, es = append(xs, x), append(es, e)
	}
	for len(xs) > p.n+1 {
		if math.Abs(es[0]) < math.Abs(es[len(es)-1]) {
			xs, es = xs[1:], es[1:]
		} else {
			xs, es = xs[:len(xs)-1], es[:len(es)-1]
		}
	}
	return xs, emax
}
