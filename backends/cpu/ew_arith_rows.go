package cpu

import "github.com/keenml/keen/backends/cpu/internal/vecmath"

// Row functions of the hot binary ops, written out so that each loop is a
// plain indexed loop the compiler can bounds-check-eliminate. In all of
// them an operand of length 1 is a broadcast scalar (see ew_broadcast.go).
// Float32 rows go to the vecmath kernels where one computes the same
// IEEE operation.

// ewRowF32 runs a float32 row with vecmath: same (equal lengths), or
// scalar with the broadcast operand (b, or a when the op commutes). It
// reports whether T is float32 and the shape had a kernel.
func ewRowF32[T any](o, a, b []T, same func(o, a, b []float32), scalar func(o, x []float32, s float32), commutes bool) bool {
	of, ok := any(o).([]float32)
	if !ok {
		return false
	}
	af, bf := any(a).([]float32), any(b).([]float32)
	switch {
	case len(af) == len(of) && len(bf) == len(of):
		same(of, af, bf)
	case scalar != nil && len(bf) == 1 && len(af) == len(of):
		scalar(of, af, bf[0])
	case scalar != nil && commutes && len(af) == 1 && len(bf) == len(of):
		scalar(of, bf, af[0])
	default:
		return false
	}
	return true
}

// ewSubScalarF32 is a - s as a + (-s), the same IEEE result.
func ewSubScalarF32(o, a []float32, s float32) { vecmath.AddScalar(o, a, -s) }

// o (n), a (n|1), b (n|1)
func ewAddRow[T ewNum](o, a, b []T) {
	if ewRowF32(o, a, b, vecmath.Add, vecmath.AddScalar, true) {
		return
	}
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x + b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] + y
		}
	}
}

func ewSubRow[T ewNum](o, a, b []T) {
	if ewRowF32(o, a, b, vecmath.Sub, ewSubScalarF32, false) {
		return
	}
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x - b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] - y
		}
	}
}

func ewMulRow[T ewNum](o, a, b []T) {
	if ewRowF32(o, a, b, vecmath.Mul, vecmath.MulScalar, true) {
		return
	}
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x * b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] * y
		}
	}
}

// ewDivRow is float division (IEEE: x/0 is ±Inf or NaN).
func ewDivRow[T ewFloat](o, a, b []T) {
	if ewRowF32(o, a, b, vecmath.Div, nil, false) {
		return
	}
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] / b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x / b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] / y
		}
	}
}

// ewIntDiv truncates toward zero; division by zero gives 0 instead of the
// Go runtime panic (the result is undefined in ONNX).
func ewIntDiv[T ewInt](x, y T) T {
	if y == 0 {
		return 0
	}
	return x / y
}

func ewMaxRow[T ewNum](o, a, b []T) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = max(a[i], b[i])
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = max(x, b[i])
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = max(a[i], y)
		}
	}
}

func ewMinRow[T ewNum](o, a, b []T) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = min(a[i], b[i])
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = min(x, b[i])
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = min(a[i], y)
		}
	}
}

// Comparisons: Greater and GreaterOrEqual swap operands into Less and
// LessOrEqual.
func ewEqualRow[T comparable](o []bool, a, b []T) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] == b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x == b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] == y
		}
	}
}

func ewLessRow[T ewNum](o []bool, a, b []T) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] < b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x < b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] < y
		}
	}
}

func ewLessEqRow[T ewNum](o []bool, a, b []T) {
	switch {
	case len(a) == len(o) && len(b) == len(o):
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] <= b[i]
		}
	case len(a) == 1:
		x, b := a[0], b[:len(o)]
		for i := range o {
			o[i] = x <= b[i]
		}
	default:
		y, a := b[0], a[:len(o)]
		for i := range o {
			o[i] = a[i] <= y
		}
	}
}
