package dwconv

// tailMask holds eight set lanes then eight clear ones: &tailMask[8-r]
// is the mask of the first r lanes of a vector.
var tailMask = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// Plane computes a whole output plane of a 3x3 (nine-tap) depthwise
// convolution and clamps it, rows×cols values with row stride ds:
//
//	dst[o·ds+x] = min(max(bias + Σ_k w[k]·src[k][o·ss+x], lo), hi)
//
// NaN sums are kept (lo = -Inf, hi = +Inf clamp nothing). len(src) ==
// len(w) == 9; every src[k] must hold (rows-1)·ss + ⌈cols/8⌉·8 values
// (the assembly reads whole vectors) and dst (rows-1)·ds + cols. Plane
// panics otherwise.
func Plane(dst []float32, ds int, src [][]float32, ss int, w []float32, bias, lo, hi float32, rows, cols int) {
	if len(src) != 9 || len(w) != 9 {
		panic("dwconv: Plane: want nine taps")
	}
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = dst[(rows-1)*ds+cols-1]
	need := (rows-1)*ss + (cols+7)&^7
	for _, s := range src {
		_ = s[need-1]
	}
	if !useAsm {
		planeGeneric(dst, ds, src, ss, w, bias, lo, hi, rows, cols)
		return
	}
	var ps [9]*float32
	var ws [9]float32
	for k := range ps {
		ps[k], ws[k] = &src[k][0], w[k]
	}
	planeAsm(dst, &ps, &ws, bias, lo, hi, rows, cols, ss, ds)
}

// planeAsm is split out so that Plane's arrays stay on its stack.
func planeAsm(dst []float32, ps *[9]*float32, ws *[9]float32, bias, lo, hi float32, rows, cols, ss, ds int) {
	plane9AVX2(&dst[0], ps, ws, bias, lo, hi, rows, cols, ss, ds, &tailMask[8-cols&7])
}

// planeGeneric is Plane in plain Go, the twin of the assembly: the sum
// in the assembly's order (taps 0–4 onto the bias, 5–8 apart, then
// added), then the clamp by comparisons.
func planeGeneric(dst []float32, ds int, src [][]float32, ss int, w []float32, bias, lo, hi float32, rows, cols int) {
	for o := range rows {
		for x := range cols {
			t := o*ss + x
			a0 := bias
			for k := range 5 {
				a0 += w[k] * src[k][t]
			}
			a1 := w[5] * src[5][t]
			for k := 6; k < 9; k++ {
				a1 += w[k] * src[k][t]
			}
			v := a0 + a1
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			dst[o*ds+x] = v
		}
	}
}

// Rows copies a block of rows×cols values: dst[o·ds+x] = src[o·ss+x].
// Nothing past the last column of a row is read or written. Rows panics
// when dst or src is too short.
func Rows(dst []float32, ds int, src []float32, ss, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = dst[(rows-1)*ds+cols-1]
	_ = src[(rows-1)*ss+cols-1]
	if !useAsm {
		for o := range rows {
			copy(dst[o*ds:o*ds+cols], src[o*ss:o*ss+cols])
		}
		return
	}
	rowsAVX2(&dst[0], &src[0], rows, cols, ds, ss, &tailMask[8-cols&7])
}

// EvenRows is Even over a block of rows: dst[o·ds+i] = src[o·ss+2i] for
// o < rows, i < n. Nothing past src[(rows-1)·ss+2n-2] is read nor past
// dst[(rows-1)·ds+n-1] written; EvenRows panics when a slice is shorter.
func EvenRows(dst []float32, ds int, src []float32, ss, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	_ = dst[(rows-1)*ds+n-1]
	_ = src[(rows-1)*ss+2*n-2]
	if !useAsm {
		for o := range rows {
			evenGeneric(dst[o*ds:o*ds+n], src[o*ss:])
		}
		return
	}
	r := (n-1)%8 + 1 // outputs of a row's last vector, reading 2r-1 floats
	lo, hi := min(8, 2*r-1), max(0, 2*r-1-8)
	evenRows2AVX2(&dst[0], &src[0], rows, n, ds, ss, &tailMask[8-lo], &tailMask[8-hi], &tailMask[8-r])
}
