package data

import (
	"fmt"
	"iter"
	"math/rand"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// Dataset is an in-memory set of examples: row i of X with label i of Y.
type Dataset struct {
	X, Y *ir.Tensor
}

// New checks that x and y hold the same number of examples.
func New(x, y *ir.Tensor) (*Dataset, error) {
	if x.Rank() == 0 || y.Rank() == 0 {
		return nil, fmt.Errorf("data: examples and labels need a leading example axis, got %v and %v", x.Shape, y.Shape)
	}
	if x.Shape[0] != y.Shape[0] {
		return nil, fmt.Errorf("data: %d examples but %d labels", x.Shape[0], y.Shape[0])
	}
	return &Dataset{X: x, Y: y}, nil
}

// check validates the tensors and the batch size before an epoch.
func (d *Dataset) check(size int) error {
	if size <= 0 {
		return fmt.Errorf("data: batch size %d", size)
	}
	for _, t := range []*ir.Tensor{d.X, d.Y} {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("data: %w", err)
		}
		if t.Rank() == 0 {
			return fmt.Errorf("data: a scalar %v tensor has no examples", t.DType)
		}
	}
	if d.X.Shape[0] != d.Y.Shape[0] {
		return fmt.Errorf("data: %d examples but %d labels", d.X.Shape[0], d.Y.Shape[0])
	}
	return nil
}

// Len is the number of examples.
func (d *Dataset) Len() int { return d.X.Shape[0] }

// Batch is one batch on a backend.
type Batch struct {
	X, Y  *eager.Tensor
	Index int // batch number within the epoch
}

// Option configures Batches.
type Option func(*batchConfig)

type batchConfig struct {
	shuffle  bool
	seed     int64
	prefetch int
	dropLast bool
	fn       func(x, y *ir.Tensor) (*ir.Tensor, *ir.Tensor, error)
	dev      backends.Backend
}

// Shuffle visits examples in a random order drawn from seed.
func Shuffle(seed int64) Option { return func(c *batchConfig) { c.shuffle, c.seed = true, seed } }

// Prefetch prepares up to n batches ahead on another goroutine.
func Prefetch(n int) Option { return func(c *batchConfig) { c.prefetch = n } }

// DropLast skips a final batch smaller than the batch size.
func DropLast() Option { return func(c *batchConfig) { c.dropLast = true } }

// Map transforms each host batch (e.g. uint8 pixels to scaled float32)
// before it goes to the backend.
func Map(fn func(x, y *ir.Tensor) (*ir.Tensor, *ir.Tensor, error)) Option {
	return func(c *batchConfig) { c.fn = fn }
}

// OnBackend puts batches on dev (default: the default backend).
func OnBackend(dev backends.Backend) Option { return func(c *batchConfig) { c.dev = dev } }

// NumBatches is how many batches Batches yields for size and options.
func (d *Dataset) NumBatches(size int, opts ...Option) int {
	var c batchConfig
	for _, o := range opts {
		o(&c)
	}
	if size <= 0 {
		return 0
	}
	if c.dropLast {
		return d.Len() / size
	}
	return (d.Len() + size - 1) / size
}

// Batches yields the dataset in batches of size (one epoch). An error
// (invalid tensors or batch size, a failing Map) ends the sequence early;
// the returned function reports it once the loop is over.
func (d *Dataset) Batches(size int, opts ...Option) (iter.Seq[Batch], func() error) {
	c := batchConfig{}
	for _, o := range opts {
		o(&c)
	}
	if err := d.check(size); err != nil {
		return func(func(Batch) bool) {}, func() error { return err }
	}
	order := make([]int, d.Len())
	for i := range order {
		order[i] = i
	}
	if c.shuffle {
		rand.New(rand.NewSource(c.seed)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	n := d.NumBatches(size, opts...)
	var failure error
	make1 := func(b int) (Batch, error) {
		lo, hi := b*size, min((b+1)*size, len(order))
		x, err := takeRows(d.X, order[lo:hi])
		if err != nil {
			return Batch{}, err
		}
		y, err := takeRows(d.Y, order[lo:hi])
		if err != nil {
			return Batch{}, err
		}
		if c.fn != nil {
			if x, y, err = c.fn(x, y); err != nil {
				return Batch{}, fmt.Errorf("data: batch %d: %w", b, err)
			}
		}
		ex, err := eager.FromHost(c.dev, x)
		if err != nil {
			return Batch{}, err
		}
		ey, err := eager.FromHost(c.dev, y)
		if err != nil {
			return Batch{}, err
		}
		return Batch{X: ex, Y: ey, Index: b}, nil
	}
	seq := func(yield func(Batch) bool) {
		if c.prefetch <= 0 {
			for b := 0; b < n; b++ {
				bt, err := make1(b)
				if err != nil {
					failure = err
					return
				}
				if !yield(bt) {
					return
				}
			}
			return
		}
		type item struct {
			b   Batch
			err error
		}
		ch := make(chan item, c.prefetch)
		done := make(chan struct{})
		defer close(done)
		go func() {
			defer close(ch)
			for b := 0; b < n; b++ {
				bt, err := make1(b)
				select {
				case ch <- item{bt, err}:
				case <-done:
					return
				}
				if err != nil {
					return
				}
			}
		}()
		for it := range ch {
			if it.err != nil {
				failure = it.err
				return
			}
			if !yield(it.b) {
				return
			}
		}
	}
	return seq, func() error { return failure }
}

// takeRows copies the rows idx of t (rows along axis 0). Every dtype's Go
// slice is supported; a tensor whose Data does not match its dtype is an
// error.
func takeRows(t *ir.Tensor, idx []int) (*ir.Tensor, error) {
	if t.Rank() == 0 {
		return nil, fmt.Errorf("data: rows of a scalar %v tensor", t.DType)
	}
	row := 1
	for _, d := range t.Shape[1:] {
		row *= d
	}
	shape := append([]int{len(idx)}, t.Shape[1:]...)
	out, err := ir.NewTensor(t.DType, shape...)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	switch src := t.Data.(type) {
	case []float32:
		err = rows(out, src, idx, row)
	case []float64:
		err = rows(out, src, idx, row)
	case []int8:
		err = rows(out, src, idx, row)
	case []int16:
		err = rows(out, src, idx, row)
	case []int32:
		err = rows(out, src, idx, row)
	case []int64:
		err = rows(out, src, idx, row)
	case []uint8:
		err = rows(out, src, idx, row)
	case []uint16:
		err = rows(out, src, idx, row)
	case []uint32:
		err = rows(out, src, idx, row)
	case []uint64:
		err = rows(out, src, idx, row)
	case []bool:
		err = rows(out, src, idx, row)
	case []string:
		err = rows(out, src, idx, row)
	case []complex64:
		err = rows(out, src, idx, row)
	case []complex128:
		err = rows(out, src, idx, row)
	default:
		err = fmt.Errorf("data: rows of %v tensors held as %T are not supported", t.DType, t.Data)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rows copies rows idx of src into out, whose Data must be a []T.
func rows[T any](out *ir.Tensor, src []T, idx []int, row int) error {
	dst, ok := out.Data.([]T)
	if !ok {
		return fmt.Errorf("data: a %v tensor holds %T", out.DType, src)
	}
	copyRows(dst, src, idx, row)
	return nil
}

func copyRows[T any](dst, src []T, idx []int, row int) {
	for i, r := range idx {
		copy(dst[i*row:(i+1)*row], src[r*row:(r+1)*row])
	}
}

// ScaleImages maps uint8 images [N,H,W] to float32 [N,1,H,W] in [0,1] and
// uint8 labels to int64: the usual MNIST-style preprocessing.
func ScaleImages(x, y *ir.Tensor) (*ir.Tensor, *ir.Tensor, error) {
	px, ok := x.Data.([]uint8)
	if !ok {
		return nil, nil, fmt.Errorf("want uint8 images, got %v", x.DType)
	}
	f := make([]float32, len(px))
	for i, v := range px {
		f[i] = float32(v) / 255
	}
	shape := append([]int{x.Shape[0], 1}, x.Shape[1:]...)
	ls, err := y.Int64s()
	if err != nil {
		vals := make([]int64, y.Len())
		for i := range vals {
			vals[i] = int64(y.Float64At(i))
		}
		ls = vals
	}
	return ir.FromSlice(f, shape...), ir.FromSlice(append([]int64(nil), ls...), y.Len()), nil
}
