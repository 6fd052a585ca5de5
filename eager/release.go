package eager

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/ir"
)

// Release hands the tensor's buffer back to its backend for reuse (the CPU
// backend recycles the memory once no view of it is held). The tensor must
// not be used afterwards: ops taking it and Host return an error saying it
// was released. Tensors that other tensors were made from by Detach or
// Assign share the buffer and are released with it. The ONNX executor
// releases intermediates after their last use; user code rarely needs to.
func (t *Tensor) Release() {
	if t == nil || t.buf == nil {
		return
	}
	if _, ok := t.buf.(releasedBuf); ok {
		return
	}
	buf := t.buf
	t.buf = releasedBuf{dt: buf.DType(), shape: buf.Shape()}
	t.dev.Release(buf)
}

// Released reports whether Release was called on t.
func (t *Tensor) Released() bool {
	_, ok := t.buf.(releasedBuf)
	return ok
}

// releasedBuf stands in for the buffer of a released tensor: it keeps the
// dtype and shape for messages, and no backend accepts it.
type releasedBuf struct {
	dt    ir.DType
	shape []int
}

func (b releasedBuf) DType() ir.DType { return b.dt }
func (b releasedBuf) Shape() []int    { return b.shape }

// errReleased is returned for a released tensor used as an op input or read.
func errReleased(t *Tensor) error {
	return fmt.Errorf("eager: tensor %v%v was released and cannot be used", t.DType(), t.Shape())
}

// MarkIntermediate tells the tapes recording now that t is an intermediate
// value no user code holds (the ONNX executor's dead values): once every
// tape that recorded the op making it has dropped its records (Gradient of
// a non-persistent tape, Release of a persistent one), its buffer is
// released.
func (t *Tensor) MarkIntermediate() { t.intermediate = true }

// dropRecords is called by a tape letting go of its records: records no
// other tape holds release their intermediate outputs, except the tensors
// in keep (the gradients just returned, the target, the seed).
func dropRecords(rs []*record, keep ...*Tensor) {
	for _, r := range rs {
		if r.holders.Add(-1) != 0 {
			continue
		}
		for _, o := range r.out {
			if o != nil && o.intermediate && !slices.Contains(keep, o) {
				o.Release()
			}
		}
	}
}
