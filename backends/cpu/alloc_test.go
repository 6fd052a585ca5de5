package cpu

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func TestSizeClasses(t *testing.T) {
	prev := -1
	for n := 1; n < 1<<16; n++ {
		c := classOf(n)
		size := classSize(c)
		if size < n || size > n+n/4+1 {
			t.Fatalf("classOf(%d) = %d of size %d, want a size in [%d, %d]", n, c, size, n, n+n/4+1)
		}
		if c < prev {
			t.Fatalf("classOf(%d) = %d, below classOf(%d) = %d", n, c, n-1, prev)
		}
		if n > 8 && classSize(c-1) >= n {
			t.Fatalf("classOf(%d) = %d, but class %d (size %d) fits", n, c, c-1, classSize(c-1))
		}
		prev = c
	}
}

// poolHarness runs ops on the backend the way eager does: buffers in,
// buffers out.
type poolHarness struct {
	t *testing.T
	b *Backend
}

func (h poolHarness) run(op string, attrs ir.Attrs, in ...backends.Buffer) backends.Buffer {
	h.t.Helper()
	spec := &backends.OpSpec{Op: op, Version: 21, Attrs: attrs, NumOutputs: 1}
	for _, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType())
	}
	k, err := h.b.Prepare(spec)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := k.Run(in)
	if err != nil {
		h.t.Fatal(err)
	}
	return out[0]
}

func (h poolHarness) host(vals []float32, shape ...int) backends.Buffer {
	h.t.Helper()
	buf, err := h.b.FromHost(ir.FromSlice(vals, shape...))
	if err != nil {
		h.t.Fatal(err)
	}
	return buf
}

func dataPtr(b backends.Buffer) unsafe.Pointer {
	return unsafe.Pointer(unsafe.SliceData(b.(*Buf).T.Data.([]float32)))
}

func floatsOf(b backends.Buffer) []float32 { return b.(*Buf).T.Data.([]float32) }

// ramp returns 0, 1, ..., n-1 (as floats) plus off.
func ramp(n int, off float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i) + off
	}
	return v
}

func checkRamp(t *testing.T, what string, got []float32, off float32) {
	t.Helper()
	for i, v := range got {
		if v != float32(i)+off {
			t.Fatalf("%s[%d] = %v, want %v", what, i, v, float32(i)+off)
		}
	}
}

func TestPoolReusesReleasedOutputs(t *testing.T) {
	h := poolHarness{t, New()}
	const n = 3000
	x := h.host(ramp(n, 1), n)
	// The first output has the exact size; once released memory was asked
	// to serve its size class, outputs are rounded up to the class and reused.
	forgetClass(classOf(n))
	a := h.run("Relu", nil, x)
	if got := cap(floatsOf(a)); got != n {
		t.Fatalf("first output has capacity %d, want %d", got, n)
	}
	h.b.Release(a)
	a = h.run("Relu", nil, x)
	pa := dataPtr(a)
	h.b.Release(a)
	b := h.run("Relu", nil, x)
	if dataPtr(b) != pa {
		t.Fatalf("a released output of the same size was not reused")
	}
	checkRamp(t, "b", floatsOf(b), 1)
	// The user's input is never recycled.
	h.b.Release(x)
	c := h.run("Relu", nil, b)
	if unsafe.Pointer(&floatsOf(c)[0]) == dataPtr(x) {
		t.Fatalf("the memory of a FromHost buffer was reused")
	}
}

// forgetClass empties the float32 free lists a request of class c looks at
// (as in a fresh process), for tests that run more than once.
func forgetClass(c int) {
	poolF32.mu.Lock()
	defer poolF32.mu.Unlock()
	for k := max(c-1, 0); k <= c; k++ {
		for _, s := range poolF32.c[k] {
			cached.add(-4 * int64(cap(s)))
		}
		poolF32.c[k], poolF32.wanted[k] = nil, false
	}
}

func TestPoolKeepsViewsAlive(t *testing.T) {
	h := poolHarness{t, New()}
	const n = 4096
	x := h.host(ramp(n, 0), n)
	a := h.run("Neg", nil, x)
	shape, err := h.b.FromHost(ir.FromSlice([]int64{64, 64}, 2))
	if err != nil {
		t.Fatal(err)
	}
	v := h.run("Reshape", nil, a, shape) // a view of a's memory
	if dataPtr(v) != dataPtr(a) {
		t.Skip("Reshape copies; nothing to test")
	}
	h.b.Release(a)
	c := h.run("Abs", nil, x) // must not take a's memory: v still holds it
	if dataPtr(c) == dataPtr(v) {
		t.Fatalf("the memory of a live view was reused")
	}
	for i, got := range floatsOf(v) {
		if got != -float32(i) {
			t.Fatalf("view[%d] = %v after reuse, want %v", i, got, -float32(i))
		}
	}
	h.b.Release(v) // the last holder: now the memory returns to the pool
	d := h.run("Abs", nil, x)
	if dataPtr(d) != dataPtr(v) {
		t.Fatalf("memory was not reused after its last view was released")
	}
	checkRamp(t, "d", floatsOf(d), 0)
}

func TestPoolReuseNeverTouchesLiveTensors(t *testing.T) {
	h := poolHarness{t, New()}
	const n = 1000
	x := h.host(ramp(n, 0), n)
	live := make([]backends.Buffer, 0, 8)
	for round := range 20 {
		a := h.run("Relu", nil, x)
		b := h.run("Add", nil, a, x) // 2i
		h.b.Release(a)
		live = append(live, b)
		if len(live) == cap(live) {
			for _, l := range live[:4] {
				h.b.Release(l)
			}
			live = append(live[:0], live[4:]...)
		}
		for j, l := range live {
			for i, v := range floatsOf(l) {
				if v != 2*float32(i) {
					t.Fatalf("round %d: live tensor %d [%d] = %v, want %v", round, j, i, v, 2*float32(i))
				}
			}
		}
	}
}

func TestPoolToHostEscapes(t *testing.T) {
	h := poolHarness{t, New()}
	const n = 2048
	x := h.host(ramp(n, 3), n)
	a := h.run("Relu", nil, x)
	got, err := h.b.ToHost(a)
	if err != nil {
		t.Fatal(err)
	}
	h.b.Release(a)
	b := h.run("Neg", nil, x)
	if dataPtr(b) == unsafe.Pointer(&got.Data.([]float32)[0]) {
		t.Fatalf("memory returned by ToHost was reused after Release")
	}
	checkRamp(t, "ToHost result", got.Data.([]float32), 3)
}

func TestPoolReleasedBufferIsAnError(t *testing.T) {
	h := poolHarness{t, New()}
	x := h.host(ramp(300, 0), 300)
	a := h.run("Relu", nil, x)
	h.b.Release(a)
	h.b.Release(a) // twice is harmless
	if _, err := h.b.ToHost(a); err == nil || !strings.Contains(err.Error(), "released") {
		t.Fatalf("ToHost of a released buffer: err %v, want one saying it was released", err)
	}
	k, err := h.b.Prepare(&backends.OpSpec{Op: "Relu", Version: 14, InputTypes: []ir.DType{ir.Float32}, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run([]backends.Buffer{a}); err == nil || !strings.Contains(err.Error(), "input 0") {
		t.Fatalf("Run on a released buffer: err %v, want one naming input 0", err)
	}
}

func TestRawSlicePoison(t *testing.T) {
	old := poisonRaw
	poisonRaw = true
	defer func() { poisonRaw = old }()
	s := rawSlice[float32](300)
	if s[0] == s[0] || s[299] == s[299] {
		t.Fatalf("poisoned raw slice holds %v, %v; want NaN", s[0], s[299])
	}
	z := getSlice[float32](300, true)
	for i, v := range z {
		if v != 0 {
			t.Fatalf("zeroed slice [%d] = %v", i, v)
		}
	}
}

// TestPendingForgetsScratch: slices kernels take and drop (scratch) are not
// held forever by the records of unclaimed outputs.
func TestPendingForgetsScratch(t *testing.T) {
	for range 3 * pendingMax {
		_ = rawSlice[float32](minPooled)
	}
	big := rawSlice[float32](pendingMaxBytes / 4)
	for range pendingKeep {
		_ = rawSlice[float32](minPooled)
	}
	pending.mu.Lock()
	n, bytes := len(pending.m), pending.bytes
	_, held := pending.m[unsafe.Pointer(unsafe.SliceData(big))]
	pending.mu.Unlock()
	if n > pendingMax || held {
		t.Fatalf("%d unclaimed slices recorded (%d bytes), the big one held: %v; want at most %d, not held", n, bytes, held, pendingMax)
	}
}
