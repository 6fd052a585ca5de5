package cpu

// ai.onnx.preview FlexAttention: attention over rank-4 inputs with optional
// score_mod and prob_mod subgraphs, evaluated on the CPU kernels.

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { regDomain("ai.onnx.preview", "FlexAttention", 1, prepFlexAttention) }

func prepFlexAttention(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	if err := mxCheckFloat("FlexAttention", dt, 0); err != nil {
		return nil, err
	}
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != dt {
			return nil, fmt.Errorf("FlexAttention: %w: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	prec := ir.Float32
	if dt == ir.Float64 {
		prec = ir.Float64
	}
	if a := s.Attrs.Find("softmax_precision"); a != nil {
		prec = ir.DType(a.Int)
		if prec != ir.Float32 && prec != ir.Float64 && prec != ir.Float16 && prec != ir.BFloat16 {
			return nil, fmt.Errorf("FlexAttention: %w: softmax_precision %d", errAttr, a.Int)
		}
	}
	scale := float64(s.Attrs.Float("scale", 0))
	scoreMod, probMod := s.Attrs.GraphAttr("score_mod"), s.Attrs.GraphAttr("prob_mod")
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 3); err != nil {
			return nil, fmt.Errorf("FlexAttention: %w", err)
		}
		q, k, v := in[0], in[1], in[2]
		if q.Rank() != 4 || k.Rank() != 4 || v.Rank() != 4 || k.Shape[0] != q.Shape[0] || k.Shape[3] != q.Shape[3] ||
			!mxSameInts(v.Shape[:3], k.Shape[:3]) || k.Shape[1] == 0 || q.Shape[1]%k.Shape[1] != 0 {
			return nil, fmt.Errorf("FlexAttention: %w: Q %v, K %v, V %v", errShape, q.Shape, k.Shape, v.Shape)
		}
		B, HQ, L, D := q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]
		HK, S, DV := k.Shape[1], k.Shape[2], v.Shape[3]
		sc := scale
		if sc == 0 {
			sc = 1 / math.Sqrt(float64(D))
		}
		qs, ks, vs := mxFloat64s(q), mxFloat64s(k), mxFloat64s(v)
		shape := []int{B, HQ, L, S}
		scores := make([]float64, B*HQ*L*S)
		reps := HQ / HK
		for row := 0; row < B*HQ*L; row++ {
			kv := (row/(HQ*L)*HK + row/L%HQ/reps) * S
			for j := 0; j < S; j++ {
				var d float64
				for p := 0; p < D; p++ {
					d += qs[row*D+p] * ks[(kv+j)*D+p]
				}
				scores[row*S+j] = d * sc
			}
		}
		scores, err := mxApplyMod(scoreMod, "score_mod", prec, shape, scores)
		if err != nil {
			return nil, err
		}
		mxSoftmaxRows(scores, S, prec)
		if scores, err = mxApplyMod(probMod, "prob_mod", prec, shape, scores); err != nil {
			return nil, err
		}
		y := make([]float64, B*HQ*L*DV)
		for row := 0; row < B*HQ*L; row++ {
			kv := (row/(HQ*L)*HK + row/L%HQ/reps) * S
			for j := 0; j < S; j++ {
				p := scores[row*S+j]
				for t := 0; t < DV; t++ {
					y[row*DV+t] += p * vs[(kv+j)*DV+t]
				}
			}
		}
		return one(mxTensorFrom64(dt, []int{B, HQ, L, DV}, y))
	}, nil
}

// mxApplyMod runs a modifier subgraph on vals held as a prec tensor.
func mxApplyMod(g *ir.Graph, name string, prec ir.DType, shape []int, vals []float64) ([]float64, error) {
	if g == nil {
		return mxRound64(prec, vals), nil
	}
	out, err := mxRunGraph(g, mxTensorFrom64(prec, shape, vals))
	if err != nil {
		return nil, fmt.Errorf("FlexAttention: %s: %w", name, err)
	}
	if len(out) != 1 || !mxSameInts(out[0].Shape, shape) || !out[0].DType.IsFloat() {
		return nil, fmt.Errorf("FlexAttention: %w: %s must return one float tensor of shape %v", errShape, name, shape)
	}
	res := make([]float64, len(vals))
	for i := range res {
		res[i] = out[0].Float64At(i)
	}
	return res, nil
}

// mxSoftmaxRows applies softmax over rows of n values, rounding to prec; a
// row with no finite score becomes zeros.
func mxSoftmaxRows(x []float64, n int, prec ir.DType) {
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		if math.IsInf(mx, -1) {
			clear(row)
			continue
		}
		var sum float64
		for j, v := range row {
			row[j] = math.Exp(v - mx)
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
	}
	mxRound64(prec, x)
}

// mxRound64 rounds vals in place to the precision of dt.
func mxRound64(dt ir.DType, vals []float64) []float64 {
	if dt == ir.Float64 {
		return vals
	}
	for i, v := range vals {
		f := float32(v)
		if dt != ir.Float32 {
			f = ir.SmallFloatToFloat32(dt, ir.Float32ToSmallFloat(dt, f, true))
		}
		vals[i] = float64(f)
	}
	return vals
}

// mxTensorFrom64 builds a float tensor of dtype dt from float64 values.
func mxTensorFrom64(dt ir.DType, shape []int, vals []float64) *ir.Tensor {
	switch dt {
	case ir.Float64:
		return ir.FromSlice(vals, shape...)
	case ir.Float32:
		f := make([]float32, len(vals))
		for i, v := range vals {
			f[i] = float32(v)
		}
		return ir.FromSlice(f, shape...)
	}
	f := make([]float32, len(vals))
	for i, v := range vals {
		f[i] = float32(v)
	}
	return fromFloat32(ir.FromSlice(f, shape...), dt)
}

// mxFloat64s returns t's values as float64 (t's own slice when float64).
func mxFloat64s(t *ir.Tensor) []float64 {
	if f, ok := t.Data.([]float64); ok {
		return f
	}
	out := make([]float64, t.Len())
	if f, ok := t.Data.([]float32); ok {
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	}
	for i := range out {
		out[i] = t.Float64At(i)
	}
	return out
}
