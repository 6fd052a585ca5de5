package gemm

// packA packs rows [i0, i0+mb) × depth [p0, p0+kb) of alpha·op(A) into dst
// as micro-panels of mr rows: panel r holds, for each depth step, mr
// consecutive values; rows past mb are zero.
func (im *impl) packA(dst []float32, p *problem, i0, mb, p0, kb int) {
	mr := im.mr
	var rows [maxTile][]float32
	for ir := 0; ir < mb; ir += mr {
		n := min(mr, mb-ir)
		d := dst[ir*kb : (ir+mr)*kb]
		if p.transA { // A is k×m: one depth step is a contiguous run of rows
			for q := range kb {
				src := p.a[(p0+q)*p.lda+i0+ir:][:n]
				out := d[q*mr : q*mr+mr]
				scaleCopy(out, src, p.alpha)
				clear(out[n:])
			}
			continue
		}
		if n == mr && im.transposePanel(dst[ir*kb:], p.a[(i0+ir)*p.lda+p0:], p.lda, mr, kb, p.alpha) {
			continue
		}
		for i := range n {
			rows[i] = p.a[(i0+ir+i)*p.lda+p0:][:kb]
		}
		interleave(d, mr, rows[:n], kb, p.alpha)
	}
}

// packB packs depth [p0, p0+kb) × columns [j0, j0+nb) of op(B) into dst as
// micro-panels of nr columns: panel j holds, for each depth step, nr
// consecutive values; columns past nb are zero.
func (im *impl) packB(dst []float32, p *problem, p0, kb, j0, nb int) {
	nr := im.nr
	if p.bPack != nil {
		p.bPack(dst[:ceilDiv(nb, nr)*nr*kb], p0, kb, p.bCol+j0, nb, nr)
		return
	}
	if !p.transB { // B is k×n: read it row by row, a panel-wide run at a time
		full := nb / nr
		if im.packRuns != nil && full > 0 {
			im.packRuns(dst, p.b[p0*p.ldb+j0:], kb, full, p.ldb)
		}
		for q := range kb {
			src := p.b[(p0+q)*p.ldb+j0:][:nb]
			jr := 0
			if im.packRuns == nil {
				for ; jr+nr <= nb; jr += nr {
					copyRun(dst[jr*kb+q*nr:][:nr], src[jr:jr+nr])
				}
			} else {
				jr = full * nr
			}
			if jr < nb {
				out := dst[jr*kb+q*nr:][:nr]
				copy(out, src[jr:])
				clear(out[nb-jr:])
			}
		}
		return
	}
	var cols [maxTile][]float32
	for jr := 0; jr < nb; jr += nr {
		n := min(nr, nb-jr)
		if n == nr && im.transposePanel(dst[jr*kb:], p.b[(j0+jr)*p.ldb+p0:], p.ldb, nr, kb, 1) {
			continue
		}
		for j := range n {
			cols[j] = p.b[(j0+jr+j)*p.ldb+p0:][:kb]
		}
		interleave(dst[jr*kb:(jr+nr)*kb], nr, cols[:n], kb, 1)
	}
}

// packSlack is the room packing buffers keep past their last panel for
// the spill of transposePanel's 8-wide stores.
const packSlack = 8

// transposePanel packs one full panel with the transpose8 kernel:
// dst[q*w+i] = scale·src[i*ld+q] for i < w, q < kb. It reads rows in
// groups of 8, so it declines (returns false) when there is no kernel or
// the rows up to the next multiple of 8 run past src. Groups go from the
// last to the first: a group's stores may spill past row q into the start
// of row q+1 (or the next panel, or the slack), which a later store
// rewrites.
func (im *impl) transposePanel(dst, src []float32, ld, w, kb int, scale float32) bool {
	groups := ceilDiv(w, 8)
	if im.transpose8 == nil || kb < 8 || (groups*8-1)*ld+kb > len(src) {
		return false
	}
	blocks := kb / 8
	for g := groups - 1; g >= 0; g-- {
		im.transpose8(dst[8*g:], src[8*g*ld:], ld, blocks, w, scale)
	}
	for q := blocks * 8; q < kb; q++ {
		out := dst[q*w : q*w+w]
		for i := range out {
			out[i] = scale * src[i*ld+q]
		}
	}
	return true
}

// maxTile bounds mr and nr.
const maxTile = 48

// interleave sets out[q*w+i] = scale·rows[i][q] for q < kb, i < len(rows),
// and zero for i in [len(rows), w): the transposing half of packing. Rows
// go four at a time so each pass writes 16 contiguous bytes per step.
func interleave(out []float32, w int, rows [][]float32, kb int, scale float32) {
	out = out[:w*kb]
	n := len(rows)
	i := 0
	for ; i+4 <= n; i += 4 {
		r0, r1, r2, r3 := rows[i][:kb], rows[i+1][:kb], rows[i+2][:kb], rows[i+3][:kb]
		for q := range kb {
			o := out[q*w+i : q*w+i+4 : q*w+i+4]
			o[0], o[1], o[2], o[3] = scale*r0[q], scale*r1[q], scale*r2[q], scale*r3[q]
		}
	}
	for ; i+2 <= n; i += 2 {
		r0, r1 := rows[i][:kb], rows[i+1][:kb]
		for q := range kb {
			o := out[q*w+i : q*w+i+2 : q*w+i+2]
			o[0], o[1] = scale*r0[q], scale*r1[q]
		}
	}
	if i < n {
		r0 := rows[i][:kb]
		for q := range kb {
			out[q*w+i] = scale * r0[q]
		}
	}
	if n < w {
		for q := range kb {
			clear(out[q*w+n : q*w+w])
		}
	}
}

// scaleCopy sets out[i] = scale·src[i].
func scaleCopy(out, src []float32, scale float32) {
	if scale == 1 {
		copy(out, src)
		return
	}
	out = out[:len(src)]
	for i, v := range src {
		out[i] = scale * v
	}
}

// copyRun copies one panel-wide run. Fixed 32-byte chunks compile to
// two vector moves each, where copy or a 64-byte array copy would call
// memmove for every run.
func copyRun(out, src []float32) {
	if len(src)%8 != 0 {
		copy(out, src)
		return
	}
	out = out[:len(src)]
	for i := 0; i+8 <= len(src); i += 8 {
		*(*[8]float32)(out[i:]) = *(*[8]float32)(src[i:])
	}
}
