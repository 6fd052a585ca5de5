package backendtest

import (
	"errors"
	"slices"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// AllDTypes lists every ONNX tensor element type, in DataType order.
var AllDTypes = []ir.DType{
	ir.Float32, ir.Uint8, ir.Int8, ir.Uint16, ir.Int16, ir.Int32, ir.Int64,
	ir.String, ir.Bool, ir.Float16, ir.Float64, ir.Uint32, ir.Uint64,
	ir.Complex64, ir.Complex128, ir.BFloat16, ir.Float8E4M3FN,
	ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Uint4, ir.Int4,
	ir.Float4E2M1, ir.Float8E8M0, ir.Uint2, ir.Int2,
}

// roundTripShapes are the shapes RoundTrip uploads: rank 0, zero-size, and
// ordinary ones.
var roundTripShapes = [][]int{{}, {0}, {3, 0, 2}, {1}, {7}, {2, 3, 4}, {1, 1, 129}}

// RoundTrip checks that FromHost then ToHost gives back every element type's
// tensors bit for bit, with the buffer reporting the right dtype and shape.
// A FromHost error wrapping backends.ErrNotImplemented skips that dtype (it
// is logged); any other error fails. It also checks that FromHost rejects a
// tensor whose data does not fill its shape.
func RoundTrip(t *testing.T, b backends.Backend) {
	r := newRand(1)
	var skipped []ir.DType
	for _, dt := range AllDTypes {
		for _, shape := range roundTripShapes {
			want := randomTensor(r, dt, shape...)
			buf, err := b.FromHost(want.Clone())
			if errors.Is(err, backends.ErrNotImplemented) {
				skipped = append(skipped, dt)
				break
			}
			if err != nil {
				t.Errorf("%s: FromHost %v%v: %v", b.Name(), dt, shape, err)
				continue
			}
			if buf.DType() != dt || !slices.Equal(buf.Shape(), shape) {
				t.Errorf("%s: FromHost %v%v: buffer says %v%v", b.Name(), dt, shape, buf.DType(), buf.Shape())
			}
			got, err := b.ToHost(buf)
			if err != nil {
				t.Errorf("%s: ToHost %v%v: %v", b.Name(), dt, shape, err)
			} else if err := identical(got, want); err != nil {
				t.Errorf("%s: round trip of %v%v: %v", b.Name(), dt, shape, err)
			}
			b.Release(buf)
		}
	}
	if len(skipped) > 0 {
		t.Logf("%s: dtypes FromHost does not implement: %v", b.Name(), skipped)
	}
	bad := &ir.Tensor{DType: ir.Float32, Shape: []int{2, 3}, Data: []float32{1, 2}}
	if buf, err := b.FromHost(bad); err == nil {
		b.Release(buf)
		t.Errorf("%s: FromHost accepted float32[2 3] holding 2 values", b.Name())
	}
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after round trips: %v", b.Name(), err)
	}
}

// HostCopies checks that the host and the device do not share memory:
// changing a tensor after FromHost does not change the buffer, and changing
// what ToHost returned does not change what a later ToHost returns. The
// in-tree CPU backend is exempt (its buffers are host tensors by design, and
// callers must not modify them), so the check is skipped for it.
func HostCopies(t *testing.T, b backends.Backend) {
	if isHostMemory(b) {
		t.Skipf("%s: buffers are host memory by design", b.Name())
	}
	r := newRand(2)
	for _, dt := range []ir.DType{ir.Float32, ir.Int64, ir.Uint8, ir.Bool, ir.String, ir.Float16} {
		src := randomTensor(r, dt, 4, 5)
		want := src.Clone()
		buf, err := b.FromHost(src)
		if errors.Is(err, backends.ErrNotImplemented) {
			continue
		}
		if err != nil {
			t.Errorf("%s: FromHost %v: %v", b.Name(), dt, err)
			continue
		}
		scramble(src)
		first, err := b.ToHost(buf)
		if err != nil {
			t.Errorf("%s: ToHost %v: %v", b.Name(), dt, err)
			continue
		}
		if err := identical(first, want); err != nil {
			t.Errorf("%s: changing the source after FromHost changed the buffer (%v): %v", b.Name(), dt, err)
		}
		scramble(first)
		second, err := b.ToHost(buf)
		if err != nil {
			t.Errorf("%s: second ToHost %v: %v", b.Name(), dt, err)
		} else if err := identical(second, want); err != nil {
			t.Errorf("%s: changing a ToHost result changed the buffer (%v): %v", b.Name(), dt, err)
		}
		b.Release(buf)
	}
}

// scramble changes every element of t in place.
func scramble(t *ir.Tensor) {
	switch s := t.Data.(type) {
	case []float32:
		for i := range s {
			s[i] = s[i]*2 + 1
		}
	case []int64:
		for i := range s {
			s[i] = ^s[i]
		}
	case []uint8:
		for i := range s {
			s[i] = ^s[i]
		}
	case []uint16:
		for i := range s {
			s[i] = ^s[i]
		}
	case []bool:
		for i := range s {
			s[i] = !s[i]
		}
	case []string:
		for i := range s {
			s[i] += "#"
		}
	}
}

// SyncRelease checks that Sync returns nil when nothing failed: on its own,
// after Release of a buffer, and after releasing the inputs of a kernel whose
// output is still to be read.
func SyncRelease(t *testing.T, b backends.Backend) {
	if err := b.Sync(); err != nil {
		t.Fatalf("%s: Sync with nothing queued: %v", b.Name(), err)
	}
	x, err := b.FromHost(ir.FromSlice([]float32{1, 2, 3}, 3))
	if err != nil {
		t.Fatalf("%s: FromHost: %v", b.Name(), err)
	}
	b.Release(x)
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after Release: %v", b.Name(), err)
	}
	spec := newSpec("Add", 0, nil, 1, []*ir.Tensor{ir.Scalar[float32](0), ir.Scalar[float32](0)})
	if !covers(b.Capabilities(), spec) {
		t.Logf("%s: Add is not listed; release of queued inputs not checked", b.Name())
		return
	}
	k, err := b.Prepare(spec)
	if err != nil {
		t.Fatalf("%s: Prepare Add: %v", b.Name(), err)
	}
	x, err1 := b.FromHost(ir.FromSlice([]float32{1, 2, 3}, 3))
	y, err2 := b.FromHost(ir.Scalar[float32](10))
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("%s: FromHost: %v", b.Name(), err)
	}
	out, err := k.Run([]backends.Buffer{x, y})
	if err != nil {
		t.Fatalf("%s: Add: %v", b.Name(), err)
	}
	b.Release(x)
	b.Release(y)
	got, err := b.ToHost(out[0])
	if err != nil {
		t.Fatalf("%s: ToHost of an output whose inputs were released: %v", b.Name(), err)
	}
	if err := identical(got, ir.FromSlice([]float32{11, 12, 13}, 3)); err != nil {
		t.Errorf("%s: Add after releasing its inputs: %v", b.Name(), err)
	}
	b.Release(out[0])
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after Release of inputs and output: %v", b.Name(), err)
	}
}
