package cpu

// A baseline (sequential Huffman) JPEG decoder whose inverse DCT is the
// accurate integer one of libjpeg ("islow", 13-bit constants, two passes),
// so decoded samples match libjpeg-turbo's, which Go's image/jpeg (another
// IDCT) does not to the last bit. Progressive, arithmetic-coded, 12-bit and
// CMYK files return errMxJPEGUnsupported and go to image/jpeg instead.

import (
	"errors"
	"fmt"
	"image"
)

var errMxJPEGUnsupported = errors.New("jpeg: not a baseline 8-bit Y/YCbCr file")

// mxZigzag maps zigzag order to natural (row-major) order.
var mxZigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

type mxHuff struct {
	maxcode [17]int32 // -1 when no code of that length
	valptr  [17]int32
	mincode [17]int32
	vals    []uint8
}

type mxJComp struct {
	id, h, v, tq, td, ta int
	bw, bh               int // blocks across and down, padded to whole MCUs
	pix                  []uint8
	pred                 int32
}

type mxJPEG struct {
	d          []byte
	pos        int
	qt         [4][64]int32
	dc, ac     [4]*mxHuff
	w, h       int
	comps      []mxJComp
	hmax, vmax int
	restart    int
	// bit reader
	bits  uint32
	nbits int
	hitFF bool // a marker was reached inside entropy data
}

// mxDecodeBaselineJPEG decodes a baseline JPEG into an image.YCbCr (three
// components) or image.Gray (one component).
func mxDecodeBaselineJPEG(d []byte) (image.Image, error) {
	j := &mxJPEG{d: d, pos: 2}
	for {
		if j.pos+2 > len(d) || d[j.pos] != 0xff {
			return nil, fmt.Errorf("%w: truncated jpeg at %d", mxErrUndecodable, j.pos)
		}
		m := d[j.pos+1]
		if m == 0xff { // fill byte
			j.pos++
			continue
		}
		if m == 0xd9 {
			break
		}
		if j.pos+4 > len(d) {
			return nil, fmt.Errorf("%w: truncated jpeg at %d", mxErrUndecodable, j.pos)
		}
		l := int(d[j.pos+2])<<8 | int(d[j.pos+3])
		if l < 2 || j.pos+2+l > len(d) {
			return nil, fmt.Errorf("%w: bad jpeg segment length", mxErrUndecodable)
		}
		seg := d[j.pos+4 : j.pos+2+l]
		j.pos += 2 + l
		var err error
		switch {
		case m == 0xdb:
			err = j.readDQT(seg)
		case m == 0xc4:
			err = j.readDHT(seg)
		case m == 0xc0 || m == 0xc1:
			err = j.readSOF(seg)
		case m >= 0xc2 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return nil, errMxJPEGUnsupported
		case m == 0xdd:
			if len(seg) < 2 {
				return nil, fmt.Errorf("%w: bad DRI", mxErrUndecodable)
			}
			j.restart = int(seg[0])<<8 | int(seg[1])
		case m == 0xda:
			err = j.readScan(seg)
		}
		if err != nil {
			return nil, err
		}
	}
	return j.image()
}

func (j *mxJPEG) readDQT(s []byte) error {
	for len(s) > 0 {
		prec, id := s[0]>>4, int(s[0]&3)
		s = s[1:]
		n := 64 * (1 + int(prec))
		if prec > 1 || len(s) < n {
			return fmt.Errorf("%w: bad DQT", mxErrUndecodable)
		}
		for i := 0; i < 64; i++ {
			v := int32(s[i])
			if prec == 1 {
				v = int32(s[2*i])<<8 | int32(s[2*i+1])
			}
			j.qt[id][mxZigzag[i]] = v
		}
		s = s[n:]
	}
	return nil
}

func (j *mxJPEG) readDHT(s []byte) error {
	for len(s) >= 17 {
		class, id := s[0]>>4, int(s[0]&3)
		counts := s[1:17]
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if class > 1 || len(s) < 17+total {
			return fmt.Errorf("%w: bad DHT", mxErrUndecodable)
		}
		h := &mxHuff{vals: append([]uint8{}, s[17:17+total]...)}
		code, k := int32(0), int32(0)
		for l := 1; l <= 16; l++ {
			n := int32(counts[l-1])
			h.valptr[l], h.mincode[l], h.maxcode[l] = k, code, -1
			if n > 0 {
				h.maxcode[l] = code + n - 1
			}
			code, k = (code+n)<<1, k+n
		}
		if class == 0 {
			j.dc[id] = h
		} else {
			j.ac[id] = h
		}
		s = s[17+total:]
	}
	return nil
}

func (j *mxJPEG) readSOF(s []byte) error {
	if len(s) < 6 || s[0] != 8 {
		return errMxJPEGUnsupported
	}
	j.h, j.w = int(s[1])<<8|int(s[2]), int(s[3])<<8|int(s[4])
	n := int(s[5])
	if (n != 1 && n != 3) || len(s) < 6+3*n || j.w == 0 || j.h == 0 || j.w*j.h > 1<<28 {
		return errMxJPEGUnsupported
	}
	j.hmax, j.vmax, j.comps = 1, 1, nil
	for i := 0; i < n; i++ {
		c := mxJComp{id: int(s[6+3*i]), h: int(s[7+3*i] >> 4), v: int(s[7+3*i] & 15), tq: int(s[8+3*i] & 3)}
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return fmt.Errorf("%w: bad sampling factors", mxErrUndecodable)
		}
		j.hmax, j.vmax = max(j.hmax, c.h), max(j.vmax, c.v)
		j.comps = append(j.comps, c)
	}
	mcuw, mcuh := (j.w+8*j.hmax-1)/(8*j.hmax), (j.h+8*j.vmax-1)/(8*j.vmax)
	for i := range j.comps {
		c := &j.comps[i]
		c.bw, c.bh = mcuw*c.h, mcuh*c.v
		c.pix = make([]uint8, c.bw*8*c.bh*8)
	}
	return nil
}

// image wraps the decoded planes.
func (j *mxJPEG) image() (image.Image, error) {
	if j.comps == nil {
		return nil, fmt.Errorf("%w: jpeg without frame", mxErrUndecodable)
	}
	y := j.comps[0]
	r := image.Rect(0, 0, j.w, j.h)
	if len(j.comps) == 1 {
		return &image.Gray{Pix: y.pix, Stride: y.bw * 8, Rect: r}, nil
	}
	cb, cr := j.comps[1], j.comps[2]
	if cb.h != cr.h || cb.v != cr.v || cb.h != 1 || cb.v != 1 {
		return nil, errMxJPEGUnsupported
	}
	ratios := map[[2]int]image.YCbCrSubsampleRatio{
		{1, 1}: image.YCbCrSubsampleRatio444, {2, 1}: image.YCbCrSubsampleRatio422,
		{2, 2}: image.YCbCrSubsampleRatio420, {1, 2}: image.YCbCrSubsampleRatio440,
	}
	ratio, ok := ratios[[2]int{y.h, y.v}]
	if !ok {
		return nil, errMxJPEGUnsupported
	}
	return &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.bw * 8, CStride: cb.bw * 8,
		SubsampleRatio: ratio, Rect: r}, nil
}
