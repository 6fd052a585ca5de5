package onnx

import (
	"errors"
	"fmt"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// attrs converts a node's attribute list; duplicate names are an error.
func (d *decoder) attrs(aps []*pb.AttributeProto) (ir.Attrs, error) {
	if len(aps) == 0 {
		return nil, nil
	}
	out := make(ir.Attrs, len(aps))
	seen := make(map[string]bool, len(aps))
	for i, ap := range aps {
		if seen[ap.GetName()] {
			return nil, fmt.Errorf("duplicate attribute %q", ap.GetName())
		}
		seen[ap.GetName()] = true
		a, err := d.attr(ap)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", ap.GetName(), err)
		}
		out[i] = a
	}
	return out, nil
}

// attr converts one attribute, reading the field its type names. Files from
// before IR version 0.0.2 omit the type; it is then inferred from the field set.
func (d *decoder) attr(ap *pb.AttributeProto) (ir.Attr, error) {
	a := ir.Attr{Name: ap.GetName(), RefAttrName: ap.GetRefAttrName(), Doc: ap.GetDocString(),
		Type: ir.AttrType(ap.GetType())}
	if a.Type == ir.AttrUndefined {
		a.Type = inferAttrType(ap)
		if a.Type == ir.AttrUndefined {
			if a.RefAttrName != "" {
				return a, nil
			}
			return a, errors.New("attribute has neither a type nor a value")
		}
	}
	var err error
	switch a.Type {
	case ir.AttrFloat:
		a.Float = ap.GetF()
	case ir.AttrInt:
		a.Int = ap.GetI()
	case ir.AttrString:
		a.String = string(ap.GetS())
	case ir.AttrTensor:
		a.Tensor, err = d.tensor(ap.GetT())
	case ir.AttrGraph:
		a.Graph, err = d.graph(ap.GetG())
	case ir.AttrSparseTensor:
		a.Sparse, err = d.sparse(ap.GetSparseTensor())
	case ir.AttrTypeProto:
		a.TypeProto, err = typeFromProto(ap.GetTp())
		if err == nil && a.TypeProto == nil {
			err = errors.New("missing type proto")
		}
	case ir.AttrFloats:
		a.Floats = ap.GetFloats()
	case ir.AttrInts:
		a.Ints = ap.GetInts()
	case ir.AttrStrings:
		a.Strings = make([]string, len(ap.GetStrings()))
		for i, s := range ap.GetStrings() {
			a.Strings[i] = string(s)
		}
	default:
		err = d.attrList(ap, &a)
	}
	return a, err
}

// attrList reads the attribute types that hold lists of messages.
func (d *decoder) attrList(ap *pb.AttributeProto, a *ir.Attr) error {
	var err error
	switch a.Type {
	case ir.AttrTensors:
		a.Tensors = make([]*ir.Tensor, len(ap.GetTensors()))
		for i, tp := range ap.GetTensors() {
			if a.Tensors[i], err = d.tensor(tp); err != nil {
				return err
			}
		}
	case ir.AttrGraphs:
		a.Graphs = make([]*ir.Graph, len(ap.GetGraphs()))
		for i, gp := range ap.GetGraphs() {
			if a.Graphs[i], err = d.graph(gp); err != nil {
				return err
			}
		}
	case ir.AttrTypeProtos:
		a.TypeProtos = make([]*ir.Type, len(ap.GetTypeProtos()))
		for i, tp := range ap.GetTypeProtos() {
			if a.TypeProtos[i], err = typeFromProto(tp); err != nil {
				return err
			}
			if a.TypeProtos[i] == nil {
				return fmt.Errorf("type_protos[%d] is missing", i)
			}
		}
	case ir.AttrSparseTensors:
		return errors.New("sparse_tensors attributes are not supported (ir.Attr has no field for them)")
	default:
		return fmt.Errorf("unknown attribute type %d", int32(a.Type))
	}
	return nil
}

// inferAttrType picks the type of an untyped attribute from the field set,
// in the order ONNX's own helpers look.
func inferAttrType(ap *pb.AttributeProto) ir.AttrType {
	switch {
	case ap.F != nil:
		return ir.AttrFloat
	case ap.I != nil:
		return ir.AttrInt
	case ap.S != nil:
		return ir.AttrString
	case ap.T != nil:
		return ir.AttrTensor
	case ap.SparseTensor != nil:
		return ir.AttrSparseTensor
	case ap.G != nil:
		return ir.AttrGraph
	case ap.Tp != nil:
		return ir.AttrTypeProto
	case len(ap.Floats) > 0:
		return ir.AttrFloats
	case len(ap.Ints) > 0:
		return ir.AttrInts
	case len(ap.Strings) > 0:
		return ir.AttrStrings
	case len(ap.Tensors) > 0:
		return ir.AttrTensors
	case len(ap.SparseTensors) > 0:
		return ir.AttrSparseTensors
	case len(ap.Graphs) > 0:
		return ir.AttrGraphs
	case len(ap.TypeProtos) > 0:
		return ir.AttrTypeProtos
	}
	return ir.AttrUndefined
}

func attrsToProto(as ir.Attrs) ([]*pb.AttributeProto, error) {
	if len(as) == 0 {
		return nil, nil
	}
	out := make([]*pb.AttributeProto, len(as))
	for i := range as {
		ap, err := attrToProto(&as[i])
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", as[i].Name, err)
		}
		out[i] = ap
	}
	return out, nil
}

func attrToProto(a *ir.Attr) (*pb.AttributeProto, error) {
	ap := &pb.AttributeProto{Name: &a.Name, RefAttrName: optString(a.RefAttrName),
		DocString: optString(a.Doc)}
	if a.Type != ir.AttrUndefined {
		ap.Type = pb.AttributeProto_AttributeType(a.Type).Enum()
	}
	if a.RefAttrName != "" {
		return ap, nil // the value comes from the caller
	}
	var err error
	switch a.Type {
	case ir.AttrFloat:
		ap.F = &a.Float
	case ir.AttrInt:
		ap.I = &a.Int
	case ir.AttrString:
		ap.S = []byte(a.String)
	case ir.AttrTensor:
		ap.T, err = tensorToProto(a.Tensor)
	case ir.AttrGraph:
		ap.G, err = graphToProto(a.Graph)
	case ir.AttrSparseTensor:
		ap.SparseTensor, err = sparseToProto(a.Sparse)
	case ir.AttrTypeProto:
		if a.TypeProto == nil {
			return nil, errors.New("missing type proto")
		}
		ap.Tp, err = typeToProto(a.TypeProto)
	case ir.AttrFloats:
		ap.Floats = a.Floats
	case ir.AttrInts:
		ap.Ints = a.Ints
	case ir.AttrStrings:
		ap.Strings = make([][]byte, len(a.Strings))
		for i, s := range a.Strings {
			ap.Strings[i] = []byte(s)
		}
	default:
		err = attrListToProto(a, ap)
	}
	if err != nil {
		return nil, err
	}
	return ap, nil
}

func attrListToProto(a *ir.Attr, ap *pb.AttributeProto) error {
	var err error
	switch a.Type {
	case ir.AttrTensors:
		ap.Tensors = make([]*pb.TensorProto, len(a.Tensors))
		for i, t := range a.Tensors {
			if ap.Tensors[i], err = tensorToProto(t); err != nil {
				return err
			}
		}
	case ir.AttrGraphs:
		ap.Graphs = make([]*pb.GraphProto, len(a.Graphs))
		for i, g := range a.Graphs {
			if ap.Graphs[i], err = graphToProto(g); err != nil {
				return err
			}
		}
	case ir.AttrTypeProtos:
		ap.TypeProtos = make([]*pb.TypeProto, len(a.TypeProtos))
		for i, t := range a.TypeProtos {
			if ap.TypeProtos[i], err = typeToProto(t); err != nil {
				return err
			}
			if ap.TypeProtos[i] == nil {
				return fmt.Errorf("type_protos[%d] is nil", i)
			}
		}
	default:
		return fmt.Errorf("cannot encode attribute type %v", a.Type)
	}
	return nil
}
