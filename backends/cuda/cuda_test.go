package cuda

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func TestOpenSaysWhy(t *testing.T) {
	if _, err := loadDriver(); err == nil {
		b, err := New(0)
		if err != nil {
			t.Logf("driver present, no usable device: %v", err)
			return
		}
		t.Logf("CUDA device present: %s", b.Describe())
		b.Close()
		return
	}
	_, err := New(0)
	if err == nil || err.Error() != "cuda: libcuda.so.1 not found" {
		t.Fatalf("New without a driver: %v", err)
	}
}

// TestPrepareTable prepares every op of the table for float32 (or bool)
// inputs: each gives a kernel or an error wrapping ErrNotImplemented, and
// the capability list matches the table.
func TestPrepareTable(t *testing.T) {
	b := &Backend{}
	caps := b.Capabilities()
	if len(caps) != len(opTable) || len(caps) < 60 {
		t.Fatalf("%d capabilities for %d ops", len(caps), len(opTable))
	}
	for _, c := range caps {
		ins := []ir.DType{ir.Float32, ir.Float32}
		switch {
		case hasDType(c.DTypes, ir.Bool) && !hasDType(c.DTypes, ir.Float32):
			ins = []ir.DType{ir.Bool, ir.Bool}
		case c.Op == "Where":
			ins = []ir.DType{ir.Bool, ir.Float32, ir.Float32}
		case c.Op == "Gather" || c.Op == "Reshape" || c.Op == "Expand":
			ins = []ir.DType{ir.Float32, ir.Int64}
		}
		s := &backends.OpSpec{Op: c.Op, Version: 21, InputTypes: ins, NumOutputs: 1,
			Attrs: ir.Attrs{ir.IntAttr("to", int64(ir.Int32)), ir.IntAttr("fmod", 1)}}
		k, err := b.Prepare(s)
		if err != nil && !errors.Is(err, backends.ErrNotImplemented) {
			t.Errorf("%s: %v", c.Op, err)
		}
		if err == nil && k == nil {
			t.Errorf("%s: no kernel", c.Op)
		}
	}
	for _, s := range []*backends.OpSpec{
		{Op: "TopK", Version: 11, InputTypes: []ir.DType{ir.Float32, ir.Int64}},
		{Op: "Add", Version: 14, InputTypes: []ir.DType{ir.Float16, ir.Float16}},
		{Op: "Pad", Version: 19, InputTypes: []ir.DType{ir.Float32}, Attrs: ir.Attrs{ir.StringAttr("mode", "reflect")}},
		{Domain: "com.microsoft", Op: "Add", Version: 1, InputTypes: []ir.DType{ir.Float32}},
	} {
		if _, err := b.Prepare(s); !errors.Is(err, backends.ErrNotImplemented) {
			t.Errorf("%v: %v", s, err)
		}
	}
}

func TestShapeRules(t *testing.T) {
	for _, tc := range []struct {
		got  func() ([]int, error)
		want string
	}{
		{func() ([]int, error) { return broadcast([]int{2, 1, 3}, []int{4, 1}) }, "[2 4 3]"},
		{func() ([]int, error) { return broadcast([]int{2, 3}, []int{4}) }, "error"},
		{func() ([]int, error) { return reshapeDims([]int{2, 3, 4}, []int64{0, -1}, false) }, "[2 12]"},
		{func() ([]int, error) { return reshapeDims([]int{0, 3}, []int64{0, 3}, true) }, "[0 3]"},
		{func() ([]int, error) { return reshapeDims([]int{2, 3}, []int64{4, -1}, false) }, "error"},
		{func() ([]int, error) { return squeezeDims([]int{1, 3, 1}, nil) }, "[3]"},
		{func() ([]int, error) { return squeezeDims([]int{1, 3, 1}, []int64{-1}) }, "[1 3]"},
		{func() ([]int, error) { return squeezeDims([]int{1, 3}, []int64{1}) }, "error"},
		{func() ([]int, error) { return unsqueezeDims([]int{3, 4}, []int64{0, -1}) }, "[1 3 4 1]"},
	} {
		got, err := tc.got()
		s := fmt.Sprint(got)
		if err != nil {
			s = "error"
		}
		if s != tc.want {
			t.Errorf("got %s (%v), want %s", s, err, tc.want)
		}
	}
	if got := bstrides([]int{3, 1}, []int{2, 3, 4}); !reflect.DeepEqual(got, []int64{0, 1, 0}) {
		t.Errorf("bstrides: %v", got)
	}
	for _, tc := range []struct{ i, n, step, want int64 }{
		{-1, 5, 1, 4}, {100, 5, 1, 5}, {-100, 5, 1, 0}, {100, 5, -1, 4}, {-100, 5, -1, -1},
	} {
		if got := clampIndex(tc.i, tc.n, tc.step); got != tc.want {
			t.Errorf("clampIndex(%d, %d, %d) = %d, want %d", tc.i, tc.n, tc.step, got, tc.want)
		}
	}
	if s, ok := batchStride([]int{1, 1}, []int{2, 3}, 12); !ok || s != 0 {
		t.Errorf("broadcast batch: %d %v", s, ok)
	}
	if _, ok := batchStride([]int{2, 1}, []int{2, 3}, 12); ok {
		t.Error("a partly broadcast batch has no single stride")
	}
}

func TestConvGeometry(t *testing.T) {
	s := &backends.OpSpec{Attrs: ir.Attrs{ir.StringAttr("auto_pad", "SAME_UPPER"), ir.IntsAttr("strides", 2, 2)}}
	g, err := convGeometry(s, []int{1, 1, 7, 8}, []int{1, 1, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	// out = ceil(in/stride); total pad = (out-1)*stride + k - in, the extra at the end.
	if fmt.Sprint(g.out, g.pad) != "[4 4] [1 0 1 1]" {
		t.Fatalf("SAME_UPPER: out %v pads %v", g.out, g.pad)
	}
}
