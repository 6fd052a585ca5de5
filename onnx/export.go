package onnx

import (
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// ExportOpset is the default-domain opset of exported models: new enough
// for every op Keen's layers emit, old enough for current ONNX Runtime.
const ExportOpset = 21

// ExportOptions name the exported graph's input and output.
type ExportOptions struct {
	InputName  string // default "input"
	OutputName string // default "output"
	// StaticBatch keeps dimension 0 fixed; by default it is the symbol "N".
	StaticBatch bool
	Producer    string
}

// Export traces m.Forward on sample and returns it as an ONNX model: the
// ops become nodes, the parameters initializers named after their fields,
// and dimension 0 of input and output a symbolic batch. It fails, naming the
// constant, when the traced code turned the batch size into a fixed number.
func Export(m nn.Module, sample *eager.Tensor, o ExportOptions) (*ir.Model, error) {
	if o.InputName == "" {
		o.InputName = "input"
	}
	if o.OutputName == "" {
		o.OutputName = "output"
	}
	if o.Producer == "" {
		o.Producer = "keen"
	}
	tc := traceConfig{inputName: o.InputName, outputName: o.OutputName}
	g, consts, err := traceGraph(m, sample, tc, o.StaticBatch)
	if err != nil {
		return nil, err
	}
	if !o.StaticBatch && sample.Rank() > 0 && sample.Dim(0) > 1 {
		smaller := eager.Slice(sample, []int{0}, []int{sample.Dim(0) - 1}, []int{0})
		_, consts2, err := traceGraph(m, smaller, tc, o.StaticBatch)
		if err != nil {
			return nil, err
		}
		if err := checkFrozen(consts, consts2); err != nil {
			return nil, err
		}
	}
	return &ir.Model{IRVersion: 8, ProducerName: o.Producer, Graph: g,
		Opsets: []ir.OpsetImport{{Domain: "", Version: ExportOpset}}}, nil
}

// traceConfig names what a trace produces: the input and output values,
// and prefixes for parameter, constant and node names.
type traceConfig struct {
	inputName, outputName string
	paramPrefix, prefix   string
}

// traceGraph builds the graph of one trace; consts lists the constants in
// order of first use.
func traceGraph(m nn.Module, sample *eager.Tensor, o traceConfig, static bool) (*ir.Graph, []*ir.Tensor, error) {
	var out *eager.Tensor
	var perr error
	ops := eager.Trace(func() {
		defer func() {
			if r := recover(); r != nil {
				perr = fmt.Errorf("onnx: Export: the model's Forward failed: %v", r)
			}
		}()
		out = m.Forward(sample)
	})
	if perr != nil {
		return nil, nil, perr
	}
	names := map[*eager.Tensor]string{sample: o.inputName}
	g := &ir.Graph{Name: "keen"}
	for _, p := range nn.NamedTensors(m) {
		if _, dup := names[p.T]; dup {
			continue
		}
		p.Name = o.paramPrefix + p.Name
		names[p.T] = p.Name
		h, err := p.T.Host()
		if err != nil {
			return nil, nil, err
		}
		g.Initializers = append(g.Initializers, &ir.Tensor{Name: p.Name, DType: h.DType, Shape: h.Shape, Data: h.Data})
	}
	var consts []*ir.Tensor
	produced := map[*eager.Tensor]bool{}
	nameOf := func(t *eager.Tensor) (string, error) {
		if t == nil {
			return "", nil
		}
		if n, ok := names[t]; ok {
			return n, nil
		}
		if produced[t] {
			return "", fmt.Errorf("onnx: Export: internal: unnamed produced tensor")
		}
		h, err := t.Host()
		if err != nil {
			return "", err
		}
		n := fmt.Sprintf("%sconst_%d", o.prefix, len(consts))
		c := &ir.Tensor{Name: n, DType: h.DType, Shape: h.Shape, Data: h.Data}
		consts = append(consts, c)
		g.Initializers = append(g.Initializers, c)
		names[t] = n
		return n, nil
	}
	for i, op := range ops {
		node := &ir.Node{Name: fmt.Sprintf("%s%s_%d", o.prefix, op.Op, i), OpType: op.Op, Domain: op.Domain, Attrs: op.Attrs}
		for _, in := range op.Inputs {
			n, err := nameOf(in)
			if err != nil {
				return nil, nil, err
			}
			node.Inputs = append(node.Inputs, n)
		}
		for j, t := range op.Outputs {
			if t == nil {
				node.Outputs = append(node.Outputs, "")
				continue
			}
			n := fmt.Sprintf("%s%s_%d_out%d", o.prefix, op.Op, i, j)
			if t == out {
				n = o.outputName
			}
			names[t], produced[t] = n, true
			node.Outputs = append(node.Outputs, n)
		}
		g.Nodes = append(g.Nodes, node)
	}
	if names[out] != o.outputName {
		// The output is an input or parameter itself: add an Identity.
		src, err := nameOf(out)
		if err != nil {
			return nil, nil, err
		}
		g.Nodes = append(g.Nodes, &ir.Node{Name: o.prefix + "output_identity", OpType: "Identity", Inputs: []string{src}, Outputs: []string{o.outputName}})
	}
	g.Inputs = []ir.ValueInfo{{Name: o.inputName, Type: exportType(sample, static)}}
	g.Outputs = []ir.ValueInfo{{Name: o.outputName, Type: exportType(out, static)}}
	return g, consts, nil
}

func exportType(t *eager.Tensor, static bool) *ir.Type {
	typ := ir.TensorType(t.DType(), t.Shape()...)
	if !static && len(typ.Shape) > 0 {
		typ.Shape[0] = ir.Dim{Value: -1, Param: "N"}
	}
	return typ
}

// checkFrozen compares the constants of traces at two batch sizes: one that
// changed holds the batch size as a fixed number.
func checkFrozen(a, b []*ir.Tensor) error {
	if len(a) != len(b) {
		return fmt.Errorf("onnx: Export: the traced ops differ between batch sizes; the model's Forward depends on the batch size")
	}
	for i := range a {
		if a[i].DType != b[i].DType || fmt.Sprint(a[i].Shape) != fmt.Sprint(b[i].Shape) || fmt.Sprint(a[i].Data) != fmt.Sprint(b[i].Data) {
			return fmt.Errorf("onnx: Export: constant %s = %s changes with the batch size (%s at a smaller batch): "+
				"the batch dimension was frozen into a Go int; use 0 or -1 in Reshape, or Flatten, or export with StaticBatch",
				a[i].Name, ir.FormatValues(a[i], 8), ir.FormatValues(b[i], 8))
		}
	}
	return nil
}
