package eager

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Gradient rules of the signal ops. DFT is real-linear in its input, so
// its gradient is the adjoint transform, itself a DFT; STFT is recomputed
// as framing (Gather), windowing (Mul) and a DFT. The spec tags these
// inputs non-differentiable; the rules give the true gradient of the signal
// (and of the STFT window) all the same, as a learnt front end needs it.

func init() {
	RegisterGradient("", "DFT", gradDFT)
	registerRecompute("", "STFT", stftForward, 0, 2)
	RegisterNonDifferentiable("", "HannWindow", "HammingWindow", "BlackmanWindow", "MelWeightMatrix")
}

// dftArgs are a DFT node's resolved parameters.
type dftArgs struct {
	axis, n, nIn, c   int // transform axis, length, input length on it, channels (1 real, 2 complex)
	inverse, onesided bool
}

func dftArgsOf(g *GradContext) (dftArgs, error) {
	at := g.Attrs()
	x := g.In[0]
	r := x.Rank()
	a := dftArgs{inverse: at.Int("inverse", 0) != 0, onesided: at.Int("onesided", 0) != 0, c: x.Dim(-1)}
	axis := int(at.Int("axis", 1))
	if g.Spec.Version >= 20 {
		axis = -2
		if t := optIn(g.In, 2); t != nil {
			v, err := hostInt(t)
			if err != nil {
				return a, fmt.Errorf("input 2 (axis): %w", err)
			}
			axis = v
		}
	}
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r-1 {
		return a, fmt.Errorf("axis %d for input shape %v", axis, x.Shape())
	}
	a.axis, a.nIn = axis, x.Dim(axis)
	a.n = a.nIn
	if a.onesided && a.inverse {
		a.n = 2 * (a.nIn - 1)
	}
	if t := optIn(g.In, 1); t != nil {
		v, err := hostInt(t)
		if err != nil {
			return a, fmt.Errorf("input 1 (dft_length): %w", err)
		}
		a.n = v
	}
	return a, nil
}

// hostInt reads a one-element integer tensor (an axis or a length).
func hostInt(t *Tensor) (int, error) {
	h, err := t.Host()
	if err != nil {
		return 0, err
	}
	v, err := h.Int64s()
	if err != nil || len(v) != 1 {
		return 0, fmt.Errorf("want an integer scalar, got %v%v", t.DType(), t.Shape())
	}
	return int(v[0]), nil
}

// dft runs DFT (opset 20 form) of length n along axis.
func dft(x *Tensor, axis, n int, inverse, onesided bool) *Tensor {
	attrs := ir.Attrs{ir.IntAttr("inverse", b2i(inverse)), ir.IntAttr("onesided", b2i(onesided))}
	out, err := CallDomain("", "DFT", 20, attrs, 1, x, Int64s(x, int64(n)).reshapedScalar(), Int64s(x, int64(axis)).reshapedScalar())
	if err != nil {
		panic(&OpError{Err: err})
	}
	return out[0]
}

// With F the unnormalized DFT of length n (F⁻¹ = F̄/n, Fᴴ = n·F⁻¹), P the
// zero-padding or truncation of the input to n and T the first n/2+1 bins:
//
//	y = T F P x      (onesided)   dx = Pᴴ n·F⁻¹ Tᴴ dy
//	y = F⁻¹ P x      (inverse)    dx = Pᴴ F dy / n
//	y = Re F⁻¹ H x   (both)       dx = w ⊙ T F dy / n,
//
// where H rebuilds the Hermitian spectrum (x_k at k and x̄_k at n-k), so
// w_k = 2 for the mirrored bins and 1 for bin 0 and bin n/2 (even n); a
// real input (one channel) takes the real part of dx.
func gradDFT(g *GradContext) []*Tensor {
	a, err := dftArgsOf(g)
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("DFT gradient: %w", err)})
	}
	dy := g.D(0)
	var dx *Tensor
	if a.onesided && a.inverse {
		z := dft(dy, a.axis, a.n, false, true) // n/2+1 bins
		dx = Mul(z, hermitianWeights(z, a.axis, a.n))
	} else {
		scale := float64(a.n)
		if a.inverse {
			scale = 1 / scale
		}
		dx = Mul(dft(dy, a.axis, a.n, !a.inverse, false), ScalarLike(dy, scale))
	}
	dx = fitAxis(dx, a.axis, a.nIn)
	if a.c == 1 {
		dx = Slice(dx, []int{0}, []int{1}, []int{dx.Rank() - 1})
	}
	return []*Tensor{dx}
}

// hermitianWeights is w_k/n along axis (shaped to broadcast against z).
func hermitianWeights(z *Tensor, axis, n int) *Tensor {
	m := z.Dim(axis)
	w := make([]float64, m)
	for k := range w {
		w[k] = 2 / float64(n)
		if k == 0 || 2*k == n {
			w[k] = 1 / float64(n)
		}
	}
	shape := make([]int, z.Rank())
	for i := range shape {
		shape[i] = 1
	}
	shape[axis] = m
	t, err := FromHost(z.dev, ir.FromSlice(w, shape...))
	if err != nil {
		panic(&OpError{Err: err})
	}
	return Cast(t, z.DType())
}

// fitAxis truncates or zero-pads x along axis to length n.
func fitAxis(x *Tensor, axis, n int) *Tensor {
	m := x.Dim(axis)
	switch {
	case m > n:
		return Slice(x, []int{0}, []int{n}, []int{axis})
	case m < n:
		shape := append([]int(nil), x.Shape()...)
		shape[axis] = n - m
		return Concat(axis, x, Full(x, x.DType(), 0, shape...))
	}
	return x
}

// stftForward recomputes STFT: frames t·step .. t·step+frame_length of the
// signal (batch, length, 1|2), times the window, each transformed by a DFT
// (onesided for a real signal unless onesided=0).
func stftForward(spec *backends.OpSpec, in []*Tensor) []*Tensor {
	x, win := in[0], optIn(in, 2)
	fail := func(err error) { panic(&OpError{Err: fmt.Errorf("STFT gradient: %w", err)}) }
	step, err := hostInt(in[1])
	if err != nil {
		fail(err)
	}
	flen := 0
	if win != nil {
		flen = win.Dim(0)
	} else if l := optIn(in, 3); l != nil {
		if flen, err = hostInt(l); err != nil {
			fail(err)
		}
	}
	if step < 1 || flen < 1 || flen > x.Dim(1) {
		fail(fmt.Errorf("frame_length %d, frame_step %d for signal %v", flen, step, x.Shape()))
	}
	frames := (x.Dim(1)-flen)/step + 1
	idx := make([]int64, frames*flen)
	for f := 0; f < frames; f++ {
		for k := 0; k < flen; k++ {
			idx[f*flen+k] = int64(f*step + k)
		}
	}
	pos, err := FromHost(x.dev, ir.FromSlice(idx, frames, flen))
	if err != nil {
		fail(err)
	}
	framed := Gather(x, pos, 1) // (batch, frames, frame_length, 1|2)
	if win != nil {
		framed = Mul(framed, Reshape(win, flen, 1))
	}
	onesided := spec.Attrs.Int("onesided", 1) != 0 && x.Dim(2) == 1
	return []*Tensor{dft(framed, 2, flen, false, onesided)}
}
