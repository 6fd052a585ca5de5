package cpu

// ai.onnx.ml Scaler, Normalizer, LinearRegressor and LinearClassifier, the
// preprocessing and linear-model ops of sklearn pipelines.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	regDomain(mxMLDomain, "Scaler", 1, prepScaler)
	regDomain(mxMLDomain, "Normalizer", 1, prepNormalizer)
	regDomain(mxMLDomain, "LinearRegressor", 1, prepLinearRegressor)
	regDomain(mxMLDomain, "LinearClassifier", 1, prepLinearClassifier)
}

func mxFloats64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}

// y = (x - offset) * scale, both of length 1 or the last dimension.
func prepScaler(s *backends.OpSpec) (kernelFunc, error) {
	off, sc := mxFloats64(s.Attrs.Floats("offset", nil)), mxFloats64(s.Attrs.Floats("scale", nil))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		_, c, xs, err := mxTreeInput("Scaler", in)
		if err != nil {
			return nil, err
		}
		for _, v := range [][]float64{off, sc} {
			if len(v) > 1 && len(v) != c {
				return nil, fmt.Errorf("Scaler: %w: %d offsets/scales for %d features", errAttr, len(v), c)
			}
		}
		at := func(v []float64, j int, def float64) float64 {
			switch len(v) {
			case 0:
				return def
			case 1:
				return v[0]
			}
			return v[j]
		}
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = (x - at(off, i%c, 0)) * at(sc, i%c, 1)
		}
		return one(ir.FromSlice(mxF32s(out), in[0].Shape...))
	}, nil
}

// Rows scaled by their MAX, L1 or L2 norm.
func prepNormalizer(s *backends.OpSpec) (kernelFunc, error) {
	norm := s.Attrs.Str("norm", "MAX")
	if norm != "MAX" && norm != "L1" && norm != "L2" {
		return nil, fmt.Errorf("Normalizer: %w: norm %q", errAttr, norm)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		rows, c, xs, err := mxTreeInput("Normalizer", in)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(xs))
		for r := 0; r < rows; r++ {
			row := xs[r*c : (r+1)*c]
			d := 0.0
			switch norm {
			case "MAX":
				d = math.Inf(-1)
				for _, v := range row {
					d = math.Max(d, v)
				}
			case "L1":
				for _, v := range row {
					d += math.Abs(v)
				}
			case "L2":
				for _, v := range row {
					d += v * v
				}
				d = math.Sqrt(d)
			}
			for j, v := range row {
				out[r*c+j] = v
				if d != 0 {
					out[r*c+j] = v / d
				}
			}
		}
		return one(ir.FromSlice(mxF32s(out), in[0].Shape...))
	}, nil
}

// mxLinearScores computes x·coefᵀ + intercepts for k outputs.
func mxLinearScores(op string, in []*ir.Tensor, coef, icpt []float64, k int) ([]float64, int, error) {
	rows, c, xs, err := mxTreeInput(op, in)
	if err != nil {
		return nil, 0, err
	}
	if len(coef) != k*c || (len(icpt) != 0 && len(icpt) != k) {
		return nil, 0, fmt.Errorf("%s: %w: %d coefficients, %d intercepts for %d features and %d outputs", op, errAttr, len(coef), len(icpt), c, k)
	}
	out := make([]float64, rows*k)
	for r := 0; r < rows; r++ {
		for t := 0; t < k; t++ {
			v := 0.0
			if len(icpt) > 0 {
				v = icpt[t]
			}
			for j := 0; j < c; j++ {
				v += xs[r*c+j] * coef[t*c+j]
			}
			out[r*k+t] = v
		}
	}
	return out, rows, nil
}

func prepLinearRegressor(s *backends.OpSpec) (kernelFunc, error) {
	k := int(s.Attrs.Int("targets", 1))
	post, ok := mxPostNames[s.Attrs.Str("post_transform", "NONE")]
	if !ok || k < 1 {
		return nil, fmt.Errorf("LinearRegressor: %w: targets %d, post_transform %q", errAttr, k, s.Attrs.Str("post_transform", ""))
	}
	coef, icpt := mxFloats64(s.Attrs.Floats("coefficients", nil)), mxFloats64(s.Attrs.Floats("intercepts", nil))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		out, rows, err := mxLinearScores("LinearRegressor", in, coef, icpt, k)
		if err != nil {
			return nil, err
		}
		for r := 0; r < rows; r++ {
			mxPostTransform(post, out[r*k:(r+1)*k])
		}
		return one(ir.FromSlice(mxF32s(out), rows, k))
	}, nil
}

func prepLinearClassifier(s *backends.OpSpec) (kernelFunc, error) {
	ints, strs := s.Attrs.Ints("classlabels_ints", nil), s.Attrs.Strs("classlabels_strings", nil)
	post, ok := mxPostNames[s.Attrs.Str("post_transform", "NONE")]
	coef, icpt := mxFloats64(s.Attrs.Floats("coefficients", nil)), mxFloats64(s.Attrs.Floats("intercepts", nil))
	nc := max(len(ints), len(strs))
	k := len(icpt)
	if k == 0 {
		k = nc
	}
	if !ok || nc == 0 || k == 0 {
		return nil, fmt.Errorf("LinearClassifier: %w: %d labels, %d intercepts", errAttr, nc, len(icpt))
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		sc, rows, err := mxLinearScores("LinearClassifier", in, coef, icpt, k)
		if err != nil {
			return nil, err
		}
		width := k
		if k == 1 && nc == 2 { // one score s becomes (-s, s)
			width = 2
			two := make([]float64, 2*rows)
			for r, v := range sc {
				two[2*r], two[2*r+1] = -v, v
			}
			sc = two
		}
		labels := make([]int, rows)
		for r := 0; r < rows; r++ {
			row := sc[r*width : (r+1)*width]
			mxPostTransform(post, row)
			for j, v := range row {
				if v > row[labels[r]] {
					labels[r] = j
				}
			}
			if width == 1 { // one class: label 0 below the threshold
				labels[r] = -1
				if row[0] >= map[bool]float64{true: 0, false: 0.5}[post == 0] {
					labels[r] = 0
				}
			}
		}
		z := ir.FromSlice(mxF32s(sc), rows, width)
		if strs != nil {
			y := make([]string, rows)
			for r, l := range labels {
				if l >= 0 && l < len(strs) {
					y[r] = strs[l]
				}
			}
			return []*ir.Tensor{ir.FromSlice(y, rows), z}, nil
		}
		y := make([]int64, rows)
		for r, l := range labels {
			if l >= 0 && l < len(ints) {
				y[r] = ints[l]
			}
		}
		return []*ir.Tensor{ir.FromSlice(y, rows), z}, nil
	}, nil
}
