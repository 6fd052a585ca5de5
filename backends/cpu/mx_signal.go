package cpu

// Signal ops: DFT (opset 17 axis attribute, opset 20 axis input), STFT and
// the FFT core they share (radix-2 for powers of two, a direct sum with a
// twiddle table otherwise).

import (
	"fmt"
	"math"
	"math/bits"
	"math/cmplx"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("DFT", 17, prepDFT)
	reg("DFT", 20, prepDFT)
	reg("STFT", 17, prepSTFT)
}

// mxDFT computes the length-n DFT of x (len n) into out (len n); inverse
// uses e^{+2πi kn/N} and scales by 1/n.
func mxDFT(x, out []complex128, inverse bool) {
	n := len(x)
	sign := -1.0
	if inverse {
		sign = 1
	}
	if n > 1 && n&(n-1) == 0 {
		copy(out, x)
		mxFFT2(out, sign)
	} else {
		tw := make([]complex128, n)
		for m := range tw {
			tw[m] = cmplx.Rect(1, sign*2*math.Pi*float64(m)/float64(n))
		}
		for k := 0; k < n; k++ {
			var s complex128
			for j, v := range x {
				s += v * tw[(k*j)%n]
			}
			out[k] = s
		}
	}
	if inverse {
		for k := range out {
			out[k] /= complex(float64(n), 0)
		}
	}
}

// mxFFT2 is an in-place iterative radix-2 FFT (len(a) a power of two).
func mxFFT2(a []complex128, sign float64) {
	n := len(a)
	shift := 64 - uint(bits.TrailingZeros(uint(n)))
	for i := 0; i < n; i++ {
		j := int(bits.Reverse64(uint64(i)) >> shift)
		if i < j {
			a[i], a[j] = a[j], a[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		w := cmplx.Rect(1, sign*2*math.Pi/float64(size))
		for start := 0; start < n; start += size {
			wk := complex(1, 0)
			for k := 0; k < size/2; k++ {
				u, v := a[start+k], a[start+k+size/2]*wk
				a[start+k], a[start+k+size/2] = u+v, u-v
				wk *= w
			}
		}
	}
}

func prepDFT(s *backends.OpSpec) (kernelFunc, error) {
	inverse := s.Attrs.Int("inverse", 0) != 0
	onesided := s.Attrs.Int("onesided", 0) != 0
	axisAttr := s.Attrs.Int("axis", 1)
	v20 := s.Version >= 20
	dt := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("DFT", dt, 0); err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, fmt.Errorf("DFT: %w", err)
		}
		x := in[0]
		r := x.Rank()
		if r < 2 || (x.Shape[r-1] != 1 && x.Shape[r-1] != 2) {
			return nil, fmt.Errorf("DFT: %w: input 0 has shape %v, want [..., 1 or 2]", errShape, x.Shape)
		}
		axis := axisAttr
		if v20 {
			axis = -2
			if a := mxOptIn(in, 2); a != nil {
				v, err := mxScalarInt("DFT", a, 2)
				if err != nil {
					return nil, err
				}
				axis = v
			}
		}
		ax, err := normAxis(axis, r)
		if err != nil || ax == r-1 {
			return nil, fmt.Errorf("DFT: %w: axis %d for input shape %v", errAttr, axis, x.Shape)
		}
		nIn := x.Shape[ax]
		n := nIn
		if onesided && inverse {
			n = 2 * (nIn - 1)
		}
		if l := mxOptIn(in, 1); l != nil {
			v, err := mxScalarInt("DFT", l, 1)
			if err != nil {
				return nil, err
			}
			n = int(v)
		}
		if n < 1 {
			return nil, fmt.Errorf("DFT: %w: dft_length %d", errInput, n)
		}
		return one(mxDFTAxis(x, ax, n, inverse, onesided))
	}, nil
}

// mxDFTAxis transforms x (..., N, ..., 1|2) along axis ax with length n.
func mxDFTAxis(x *ir.Tensor, ax, n int, inverse, onesided bool) *ir.Tensor {
	r := x.Rank()
	c := x.Shape[r-1]
	outer, inner := 1, 1
	for i := 0; i < ax; i++ {
		outer *= x.Shape[i]
	}
	for i := ax + 1; i < r-1; i++ {
		inner *= x.Shape[i]
	}
	nIn := x.Shape[ax]
	nOut, cOut := n, 2
	switch {
	case onesided && inverse:
		cOut = 1
	case onesided:
		nOut = n/2 + 1
	}
	xs := mxFloat64s(x)
	out := make([]float64, outer*nOut*inner*cOut)
	buf, res := make([]complex128, n), make([]complex128, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			clear(buf)
			at := func(k int) complex128 {
				p := ((o*nIn+k)*inner + i) * c
				if c == 2 {
					return complex(xs[p], xs[p+1])
				}
				return complex(xs[p], 0)
			}
			if onesided && inverse {
				// Rebuild the full spectrum by Hermitian symmetry.
				for k := 0; k <= n/2 && k < nIn; k++ {
					buf[k] = at(k)
					if k > 0 && n-k > n/2 {
						buf[n-k] = cmplx.Conj(buf[k])
					}
				}
			} else {
				for k := 0; k < n && k < nIn; k++ {
					buf[k] = at(k)
				}
			}
			mxDFT(buf, res, inverse)
			for k := 0; k < nOut; k++ {
				p := ((o*nOut+k)*inner + i) * cOut
				out[p] = real(res[k])
				if cOut == 2 {
					out[p+1] = imag(res[k])
				}
			}
		}
	}
	shape := append([]int{}, x.Shape...)
	shape[ax], shape[r-1] = nOut, cOut
	return mxTensorFrom64(x.DType, shape, out)
}

// mxScalarInt reads a one-element integer tensor.
func mxScalarInt(op string, t *ir.Tensor, idx int) (int64, error) {
	v, err := t.Int64s()
	if err != nil || len(v) != 1 {
		return 0, fmt.Errorf("%s: %w: input %d must be an integer scalar, got %v%v", op, errInput, idx, t.DType, t.Shape)
	}
	return v[0], nil
}

func prepSTFT(s *backends.OpSpec) (kernelFunc, error) {
	onesided := s.Attrs.Int("onesided", 1) != 0
	dt := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("STFT", dt, 0); err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("STFT: %w", err)
		}
		x := in[0]
		if x.Rank() != 3 || (x.Shape[2] != 1 && x.Shape[2] != 2) {
			return nil, fmt.Errorf("STFT: %w: signal has shape %v, want [batch, length, 1 or 2]", errShape, x.Shape)
		}
		step, err := mxScalarInt("STFT", in[1], 1)
		if err != nil {
			return nil, err
		}
		win := mxOptIn(in, 2)
		flen := int64(-1)
		if l := mxOptIn(in, 3); l != nil {
			if flen, err = mxScalarInt("STFT", l, 3); err != nil {
				return nil, err
			}
		}
		if win != nil {
			if win.Rank() != 1 || (flen >= 0 && int64(win.Len()) != flen) {
				return nil, fmt.Errorf("STFT: %w: window %v for frame_length %d", errShape, win.Shape, flen)
			}
			flen = int64(win.Len())
		}
		if flen < 1 || step < 1 || flen > int64(x.Shape[1]) {
			return nil, fmt.Errorf("STFT: %w: frame_length %d, frame_step %d for signal %v", errInput, flen, step, x.Shape)
		}
		return one(mxSTFT(x, win, int(step), int(flen), onesided && x.Shape[2] == 1))
	}, nil
}

// mxSTFT frames the signal, applies the window and transforms each frame.
func mxSTFT(x, win *ir.Tensor, step, flen int, onesided bool) *ir.Tensor {
	B, L, C := x.Shape[0], x.Shape[1], x.Shape[2]
	frames := (L-flen)/step + 1
	bins := flen
	if onesided {
		bins = flen/2 + 1
	}
	xs := mxFloat64s(x)
	var ws []float64
	if win != nil {
		ws = mxFloat64s(win)
	}
	out := make([]float64, B*frames*bins*2)
	buf, res := make([]complex128, flen), make([]complex128, flen)
	for b := 0; b < B; b++ {
		for f := 0; f < frames; f++ {
			for k := 0; k < flen; k++ {
				p := (b*L + f*step + k) * C
				v := complex(xs[p], 0)
				if C == 2 {
					v = complex(xs[p], xs[p+1])
				}
				if ws != nil {
					v *= complex(ws[k], 0)
				}
				buf[k] = v
			}
			mxDFT(buf, res, false)
			for k := 0; k < bins; k++ {
				p := ((b*frames+f)*bins + k) * 2
				out[p], out[p+1] = real(res[k]), imag(res[k])
			}
		}
	}
	return mxTensorFrom64(x.DType, []int{B, frames, bins, 2}, out)
}
