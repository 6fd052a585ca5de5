package finetune

import (
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// oldHead finds the weights of the layer ReplaceHead cut off: W as
// [out, in] and b as [out] (nil if none), and the layer's input size.
func oldHead(m *onnx.Model, c *onnx.Composite) (w, b *ir.Tensor, in int, err error) {
	g := m.IR.Graph
	var last *ir.Node
	var biasName string
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == c.OutputName {
				last = n
			}
		}
	}
	if last != nil && last.OpType == "Add" {
		biasName = last.Inputs[1]
		prod := last.Inputs[0]
		last = nil
		for _, n := range g.Nodes {
			if len(n.Outputs) > 0 && n.Outputs[0] == prod {
				last = n
			}
		}
	}
	if last == nil {
		return nil, nil, 0, fmt.Errorf("finetune: cannot find the old head layer")
	}
	wt := m.Initializer(last.Inputs[1])
	if wt == nil {
		return nil, nil, 0, fmt.Errorf("finetune: the old head's weight %q is not an initializer", last.Inputs[1])
	}
	wh, err := wt.Host()
	if err != nil {
		return nil, nil, 0, err
	}
	if wh.Rank() != 2 || wh.DType != ir.Float32 {
		return nil, nil, 0, fmt.Errorf("finetune: the old head's weight is %v%v, want float32 2-D", wh.DType, wh.Shape)
	}
	transposed := last.OpType == "Gemm" && last.Attrs.Int("transB", 0) != 0
	if !transposed {
		wh = transpose2(wh)
	}
	if last.OpType == "Gemm" && len(last.Inputs) > 2 {
		biasName = last.Inputs[2]
	}
	if biasName != "" {
		if bt := m.Initializer(biasName); bt != nil {
			if b, err = bt.Host(); err != nil {
				return nil, nil, 0, err
			}
			if b.Len() != wh.Shape[0] {
				b = nil
			}
		}
	}
	return wh, b, wh.Shape[1], nil
}

func transpose2(t *ir.Tensor) *ir.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	src := t.Data.([]float32)
	dst := make([]float32, len(src))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			dst[j*r+i] = src[i*c+j]
		}
	}
	return ir.FromSlice(dst, c, r)
}

// seedHead copies the old layer into the first rows of the new one.
func seedHead(head *nn.Linear, w, b *ir.Tensor) error {
	nw := head.Weight.MustHost().Clone()
	copy(nw.Data.([]float32), w.Data.([]float32))
	t, err := eager.FromHost(head.Weight.Backend(), nw)
	if err != nil {
		return err
	}
	if err := head.Weight.Assign(t); err != nil {
		return err
	}
	if b != nil && head.Bias != nil {
		nb := head.Bias.MustHost().Clone()
		copy(nb.Data.([]float32), b.Data.([]float32))
		t, err := eager.FromHost(head.Bias.Backend(), nb)
		if err != nil {
			return err
		}
		return head.Bias.Assign(t)
	}
	return nil
}
