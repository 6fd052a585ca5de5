package data

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/ir"
)

// numbered is a dataset of n examples whose features and labels are their
// own index: x[i] = [i, 100+i], y[i] = i.
func numbered(n int) *Dataset {
	x := make([]float32, 2*n)
	y := make([]int64, n)
	for i := 0; i < n; i++ {
		x[2*i], x[2*i+1] = float32(i), float32(100+i)
		y[i] = int64(i)
	}
	d, err := New(ir.FromSlice(x, n, 2), ir.FromSlice(y, n))
	if err != nil {
		panic(err)
	}
	return d
}

// epoch collects the labels of each batch, checking that X matches Y.
func epoch(t *testing.T, d *Dataset, size int, opts ...Option) ([][]int64, error) {
	t.Helper()
	seq, errf := d.Batches(size, opts...)
	var out [][]int64
	for b := range seq {
		if b.Index != len(out) {
			t.Fatalf("batch %d has Index %d", len(out), b.Index)
		}
		xs, ys := b.X.Floats(), b.Y.Floats()
		var labels []int64
		for i, y := range ys {
			if xs[2*i] != y || xs[2*i+1] != 100+y {
				t.Fatalf("batch %d row %d: x %v with label %v", b.Index, i, xs[2*i:2*i+2], y)
			}
			labels = append(labels, int64(y))
		}
		out = append(out, labels)
	}
	return out, errf()
}

func flat(bs [][]int64) []int64 {
	var out []int64
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestShuffleIsDeterministicBySeed(t *testing.T) {
	d := numbered(50)
	a, _ := epoch(t, d, 8, Shuffle(3))
	b, _ := epoch(t, d, 8, Shuffle(3))
	c, _ := epoch(t, d, 8, Shuffle(4))
	plain, _ := epoch(t, d, 8)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("seed 3 gave two orders:\n%v\n%v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) || fmt.Sprint(a) == fmt.Sprint(plain) {
		t.Fatal("seeds 3 and 4 (or no shuffle) gave the same order")
	}
	for name, bs := range map[string][][]int64{"seed 3": a, "seed 4": c, "plain": plain} {
		got := flat(bs)
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		for i, v := range sorted {
			if v != int64(i) {
				t.Fatalf("%s: the epoch does not visit every example once: %v", name, got)
			}
		}
		if name == "plain" && !slices.Equal(got, sorted) {
			t.Fatalf("without Shuffle the order is %v", got)
		}
	}
	if len(a) != 7 || len(a[6]) != 2 {
		t.Fatalf("50 examples in batches of 8: %d batches, last of %d", len(a), len(a[len(a)-1]))
	}
}

func TestPrefetchGivesTheSameBatches(t *testing.T) {
	d := numbered(37)
	for _, n := range []int{1, 3, 100} {
		plain, err1 := epoch(t, d, 5, Shuffle(9))
		pre, err2 := epoch(t, d, 5, Shuffle(9), Prefetch(n))
		if err1 != nil || err2 != nil || fmt.Sprint(plain) != fmt.Sprint(pre) {
			t.Fatalf("Prefetch(%d): %v (%v), without: %v (%v)", n, pre, err2, plain, err1)
		}
	}
	// Leaving the loop early stops the prefetching goroutine's work.
	seq, errf := d.Batches(2, Prefetch(2))
	count := 0
	for range seq {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 || errf() != nil {
		t.Fatalf("early break: %d batches, %v", count, errf())
	}
}

func TestDropLast(t *testing.T) {
	d := numbered(10)
	for _, c := range []struct {
		size, want, wantDrop int
	}{{3, 4, 3}, {5, 2, 2}, {10, 1, 1}, {11, 1, 0}} {
		all, _ := epoch(t, d, c.size)
		dropped, _ := epoch(t, d, c.size, DropLast(), Shuffle(1))
		if len(all) != c.want || len(dropped) != c.wantDrop {
			t.Errorf("size %d: %d batches (%d with DropLast), want %d (%d)", c.size, len(all), len(dropped), c.want, c.wantDrop)
		}
		if n := d.NumBatches(c.size, DropLast()); n != c.wantDrop {
			t.Errorf("size %d: NumBatches with DropLast %d, want %d", c.size, n, c.wantDrop)
		}
		if n := d.NumBatches(c.size); n != c.want {
			t.Errorf("size %d: NumBatches %d, want %d", c.size, n, c.want)
		}
		for _, b := range dropped {
			if len(b) != c.size {
				t.Errorf("size %d: DropLast yielded a batch of %d", c.size, len(b))
			}
		}
	}
}

func TestMapAndErrors(t *testing.T) {
	d := numbered(12)
	double := Map(func(x, y *ir.Tensor) (*ir.Tensor, *ir.Tensor, error) {
		if y.Data.([]int64)[0] >= 6 {
			return nil, nil, errors.New("bad example")
		}
		return x, y, nil
	})
	for _, pre := range []int{0, 2} {
		got, err := epoch(t, d, 3, double, Prefetch(pre))
		if len(got) != 2 || err == nil || !strings.Contains(err.Error(), "data: batch 2: bad example") {
			t.Errorf("prefetch %d: %d batches then %v; want 2 then the error of batch 2", pre, len(got), err)
		}
	}
	scaled := Map(func(x, y *ir.Tensor) (*ir.Tensor, *ir.Tensor, error) {
		f := x.Data.([]float32)
		out := make([]float32, len(f))
		for i, v := range f {
			out[i] = v * 2
		}
		return ir.FromSlice(out, x.Shape...), y, nil
	})
	seq, errf := d.Batches(4, scaled)
	for b := range seq {
		if xs, ys := b.X.Floats(), b.Y.Floats(); xs[0] != 2*ys[0] || xs[1] != 2*(100+ys[0]) {
			t.Fatalf("Map did not apply: x %v, y %v", xs, ys)
		}
	}
	if errf() != nil {
		t.Fatal(errf())
	}
	bad := []struct {
		name string
		d    *Dataset
		size int
		want string
	}{
		{"batch size 0", numbered(3), 0, "batch size 0"},
		{"labels short", &Dataset{X: ir.FromSlice([]float32{1, 2}, 2), Y: ir.FromSlice([]int64{1}, 1)}, 1, "2 examples but 1 labels"},
		{"data short", &Dataset{X: &ir.Tensor{DType: ir.Float32, Shape: []int{4}, Data: []float32{1}}, Y: ir.FromSlice([]int64{1, 2, 3, 4}, 4)}, 1, "needs 4 elements"},
		{"wrong Go type", &Dataset{X: &ir.Tensor{DType: ir.Int16, Shape: []int{1}, Data: []int{1}}, Y: ir.FromSlice([]int64{1}, 1)}, 1, "stored as []int"},
	}
	for _, c := range bad {
		seq, errf := c.d.Batches(c.size)
		n := 0
		for range seq {
			n++
		}
		if err := errf(); n != 0 || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %d batches, error %v; want none and one saying %q", c.name, n, err, c.want)
		}
	}
	if _, err := New(ir.FromSlice([]float32{1, 2}, 2), ir.FromSlice([]int64{1}, 1)); err == nil {
		t.Error("New accepted 2 examples with 1 label")
	}
}

// TestTakeRowsEveryDType copies rows 2, 0 of a [3, 2] tensor of each dtype.
func TestTakeRowsEveryDType(t *testing.T) {
	for _, dt := range []ir.DType{ir.Float32, ir.Float64, ir.Float16, ir.BFloat16, ir.Int8, ir.Int16, ir.Int32, ir.Int64,
		ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64, ir.Bool, ir.String, ir.Complex64, ir.Complex128,
		ir.Float8E4M3FN, ir.Int4, ir.Uint4} {
		x := ir.Zeros(dt, 3, 2)
		fillIndex(x)
		got, err := takeRows(x, []int{2, 0})
		if err != nil {
			t.Errorf("%v: %v", dt, err)
			continue
		}
		want := ir.Zeros(dt, 2, 2)
		fillIndex(want)
		// Rows 2, 0 of values 0..5 are 4 5 0 1.
		rotate := []int{4, 5, 0, 1}
		for i, v := range rotate {
			setIndex(want, i, v)
		}
		if got.DType != dt || got.String() != want.String() {
			t.Errorf("%v: rows [2 0] are %v, want %v", dt, got, want)
		}
	}
	if _, err := takeRows(&ir.Tensor{DType: ir.Float32, Shape: []int{1}, Data: []int{1}}, []int{0}); err == nil {
		t.Error("rows of a tensor held as []int")
	}
	if _, err := takeRows(ir.FromSlice([]float32{1}), []int{0}); err == nil {
		t.Error("rows of a scalar")
	}
}

// fillIndex sets element i of t to i (true for odd i, "s<i>" for strings).
func fillIndex(t *ir.Tensor) {
	for i := 0; i < t.Len(); i++ {
		setIndex(t, i, i)
	}
}

func setIndex(t *ir.Tensor, i, v int) {
	switch d := t.Data.(type) {
	case []float32:
		d[i] = float32(v)
	case []float64:
		d[i] = float64(v)
	case []int8:
		d[i] = int8(v)
	case []int16:
		d[i] = int16(v)
	case []int32:
		d[i] = int32(v)
	case []int64:
		d[i] = int64(v)
	case []uint8:
		d[i] = uint8(v)
	case []uint16:
		d[i] = uint16(v)
	case []uint32:
		d[i] = uint32(v)
	case []uint64:
		d[i] = uint64(v)
	case []bool:
		d[i] = v%2 == 1
	case []string:
		d[i] = fmt.Sprint("s", v)
	case []complex64:
		d[i] = complex(float32(v), 1)
	case []complex128:
		d[i] = complex(float64(v), -1)
	}
}

func TestScaleImages(t *testing.T) {
	x := ir.FromSlice([]uint8{0, 255, 51, 102}, 1, 2, 2)
	y := ir.FromSlice([]uint8{7}, 1)
	fx, fy, err := ScaleImages(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(fx.Shape, fx.Data, fy.DType, fy.Data); got != "[1 1 2 2] [0 1 0.2 0.4] int64 [7]" {
		t.Errorf("ScaleImages: %s", got)
	}
	if _, _, err := ScaleImages(ir.FromSlice([]float32{1}, 1), y); err == nil {
		t.Error("ScaleImages accepted float32 images")
	}
}
