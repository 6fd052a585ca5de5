package ir

// OpsetImport is one (domain, version) pair a model or function imports.
// The default ONNX domain is "" (also written "ai.onnx").
type OpsetImport struct {
	Domain  string
	Version int64
}

// Node is one operator application.
type Node struct {
	Name     string
	OpType   string
	Domain   string
	Overload string
	Inputs   []string // "" marks a missing optional input
	Outputs  []string // "" marks an unused optional output
	Attrs    Attrs
	Doc      string
	Metadata []StringPair
}

// StringPair is a metadata key/value entry.
type StringPair struct{ Key, Value string }

// ValueInfo names a value and declares its type.
type ValueInfo struct {
	Name string
	Type *Type
	Doc  string
}

// Graph is a list of nodes in topological order with its inputs, outputs and
// initializers. Subgraphs (If/Loop/Scan bodies) may refer to names of outer graphs.
type Graph struct {
	Name               string
	Nodes              []*Node
	Inputs             []ValueInfo
	Outputs            []ValueInfo
	ValueInfo          []ValueInfo
	Initializers       []*Tensor // each has Name set
	SparseInitializers []*SparseTensorInit
	Doc                string
}

// SparseTensorInit is a named sparse initializer.
type SparseTensorInit struct {
	Name   string
	Sparse *SparseTensor
}

// Initializer returns the initializer named name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// RealInputs are the graph inputs that are not also initializers (the
// inputs a caller must feed), in order.
func (g *Graph) RealInputs() []ValueInfo {
	init := make(map[string]bool, len(g.Initializers))
	for _, t := range g.Initializers {
		init[t.Name] = true
	}
	for _, s := range g.SparseInitializers {
		init[s.Name] = true
	}
	var out []ValueInfo
	for _, in := range g.Inputs {
		if !init[in.Name] {
			out = append(out, in)
		}
	}
	return out
}

// Function is a model-local function (FunctionProto).
type Function struct {
	Name        string
	Domain      string
	Overload    string
	Inputs      []string
	Outputs     []string
	AttrNames   []string // attributes without defaults
	AttrDefault Attrs    // attributes with defaults
	Nodes       []*Node
	Opsets      []OpsetImport
	ValueInfo   []ValueInfo
	Doc         string
}

// Model is a decoded ModelProto.
type Model struct {
	IRVersion       int64
	Opsets          []OpsetImport
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	Doc             string
	Graph           *Graph
	Functions       []*Function
	Metadata        []StringPair
}

// OpsetVersion returns the imported version of domain ("" and "ai.onnx" are
// the same domain), or 0 when the model does not import it.
func OpsetVersion(opsets []OpsetImport, domain string) int64 {
	domain = NormDomain(domain)
	for _, o := range opsets {
		if NormDomain(o.Domain) == domain {
			return o.Version
		}
	}
	return 0
}

// NormDomain maps "ai.onnx" to "", the canonical name of the default domain.
func NormDomain(d string) string {
	if d == "ai.onnx" {
		return ""
	}
	return d
}
