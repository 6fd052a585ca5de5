package onnx

import (
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// Updated returns m's ONNX model with every initializer holding its current
// (fine-tuned) value; the graph is otherwise the imported one.
func (m *Model) Updated() (*ir.Model, error) {
	nm := *m.IR
	g := *m.IR.Graph
	g.Initializers = make([]*ir.Tensor, len(m.IR.Graph.Initializers))
	for i, t := range m.IR.Graph.Initializers {
		g.Initializers[i] = t
		cur := m.graph.inits[t.Name]
		if cur == nil {
			continue
		}
		h, err := cur.Host()
		if err != nil {
			return nil, fmt.Errorf("onnx: initializer %q: %w", t.Name, err)
		}
		g.Initializers[i] = &ir.Tensor{Name: t.Name, DType: h.DType, Shape: h.Shape, Data: h.Data}
	}
	nm.Graph = &g
	return &nm, nil
}

// Export returns the imported body (with current parameter values) followed
// by the traced head, keeping the imported model's input and output names.
// sample is one input batch; the exported batch dimension stays symbolic.
func (c *Composite) Export(sample *eager.Tensor) (*ir.Model, error) {
	body, err := c.Body.Updated()
	if err != nil {
		return nil, err
	}
	var feat *eager.Tensor
	var ferr error
	eager.NoGrad(func() {
		defer func() {
			if r := recover(); r != nil {
				ferr = fmt.Errorf("onnx: Export: body failed on the sample: %v", r)
			}
		}()
		feat = c.Body.Forward(sample)
	})
	if ferr != nil {
		return nil, ferr
	}
	featName := body.Graph.Outputs[0].Name
	tc := traceConfig{inputName: featName, outputName: c.OutputName, paramPrefix: "head.", prefix: "head_"}
	hg, consts, err := traceGraph(c.Head, feat, tc, false)
	if err != nil {
		return nil, err
	}
	if feat.Rank() > 0 && feat.Dim(0) > 1 {
		smaller := eager.Slice(feat, []int{0}, []int{feat.Dim(0) - 1}, []int{0})
		_, consts2, err := traceGraph(c.Head, smaller, tc, false)
		if err != nil {
			return nil, err
		}
		if err := checkFrozen(consts, consts2); err != nil {
			return nil, err
		}
	}
	g := *body.Graph
	g.Nodes = append(append([]*ir.Node{}, body.Graph.Nodes...), hg.Nodes...)
	g.Initializers = append(append([]*ir.Tensor{}, body.Graph.Initializers...), hg.Initializers...)
	out := hg.Outputs[0]
	if len(c.Body.IR.Graph.Inputs) > 0 {
		// keep the batch symbol of the imported model's input
		if in := c.Body.Inputs(); len(in) > 0 && in[0].Type != nil && len(in[0].Type.Shape) > 0 && len(out.Type.Shape) > 0 {
			out.Type.Shape[0] = in[0].Type.Shape[0]
		}
	}
	g.Outputs = []ir.ValueInfo{out}
	body.Graph = &g
	return body, nil
}

// ExportModule exports any module: an imported Model with its current
// parameters, a Composite as body plus traced head, and a Go model by tracing
// its Forward on sample.
func ExportModule(m nn.Module, sample *eager.Tensor) (*ir.Model, error) {
	switch x := m.(type) {
	case *Model:
		return x.Updated()
	case *Composite:
		return x.Export(sample)
	}
	return Export(m, sample, ExportOptions{})
}
