package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// NegativeLogLikelihoodLoss (12, 13, 22) and SoftmaxCrossEntropyLoss (12, 13).
// input/scores (N, C, d1..dk), target/labels (N, d1..dk), weight (C).
// loss[n, d] = -weight[t] * input[n, t, d] with t = target[n, d]; targets
// equal to ignore_index contribute nothing. reduction "none" keeps the
// (N, d1..dk) losses, "sum" adds them and "mean" divides the sum by the sum
// of the weights used.

func init() {
	reg("NegativeLogLikelihoodLoss", 12, prepLoss(false))
	reg("SoftmaxCrossEntropyLoss", 12, prepLoss(true))
}

// redLossCfg holds the attributes of a loss op.
type redLossCfg struct {
	reduction    string
	ignore       int64
	hasIgnore    bool
	softmax      bool
	wantLogProbs bool
}

func prepLoss(softmax bool) prepareFunc {
	return func(s *backends.OpSpec) (kernelFunc, error) {
		if err := redNeedFloat(s.InputTypes, 0); err != nil {
			return nil, err
		}
		if dt := inputType(s.InputTypes, 1); dt != ir.Int32 && dt != ir.Int64 {
			return nil, fmt.Errorf("%w: input 1 (target) has dtype %v, want int32 or int64", errDType, dt)
		}
		c := redLossCfg{
			reduction:    s.Attrs.Str("reduction", "mean"),
			ignore:       s.Attrs.Int("ignore_index", 0),
			hasIgnore:    s.Attrs.Has("ignore_index"),
			softmax:      softmax,
			wantLogProbs: softmax && s.NumOutputs > 1,
		}
		switch c.reduction {
		case "none", "sum", "mean":
		default:
			return nil, fmt.Errorf("%w: reduction %q", errAttr, c.reduction)
		}
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 2); err != nil {
				return nil, err
			}
			var w *ir.Tensor
			if len(in) > 2 {
				w = in[2]
			}
			return redLoss(c, in[0], in[1], w)
		}, nil
	}
}

func redLoss(c redLossCfg, x, target, weight *ir.Tensor) ([]*ir.Tensor, error) {
	if x.Rank() < 2 {
		return nil, fmt.Errorf("%w: input 0 shape %v needs rank >= 2", errShape, x.Shape)
	}
	n, classes, inner := x.Shape[0], x.Shape[1], ir.Size(x.Shape[2:])
	wantT := append([]int{n}, x.Shape[2:]...)
	if !slices.Equal(target.Shape, wantT) {
		return nil, fmt.Errorf("%w: input 1 (target) shape %v, want %v for input 0 shape %v", errShape, target.Shape, wantT, x.Shape)
	}
	var w []float64
	if weight != nil {
		if weight.Rank() != 1 || weight.Shape[0] != classes {
			return nil, fmt.Errorf("%w: input 2 (weight) shape %v, want [%d]", errShape, weight.Shape, classes)
		}
		w = redF64(weight)
	}
	t, err := target.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%w: input 1: %v", errInput, err)
	}
	v := redF64(x)
	if c.softmax {
		redLogSoftmaxAxis1(v, n, classes, inner)
	}
	out, shape, err := redNLL(c, v, t, w, n, classes, inner)
	if err != nil {
		return nil, err
	}
	if shape == nil {
		shape = wantT
	}
	y, err := redFromF64(out, x.DType, shape)
	if err != nil {
		return nil, err
	}
	outs := []*ir.Tensor{y}
	if c.wantLogProbs {
		lp, err := redFromF64(v, x.DType, x.Shape)
		if err != nil {
			return nil, err
		}
		outs = append(outs, lp)
	}
	return outs, nil
}

// redLogSoftmaxAxis1 replaces v (n, classes, inner) by its log-softmax over
// the classes.
func redLogSoftmaxAxis1(v []float64, n, classes, inner int) {
	col := make([]float64, classes)
	for o := 0; o < n; o++ {
		for k := 0; k < inner; k++ {
			base := o*classes*inner + k
			for j := range col {
				col[j] = v[base+j*inner]
			}
			redSoftmaxCol(redLogSoftmax, col)
			for j, e := range col {
				v[base+j*inner] = e
			}
		}
	}
}

// redNLL gathers -weight[t] * logp[n, t, d] and applies the reduction; it
// returns the values and their shape.
// logp (n, classes, inner), t (n, inner)
func redNLL(c redLossCfg, logp []float64, t []int64, w []float64, n, classes, inner int) ([]float64, []int, error) {
	loss := make([]float64, n*inner)
	wsum := 0.0
	for i, ti := range t {
		if c.hasIgnore && ti == c.ignore {
			continue
		}
		if ti < 0 || ti >= int64(classes) {
			return nil, nil, fmt.Errorf("%w: input 1 (target) value %d outside [0, %d)", errInput, ti, classes)
		}
		wi := 1.0
		if w != nil {
			wi = w[ti]
		}
		o, k := i/inner, i%inner
		loss[i] = -wi * logp[(o*classes+int(ti))*inner+k]
		wsum += wi
	}
	if c.reduction == "none" {
		return loss, nil, nil
	}
	s := 0.0
	for _, l := range loss {
		s += l
	}
	if c.reduction == "mean" {
		s /= wsum
		if wsum == 0 {
			s = math.NaN()
		}
	}
	return []float64{s}, []int{}, nil
}
