// Package nn builds models from layers written in plain Go: a model is a
// struct whose exported fields are parameters (*eager.Tensor), layers and
// slices of layers, and whose Forward method is ordinary Go code.
//
// Parameters are collected by walking the struct, with dotted names after
// the field names ("conv1.weight", "blocks.0.fc.bias"), as PyTorch names
// them. A field tagged `nn:"buffer"` is state that is saved and exported but
// not trained (BatchNorm running statistics); `nn:"name"` renames a field;
// `nn:"-"` hides it.
package nn

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/keenml/keen/eager"
)

// Module is a layer or model with one input and one output.
type Module interface {
	Forward(x *eager.Tensor) *eager.Tensor
}

// Named is one parameter or buffer of a model.
type Named struct {
	Name   string
	T      *eager.Tensor
	Buffer bool // state that is not trained
}

var tensorType = reflect.TypeOf((*eager.Tensor)(nil))

// NamedTensors lists every parameter and buffer of m in field order.
func NamedTensors(m any) []Named {
	if c, ok := m.(interface{ NamedTensors() []Named }); ok {
		return c.NamedTensors()
	}
	var out []Named
	walk(reflect.ValueOf(m), "", false, &out, map[uintptr]bool{})
	return out
}

func walk(v reflect.Value, prefix string, buffer bool, out *[]Named, seen map[uintptr]bool) {
	if !v.IsValid() {
		return
	}
	if v.Type() == tensorType {
		if !v.IsNil() {
			*out = append(*out, Named{Name: prefix, T: v.Interface().(*eager.Tensor), Buffer: buffer})
		}
		return
	}
	if v.CanInterface() && prefix != "" {
		if c, ok := v.Interface().(interface{ NamedTensors() []Named }); ok && !(v.Kind() == reflect.Pointer && v.IsNil()) {
			for _, n := range c.NamedTensors() {
				n.Name = prefix + "." + n.Name
				*out = append(*out, n)
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
		}
		walk(v.Elem(), prefix, buffer, out, seen)
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag := f.Tag.Get("nn")
			if tag == "-" {
				continue
			}
			name, isBuf := fieldName(f.Name), buffer
			for _, part := range strings.Split(tag, ",") {
				switch {
				case part == "buffer":
					isBuf = true
				case part != "":
					name = part
				}
			}
			if f.Anonymous {
				walk(v.Field(i), prefix, isBuf, out, seen)
				continue
			}
			walk(v.Field(i), join(prefix, name), isBuf, out, seen)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walk(v.Index(i), join(prefix, strconv.Itoa(i)), buffer, out, seen)
		}
	}
}

// fieldName lowercases the leading capitals of a Go field name ("FC1" ->
// "fc1", "Weight" -> "weight", "ConvIn" -> "convIn").
func fieldName(s string) string {
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		if r[i] < 'A' || r[i] > 'Z' {
			break
		}
		if i > 0 && i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z' {
			break
		}
		r[i] += 'a' - 'A'
	}
	return string(r)
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// frozen marks parameters excluded from training.
var frozen sync.Map // *eager.Tensor -> bool

// Params lists the trainable parameters of m: not buffers, not frozen.
func Params(m any) []*eager.Tensor {
	var ps []*eager.Tensor
	for _, n := range NamedTensors(m) {
		if !n.Buffer && !IsFrozen(n.T) {
			ps = append(ps, n.T)
		}
	}
	return ps
}

// NamedParams is Params with names.
func NamedParams(m any) []Named {
	var ps []Named
	for _, n := range NamedTensors(m) {
		if !n.Buffer && !IsFrozen(n.T) {
			ps = append(ps, n)
		}
	}
	return ps
}

// Freeze stops training the parameters of m whose names match the regular
// expression pattern, and returns how many it froze. A pattern that matches
// nothing is an error naming the parameters there are.
func Freeze(m any, pattern string) (int, error) { return setFrozen(m, pattern, true) }

// Unfreeze undoes Freeze for the matching parameters.
func Unfreeze(m any, pattern string) (int, error) { return setFrozen(m, pattern, false) }

func setFrozen(m any, pattern string, on bool) (int, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return 0, fmt.Errorf("nn: freeze pattern %q: %w", pattern, err)
	}
	n := 0
	var names []string
	for _, p := range NamedTensors(m) {
		if p.Buffer {
			continue
		}
		names = append(names, p.Name)
		if re.MatchString(p.Name) {
			if on {
				frozen.Store(p.T, true)
			} else {
				frozen.Delete(p.T)
			}
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("nn: pattern %q matches no parameter (parameters: %s)", pattern, strings.Join(names, ", "))
	}
	return n, nil
}

// IsFrozen reports whether Freeze excluded t from training.
func IsFrozen(t *eager.Tensor) bool {
	_, ok := frozen.Load(t)
	return ok
}

// Trainer is implemented by layers that behave differently in training
// (Dropout, BatchNorm).
type Trainer interface{ SetTraining(on bool) }

// SetTraining switches every layer of m to training (true) or evaluation mode.
func SetTraining(m any, on bool) {
	visitLayers(reflect.ValueOf(m), func(t Trainer) { t.SetTraining(on) }, map[uintptr]bool{})
}

func visitLayers(v reflect.Value, fn func(Trainer), seen map[uintptr]bool) {
	if !v.IsValid() {
		return
	}
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		if seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
	}
	if v.CanInterface() {
		if t, ok := v.Interface().(Trainer); ok && !(v.Kind() == reflect.Pointer && v.IsNil()) {
			fn(t)
		}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			visitLayers(v.Elem(), fn, seen)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				visitLayers(v.Field(i), fn, seen)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			visitLayers(v.Index(i), fn, seen)
		}
	}
}

// Sequential applies layers in order.
type Sequential struct{ Layers []Module }

// NewSequential makes a Sequential of layers.
func NewSequential(layers ...Module) *Sequential { return &Sequential{Layers: layers} }

// NamedTensors names the parameters of layer i "i.name", as PyTorch does.
func (s *Sequential) NamedTensors() []Named {
	var out []Named
	for i, l := range s.Layers {
		for _, n := range NamedTensors(l) {
			n.Name = strconv.Itoa(i) + "." + n.Name
			out = append(out, n)
		}
	}
	return out
}

func (s *Sequential) Forward(x *eager.Tensor) *eager.Tensor {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// SetTraining forwards the mode to the layers.
func (s *Sequential) SetTraining(on bool) {
	for _, l := range s.Layers {
		SetTraining(l, on)
	}
}

// Func adapts a function to a Module (activations in a Sequential).
type Func func(x *eager.Tensor) *eager.Tensor

func (f Func) Forward(x *eager.Tensor) *eager.Tensor { return f(x) }
