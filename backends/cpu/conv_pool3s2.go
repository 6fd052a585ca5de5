package cpu

import (
	"github.com/keenml/keen/backends/cpu/internal/dwconv"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
)

// ResNet's stem pool, MaxPool 3x3 with strides 2 over 2-D planes, runs
// vertical first: the maximum of the (up to) three input rows under an
// output row, one pass over whole rows, then of three neighbouring columns
// at every second position. Both passes are tight loops over full-length
// slices; only the first and last output columns (where padding clips the
// window) go through the geometry's bounds. Results are those of
// convMaxPlane bit for bit (the builtin max, NaN propagating).

// is3x3s2 reports whether t is a 2-D window of 3x3 with strides 2 and no
// dilation.
func (t *convG3) is3x3s2() bool {
	return t.in[0] == 1 && t.out[0] == 1 && t.k[0] == 1 && t.k[1] == 3 && t.k[2] == 3 &&
		t.s[1] == 2 && t.s[2] == 2 && t.dil[1] == 1 && t.dil[2] == 1
}

// convMax3x3s2 max-pools one plane x into y; v holds 2·t.in[2]+4 values
// (scratch).
func convMax3x3s2[T convPoolT](t *convG3, x, y, v []T) {
	if xf, ok := any(x).([]float32); ok {
		convMax3x3s2F32(t, xf, any(y).([]float32), any(v).([]float32))
		return
	}
	in2, out1, out2 := t.in[2], t.out[1], t.out[2]
	v = v[:in2]
	for oh := range out1 {
		yr := y[oh*out2:][:out2]
		if !convMax3Rows(t, x, v, oh) {
			clear(yr)
			continue
		}
		for ow := range yr {
			yr[ow] = convMax3Col(t, v, ow)
		}
	}
}

// convMax3Rows sets v to the maximum of the input rows under output row
// oh; false when its window holds none (padding only).
func convMax3Rows[T convPoolT](t *convG3, x, v []T, oh int) bool {
	in2 := t.in[2]
	hlo, hhi := t.lo[1][oh], t.hi[1][oh]
	if hlo >= hhi {
		return false
	}
	sh := oh*2 - t.pb[1]
	copy(v, x[(sh+hlo)*in2:][:in2])
	for kh := hlo + 1; kh < hhi; kh++ {
		r := x[(sh+kh)*in2:][:in2]
		for i := range v {
			v[i] = max(v[i], r[i])
		}
	}
	return true
}

// convMax3Col is output column ow's maximum over the row maxima v.
func convMax3Col[T convPoolT](t *convG3, v []T, ow int) T {
	wlo, whi := t.lo[2][ow], t.hi[2][ow]
	sw := ow*2 - t.pb[2]
	if wlo == 0 && whi == 3 {
		w := v[sw : sw+3 : sw+3]
		return max(w[0], w[1], w[2])
	}
	if wlo >= whi {
		var zero T
		return zero
	}
	best := v[sw+wlo]
	for kw := wlo + 1; kw < whi; kw++ {
		best = max(best, v[sw+kw])
	}
	return best
}

// convMax3x3s2F32 is convMax3x3s2 in vectors: rows whose window holds
// three input rows take the vertical maximum with vecmath.Max3, and the
// columns whose window lies inside the row take the horizontal one from
// the row's even and odd positions (dwconv.EvenRows), again with Max3;
// clipped rows and the end columns go through the generic helpers.
func convMax3x3s2F32(t *convG3, x, y, scratch []float32) {
	in2, out1, out2 := t.in[2], t.out[1], t.out[2]
	v := scratch[:in2]
	// Output columns [c0, c1) have whole windows: 2·ow - pb ≥ 0 and
	// 2·ow - pb + 2 < in2.
	c0 := min(out2, (t.pb[2]+1)/2)
	c1 := max(c0, min(out2, (in2-3+t.pb[2])/2+1))
	n := c1 - c0
	e0, e1 := scratch[in2:][:n+1], scratch[in2+n+1:][:n]
	s0 := 2*c0 - t.pb[2]
	for oh := range out1 {
		yr := y[oh*out2:][:out2]
		hlo, hhi := t.lo[1][oh], t.hi[1][oh]
		switch {
		case hhi-hlo == 3:
			sh := oh*2 - t.pb[1]
			vecmath.Max3(v, x[sh*in2:][:in2], x[(sh+1)*in2:][:in2], x[(sh+2)*in2:][:in2])
		case !convMax3Rows(t, x, v, oh):
			clear(yr)
			continue
		}
		if n > 0 {
			dwconv.EvenRows(e0, n+1, v[s0:], in2, 1, n+1) // v[s0+2i], i ≤ n
			dwconv.EvenRows(e1, n, v[s0+1:], in2, 1, n)   // v[s0+2i+1], i < n
			vecmath.Max3(yr[c0:c1], e0[:n], e1, e0[1:])
		}
		for ow := range c0 {
			yr[ow] = convMax3Col(t, v, ow)
		}
		for ow := c1; ow < out2; ow++ {
			yr[ow] = convMax3Col(t, v, ow)
		}
	}
}
