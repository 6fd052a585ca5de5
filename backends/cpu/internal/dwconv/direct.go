package dwconv

import "fmt"

// Direct3 computes the h×w output plane dst of a 3x3 depthwise
// convolution with stride 1 and padding 1 straight from the unpadded
// h×w input plane src, and clamps it:
//
//	dst[o·w+x] = min(max(bias + Σ_{i,j<3} k[3i+j]·src(o+i-1, x+j-1), lo), hi)
//
// src() is zero outside the plane, which the kernel gets from masked loads
// and a zero row rather than from a padded copy of the plane (the copy
// cost as much as the taps on MobileNet's 7² and 14² planes). NaN sums are
// kept. Direct3 panics when a slice is too short or w > MaxDirectWidth.
func Direct3(dst, src, k []float32, bias, lo, hi float32, h, w int) {
	Direct3Planes(dst, src, k, []float32{bias}, lo, hi, 1, h, w, 0, h)
}

// Direct3Planes is Direct3 over output rows [r0, r1) of n contiguous
// planes (plane c at src[c·h·w:] and dst[c·h·w:], weights k[9c:9c+9], bias
// bias[c], or 0 when bias is nil), in one kernel call where the CPU has
// AVX-512. Row ranges let threads share the planes by rows, so that each
// keeps the rows it wrote in its own cache for the next layer.
func Direct3Planes(dst, src, k, bias []float32, lo, hi float32, n, h, w, r0, r1 int) {
	if n <= 0 || h <= 0 || w <= 0 || r0 >= r1 {
		return
	}
	plane := h * w
	if w > MaxDirectWidth || r0 < 0 || r1 > h || len(k) < 9*n || len(src) < n*plane || len(dst) < n*plane ||
		bias != nil && len(bias) < n {
		panic(fmt.Sprintf("dwconv: Direct3Planes: %d planes of %d×%d, rows [%d,%d): src %d, dst %d, %d weights, %d biases",
			n, h, w, r0, r1, len(src), len(dst), len(k), len(bias)))
	}
	if useAVX512 {
		masks := direct3Masks16(w)
		var zeroBias float32
		bp, step := &zeroBias, 0
		if bias != nil {
			bp, step = &bias[0], 4
		}
		direct3AVX512(&dst[r0*w], &src[0], &k[0], bp, step, lo, hi, n, h, w, r0, r1, &masks, &zeroRow[0])
		return
	}
	for c := range n {
		var b float32
		if bias != nil {
			b = bias[c]
		}
		direct3Rows(dst[c*plane:], src[c*plane:], k[9*c:], b, lo, hi, h, w, r0, r1)
	}
}

// direct3Rows is rows [r0, r1) of one plane through the AVX2 kernel or
// the Go twin.
func direct3Rows(dst, src, k []float32, bias, lo, hi float32, h, w, r0, r1 int) {
	if !useAsm {
		direct3Generic(dst, src, k, bias, lo, hi, h, w, r0, r1)
		return
	}
	var ks [9]float32
	copy(ks[:], k)
	masks := direct3Masks(w)
	var rows [3 * directRows]*float32
	for o0 := r0; o0 < r1; o0 += directRows {
		n := min(directRows, r1-o0)
		for o := range n {
			for i := range 3 {
				r := o0 + o + i - 1
				if r < 0 || r >= h {
					rows[3*o+i] = &zeroRow[0]
				} else {
					rows[3*o+i] = &src[r*w]
				}
			}
		}
		direct3AVX2(&dst[o0*w], &rows[0], &ks, bias, lo, hi, n, w, &masks)
	}
}

// MaxDirectWidth is the widest plane Direct3 takes.
const MaxDirectWidth = 1024

// directRows is how many output rows one call of the kernel runs.
const directRows = 32

// zeroRow stands in for the rows above and below the plane.
var zeroRow [MaxDirectWidth + 16]float32

// direct3Masks builds the kernel's load masks for rows of w floats: for
// column shifts j = 0, 1, 2 (input column x+j-1), the first vector's
// (lane 0 of shift 0 is left of the plane), the last vector's (lanes past
// the row, and its last output's shift 2), and the masks when one vector
// is the whole row. Shift 1 of a set is also its store mask.
func direct3Masks(w int) [9][8]int32 {
	var m [9][8]int32
	set := func(s, j, from, to int) {
		for l := from; l < to; l++ {
			m[3*s+j][l] = -1
		}
	}
	n := w - (w-1)/8*8 // outputs of the last vector
	set(0, 0, 1, 8)
	set(0, 1, 0, 8)
	set(0, 2, 0, 8)
	set(1, 0, 0, n)
	set(1, 1, 0, n)
	set(1, 2, 0, n-1)
	set(2, 0, 1, n)
	set(2, 1, 0, n)
	set(2, 2, 0, n-1)
	return m
}

// direct3Masks16 is direct3Masks for 16-float vectors, as lane bit masks.
func direct3Masks16(w int) [9]uint16 {
	var m [9]uint16
	set := func(s, j, from, to int) {
		for l := from; l < to; l++ {
			m[3*s+j] |= 1 << l
		}
	}
	n := w - (w-1)/16*16
	set(0, 0, 1, 16)
	set(0, 1, 0, 16)
	set(0, 2, 0, 16)
	set(1, 0, 0, n)
	set(1, 1, 0, n)
	set(1, 2, 0, n-1)
	set(2, 0, 1, n)
	set(2, 1, 0, n)
	set(2, 2, 0, n-1)
	return m
}

// direct3Generic is Direct3 in plain Go, summing in the kernel's order:
// the even taps onto the bias, the odd ones apart, then both.
func direct3Generic(dst, src, k []float32, bias, lo, hi float32, h, w, r0, r1 int) {
	at := func(r, c int) float32 {
		if r < 0 || r >= h || c < 0 || c >= w {
			return 0
		}
		return src[r*w+c]
	}
	for o := r0; o < r1; o++ {
		for x := range w {
			a0, a1 := bias, float32(0)
			for t := range 9 {
				v := k[t] * at(o+t/3-1, x+t%3-1)
				if t%2 == 0 {
					a0 += v
				} else {
					a1 += v
				}
			}
			v := a0 + a1
			if v < lo {
				v = lo
			}
			if v > hi {
				v = hi
			}
			dst[o*w+x] = v
		}
	}
}
