package cpu

import "fmt"

var errMxJPEGData = fmt.Errorf("%w: corrupt jpeg entropy data", mxErrUndecodable)

// readScan decodes one sequential scan starting at j.pos.
func (j *mxJPEG) readScan(s []byte) error {
	if j.comps == nil || len(s) < 1 || len(s) < 1+2*int(s[0])+3 {
		return fmt.Errorf("%w: bad SOS", mxErrUndecodable)
	}
	var scan []*mxJComp
	for i := 0; i < int(s[0]); i++ {
		id, tabs := int(s[1+2*i]), s[2+2*i]
		var c *mxJComp
		for k := range j.comps {
			if j.comps[k].id == id {
				c = &j.comps[k]
			}
		}
		if c == nil || j.dc[tabs>>4&3] == nil || j.ac[tabs&3] == nil {
			return fmt.Errorf("%w: scan names unknown component or table", mxErrUndecodable)
		}
		c.td, c.ta, c.pred = int(tabs>>4&3), int(tabs&3), 0
		scan = append(scan, c)
	}
	j.bits, j.nbits, j.hitFF = 0, 0, false
	// Units are MCUs, or single blocks of the lone component.
	ux, uy := (j.w+8*j.hmax-1)/(8*j.hmax), (j.h+8*j.vmax-1)/(8*j.vmax)
	if len(scan) == 1 {
		c := scan[0]
		ux = ((j.w*c.h+j.hmax-1)/j.hmax + 7) / 8
		uy = ((j.h*c.v+j.vmax-1)/j.vmax + 7) / 8
	}
	var coef [64]int32
	for u := 0; u < ux*uy; u++ {
		if j.restart > 0 && u > 0 && u%j.restart == 0 {
			if err := j.nextRestart(scan); err != nil {
				return err
			}
		}
		mx, my := u%ux, u/ux
		for _, c := range scan {
			bh, bv := c.h, c.v
			if len(scan) == 1 {
				bh, bv = 1, 1
			}
			for v := 0; v < bv; v++ {
				for h := 0; h < bh; h++ {
					if err := j.block(c, &coef); err != nil {
						return err
					}
					bx, by := mx*bh+h, my*bv+v
					stride := c.bw * 8
					mxIDCTIslow(&coef, &j.qt[c.tq], c.pix[by*8*stride+bx*8:], stride)
				}
			}
		}
	}
	j.skipToMarker()
	return nil
}

// nextRestart consumes an RSTn marker and resets the DC predictions.
func (j *mxJPEG) nextRestart(scan []*mxJComp) error {
	j.skipToMarker()
	if j.pos+1 >= len(j.d) || j.d[j.pos+1] < 0xd0 || j.d[j.pos+1] > 0xd7 {
		return errMxJPEGData
	}
	j.pos += 2
	j.bits, j.nbits, j.hitFF = 0, 0, false
	for _, c := range scan {
		c.pred = 0
	}
	return nil
}

// skipToMarker moves j.pos to the next marker other than a stuffed 0xFF00.
func (j *mxJPEG) skipToMarker() {
	for j.pos+1 < len(j.d) && !(j.d[j.pos] == 0xff && j.d[j.pos+1] != 0 && j.d[j.pos+1] != 0xff) {
		j.pos++
	}
	if j.pos+1 >= len(j.d) {
		j.pos = len(j.d)
	}
}

// readBits returns the next n (<= 16) bits of entropy data; past a marker
// the stream reads as zeros, as in libjpeg.
func (j *mxJPEG) readBits(n int) int32 {
	for j.nbits < n {
		b := byte(0)
		if !j.hitFF && j.pos < len(j.d) {
			b = j.d[j.pos]
			if b == 0xff {
				if j.pos+1 < len(j.d) && j.d[j.pos+1] == 0 {
					j.pos += 2
				} else {
					j.hitFF, b = true, 0
				}
			} else {
				j.pos++
			}
		}
		j.bits |= uint32(b) << (24 - j.nbits)
		j.nbits += 8
	}
	v := int32(j.bits >> (32 - n))
	j.bits <<= n
	j.nbits -= n
	return v
}

func (j *mxJPEG) huff(h *mxHuff) (int, error) {
	code := int32(0)
	for l := 1; l <= 16; l++ {
		code = code<<1 | j.readBits(1)
		if code <= h.maxcode[l] {
			i := h.valptr[l] + code - h.mincode[l]
			if i < 0 || int(i) >= len(h.vals) {
				return 0, errMxJPEGData
			}
			return int(h.vals[i]), nil
		}
	}
	return 0, errMxJPEGData
}

// extend turns an s-bit magnitude into a signed coefficient.
func (j *mxJPEG) extend(s int) int32 {
	if s == 0 {
		return 0
	}
	v := j.readBits(s)
	if v < 1<<(s-1) {
		v += -1<<s + 1
	}
	return v
}

// block decodes one 8x8 block's coefficients in natural order.
func (j *mxJPEG) block(c *mxJComp, coef *[64]int32) error {
	*coef = [64]int32{}
	t, err := j.huff(j.dc[c.td])
	if err != nil || t > 15 {
		return errMxJPEGData
	}
	c.pred += j.extend(t)
	coef[0] = c.pred
	for k := 1; k < 64; k++ {
		rs, err := j.huff(j.ac[c.ta])
		if err != nil {
			return err
		}
		r, s := rs>>4, rs&15
		if s == 0 {
			if r != 15 {
				break
			}
			k += 15
			continue
		}
		k += r
		if k > 63 {
			return errMxJPEGData
		}
		coef[mxZigzag[k]] = j.extend(s)
	}
	return nil
}

// libjpeg's islow constants: FIX(x) = round(x * 2^13).
const (
	mxFix0298 = 2446
	mxFix0390 = 3196
	mxFix0541 = 4433
	mxFix0765 = 6270
	mxFix0899 = 7373
	mxFix1175 = 9633
	mxFix1501 = 12299
	mxFix1847 = 15137
	mxFix1961 = 16069
	mxFix2053 = 16819
	mxFix2562 = 20995
	mxFix3072 = 25172
)

// mxIDCT1D is one 8-point pass of libjpeg's islow IDCT on x[0], x[s], ...,
// x[7s]; it returns the eight outputs still scaled by 2^13.
func mxIDCT1D(x []int32, s int) (out [8]int32) {
	z2, z3 := x[2*s], x[6*s]
	z1 := (z2 + z3) * mxFix0541
	t2 := z1 - z3*mxFix1847
	t3 := z1 + z2*mxFix0765
	t0 := (x[0] + x[4*s]) << 13
	t1 := (x[0] - x[4*s]) << 13
	t10, t13, t11, t12 := t0+t3, t0-t3, t1+t2, t1-t2

	o0, o1, o2, o3 := x[7*s], x[5*s], x[3*s], x[s]
	z1, z2, z3 = o0+o3, o1+o2, o0+o2
	z4 := o1 + o3
	z5 := (z3 + z4) * mxFix1175
	o0 *= mxFix0298
	o1 *= mxFix2053
	o2 *= mxFix3072
	o3 *= mxFix1501
	z1 *= -mxFix0899
	z2 *= -mxFix2562
	z3 = z3*-mxFix1961 + z5
	z4 = z4*-mxFix0390 + z5
	o0 += z1 + z3
	o1 += z2 + z4
	o2 += z2 + z3
	o3 += z1 + z4
	return [8]int32{t10 + o3, t11 + o2, t12 + o1, t13 + o0, t13 - o0, t12 - o1, t11 - o2, t10 - o3}
}

// mxIDCTIslow dequantizes and inverse-transforms one block into dst.
func mxIDCTIslow(coef, q *[64]int32, dst []uint8, stride int) {
	var in, ws [64]int32
	for i := range in {
		in[i] = coef[i] * q[i]
	}
	for c := 0; c < 8; c++ { // columns; keep 2 extra bits (PASS1_BITS)
		col := in[c:]
		if col[8]|col[16]|col[24]|col[32]|col[40]|col[48]|col[56] == 0 {
			for r := 0; r < 8; r++ {
				ws[r*8+c] = col[0] << 2
			}
			continue
		}
		o := mxIDCT1D(col, 8)
		for r := 0; r < 8; r++ {
			ws[r*8+c] = (o[r] + 1<<10) >> 11
		}
	}
	for r := 0; r < 8; r++ { // rows; descale by 13+2+3 bits and recenter
		o := mxIDCT1D(ws[r*8:], 1)
		for c := 0; c < 8; c++ {
			dst[r*stride+c] = mxClamp8((o[c]+1<<17)>>18 + 128)
		}
	}
}
