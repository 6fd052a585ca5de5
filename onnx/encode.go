package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// maxProtoSize is the largest message protobuf readers accept (2 GiB - 1);
// a variable so tests can exercise the external-data path with small models.
var maxProtoSize = math.MaxInt32

// EncodeModel serializes m as a ModelProto with every tensor inline. A model
// over the 2 GiB protobuf limit is an error; WriteModel handles those.
func EncodeModel(m *ir.Model) ([]byte, error) {
	mp, err := modelToProto(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if n := proto.Size(mp); n > maxProtoSize {
		return nil, fmt.Errorf("onnx: model is %d bytes, over the 2 GiB protobuf limit; "+
			"WriteModel moves large initializers to an external data file", n)
	}
	return marshal(mp)
}

// WriteModel writes m to path through a temporary file in the same folder
// renamed into place. When the model would pass the 2 GiB protobuf limit,
// the raw data of initializers of 1 KiB or more goes to "<name>.data" beside
// it, as ONNX external data.
func WriteModel(path string, m *ir.Model) error {
	mp, err := modelToProto(m)
	if err != nil {
		return fmt.Errorf("onnx: %s: %w", path, err)
	}
	if proto.Size(mp) > maxProtoSize {
		dir, location := filepath.Dir(path), filepath.Base(path)+".data"
		tmp, err := externalize(mp, dir, location)
		if err != nil {
			return fmt.Errorf("onnx: %s: external data: %w", path, err)
		}
		if n := proto.Size(mp); n > maxProtoSize {
			os.Remove(tmp)
			return fmt.Errorf("onnx: %s: model is %d bytes without its large initializers, over the 2 GiB protobuf limit", path, n)
		}
		if err := os.Rename(tmp, filepath.Join(dir, location)); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("onnx: %s: %w", path, err)
		}
	}
	data, err := marshal(mp)
	if err != nil {
		return err
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

// WriteTensor writes t as a serialized TensorProto through a temporary file
// renamed into place.
func WriteTensor(path string, t *ir.Tensor) error {
	data, err := EncodeTensor(t)
	if err != nil {
		return err
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	return nil
}

func marshal(m proto.Message) ([]byte, error) {
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("onnx: encode: %w", err)
	}
	return data, nil
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so readers see the old file or the new one.
func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func modelToProto(m *ir.Model) (*pb.ModelProto, error) {
	if m == nil {
		return nil, errors.New("nil model")
	}
	if m.Graph == nil {
		return nil, errors.New("model has no graph")
	}
	mp := &pb.ModelProto{
		IrVersion:       proto64(m.IRVersion),
		OpsetImport:     opsetsToProto(m.Opsets),
		ProducerName:    optString(m.ProducerName),
		ProducerVersion: optString(m.ProducerVersion),
		Domain:          optString(m.Domain),
		DocString:       optString(m.Doc),
		MetadataProps:   pairsToProto(m.Metadata),
	}
	if m.ModelVersion != 0 {
		mp.ModelVersion = proto64(m.ModelVersion)
	}
	var err error
	if mp.Graph, err = graphToProto(m.Graph); err != nil {
		return nil, err
	}
	for _, f := range m.Functions {
		fp, err := functionToProto(f)
		if err != nil {
			return nil, fmt.Errorf("function %q (domain %q): %w", f.Name, f.Domain, err)
		}
		mp.Functions = append(mp.Functions, fp)
	}
	return mp, nil
}

func opsetsToProto(ops []ir.OpsetImport) []*pb.OperatorSetIdProto {
	out := make([]*pb.OperatorSetIdProto, len(ops))
	for i, o := range ops {
		out[i] = &pb.OperatorSetIdProto{Domain: proto.String(ir.NormDomain(o.Domain)), Version: proto64(o.Version)}
	}
	return out
}

func pairsToProto(ps []ir.StringPair) []*pb.StringStringEntryProto {
	if len(ps) == 0 {
		return nil
	}
	out := make([]*pb.StringStringEntryProto, len(ps))
	for i, p := range ps {
		out[i] = &pb.StringStringEntryProto{Key: proto.String(p.Key), Value: proto.String(p.Value)}
	}
	return out
}

func graphToProto(g *ir.Graph) (*pb.GraphProto, error) {
	if g == nil {
		return nil, errors.New("missing graph")
	}
	gp, err := graphBodyToProto(g)
	if err != nil {
		return nil, fmt.Errorf("graph %q: %w", g.Name, err)
	}
	return gp, nil
}

func graphBodyToProto(g *ir.Graph) (*pb.GraphProto, error) {
	gp := &pb.GraphProto{Name: optString(g.Name), DocString: optString(g.Doc)}
	var err error
	if gp.Node, err = nodesToProto(g.Nodes); err != nil {
		return nil, err
	}
	for _, t := range g.Initializers {
		tp, err := tensorToProto(t)
		if err != nil {
			return nil, fmt.Errorf("initializer: %w", err)
		}
		gp.Initializer = append(gp.Initializer, tp)
	}
	for _, s := range g.SparseInitializers {
		sp, err := sparseToProto(s.Sparse)
		if err != nil {
			return nil, fmt.Errorf("sparse initializer %q: %w", s.Name, err)
		}
		sp.Values.Name = optString(s.Name)
		gp.SparseInitializer = append(gp.SparseInitializer, sp)
	}
	if gp.Input, err = valueInfosToProto(g.Inputs, "input"); err != nil {
		return nil, err
	}
	if gp.Output, err = valueInfosToProto(g.Outputs, "output"); err != nil {
		return nil, err
	}
	if gp.ValueInfo, err = valueInfosToProto(g.ValueInfo, "value_info"); err != nil {
		return nil, err
	}
	return gp, nil
}

func nodesToProto(nodes []*ir.Node) ([]*pb.NodeProto, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]*pb.NodeProto, len(nodes))
	for i, n := range nodes {
		if n == nil {
			return nil, fmt.Errorf("node %d is nil", i)
		}
		np := &pb.NodeProto{
			Input:         n.Inputs,
			Output:        n.Outputs,
			Name:          optString(n.Name),
			OpType:        proto.String(n.OpType),
			Domain:        optString(ir.NormDomain(n.Domain)),
			Overload:      optString(n.Overload),
			DocString:     optString(n.Doc),
			MetadataProps: pairsToProto(n.Metadata),
		}
		var err error
		if np.Attribute, err = attrsToProto(n.Attrs); err != nil {
			return nil, fmt.Errorf("node %d (%s %q): %w", i, n.OpType, n.Name, err)
		}
		out[i] = np
	}
	return out, nil
}

func functionToProto(f *ir.Function) (*pb.FunctionProto, error) {
	if f == nil {
		return nil, errors.New("nil function")
	}
	fp := &pb.FunctionProto{
		Name:        proto.String(f.Name),
		Domain:      proto.String(ir.NormDomain(f.Domain)),
		Overload:    optString(f.Overload),
		Input:       f.Inputs,
		Output:      f.Outputs,
		Attribute:   f.AttrNames,
		DocString:   optString(f.Doc),
		OpsetImport: opsetsToProto(f.Opsets),
	}
	var err error
	if fp.AttributeProto, err = attrsToProto(f.AttrDefault); err != nil {
		return nil, err
	}
	if fp.Node, err = nodesToProto(f.Nodes); err != nil {
		return nil, err
	}
	if fp.ValueInfo, err = valueInfosToProto(f.ValueInfo, "value_info"); err != nil {
		return nil, err
	}
	return fp, nil
}
