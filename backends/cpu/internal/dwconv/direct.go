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
	for k, r := range direct3Lanes(w, 8) {
		for l := r[0]; l < r[1]; l++ {
			m[k][l] = -1
		}
	}
	return m
}

// direct3Masks16 is direct3Masks for 16-float vectors, as lane bit masks.
func direct3Masks16(w int) [9]uint16 {
	var m [9]uint16
	for k, r := range direct3Lanes(w, 16) {
		for l := r[0]; l < r[1]; l++ {
			m[k] |= 1 << l
		}
	}
	return m
}

// direct3Lanes is the lanes [from, to) each of direct3Masks' nine masks
// sets, for vectors of the given lanes: the first vector's shift 0 skips
// lane 0 (left of the plane); the last vector holds n outputs, and its
// shift 2 reads past the row in its last one.
func direct3Lanes(w, lanes int) [9][2]int {
	n := w - (w-1)/lanes*lanes
	return [9][2]int{{1, lanes}, {0, lanes}, {0, lanes}, {0, n}, {0, n}, {0, n - 1}, {1, n}, {0, n}, {0, n - 1}}
}

// direct3Generic is Direct3 in plain Go over output rows [r0, r1), summing
// in the kernels' order: the even taps onto the bias, the odd ones apart,
// then both.
func direct3Generic(dst, src, k []float32, bias, lo, hi float32, h, w, r0, r1 int) {
	direct3Strided(dst, src, k, bias, lo, hi, h, w, 1, r0, r1)
}

// direct3Strided computes output rows [r0, r1) of a 3x3 depthwise plane
// with the given stride and padding 1 (output width w/stride) from the
// unpadded h×w plane src: the Go twin of both kernels.
func direct3Strided(dst, src, k []float32, bias, lo, hi float32, h, w, stride, r0, r1 int) {
	at := func(r, c int) float32 {
		if r < 0 || r >= h || c < 0 || c >= w {
			return 0
		}
		return src[r*w+c]
	}
	ow := w / stride
	for o := r0; o < r1; o++ {
		for x := range ow {
			a0, a1 := bias, float32(0)
			for t := range 9 {
				v := k[t] * at(stride*o+t/3-1, stride*x+t%3-1)
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
			dst[o*ow+x] = v
		}
	}
}

// HasDirect3s2 reports whether Direct3s2Planes runs on this CPU (it
// needs AVX-512; callers take the phase-plane path otherwise).
func HasDirect3s2() bool { return useAVX512 }

// Direct3s2Planes is Direct3Planes for a stride of 2: n contiguous h×w
// input planes (h and w even) give n (h/2)×(w/2) output planes,
//
//	dst[o·(w/2)+x] = min(max(bias + Σ_{i,j<3} k[3i+j]·src(2o+i-1, 2x+j-1), lo), hi)
//
// src() zero outside the plane, with no copy of it into phase planes: the
// kernel deinterleaves each row's columns in registers. It panics when a
// slice is too short, h or w is odd, w > MaxDirectWidth or the CPU has no
// AVX-512 (HasDirect3s2).
func Direct3s2Planes(dst, src, k, bias []float32, lo, hi float32, n, h, w int) {
	if n <= 0 || h <= 0 || w <= 0 {
		return
	}
	oh, ow := h/2, w/2
	if !useAVX512 || h%2 != 0 || w%2 != 0 || w > MaxDirectWidth || len(k) < 9*n || len(src) < n*h*w ||
		len(dst) < n*oh*ow || bias != nil && len(bias) < n {
		panic(fmt.Sprintf("dwconv: Direct3s2Planes: %d planes of %d×%d: src %d, dst %d, %d weights, %d biases (AVX-512 %v)",
			n, h, w, len(src), len(dst), len(k), len(bias), useAVX512))
	}
	masks := direct3s2Masks(w)
	var zeroBias float32
	bp, step := &zeroBias, 0
	if bias != nil {
		bp, step = &bias[0], 4
	}
	direct3s2AVX512(&dst[0], &src[0], &k[0], bp, step, lo, hi, n, h, w, &masks, &deinterleave, &zeroRow[0])
}

// deinterleave holds the even (0, 2, ..., 30) and odd (1, 3, ..., 31)
// lane indices over two 16-float vectors.
var deinterleave = func() (d [32]int32) {
	for l := range 16 {
		d[l], d[16+l] = int32(2*l), int32(2*l+1)
	}
	return d
}()

// direct3s2Masks builds direct3s2AVX512's lane masks for rows of w input
// floats: per vector class (0 the first of several, 1 the last, 2 the only
// one), the masks of its four loads (input columns 2x-1+j, 2x+15+j,
// 2x+1+j, 2x+17+j for lane j, x the vector's first output) that keep the
// columns inside the row, and its store mask (the outputs it has).
func direct3s2Masks(w int) [15]uint16 {
	var m [15]uint16
	ow := w / 2
	lastX := (ow - 1) / 16 * 16
	for set, x0 := range []int{0, lastX, 0} {
		for j, b := range []int{-1, 15, 1, 17} {
			for l := range 16 {
				if c := 2*x0 + b + l; c >= 0 && c < w {
					m[5*set+j] |= 1 << l
				}
			}
		}
		for l := range min(16, ow-x0) {
			m[5*set+4] |= 1 << l
		}
	}
	return m
}
