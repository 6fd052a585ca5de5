package cpu

// Window generators (Hann, Hamming, Blackman) and MelWeightMatrix.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("HannWindow", 17, prepWindow([]float64{0.5, 0.5}))
	reg("HammingWindow", 17, prepWindow([]float64{25.0 / 46, 21.0 / 46}))
	reg("BlackmanWindow", 17, prepWindow([]float64{0.42, 0.5, 0.08}))
	reg("MelWeightMatrix", 17, prepMelWeightMatrix)
}

// prepWindow builds a generalized cosine window
// w[n] = a0 - a1·cos(2πn/N) + a2·cos(4πn/N), N = size (periodic) or size-1.
func prepWindow(a []float64) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		periodic := s.Attrs.Int("periodic", 1) != 0
		dt := ir.DType(s.Attrs.Int("output_datatype", int64(ir.Float32)))
		if err := mxCheckNumeric(s.Op, dt); err != nil {
			return nil, err
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, fmt.Errorf("%s: %w", s.Op, err)
			}
			size, err := mxScalarInt(s.Op, in[0], 0)
			if err != nil {
				return nil, err
			}
			if size < 0 || size > ir.MaxElements {
				return nil, fmt.Errorf("%s: %w: size %d", s.Op, errInput, size)
			}
			n := float64(size)
			if !periodic {
				n--
			}
			w := make([]float64, size)
			for i := range w {
				x := 2 * math.Pi * float64(i) / n
				w[i] = a[0] - a[1]*math.Cos(x)
				if len(a) > 2 {
					w[i] += a[2] * math.Cos(2*x)
				}
			}
			if size == 1 {
				w[0] = 1
			}
			return one(mxCastFrom64(dt, []int{int(size)}, w))
		}, nil
	}
}

// mxCheckNumeric accepts the numeric dtypes an output_datatype may name.
func mxCheckNumeric(op string, dt ir.DType) error {
	if dt.IsFloat() && !dt.IsSmallFloat() || dt == ir.Float16 || dt == ir.BFloat16 || dt.IsInt() && dt.Bits() >= 8 {
		return nil
	}
	return fmt.Errorf("%s: %w: output_datatype %v", op, errAttr, dt)
}

// mxCastFrom64 builds a tensor of any numeric dtype from float64 values
// (integers truncate toward zero).
func mxCastFrom64(dt ir.DType, shape []int, vals []float64) *ir.Tensor {
	if dt.IsFloat() {
		return mxTensorFrom64(dt, shape, vals)
	}
	t := ir.Zeros(dt, shape...)
	switch d := t.Data.(type) {
	case []int8:
		mxConvert(d, vals)
	case []int16:
		mxConvert(d, vals)
	case []int32:
		mxConvert(d, vals)
	case []int64:
		mxConvert(d, vals)
	case []uint8:
		mxConvert(d, vals)
	case []uint16:
		mxConvert(d, vals)
	case []uint32:
		mxConvert(d, vals)
	case []uint64:
		mxConvert(d, vals)
	}
	return t
}

func mxConvert[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](dst []T, src []float64) {
	for i, v := range src {
		dst[i] = T(v)
	}
}

func prepMelWeightMatrix(s *backends.OpSpec) (kernelFunc, error) {
	dt := ir.DType(s.Attrs.Int("output_datatype", int64(ir.Float32)))
	if err := mxCheckNumeric(s.Op, dt); err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 5); err != nil {
			return nil, fmt.Errorf("MelWeightMatrix: %w", err)
		}
		var iv [3]int64
		for i := range iv {
			v, err := mxScalarInt("MelWeightMatrix", in[i], i)
			if err != nil {
				return nil, err
			}
			iv[i] = v
		}
		mels, dftLen, rate := iv[0], iv[1], iv[2]
		if in[3].Len() != 1 || in[4].Len() != 1 {
			return nil, fmt.Errorf("MelWeightMatrix: %w: edges %v, %v must be scalars", errShape, in[3].Shape, in[4].Shape)
		}
		if mels < 1 || dftLen < 1 || rate < 1 || mels > 1<<20 || dftLen > 1<<28 {
			return nil, fmt.Errorf("MelWeightMatrix: %w: num_mel_bins %d, dft_length %d, sample_rate %d", errInput, mels, dftLen, rate)
		}
		w := mxMelWeights(int(mels), int(dftLen), int(rate), in[3].Float64At(0), in[4].Float64At(0))
		return one(mxCastFrom64(dt, []int{int(dftLen/2 + 1), int(mels)}, w))
	}, nil
}

// mxMelWeights follows the ONNX reference: band edges equally spaced on the
// mel scale (step (hi-lo)/(mels+2), computed in float32), mapped to DFT
// bins by floor((dft_length+1)·f / sample_rate), with triangles of peak 1.
func mxMelWeights(mels, dftLen, rate int, lo, hi float64) []float64 {
	bins := dftLen/2 + 1
	toMel := func(f float64) float32 { return float32(2595 * math.Log10(1+float64(float32(f))/700)) }
	loMel, hiMel := toMel(lo), toMel(hi)
	step := (hiMel - loMel) / float32(mels+2)
	edges := make([]int, mels+2)
	for i := range edges {
		m := float64(i)*float64(step) + float64(loMel)
		f := 700 * (math.Pow(10, m/2595) - 1)
		edges[i] = int(math.Floor(float64(dftLen+1) * f / float64(rate)))
	}
	out := make([]float64, bins*mels)
	set := func(j, i int, v float64) {
		if j >= 0 && j < bins {
			out[j*mels+i] = v
		}
	}
	for i := 0; i < mels; i++ {
		l, c, r := edges[i], edges[i+1], edges[i+2]
		if c == l {
			set(c, i, 1)
		} else {
			for j := l; j <= c; j++ {
				set(j, i, float64(j-l)/float64(c-l))
			}
		}
		for j := c; j < r; j++ {
			set(j, i, float64(r-j)/float64(r-c))
		}
	}
	return out
}
