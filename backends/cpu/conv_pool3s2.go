package cpu

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

// convMax3x3s2 max-pools one plane x into y; v holds t.in[2] values.
func convMax3x3s2[T convPoolT](t *convG3, x, y, v []T) {
	in2, out1, out2 := t.in[2], t.out[1], t.out[2]
	v = v[:in2]
	for oh := range out1 {
		yr := y[oh*out2:][:out2]
		hlo, hhi := t.lo[1][oh], t.hi[1][oh]
		if hlo >= hhi {
			clear(yr)
			continue
		}
		sh := oh*2 - t.pb[1]
		copy(v, x[(sh+hlo)*in2:][:in2])
		for kh := hlo + 1; kh < hhi; kh++ {
			r := x[(sh+kh)*in2:][:in2]
			for i := range v {
				v[i] = max(v[i], r[i])
			}
		}
		for ow := range yr {
			wlo, whi := t.lo[2][ow], t.hi[2][ow]
			sw := ow*2 - t.pb[2]
			if wlo == 0 && whi == 3 {
				w := v[sw : sw+3 : sw+3]
				yr[ow] = max(w[0], w[1], w[2])
				continue
			}
			if wlo >= whi {
				var zero T
				yr[ow] = zero
				continue
			}
			best := v[sw+wlo]
			for kw := wlo + 1; kw < whi; kw++ {
				best = max(best, v[sw+kw])
			}
			yr[ow] = best
		}
	}
}
