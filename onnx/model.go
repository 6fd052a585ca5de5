package onnx

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// MaxOpset is the newest default-domain opset Keen implements.
const MaxOpset = 28

// Model is an ONNX model compiled for a backend. It is safe to run from many
// goroutines at once.
type Model struct {
	IR    *ir.Model
	dev   backends.Backend
	graph *graphPlan
	funcs map[string]*ir.Function
	// shared holds initializer tensors taken over from another model.
	shared map[string]*eager.Tensor
	// observe, when set, is told how long each node took (WithNodeObserver).
	observe func(n *ir.Node, d time.Duration)
}

// Option configures Load and Compile.
type Option func(*options)

type options struct {
	dev     backends.Backend
	shared  map[string]*eager.Tensor // initializer tensors to reuse (truncated models)
	observe func(n *ir.Node, d time.Duration)
}

// WithBackend runs the model on b instead of the default backend.
func WithBackend(b backends.Backend) Option { return func(o *options) { o.dev = b } }

// WithNodeObserver has f called after every node the model runs, with the
// node as planned (a fused node where the backend fuses, see fuse.go) and
// its wall time, on the goroutine that ran it: for per-node profiles
// (`onnxrun bench --nodes`). The time includes waiting for the backend
// only where its kernels are synchronous (the CPU backend).
func WithNodeObserver(f func(n *ir.Node, d time.Duration)) Option {
	return func(o *options) { o.observe = f }
}

// Load reads and compiles the model at path.
func Load(path string, opts ...Option) (*Model, error) {
	m, err := ReadModel(path)
	if err != nil {
		return nil, err
	}
	return Compile(m, opts...)
}

// Compile checks a decoded model and prepares it to run: it resolves opsets
// and functions, uploads initializers and refuses unknown ops.
func Compile(m *ir.Model, opts ...Option) (*Model, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.dev == nil {
		var err error
		if o.dev, err = eager.DefaultBackend(); err != nil {
			return nil, err
		}
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("onnx: model has no graph")
	}
	if err := checkOpsets(m.Opsets); err != nil {
		return nil, err
	}
	mod := &Model{IR: m, dev: o.dev, funcs: map[string]*ir.Function{}, shared: o.shared, observe: o.observe}
	for _, f := range m.Functions {
		mod.funcs[funcKey(f.Domain, f.Name, f.Overload)] = f
	}
	gp, err := mod.plan(m.Graph, m.Opsets, nil)
	if err != nil {
		return nil, err
	}
	mod.graph = gp
	fp, err := mod.planFused(gp)
	if err != nil {
		return nil, err
	}
	if fp != nil {
		mod.graph = fp
	}
	return mod, nil
}

func funcKey(domain, name, overload string) string {
	return ir.NormDomain(domain) + "\x00" + name + "\x00" + overload
}

func checkOpsets(opsets []ir.OpsetImport) error {
	for _, o := range opsets {
		if ir.NormDomain(o.Domain) == "" && (o.Version < 1 || o.Version > MaxOpset) {
			return fmt.Errorf("onnx: model imports default-domain opset %d; Keen supports 1 to %d", o.Version, MaxOpset)
		}
	}
	return nil
}

// Backend is the backend the model runs on.
func (m *Model) Backend() backends.Backend { return m.dev }

// Inputs are the inputs a caller feeds (graph inputs that are not initializers).
func (m *Model) Inputs() []ir.ValueInfo { return m.IR.Graph.RealInputs() }

// Outputs are the graph outputs.
func (m *Model) Outputs() []ir.ValueInfo { return m.IR.Graph.Outputs }

// Run runs the model on tensors given in the order of Inputs and returns the
// outputs in the order of Outputs.
func (m *Model) Run(ctx context.Context, inputs ...*eager.Tensor) ([]*eager.Tensor, error) {
	vals := make([]Value, len(inputs))
	for i, t := range inputs {
		if t != nil {
			vals[i] = t
		}
	}
	outs, err := m.RunValues(ctx, vals)
	if err != nil {
		return nil, err
	}
	res := make([]*eager.Tensor, len(outs))
	for i, v := range outs {
		t, ok := v.(*eager.Tensor)
		if !ok {
			return nil, fmt.Errorf("onnx: output %d (%q) is a %s, not a tensor: use RunValues", i, m.IR.Graph.Outputs[i].Name, describe(v))
		}
		res[i] = t
	}
	return res, nil
}

// RunHost runs the model on host values and returns host values.
func (m *Model) RunHost(ctx context.Context, inputs ...ir.Value) ([]ir.Value, error) {
	vals := make([]Value, len(inputs))
	for i, in := range inputs {
		v, err := ToRuntime(m.dev, in)
		if err != nil {
			return nil, fmt.Errorf("onnx: input %d: %w", i, err)
		}
		vals[i] = v
	}
	outs, err := m.RunValues(ctx, vals)
	if err != nil {
		return nil, err
	}
	res := make([]ir.Value, len(outs))
	for i, o := range outs {
		if res[i], err = ToHost(o); err != nil {
			return nil, fmt.Errorf("onnx: output %d: %w", i, err)
		}
	}
	return res, nil
}

// RunValues runs the model on runtime values (tensors, sequences,
// optionals). It checks inputs against the declared types, stops early when
// ctx is cancelled, and turns a panic inside a kernel into an error.
func (m *Model) RunValues(ctx context.Context, inputs []Value) (outs []Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("onnx: internal error while running the model: %v\n%s", r, debug.Stack())
		}
	}()
	real := m.Inputs()
	if len(inputs) > len(real) {
		return nil, fmt.Errorf("onnx: model takes %d inputs, got %d", len(real), len(inputs))
	}
	for i, vi := range real {
		var v Value
		if i < len(inputs) {
			v = inputs[i]
		}
		if err := checkInput(i, vi, v); err != nil {
			return nil, err
		}
	}
	return m.runGraph(ctx, m.graph, nil, inputs, true)
}

// checkInput compares a fed value with its declared type.
func checkInput(i int, vi ir.ValueInfo, v Value) error {
	if v == nil {
		if vi.Type != nil && vi.Type.Kind == ir.KindOptional {
			return nil
		}
		return fmt.Errorf("onnx: input %d (%q) is missing", i, vi.Name)
	}
	t, ok := v.(*eager.Tensor)
	if !ok || vi.Type == nil || vi.Type.Kind != ir.KindTensor {
		return nil
	}
	if vi.Type.DType != ir.Undefined && t.DType() != vi.Type.DType {
		return fmt.Errorf("onnx: input %d (%q): want dtype %v, got %v%v", i, vi.Name, vi.Type.DType, t.DType(), t.Shape())
	}
	if !vi.Type.HasShape {
		return nil
	}
	shape := t.Shape()
	bad := len(shape) != len(vi.Type.Shape)
	for j := 0; !bad && j < len(shape); j++ {
		d := vi.Type.Shape[j]
		bad = d.Known() && int(d.Value) != shape[j]
	}
	if bad {
		return fmt.Errorf("onnx: input %d (%q): want shape %v, got %v%v", i, vi.Name, vi.Type.Shape, t.DType(), shape)
	}
	return nil
}

// Initializer returns the run-time tensor of a main-graph initializer (nil
// if there is none). Fine-tuning updates these tensors in place.
func (m *Model) Initializer(name string) *eager.Tensor { return m.graph.inits[name] }

// InitializerNames lists the main graph's initializers in file order, each once.
func (m *Model) InitializerNames() []string {
	seen := map[string]bool{}
	var names []string
	for _, t := range m.IR.Graph.Initializers {
		if !seen[t.Name] {
			seen[t.Name] = true
			names = append(names, t.Name)
		}
	}
	for _, s := range m.IR.Graph.SparseInitializers {
		if !seen[s.Name] {
			seen[s.Name] = true
			names = append(names, s.Name)
		}
	}
	return names
}
