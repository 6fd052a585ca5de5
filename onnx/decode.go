// Package onnx converts between the ONNX protobuf wire format and Keen's ir
// values: models (ModelProto), tensors (TensorProto), the values of
// onnx-data.proto (sequences, optionals, maps) and NumPy .npy files.
//
// Decoding never panics on bad input: malformed protobuf, unknown dtypes,
// data that does not match its declared shape, absurd sizes and external-data
// paths that escape the model's folder all come back as errors naming the
// file, graph, node, attribute or tensor involved. Protobuf types stay inside
// this package (in internal/onnxpb, generated from keen_onnx.proto).
//
// Parts of ModelProto that ir has no place for are dropped on decode:
// training_info, device configurations, quantization annotations, metadata
// of graphs, value infos, tensors and functions, tensor doc strings, and
// dimension denotations.
package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// ErrExternalData is wrapped by errors about tensors whose data lies in an
// external file when no folder was given to find it in (DecodeModel,
// DecodeTensor); ReadModel and DecodeModelDir resolve such data.
var ErrExternalData = errors.New("tensor data is in an external file; decode with a model folder (ReadModel or DecodeModelDir)")

// decoder converts protobuf messages to ir; ext is nil when external data
// is not to be resolved.
type decoder struct {
	ext *extReader
}

func unmarshal(data []byte, m proto.Message) error {
	if err := proto.Unmarshal(data, m); err != nil {
		return fmt.Errorf("malformed protobuf: %w", err)
	}
	return nil
}

// DecodeModel parses a serialized ModelProto. Tensors with external data are
// an error wrapping ErrExternalData.
func DecodeModel(data []byte) (*ir.Model, error) {
	m, err := decodeModel(data, &decoder{})
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// DecodeModelDir parses a serialized ModelProto whose external data files
// lie in dir (the folder the model file was in).
func DecodeModelDir(data []byte, dir string) (*ir.Model, error) {
	d := &decoder{ext: newExtReader(dir)}
	defer d.ext.close()
	m, err := decodeModel(data, d)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// ReadModel reads a model file, loading external data from the model's folder.
func ReadModel(path string) (*ir.Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	d := &decoder{ext: newExtReader(filepath.Dir(path))}
	defer d.ext.close()
	m, err := decodeModel(data, d)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, nil
}

// ReadTensor reads a serialized TensorProto file (a .pb of the ONNX test
// data), loading external data relative to the file's folder.
func ReadTensor(path string) (*ir.Tensor, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	tp := &pb.TensorProto{}
	if err := unmarshal(data, tp); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	d := &decoder{ext: newExtReader(filepath.Dir(path))}
	defer d.ext.close()
	t, err := d.tensor(tp)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return t, nil
}

func decodeModel(data []byte, d *decoder) (*ir.Model, error) {
	mp := &pb.ModelProto{}
	if err := unmarshal(data, mp); err != nil {
		return nil, err
	}
	return d.model(mp)
}

func (d *decoder) model(mp *pb.ModelProto) (*ir.Model, error) {
	m := &ir.Model{
		IRVersion:       mp.GetIrVersion(),
		ProducerName:    mp.GetProducerName(),
		ProducerVersion: mp.GetProducerVersion(),
		Domain:          mp.GetDomain(),
		ModelVersion:    mp.GetModelVersion(),
		Doc:             mp.GetDocString(),
		Metadata:        pairsFromProto(mp.GetMetadataProps()),
	}
	var err error
	if m.Opsets, err = opsetsFromProto(mp.GetOpsetImport()); err != nil {
		return nil, err
	}
	if mp.GetGraph() == nil {
		return nil, errors.New("model has no graph")
	}
	if m.Graph, err = d.graph(mp.GetGraph()); err != nil {
		return nil, err
	}
	for _, fp := range mp.GetFunctions() {
		f, err := d.function(fp)
		if err != nil {
			return nil, fmt.Errorf("function %q (domain %q): %w", fp.GetName(), fp.GetDomain(), err)
		}
		m.Functions = append(m.Functions, f)
	}
	return m, nil
}

// opsetsFromProto writes the default domain as "" (ONNX also accepts "ai.onnx")
// and rejects two versions of one domain.
func opsetsFromProto(ops []*pb.OperatorSetIdProto) ([]ir.OpsetImport, error) {
	var out []ir.OpsetImport
next:
	for _, o := range ops {
		imp := ir.OpsetImport{Domain: ir.NormDomain(o.GetDomain()), Version: o.GetVersion()}
		for _, prev := range out {
			if prev.Domain == imp.Domain {
				if prev.Version != imp.Version {
					return nil, fmt.Errorf("opset_import: domain %q imported at versions %d and %d",
						imp.Domain, prev.Version, imp.Version)
				}
				continue next
			}
		}
		out = append(out, imp)
	}
	return out, nil
}

func pairsFromProto(ps []*pb.StringStringEntryProto) []ir.StringPair {
	if len(ps) == 0 {
		return nil
	}
	out := make([]ir.StringPair, len(ps))
	for i, p := range ps {
		out[i] = ir.StringPair{Key: p.GetKey(), Value: p.GetValue()}
	}
	return out
}

func (d *decoder) graph(gp *pb.GraphProto) (*ir.Graph, error) {
	if gp == nil {
		return nil, errors.New("missing graph")
	}
	g, err := d.graphBody(gp)
	if err != nil {
		return nil, fmt.Errorf("graph %q: %w", gp.GetName(), err)
	}
	return g, nil
}

func (d *decoder) graphBody(gp *pb.GraphProto) (*ir.Graph, error) {
	g := &ir.Graph{Name: gp.GetName(), Doc: gp.GetDocString()}
	var err error
	if g.Nodes, err = d.nodes(gp.GetNode()); err != nil {
		return nil, err
	}
	for _, tp := range gp.GetInitializer() {
		t, err := d.tensor(tp)
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		g.Initializers = append(g.Initializers, t)
	}
	for _, sp := range gp.GetSparseInitializer() {
		s, err := d.sparse(sp)
		if err != nil {
			return nil, fmt.Errorf("sparse initializer %q: %w", sp.GetValues().GetName(), err)
		}
		// The wire format names a sparse initializer by its values tensor.
		name := s.Values.Name
		s.Values.Name = ""
		g.SparseInitializers = append(g.SparseInitializers, &ir.SparseTensorInit{Name: name, Sparse: s})
	}
	if g.Inputs, err = valueInfosFromProto(gp.GetInput(), "input"); err != nil {
		return nil, err
	}
	if g.Outputs, err = valueInfosFromProto(gp.GetOutput(), "output"); err != nil {
		return nil, err
	}
	if g.ValueInfo, err = valueInfosFromProto(gp.GetValueInfo(), "value_info"); err != nil {
		return nil, err
	}
	return g, nil
}

func (d *decoder) nodes(nps []*pb.NodeProto) ([]*ir.Node, error) {
	if len(nps) == 0 {
		return nil, nil
	}
	out := make([]*ir.Node, len(nps))
	for i, np := range nps {
		n := &ir.Node{
			Name:     np.GetName(),
			OpType:   np.GetOpType(),
			Domain:   ir.NormDomain(np.GetDomain()),
			Overload: np.GetOverload(),
			Inputs:   np.GetInput(),
			Outputs:  np.GetOutput(),
			Doc:      np.GetDocString(),
			Metadata: pairsFromProto(np.GetMetadataProps()),
		}
		var err error
		if n.Attrs, err = d.attrs(np.GetAttribute()); err != nil {
			return nil, fmt.Errorf("node %d (%s %q): %w", i, np.GetOpType(), np.GetName(), err)
		}
		out[i] = n
	}
	return out, nil
}

func (d *decoder) function(fp *pb.FunctionProto) (*ir.Function, error) {
	f := &ir.Function{
		Name:      fp.GetName(),
		Domain:    ir.NormDomain(fp.GetDomain()),
		Overload:  fp.GetOverload(),
		Inputs:    fp.GetInput(),
		Outputs:   fp.GetOutput(),
		AttrNames: fp.GetAttribute(),
		Doc:       fp.GetDocString(),
	}
	var err error
	if f.AttrDefault, err = d.attrs(fp.GetAttributeProto()); err != nil {
		return nil, err
	}
	if f.Nodes, err = d.nodes(fp.GetNode()); err != nil {
		return nil, err
	}
	if f.Opsets, err = opsetsFromProto(fp.GetOpsetImport()); err != nil {
		return nil, err
	}
	if f.ValueInfo, err = valueInfosFromProto(fp.GetValueInfo(), "value_info"); err != nil {
		return nil, err
	}
	return f, nil
}
