package cpu

import (
	"fmt"
	"image"
	"strconv"
)

// mxJPEGToRGB upsamples the chroma planes as libjpeg-turbo's fancy
// upsampler does (triangle filter, ordered rounding) and converts
// full-range YCbCr to RGB with libjpeg's 16-bit fixed-point tables.
func mxJPEGToRGB(yc *image.YCbCr) ([]uint8, int, int) {
	b := yc.Rect
	w, h := b.Dx(), b.Dy()
	cb := mxJPEGUpsample(yc, yc.Cb, w, h)
	cr := mxJPEGUpsample(yc, yc.Cr, w, h)
	const one, half = 1 << 16, 1 << 15
	fix := func(x float64) int32 { return int32(x*one + 0.5) }
	out := make([]uint8, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			yy := int32(yc.Y[yc.YOffset(b.Min.X+x, b.Min.Y+y)])
			u, v := int32(cb[y*w+x])-128, int32(cr[y*w+x])-128
			p := (y*w + x) * 3
			out[p] = mxClamp8(yy + (fix(1.40200)*v+half)>>16)
			out[p+1] = mxClamp8(yy + (-fix(0.34414)*u+half-fix(0.71414)*v)>>16)
			out[p+2] = mxClamp8(yy + (fix(1.77200)*u+half)>>16)
		}
	}
	return out, w, h
}

// mxJPEGUpsample returns a chroma plane at full resolution (w*h).
func mxJPEGUpsample(yc *image.YCbCr, plane []uint8, w, h int) []uint8 {
	cw, ch := (w+1)/2, (h+1)/2
	hx, vy := 2, 2
	switch yc.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hx, vy, cw, ch = 1, 1, w, h
	case image.YCbCrSubsampleRatio422:
		vy, ch = 1, h
	case image.YCbCrSubsampleRatio440:
		hx, cw = 1, w
	case image.YCbCrSubsampleRatio420:
	default:
		return mxNearestChroma(yc, plane, w, h)
	}
	at := func(x, y int) int32 {
		x = min(max(x, 0), cw-1)
		y = min(max(y, 0), ch-1)
		return int32(plane[y*yc.CStride+x])
	}
	out := make([]uint8, w*h)
	// Vertical pass into 4x-scaled column sums (or plain values).
	for oy := 0; oy < h; oy++ {
		cy, near := oy, oy
		if vy == 2 {
			cy = oy / 2
			near = cy - 1
			if oy%2 == 1 {
				near = cy + 1
			}
		}
		col := func(cx int) int32 {
			if vy == 2 {
				return at(cx, cy)*3 + at(cx, near)
			}
			return at(cx, cy)
		}
		for ox := 0; ox < w; ox++ {
			var v int32
			switch {
			case hx == 1 && vy == 1:
				v = col(ox)
			case hx == 1: // h1v2: bias 1 on upper rows, 2 on lower rows
				v = (col(ox) + 1 + int32(oy%2)) >> 2
			default:
				cx := ox / 2
				this := col(cx)
				var other int32
				first, last := cx == 0, cx == cw-1
				if ox%2 == 0 && !first {
					other = col(cx - 1)
				} else if ox%2 == 1 && !last {
					other = col(cx + 1)
				}
				edge := ox%2 == 0 && first || ox%2 == 1 && last
				bias := int32(1 + ox%2) // 1 then 2 (h2v1); 8 then 7 (h2v2)
				if vy == 2 {
					bias = int32(8 - ox%2)
					if edge {
						v = (this*4 + bias) >> 4
					} else {
						v = (this*3 + other + bias) >> 4
					}
				} else if edge {
					v = this
				} else {
					v = (this*3 + other + bias) >> 2
				}
			}
			out[oy*w+ox] = uint8(v)
		}
	}
	return out
}

// mxNearestChroma replicates chroma samples for the rarer subsampling ratios.
func mxNearestChroma(yc *image.YCbCr, plane []uint8, w, h int) []uint8 {
	out := make([]uint8, w*h)
	b := yc.Rect
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out[y*w+x] = plane[yc.COffset(b.Min.X+x, b.Min.Y+y)]
		}
	}
	return out
}

// mxWebPToRGB upsamples lossy-WebP chroma as libwebp's default fancy
// upsampler does and converts limited-range YUV with libwebp's 14-bit
// fixed-point formulas.
func mxWebPToRGB(yc *image.YCbCr) ([]uint8, int, int) {
	b := yc.Rect
	w, h := b.Dx(), b.Dy()
	cw := (w + 1) / 2
	crow := func(plane []uint8, r int) []uint8 { return plane[r*yc.CStride : r*yc.CStride+cw] }
	out := make([]uint8, w*h*3)
	emit := func(y int, u, v []int32) {
		for x := 0; x < w; x++ {
			yy := int32(yc.Y[y*yc.YStride+x])
			p := (y*w + x) * 3
			out[p], out[p+1], out[p+2] = mxWebPRGB(yy, u[x], v[x])
		}
	}
	uTop, vTop, uBot, vBot := make([]int32, w), make([]int32, w), make([]int32, w), make([]int32, w)
	// Row 0 and an unpaired last row use their own chroma row for both taps.
	mxWebPRowPair(crow(yc.Cb, 0), crow(yc.Cb, 0), uTop, uBot, w)
	mxWebPRowPair(crow(yc.Cr, 0), crow(yc.Cr, 0), vTop, vBot, w)
	emit(0, uTop, vTop)
	for k := 1; 2*k-1 < h; k++ {
		top, cur := k-1, min(k, (h-1)/2)
		if 2*k >= h {
			top = cur
		}
		mxWebPRowPair(crow(yc.Cb, top), crow(yc.Cb, cur), uTop, uBot, w)
		mxWebPRowPair(crow(yc.Cr, top), crow(yc.Cr, cur), vTop, vBot, w)
		emit(2*k-1, uTop, vTop)
		if 2*k < h {
			emit(2*k, uBot, vBot)
		}
	}
	return out, w, h
}

// mxWebPRowPair interpolates one chroma channel for the output rows just
// below chroma row t and just above chroma row c.
func mxWebPRowPair(t, c []uint8, top, bot []int32, w int) {
	tl, l := int32(t[0]), int32(c[0])
	top[0] = (3*tl + l + 2) >> 2
	bot[0] = (3*l + tl + 2) >> 2
	for x := 1; x <= (w-1)/2; x++ {
		tt, cc := int32(t[x]), int32(c[x])
		avg := tl + tt + l + cc + 8
		d12 := (avg + 2*(tt+l)) >> 3
		d03 := (avg + 2*(tl+cc)) >> 3
		top[2*x-1], top[2*x] = (d12+tl)>>1, (d03+tt)>>1
		bot[2*x-1], bot[2*x] = (d03+l)>>1, (d12+cc)>>1
		tl, l = tt, cc
	}
	if w%2 == 0 {
		top[w-1] = (3*tl + l + 2) >> 2
		bot[w-1] = (3*l + tl + 2) >> 2
	}
}

func mxWebPRGB(y, u, v int32) (uint8, uint8, uint8) {
	mul := func(a, k int32) int32 { return (a * k) >> 8 }
	clip := func(x int32) uint8 {
		if x&^((256<<6)-1) == 0 {
			return uint8(x >> 6)
		}
		if x < 0 {
			return 0
		}
		return 255
	}
	yy := mul(y, 19077)
	return clip(yy + mul(v, 26149) - 14234), clip(yy - mul(u, 6419) - mul(v, 13320) + 8708), clip(yy + mul(u, 33050) - 17685)
}

// mxDecodePNM decodes binary and ASCII PBM/PGM/PPM images to RGB.
func mxDecodePNM(data []byte) ([]uint8, int, int, error) {
	kind := data[1]
	pos := 2
	var hdr [3]int
	nh := 3
	if kind == '1' || kind == '4' {
		nh = 2
		hdr[2] = 1
	}
	for i := 0; i < nh; i++ {
		tok, p, ok := mxPNMToken(data, pos)
		v, err := strconv.Atoi(tok)
		if !ok || err != nil || v < 0 || v > 1<<16 {
			return nil, 0, 0, fmt.Errorf("%w: pnm header", mxErrUndecodable)
		}
		hdr[i], pos = v, p
	}
	w, h, maxv := hdr[0], hdr[1], hdr[2]
	if maxv == 0 || w*h > 1<<28 {
		return nil, 0, 0, fmt.Errorf("%w: pnm header %dx%d max %d", mxErrUndecodable, w, h, maxv)
	}
	chans := 1
	if kind == '3' || kind == '6' {
		chans = 3
	}
	vals, err := mxPNMSamples(data, pos+1, pos, kind, w, h, chans, maxv)
	if err != nil {
		return nil, 0, 0, err
	}
	out := make([]uint8, w*h*3)
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			s := vals[i*chans+min(c, chans-1)]
			if kind == '1' || kind == '4' {
				s = (1 - s) * 255 // 1 is black
			} else if maxv != 255 {
				s = (s*255 + maxv/2) / maxv
			}
			out[i*3+c] = uint8(s)
		}
	}
	return out, w, h, nil
}

// mxPNMToken skips whitespace and comments and returns the next token.
func mxPNMToken(data []byte, pos int) (string, int, bool) {
	for pos < len(data) {
		c := data[pos]
		if c == '#' {
			for pos < len(data) && data[pos] != '\n' {
				pos++
			}
			continue
		}
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		pos++
	}
	start := pos
	for pos < len(data) && data[pos] > ' ' {
		pos++
	}
	return string(data[start:pos]), pos, pos > start
}

// mxPNMSamples reads w*h*chans samples: binary kinds start at bin, ASCII
// kinds are read as tokens from asc.
func mxPNMSamples(data []byte, bin, asc int, kind byte, w, h, chans, maxv int) ([]int, error) {
	n := w * h * chans
	vals := make([]int, n)
	bad := fmt.Errorf("%w: pnm data too short", mxErrUndecodable)
	switch kind {
	case '1', '2', '3':
		for i := range vals {
			tok, p, ok := mxPNMToken(data, asc)
			if kind == '1' && ok && len(tok) > 1 { // bits may be packed without spaces
				tok, p = tok[:1], p-len(tok)+1
			}
			v, err := strconv.Atoi(tok)
			if !ok || err != nil {
				return nil, bad
			}
			vals[i], asc = v, p
		}
	case '4':
		stride := (w + 7) / 8
		if bin+stride*h > len(data) {
			return nil, bad
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				vals[y*w+x] = int(data[bin+y*stride+x/8]>>(7-x%8)) & 1
			}
		}
	default:
		size := 1
		if maxv > 255 {
			size = 2
		}
		if bin+n*size > len(data) {
			return nil, bad
		}
		for i := range vals {
			if size == 1 {
				vals[i] = int(data[bin+i])
			} else {
				vals[i] = int(data[bin+2*i])<<8 | int(data[bin+2*i+1])
			}
		}
	}
	return vals, nil
}
