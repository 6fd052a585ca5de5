package plugins

import (
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// prep prepares a keen.test op.
func prep(t testing.TB, b backends.Backend, op string, nout int, attrs ir.Attrs, in ...ir.DType) backends.Kernel {
	t.Helper()
	k, err := b.Prepare(&backends.OpSpec{Domain: testDomain, Op: op, Version: 1, Attrs: attrs,
		InputTypes: in, NumOutputs: nout, Node: "n_" + strings.ToLower(op)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// prepOp prepares a default-domain op.
func prepOp(t testing.TB, b backends.Backend, op string, version int, in ...ir.DType) backends.Kernel {
	t.Helper()
	k, err := b.Prepare(&backends.OpSpec{Op: op, Version: version, InputTypes: in, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func run(t testing.TB, k backends.Kernel, in ...backends.Buffer) []backends.Buffer {
	t.Helper()
	out, err := k.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func upload(t testing.TB, b backends.Backend, x *ir.Tensor) backends.Buffer {
	t.Helper()
	buf, err := b.FromHost(x)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func fetch(t testing.TB, b backends.Backend, buf backends.Buffer) *ir.Tensor {
	t.Helper()
	x, err := b.ToHost(buf)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// sample tensors of every dtype, small (inline) and large (shared memory).
func samples(n int) []*ir.Tensor {
	f32 := make([]float32, n)
	f64 := make([]float64, n)
	i64 := make([]int64, n)
	u16 := make([]uint16, n)
	bs := make([]bool, n)
	c64 := make([]complex64, n)
	i8 := make([]int8, n)
	for i := range n {
		f32[i] = float32(i)*0.37 - 5
		f64[i] = math.Float64frombits(uint64(i) * 0x9e3779b97f4a7c15)
		i64[i] = int64(i) * -7919
		u16[i] = uint16(i * 31)
		bs[i] = i%3 == 0
		c64[i] = complex(float32(i), -float32(i))
		i8[i] = int8(i%16 - 8)
	}
	if n > 2 {
		f32[0], f32[1] = float32(math.NaN()), float32(math.Copysign(0, -1))
	}
	int4 := &ir.Tensor{DType: ir.Int4, Shape: []int{n}, Data: i8}
	f16 := &ir.Tensor{DType: ir.Float16, Shape: []int{n}, Data: u16}
	return []*ir.Tensor{ir.FromSlice(f32, n), ir.FromSlice(f64, n), ir.FromSlice(i64, n), f16,
		ir.FromSlice(bs, n), ir.FromSlice(c64, n), int4}
}

func bitsEqual(a, b *ir.Tensor) bool {
	if a.DType != b.DType || !reflect.DeepEqual(a.Shape, b.Shape) {
		return false
	}
	if s, ok := a.Data.([]string); ok {
		return reflect.DeepEqual(s, b.Data)
	}
	ra, _ := rawView(a.Data)
	rb, _ := rawView(b.Data)
	return string(ra) == string(rb)
}

func TestRoundTrip(t *testing.T) {
	for _, noShm := range []bool{false, true} {
		c := startTest(t, Options{NoShm: noShm})
		if got := c.area != nil; got == noShm {
			t.Fatalf("NoShm %v: shared memory in use: %v", noShm, got)
		}
		var all []*ir.Tensor
		for _, n := range []int{0, 1, 5, 100_000} {
			all = append(all, samples(n)...)
		}
		all = append(all, ir.Scalar(float32(2.5)), ir.FromSlice([]string{"a", "", "ünï"}, 3, 1))
		bufs := make([]backends.Buffer, len(all))
		for i, x := range all {
			bufs[i] = upload(t, c, x)
		}
		for i, x := range all {
			got := fetch(t, c, bufs[i])
			if !bitsEqual(got, x) {
				t.Errorf("NoShm %v: %v%v came back different", noShm, x.DType, x.Shape)
			}
			if !reflect.DeepEqual(bufs[i].Shape(), x.Shape) || bufs[i].DType() != x.DType {
				t.Errorf("handle says %v%v, want %v%v", bufs[i].DType(), bufs[i].Shape(), x.DType, x.Shape)
			}
		}
	}
}

// TestFromHostCopiesLarge changes a large source after FromHost (the kit's
// HostCopies covers small ones).
func TestFromHostCopiesLarge(t *testing.T) {
	c := startTest(t, Options{})
	src := samples(100_000)[0]
	want := src.Clone()
	buf := upload(t, c, src)
	for i, v := range ir.Data[float32](src) {
		ir.Data[float32](src)[i] = v + 1
	}
	if !bitsEqual(fetch(t, c, buf), want) {
		t.Fatal("changing the source after FromHost changed the buffer")
	}
}

func TestBatchedRun(t *testing.T) {
	c := startTest(t, Options{BatchSize: 64})
	add := prep(t, c, "Add", 1, nil, ir.Float32, ir.Float32)
	one := upload(t, c, ir.FromSlice([]float32{1, 2, 3}, 3))
	acc := one
	for range 1000 {
		acc = run(t, add, acc, one)[0]
	}
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	got := ir.Data[float32](fetch(t, c, acc))
	if want := []float32{1001, 2002, 3003}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if acc.DType() != ir.Float32 || !reflect.DeepEqual(acc.Shape(), []int{3}) {
		t.Fatalf("handle says %v%v", acc.DType(), acc.Shape())
	}
}

func TestLazyShape(t *testing.T) {
	c := startTest(t, Options{})
	head := prep(t, c, "Head", 1, nil, ir.Float32, ir.Int64)
	x := upload(t, c, ir.FromSlice([]float32{1, 2, 3, 4, 5}, 5))
	k := upload(t, c, ir.Scalar(int64(2)))
	y := run(t, head, x, k)[0]
	if got := y.Shape(); !reflect.DeepEqual(got, []int{2}) {
		t.Fatalf("shape %v, want [2]", got)
	}
	if got := ir.Data[float32](fetch(t, c, y)); !reflect.DeepEqual(got, []float32{1, 2}) {
		t.Fatalf("got %v", got)
	}
}

// TestShapeOnHost checks that ops whose output shapes ir's inference knows
// (here from shapes, and from a shape tensor's values) need no round trip,
// and that a wrong guess is an error.
func TestShapeOnHost(t *testing.T) {
	c := startTest(t, Options{})
	x := upload(t, c, ir.FromSlice(make([]float32, 6), 2, 3))
	w := upload(t, c, ir.FromSlice(make([]float32, 12), 3, 4))
	bias := upload(t, c, ir.FromSlice(make([]float32, 4), 4))
	h := run(t, prepOp(t, c, "MatMul", 13, ir.Float32, ir.Float32), x, w)[0]
	y := run(t, prepOp(t, c, "Add", 14, ir.Float32, ir.Float32), h, bias)[0]
	z := run(t, prepOp(t, c, "Tanh", 13, ir.Float32), y)[0]
	if got := z.Shape(); !reflect.DeepEqual(got, []int{2, 4}) {
		t.Fatalf("shape %v, want [2 4]", got)
	}
	shape := upload(t, c, ir.FromSlice([]int64{4, -1}, 2))
	r := run(t, prepOp(t, c, "Reshape", 21, ir.Float32, ir.Int64), z, shape)[0]
	if got := r.Shape(); !reflect.DeepEqual(got, []int{4, 2}) || r.DType() != ir.Float32 {
		t.Fatalf("Reshape: %v%v, want float32[4 2]", r.DType(), got)
	}
	c.mu.Lock()
	pending := len(c.cur.cmds)
	c.mu.Unlock()
	if pending == 0 {
		t.Fatal("asking for the shapes sent the batch")
	}
	if got := fetch(t, c, z); !reflect.DeepEqual(got.Shape, []int{2, 4}) {
		t.Fatalf("plugin made %v", got.Shape)
	}
	bad := run(t, prepOp(t, c, "Softsign", 1, ir.Float32), x)[0]
	if err := c.Sync(); err == nil || !strings.Contains(err.Error(), "announced as [2 3]") {
		t.Fatalf("a wrong shape guess: %v", err)
	}
	if _, err := c.ToHost(bad); err == nil {
		t.Fatal("ToHost of a buffer whose shape was wrong succeeded")
	}
}

func TestErrorsSurfaceAtSync(t *testing.T) {
	c := startTest(t, Options{})
	fail := prep(t, c, "Fail", 1, nil, ir.Float32)
	add := prep(t, c, "Add", 1, nil, ir.Float32, ir.Float32)
	x := upload(t, c, ir.FromSlice([]float32{1}, 1))
	y := run(t, fail, x)[0] // queued: no error yet
	z := run(t, add, y, x)[0]
	err := c.Sync()
	if err == nil || !strings.Contains(err.Error(), `Fail (node "n_fail"`) || !strings.Contains(err.Error(), "deliberate failure") {
		t.Fatalf("Sync: %v", err)
	}
	if err := c.Sync(); err != nil {
		t.Fatalf("second Sync reports again: %v", err)
	}
	_, err = c.ToHost(z)
	if err == nil || !strings.Contains(err.Error(), "input 0") || !strings.Contains(err.Error(), "deliberate failure") {
		t.Fatalf("ToHost of a dependent: %v", err)
	}
	if _, err := add.Run([]backends.Buffer{y, x}); err == nil {
		t.Fatal("Run on a failed input succeeded")
	}
	// The plugin goes on working.
	w := run(t, add, x, x)[0]
	if got := ir.Data[float32](fetch(t, c, w)); got[0] != 2 {
		t.Fatalf("after a failure: got %v", got)
	}
}

func TestPanicIsAnError(t *testing.T) {
	c := startTest(t, Options{})
	p := prep(t, c, "Panic", 1, nil, ir.Float32)
	x := upload(t, c, ir.FromSlice([]float32{1}, 1))
	y := run(t, p, x)[0]
	if _, err := c.ToHost(y); err == nil || !strings.Contains(err.Error(), "deliberate panic") {
		t.Fatalf("ToHost: %v", err)
	}
	if got := fetch(t, c, x); ir.Data[float32](got)[0] != 1 {
		t.Fatal("plugin lost its buffers after a panic")
	}
}

func TestPrepareNotImplemented(t *testing.T) {
	c := startTest(t, Options{})
	for _, s := range []*backends.OpSpec{
		{Domain: testDomain, Op: "NoSuchOp", Version: 1, NumOutputs: 1},
		{Domain: "com.example", Op: "Add", Version: 1, NumOutputs: 1},
		{Op: "If", Version: 16, NumOutputs: 1, Attrs: ir.Attrs{ir.GraphAttr("then_branch", &ir.Graph{})}},
	} {
		_, err := c.Prepare(s)
		if !errors.Is(err, backends.ErrNotImplemented) || !strings.Contains(err.Error(), s.Op) {
			t.Errorf("%v: %v", s, err)
		}
	}
}

func TestAbsentAndAliasedOutputs(t *testing.T) {
	c := startTest(t, Options{})
	x := upload(t, c, ir.FromSlice([]float32{7}, 1))
	same := run(t, prep(t, c, "Same", 2, nil, ir.Float32), x)
	c.Release(x)
	c.Release(same[0])
	if got := ir.Data[float32](fetch(t, c, same[1])); got[0] != 7 {
		t.Fatalf("aliased output lost: %v", got)
	}
	a := run(t, prep(t, c, "Absent", 1, nil, ir.Float32), same[1])[0]
	if _, err := c.ToHost(a); err == nil || !strings.Contains(err.Error(), "not produced") {
		t.Fatalf("absent output: %v", err)
	}
	if _, err := c.ToHost(x); err == nil || !strings.Contains(err.Error(), "released") {
		t.Fatalf("released buffer: %v", err)
	}
}

func TestBuffersFreed(t *testing.T) {
	c := startTest(t, Options{})
	live := prep(t, c, "Live", 1, nil)
	count := func() int64 {
		return ir.Data[int64](fetch(t, c, run(t, live)[0]))[0]
	}
	base := count()
	keep := upload(t, c, ir.FromSlice([]float32{1}, 1))
	for range 100 {
		upload(t, c, ir.FromSlice([]float32{1, 2}, 2)) // dropped at once
	}
	if n := count(); n < base+100 {
		t.Fatalf("%d live buffers after 100 uploads, from %d", n, base)
	}
	// Cleanups run after a collection, in another goroutine: allow time.
	// Left: base+1 (keep) and Live outputs not yet collected.
	n := int64(0)
	for range 50 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		if n = count(); n <= base+10 {
			break
		}
	}
	if n > base+10 {
		t.Fatalf("%d live buffers after the handles were collected, from %d", n, base)
	}
	c.Release(keep)
	runtime.KeepAlive(keep)
}

func TestDTypeInference(t *testing.T) {
	for _, tc := range []struct {
		op    string
		ver   int
		attrs ir.Attrs
		in    []ir.DType
		nout  int
		want  []ir.DType
	}{
		{"Add", 14, nil, []ir.DType{ir.Float64, ir.Float64}, 1, []ir.DType{ir.Float64}},
		{"Equal", 13, nil, []ir.DType{ir.Int32, ir.Int32}, 1, []ir.DType{ir.Bool}},
		{"Shape", 15, nil, []ir.DType{ir.Float32}, 1, []ir.DType{ir.Int64}},
		{"ArgMax", 13, nil, []ir.DType{ir.Float32}, 1, []ir.DType{ir.Int64}},
		{"Cast", 19, ir.Attrs{ir.IntAttr("to", int64(ir.Float16))}, []ir.DType{ir.Float32}, 1, []ir.DType{ir.Float16}},
		{"CastLike", 19, nil, []ir.DType{ir.Float32, ir.Int8}, 1, []ir.DType{ir.Int8}},
		{"Concat", 13, nil, []ir.DType{ir.Int64, ir.Int64, ir.Int64}, 1, []ir.DType{ir.Int64}},
		{"TopK", 11, nil, []ir.DType{ir.Float32, ir.Int64}, 2, []ir.DType{ir.Float32, ir.Int64}},
		{"QuantizeLinear", 13, nil, []ir.DType{ir.Float32, ir.Float32}, 1, []ir.DType{ir.Undefined}},
		{"NoSuchOp", 13, nil, []ir.DType{ir.Float32}, 1, []ir.DType{ir.Undefined}},
	} {
		s := &backends.OpSpec{Op: tc.op, Version: tc.ver, Attrs: tc.attrs, InputTypes: tc.in, NumOutputs: tc.nout}
		if got := inferDTypes(s); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s-%d %v: got %v, want %v", tc.op, tc.ver, tc.in, got, tc.want)
		}
	}
}
