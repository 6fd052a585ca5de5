package backendtest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// badCase is an op given inputs it must refuse.
type badCase struct {
	name  string
	op    string
	attrs ir.Attrs
	in    []*ir.Tensor
}

func badCases() []badCase {
	f := func(shape ...int) *ir.Tensor { return ir.Zeros(ir.Float32, shape...) }
	ax := func(a int64) ir.Attrs { return ir.Attrs{ir.IntAttr("axis", a)} }
	return []badCase{
		{"Add/no-broadcast", "Add", nil, []*ir.Tensor{f(2, 3), f(4, 5)}},
		{"Add/one-input", "Add", nil, []*ir.Tensor{f(2, 3)}},
		{"Mul/no-broadcast", "Mul", nil, []*ir.Tensor{f(3, 2), f(3)}},
		{"MatMul/inner", "MatMul", nil, []*ir.Tensor{f(2, 3), f(4, 5)}},
		{"MatMul/batch", "MatMul", nil, []*ir.Tensor{f(2, 3, 4), f(3, 4, 5)}},
		{"Conv/channels", "Conv", nil, []*ir.Tensor{f(1, 3, 5, 5), f(2, 4, 3, 3)}},
		{"Conv/rank", "Conv", nil, []*ir.Tensor{f(3, 5, 5), f(2, 3, 3, 3)}},
		{"Conv/kernel-too-big", "Conv", nil, []*ir.Tensor{f(1, 1, 2, 2), f(1, 1, 3, 3)}},
		{"Reshape/size", "Reshape", nil, []*ir.Tensor{f(2, 3), i64(7)}},
		{"Reshape/two-minus-one", "Reshape", nil, []*ir.Tensor{f(2, 3), i64(-1, -1)}},
		{"Concat/dims", "Concat", ax(0), []*ir.Tensor{f(2, 3), f(2, 4)}},
		{"Concat/axis", "Concat", ax(2), []*ir.Tensor{f(2, 3), f(2, 3)}},
		{"Where/no-broadcast", "Where", nil, []*ir.Tensor{ir.Zeros(ir.Bool, 2), f(3), f(3)}},
		{"Gather/index-range", "Gather", nil, []*ir.Tensor{f(3, 2), i64(0, 5)}},
		{"Gather/axis", "Gather", ax(2), []*ir.Tensor{f(3, 2), i64(0)}},
		{"Transpose/perm", "Transpose", ir.Attrs{ir.IntsAttr("perm", 1, 0)}, []*ir.Tensor{f(2, 3, 4)}},
		{"Expand/shape", "Expand", nil, []*ir.Tensor{f(2, 3), i64(4)}},
		{"Slice/lengths", "Slice", nil, []*ir.Tensor{f(4, 4), i64(0, 0), i64(1)}},
		{"Pad/pads-length", "Pad", nil, []*ir.Tensor{f(3, 4), i64(1, 1)}},
		{"ReduceSum/axis", "ReduceSum", nil, []*ir.Tensor{f(2, 3), i64(5)}},
		{"Softmax/axis", "Softmax", ax(3), []*ir.Tensor{f(2, 3)}},
		{"ScatterElements/index-range", "ScatterElements", nil, []*ir.Tensor{f(2, 2), ir.FromSlice([]int64{0, 9}, 1, 2), f(1, 2)}},
		{"ScatterElements/shapes", "ScatterElements", nil, []*ir.Tensor{f(2, 2), ir.FromSlice([]int64{0, 1}, 1, 2), f(2, 1)}},
	}
}

// BadInputs checks that kernels given inputs of wrong shapes, a wrong input
// count or out-of-range indices fail with an error naming the op (from
// Prepare, Run, a ToHost of an output, or the next Sync, so asynchronous
// backends may defer it), never a panic, and that the backend works
// correctly afterwards.
func BadInputs(t *testing.T, b backends.Backend) {
	caps := b.Capabilities()
	for _, c := range badCases() {
		spec := newSpec(c.op, 0, c.attrs, 1, c.in)
		if !covers(caps, spec) {
			t.Logf("%s: %s not listed; skipped", b.Name(), c.name)
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			err := refusal(b, spec, c.in)
			var pe panicError
			if errors.As(err, &pe) {
				t.Fatalf("%s: %v panicked instead of returning an error: %v", b.Name(), spec, pe.v)
			}
			if err == nil {
				t.Fatalf("%s: %v accepted inputs %v", b.Name(), spec, shapes(c.in))
			}
			if !strings.Contains(err.Error(), c.op) {
				t.Errorf("%s: error does not name op %s: %v", b.Name(), c.op, err)
			}
		})
	}
	// The backend still computes after the failures.
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after the failures were reported returned %v", b.Name(), err)
	}
	spec := newSpec("Add", 0, nil, 1, []*ir.Tensor{ir.Scalar[float32](0), ir.Scalar[float32](0)})
	if !covers(caps, spec) {
		return
	}
	got, err := run(b, spec, []*ir.Tensor{ir.FromSlice([]float32{1, 2}, 2), ir.FromSlice([]float32{10, 20}, 2)})
	if err != nil {
		t.Fatalf("%s: Add after the failures: %v", b.Name(), err)
	}
	if err := identical(got[0], ir.FromSlice([]float32{11, 22}, 2)); err != nil {
		t.Errorf("%s: Add after the failures: %v", b.Name(), err)
	}
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after a good op: %v", b.Name(), err)
	}
}

// panicError carries a recovered panic.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// refusal runs spec on in and returns the first error from Prepare, Run,
// ToHost of an output or Sync; a panic comes back as a panicError.
func refusal(b backends.Backend, spec *backends.OpSpec, in []*ir.Tensor) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError{p}
		}
	}()
	_, err = run(b, spec, in)
	if serr := b.Sync(); err == nil {
		err = serr
	}
	return err
}

func shapes(ts []*ir.Tensor) [][]int {
	s := make([][]int, len(ts))
	for i, x := range ts {
		s[i] = x.Shape
	}
	return s
}
