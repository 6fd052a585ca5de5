package cpu

// Row functions of the hot binary ops, written out so that each loop is a
// plain indexed loop the compiler can bounds-check-eliminate. In all of
// them an operand of length 1 is a broadcast scalar (see ew_broadcast.go).

// o (n), a (n|1), b (n|1)
func ewAddRow[T ewNum](o, a, b []T) {
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
