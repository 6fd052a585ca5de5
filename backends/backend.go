// Package backends defines what a kernel backend is: a device that owns
// tensor memory and runs prepared ONNX kernels on it. It also keeps the
// registry that picks a backend by name at run time ("cpu", "cuda",
// "plugin:PATH"), as database/sql does with drivers.
//
// The contract, in short:
//
//   - Capabilities are data: Capabilities lists each (domain, op, opset range,
//     dtypes) the backend implements.
//   - Prepared kernels: Prepare resolves op + attributes + input dtypes once;
//     callers cache the Kernel and call Run on the hot path.
//   - Buffers are handles: a Buffer is Go memory on the CPU backend and an id
//     into another process's memory on a plugin backend. Data crosses a device
//     boundary only through FromHost/ToHost.
//   - Asynchronous by default: Run may enqueue work and return handles whose
//     contents are not computed yet; ToHost and Sync wait. An error from queued
//     work surfaces at the next Sync/ToHost and names the op and node.
//   - Shapes first: a Run returns buffers whose dtype and shape are known
//     (a remote backend derives them with ir shape inference, or syncs when the
//     shape depends on data).
package backends

import (
	"errors"
	"fmt"

	"github.com/keenml/keen/ir"
)

// ErrNotImplemented is wrapped by Prepare errors for ops, opsets or dtypes a
// backend does not implement.
var ErrNotImplemented = errors.New("not implemented")

// KeenDomain is the domain of Keen's private ops: fused kernels a backend
// may list beside the ONNX ones (FusedConv, the gradient kernels,
// AdamInPlace), which callers use only when the backend lists them and
// which never appear in exported models.
const KeenDomain = "com.keenml"

// Buffer is a handle to a tensor owned by a backend.
type Buffer interface {
	DType() ir.DType
	Shape() []int
}

// OpSpec describes one operator application to prepare a kernel for.
type OpSpec struct {
	Domain  string // "" is the default ONNX domain
	Op      string
	Version int // opset version of Domain in effect
	Attrs   ir.Attrs
	// InputTypes has one entry per input position; ir.Undefined marks a
	// missing optional input.
	InputTypes []ir.DType
	// NumOutputs is the number of outputs the node declares (trailing
	// optional outputs it does not use are not counted).
	NumOutputs int
	// Node names the graph node, for error messages ("" in user code).
	Node string
}

func (s *OpSpec) String() string {
	d := s.Domain
	if d == "" {
		d = "ai.onnx"
	}
	if s.Node != "" {
		return fmt.Sprintf("%s (node %q, %s opset %d)", s.Op, s.Node, d, s.Version)
	}
	return fmt.Sprintf("%s (%s opset %d)", s.Op, d, s.Version)
}

// Kernel is a prepared operator. Run takes input buffers (nil for a missing
// optional input) of the dtypes it was prepared for and returns NumOutputs
// buffers owned by the caller. A Kernel is safe for concurrent use.
type Kernel interface {
	Run(in []Buffer) ([]Buffer, error)
}

// Capability is one row of a backend's support table.
type Capability struct {
	Domain string
	Op     string
	Since  int // first opset version served
	Until  int // last opset version served (0: open-ended)
	// DTypes lists the element types served; empty means every type the
	// op's schema allows.
	DTypes []ir.DType
}

// Backend is a device with kernels. Implementations must be safe for
// concurrent use.
type Backend interface {
	// Name is the name the backend was opened by ("cpu", "plugin:bin/x").
	Name() string
	// Capabilities lists what Prepare accepts.
	Capabilities() []Capability
	// Prepare resolves a kernel; errors wrap ErrNotImplemented for
	// unsupported ops and name the op, opset and backend.
	Prepare(spec *OpSpec) (Kernel, error)
	// FromHost copies a host tensor onto the device.
	FromHost(t *ir.Tensor) (Buffer, error)
	// ToHost waits for b and copies it to the host. The result must not
	// alias device memory the backend may reuse.
	ToHost(b Buffer) (*ir.Tensor, error)
	// Release frees b; using it afterwards is an error.
	Release(b Buffer)
	// Sync waits for all queued work and reports its first error.
	Sync() error
	// Close releases the device; the backend is unusable afterwards.
	Close() error
}

// Threader is implemented by backends whose parallelism can be set.
type Threader interface {
	SetThreads(n int)
	Threads() int
}

// Describer is implemented by backends that report details for
// `onnxrun backends` (device name, version, ...).
type Describer interface {
	Describe() string
}
