package onnx

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Value is a runtime value of a graph: *eager.Tensor, *Sequence or *Optional.
type Value any

// Sequence is a runtime ONNX sequence.
type Sequence struct {
	Elem  *ir.Type
	Items []Value
}

// Optional is a runtime ONNX optional; V is nil when it holds no value.
type Optional struct {
	Elem *ir.Type
	V    Value
}

// ToRuntime uploads a host value (ir.Tensor, ir.Sequence, ir.Optional) to dev.
func ToRuntime(dev backends.Backend, v ir.Value) (Value, error) {
	switch x := v.(type) {
	case *ir.Tensor:
		return eager.FromHost(dev, x)
	case *ir.Sequence:
		s := &Sequence{Elem: x.Elem}
		for _, it := range x.Items {
			rv, err := ToRuntime(dev, it)
			if err != nil {
				return nil, err
			}
			s.Items = append(s.Items, rv)
		}
		return s, nil
	case *ir.Optional:
		o := &Optional{Elem: x.Elem}
		if x.Value != nil {
			rv, err := ToRuntime(dev, x.Value)
			if err != nil {
				return nil, err
			}
			o.V = rv
		}
		return o, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("onnx: values of type %T are not supported at run time", v)
}

// ToHost downloads a runtime value.
func ToHost(v Value) (ir.Value, error) {
	switch x := v.(type) {
	case *eager.Tensor:
		return x.Host()
	case *Sequence:
		s := &ir.Sequence{Elem: x.Elem}
		for _, it := range x.Items {
			hv, err := ToHost(it)
			if err != nil {
				return nil, err
			}
			s.Items = append(s.Items, hv)
		}
		return s, nil
	case *Optional:
		o := &ir.Optional{Elem: x.Elem}
		if x.V != nil {
			hv, err := ToHost(x.V)
			if err != nil {
				return nil, err
			}
			o.Value = hv
		}
		return o, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("onnx: unknown runtime value %T", v)
}

// describe renders a value's type and shape for error messages.
func describe(v Value) string {
	switch x := v.(type) {
	case *eager.Tensor:
		return fmt.Sprintf("%v%v", x.DType(), x.Shape())
	case *Sequence:
		return fmt.Sprintf("sequence of %d", len(x.Items))
	case *Optional:
		if x.V == nil {
			return "optional(none)"
		}
		return "optional(" + describe(x.V) + ")"
	case nil:
		return "missing"
	}
	return fmt.Sprintf("%T", v)
}
