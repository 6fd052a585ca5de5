package onnx

import (
	"context"
	"fmt"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
)

// An imported Model is a module like any other: Forward runs it on one
// input, its floating-point initializers are its named parameters (those
// feeding BatchNormalization's running statistics are buffers), and the
// optimizers update them in place.

// Forward runs a single-input model and returns its first output. It
// panics with the error on failure, like the eager ops it is made of.
func (m *Model) Forward(x *eager.Tensor) *eager.Tensor {
	outs, err := m.RunValues(context.Background(), []Value{x})
	if err != nil {
		panic(&eager.OpError{Err: err})
	}
	t, ok := outs[0].(*eager.Tensor)
	if !ok {
		panic(&eager.OpError{Err: fmt.Errorf("onnx: output 0 is %s, not a tensor", describe(outs[0]))})
	}
	return t
}

// NamedTensors lists the floating-point initializers with their file names.
func (m *Model) NamedTensors() []nn.Named {
	buffers := map[string]bool{}
	for _, n := range m.IR.Graph.Nodes {
		if n.OpType == "BatchNormalization" {
			for i := 3; i < len(n.Inputs) && i < 5; i++ {
				buffers[n.Inputs[i]] = true
			}
		}
	}
	var out []nn.Named
	for _, name := range m.InitializerNames() {
		t := m.Initializer(name)
		if t != nil && t.DType().IsFloat() {
			out = append(out, nn.Named{Name: name, T: t, Buffer: buffers[name]})
		}
	}
	return out
}

// Truncate returns a model that computes the named intermediate value of m
// (a feature extractor) from the same inputs. It shares m's parameters.
func (m *Model) Truncate(output string) (*Model, error) {
	g := m.IR.Graph
	need := map[string]bool{output: true}
	var keep []*ir.Node
	found := false
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		hit := false
		for _, o := range n.Outputs {
			if need[o] {
				hit = true
				if o == output {
					found = true
				}
			}
		}
		if !hit {
			continue
		}
		keep = append([]*ir.Node{n}, keep...)
		for _, in := range n.Inputs {
			need[in] = true
		}
		for _, a := range n.Attrs {
			if a.Graph != nil {
				for _, name := range outerNames(a.Graph) {
					need[name] = true
				}
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("onnx: Truncate: no node computes %q", output)
	}
	ng := *g
	ng.Nodes = keep
	ng.Outputs = []ir.ValueInfo{{Name: output, Type: valueType(g, output)}}
	ng.Initializers = nil
	for _, t := range g.Initializers {
		if need[t.Name] {
			ng.Initializers = append(ng.Initializers, t)
		}
	}
	nm := *m.IR
	nm.Graph = &ng
	shared := map[string]*eager.Tensor{}
	for name, t := range m.graph.inits {
		shared[name] = t
	}
	return Compile(&nm, WithBackend(m.dev), func(o *options) { o.shared = shared })
}

// outerNames lists the names a subgraph reads from enclosing scopes.
func outerNames(g *ir.Graph) []string {
	local := map[string]bool{}
	for _, vi := range g.Inputs {
		local[vi.Name] = true
	}
	for _, t := range g.Initializers {
		local[t.Name] = true
	}
	var out []string
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != "" && !local[in] {
				out = append(out, in)
			}
		}
		for _, o := range n.Outputs {
			local[o] = true
		}
		for _, a := range n.Attrs {
			if a.Graph != nil {
				out = append(out, outerNames(a.Graph)...)
			}
		}
	}
	return out
}

// valueType finds the declared type of a value, if any.
func valueType(g *ir.Graph, name string) *ir.Type {
	for _, list := range [][]ir.ValueInfo{g.ValueInfo, g.Outputs, g.Inputs} {
		for _, vi := range list {
			if vi.Name == name {
				return vi.Type
			}
		}
	}
	return nil
}

// Composite is an imported model's body followed by layers written in Go:
// an imported classifier with a new head.
type Composite struct {
	Body *Model    // the imported part, truncated before its old head
	Head nn.Module // Go layers; their parameters are named "head.*"
	// OutputName is the name the exported graph gives the head's output
	// (the imported model's output name).
	OutputName string
}

// ReplaceHead cuts off the final layer of a single-output model (a Gemm, or
// a MatMul with an optional bias Add, producing output 0) and puts head in
// its place. The head receives what the old layer received.
func (m *Model) ReplaceHead(head nn.Module) (*Composite, error) {
	g := m.IR.Graph
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("onnx: ReplaceHead: model has %d outputs, want 1", len(g.Outputs))
	}
	out := g.Outputs[0].Name
	producer := func(name string) *ir.Node {
		for _, n := range g.Nodes {
			for _, o := range n.Outputs {
				if o == name {
					return n
				}
			}
		}
		return nil
	}
	last := producer(out)
	if last != nil && last.OpType == "Add" {
		last = producer(last.Inputs[0])
	}
	if last == nil || (last.OpType != "Gemm" && last.OpType != "MatMul") {
		kind := "nothing"
		if last != nil {
			kind = last.OpType
		}
		return nil, fmt.Errorf("onnx: ReplaceHead: output %q comes from %s, not a Gemm or MatMul layer; use Truncate and build a Composite yourself", out, kind)
	}
	body, err := m.Truncate(last.Inputs[0])
	if err != nil {
		return nil, err
	}
	return &Composite{Body: body, Head: head, OutputName: out}, nil
}

// Forward runs the body, then the head.
func (c *Composite) Forward(x *eager.Tensor) *eager.Tensor { return c.Head.Forward(c.Body.Forward(x)) }

// NamedTensors lists the body's parameters and then the head's as "head.*".
func (c *Composite) NamedTensors() []nn.Named {
	out := c.Body.NamedTensors()
	for _, n := range nn.NamedTensors(c.Head) {
		n.Name = "head." + n.Name
		out = append(out, n)
	}
	return out
}

// SetTraining forwards the mode to the head.
func (c *Composite) SetTraining(on bool) { nn.SetTraining(c.Head, on) }
