package plugins

import (
	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Output dtypes and shapes of a queued op come from ir's inference on the
// host whenever it can tell: from the inputs' dtypes and shapes as far as
// the host knows them, and from the values of small integer tensors the
// host uploaded itself (shapes, axes, starts), so that Reshape's or Slice's
// output shape needs no round trip either. The plugin's answer is checked
// against every such guess.

// hostValueMax is the size up to which FromHost keeps the values of an
// integer tensor for inference.
const hostValueMax = 64

// keepValue says whether FromHost keeps t's values for inference.
func keepValue(t *ir.Tensor) bool {
	return (t.DType == ir.Int64 || t.DType == ir.Int32) && t.Len() <= hostValueMax
}

// infoOf is what the host knows of a buffer's type without waiting.
func infoOf(m *meta) *ir.TensorInfo {
	done, err := m.settled()
	known := done && err == nil
	info := &ir.TensorInfo{UnknownRank: true}
	if m.dtFixed || known {
		info.DType = m.dtype
	}
	if m.shapeFixed || known {
		info.Shape, info.UnknownRank = m.shape, false
	}
	return info
}

// inferOutputs fills in what inference says of a run's outputs. Inference
// errors are left to the plugin to report.
func inferOutputs(s *backends.OpSpec, in []*meta, outs []*meta) {
	infos := make([]*ir.TensorInfo, len(in))
	vals := make([]*ir.Tensor, len(in))
	for i, m := range in {
		if m != nil {
			infos[i], vals[i] = infoOf(m), m.value
		}
	}
	res, _, err := ir.InferOutputs(s.Domain, s.Op, s.Version, s.Attrs, infos, vals, len(outs))
	if err != nil {
		return
	}
	for j, r := range res {
		m := outs[j]
		if !m.dtFixed && r.DType.Valid() {
			m.dtype, m.dtFixed = r.DType, true
		}
		if static(r) {
			m.shape, m.shapeFixed = r.Shape, true
		}
	}
}

// static reports whether the rank and every dimension are known.
func static(r *ir.TensorInfo) bool {
	if r.UnknownRank {
		return false
	}
	for _, d := range r.Shape {
		if d < 0 {
			return false
		}
	}
	return true
}
