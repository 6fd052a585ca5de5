// Package eager is Keen's eager execution layer: a Tensor is a value on a
// backend, every operation is an ONNX operator dispatched at once through a
// prepared kernel, and values can be printed at any moment.
//
// Shape errors inside tensor code a user writes panic with a message naming
// the op and the shapes (like an out-of-range slice index in Go); entry points
// that run a model or a step on the user's behalf recover them into errors.
// Functions that take untrusted data return errors.
package eager

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Tensor is an immutable value held by a backend.
type Tensor struct {
	dev backends.Backend
	buf backends.Buffer
	// intermediate: made by an executor that no user code sees; the tapes
	// that recorded it release it when they drop their records.
	intermediate bool
}

// Wrap makes a Tensor of a buffer owned by dev.
func Wrap(dev backends.Backend, buf backends.Buffer) *Tensor {
	return &Tensor{dev: dev, buf: buf}
}

// FromHost copies a host tensor onto dev (the default backend when nil).
// The CPU backend shares t's memory instead of copying it: t must not be
// modified afterwards (kernels cache forms prepared from weights, such as
// packed panels, and trust them while the tensor is the same; see
// backends/cpu/prepared.go). To change a parameter's values, Assign a new
// tensor to it.
func FromHost(dev backends.Backend, t *ir.Tensor) (*Tensor, error) {
	if dev == nil {
		var err error
		if dev, err = DefaultBackend(); err != nil {
			return nil, err
		}
	}
	buf, err := dev.FromHost(t)
	if err != nil {
		return nil, err
	}
	return &Tensor{dev: dev, buf: buf}, nil
}

// New makes a tensor of data with shape on the default backend. It panics if
// len(data) does not fit the shape (a programming error in user code).
func New[T ir.Elem](data []T, shape ...int) *Tensor {
	if shape == nil && len(data) != 1 {
		shape = []int{len(data)}
	}
	t, err := FromHost(nil, ir.FromSlice(append([]T(nil), data...), shape...))
	if err != nil {
		panic("eager: New: " + err.Error())
	}
	return t
}

// Scalar makes a rank-0 tensor on the default backend.
func Scalar[T ir.Elem](v T) *Tensor { return New([]T{v}) }

// DType is the element type.
func (t *Tensor) DType() ir.DType { return t.buf.DType() }

// Shape is the tensor's shape; do not modify it.
func (t *Tensor) Shape() []int { return t.buf.Shape() }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.buf.Shape()) }

// Len is the number of elements.
func (t *Tensor) Len() int { return ir.Size(t.buf.Shape()) }

// Dim returns the size of dimension i (negative i counts from the end).
func (t *Tensor) Dim(i int) int {
	s := t.Shape()
	if i < 0 {
		i += len(s)
	}
	return s[i]
}

// Backend is the backend holding the tensor.
func (t *Tensor) Backend() backends.Backend { return t.dev }

// Buffer is the backend handle of the tensor.
func (t *Tensor) Buffer() backends.Buffer { return t.buf }

// Host waits for the tensor and returns its values as a host tensor. The
// result must not be modified.
func (t *Tensor) Host() (*ir.Tensor, error) {
	if t.Released() {
		return nil, errReleased(t)
	}
	return t.dev.ToHost(t.buf)
}

// MustHost is Host that panics on a backend error.
func (t *Tensor) MustHost() *ir.Tensor {
	h, err := t.Host()
	if err != nil {
		panic("eager: " + err.Error())
	}
	return h
}

// Floats returns the values as float32 (converted when needed).
func (t *Tensor) Floats() []float32 {
	h := t.MustHost()
	if f, ok := h.Data.([]float32); ok {
		return f
	}
	out := make([]float32, h.Len())
	for i := range out {
		out[i] = float32(h.Float64At(i))
	}
	return out
}

// Item returns the single value of a one-element tensor as float64.
func (t *Tensor) Item() float64 {
	h := t.MustHost()
	if h.Len() != 1 {
		panic(fmt.Sprintf("eager: Item of a tensor of shape %v", h.Shape))
	}
	return h.Float64At(0)
}

// To copies the tensor onto another backend (itself when already there).
func (t *Tensor) To(dev backends.Backend) (*Tensor, error) {
	if dev == t.dev {
		return t, nil
	}
	h, err := t.Host()
	if err != nil {
		return nil, err
	}
	return FromHost(dev, h)
}

// String shows dtype, shape and leading values.
func (t *Tensor) String() string {
	if t == nil {
		return "<nil>"
	}
	h, err := t.Host()
	if err != nil {
		return fmt.Sprintf("%v%v <error: %v>", t.DType(), t.Shape(), err)
	}
	return "Tensor(" + h.String() + ")"
}

// Floats64 returns the values as float64 (converted when needed).
func (t *Tensor) Floats64() []float64 {
	h := t.MustHost()
	if f, ok := h.Data.([]float64); ok {
		return f
	}
	out := make([]float64, h.Len())
	for i := range out {
		out[i] = h.Float64At(i)
	}
	return out
}

// Assign replaces t's value in place with v's, which must have t's dtype and
// shape; v is moved to t's backend if needed. Optimizers and checkpoint
// loading use it to update parameters: the tensor keeps its identity, so
// models and optimizers that hold it see the new value. Assign is not
// recorded on tapes and must not race with ops reading t.
func (t *Tensor) Assign(v *Tensor) error {
	if v.DType() != t.DType() || !slices.Equal(v.Shape(), t.Shape()) {
		return fmt.Errorf("eager: Assign: value %v%v does not fit tensor %v%v", v.DType(), v.Shape(), t.DType(), t.Shape())
	}
	if v.dev != t.dev {
		moved, err := v.To(t.dev)
		if err != nil {
			return err
		}
		v = moved
	}
	t.buf = v.buf
	return nil
}

// MoveTo moves t onto dev in place (its identity is kept), for moving
// parameters and optimizer state between backends.
func (t *Tensor) MoveTo(dev backends.Backend) error {
	moved, err := t.To(dev)
	if err != nil {
		return err
	}
	t.dev, t.buf = moved.dev, moved.buf
	return nil
}
