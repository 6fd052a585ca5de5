package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/ir"
)

// TestConvIndirectMatchesNaive runs the convolutions of convCheckNaive
// with every indirect kernel the machine has, garbage columns unbounded so
// that every group-1 1-D and 2-D case takes the path from its second call.
func TestConvIndirectMatchesNaive(t *testing.T) {
	ks := gemm.IndirectKernels()
	if len(ks) == 0 {
		t.Skip("no indirect kernel on this machine")
	}
	savedPick, savedWaste, savedWino := convIndirectPick, convIndirectWaste, convWinogradOn
	defer func() { convIndirectPick, convIndirectWaste, convWinogradOn = savedPick, savedWaste, savedWino }()
	convIndirectWaste, convWinogradOn = 0, false
	for _, ik := range ks {
		convIndirectPick = func(m, n int) *gemm.Indirect { return ik }
		t.Run(ik.String(), convCheckNaive)
	}
}

// TestConvIndirectTaken checks that a conv's second call with the same
// weights takes the indirect path, and that the depth blocks and row
// bands of a large one (several of each) give the naive sums.
func TestConvIndirectTaken(t *testing.T) {
	if len(gemm.IndirectKernels()) == 0 {
		t.Skip("no indirect kernel on this machine")
	}
	r := rand.New(rand.NewPCG(5, 6))
	xs, ws := []int{2, 70, 23, 19}, []int{30, 70, 3, 3} // 630 deep: 3 blocks; bands of rows
	x, xd := convRandT(r, xs...)
	w, wd := convRandT(r, ws...)
	b, bd := convRandT(r, ws[0])
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 2, 1, 0), ir.IntsAttr("strides", 2, 1)}
	win, err := convReadWin("Conv", attrs)
	if err != nil {
		t.Fatal(err)
	}
	g, err := win.resolve(xs[2:], ws[2:])
	if err != nil {
		t.Fatal(err)
	}
	want, shape := convNaive(xd, xs, wd, ws, bd, 1, g)
	savedBand := convPadBand
	defer func() { convPadBand = savedBand }()
	convPadBand = 30 * 40 // a few output rows a band
	for call := range 3 {
		p, err := convPlan(win, 1, xs, ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.wt = w
		_, iw := p.indirectWeightsOf(w.Data.([]float32))
		if taken := iw != nil; taken != (call > 0) {
			t.Fatalf("call %d: indirect path taken %v", call, taken)
		}
		got := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
		assertClose(t, got, shape, want, 1e-5)
	}
}

// TestPreparedWeights follows one weight tensor through the cache: not
// prepared at its first call, prepared at its second and reused after,
// made afresh after an in-place write, left alone once it changed
// prepMaxChanges times; another tensor over the same memory starts over;
// a collected tensor's entry goes.
func TestPreparedWeights(t *testing.T) {
	builds := 0
	build := func() (any, int) { builds++; return builds, 1 }
	data := []float32{1, 2, 3, 4}
	wt := ir.FromSlice(data, 4)
	get := func(tt *ir.Tensor) any { return prepared(tt, data, "test", [4]int{}, build) }
	if v := get(wt); v != nil || builds != 0 {
		t.Fatalf("first call: %v, %d builds", v, builds)
	}
	if v := get(wt); v != 1 || builds != 1 {
		t.Fatalf("second call: %v, %d builds", v, builds)
	}
	if v := get(wt); v != 1 || builds != 1 {
		t.Fatalf("third call: %v, %d builds", v, builds)
	}
	for i := range prepMaxChanges - 1 {
		noteInPlace()
		if v := get(wt); v != 2+i || builds != 2+i {
			t.Fatalf("after in-place write %d: %v, %d builds", i+1, v, builds)
		}
	}
	noteInPlace()
	if v := get(wt); v != nil {
		t.Fatalf("after %d changes: %v, want none (volatile)", prepMaxChanges, v)
	}
	// Volatile until seen unchanged: one call to note the epoch, then
	// prepSteady more; an in-place write in between starts over.
	for i := range prepSteady + 1 {
		if i == 1 {
			noteInPlace()
			if v := get(wt); v != nil {
				t.Fatalf("volatile weights written again: %v, want none", v)
			}
		}
		if v := get(wt); v != nil {
			t.Fatalf("volatile weights, steady call %d: %v, want none", i, v)
		}
	}
	if v := get(wt); v == nil || builds != prepMaxChanges+1 {
		t.Fatalf("steady weights not prepared again: %v, %d builds", v, builds)
	}

	// Another tensor over other memory; then a third over that memory.
	data2 := []float32{5, 6}
	a, b := ir.FromSlice(data2, 2), ir.FromSlice(data2, 1, 2)
	get2 := func(tt *ir.Tensor) any { return prepared(tt, data2, "test", [4]int{}, build) }
	get2(a)
	if v := get2(a); v == nil {
		t.Fatal("a: not prepared at its second call")
	}
	if v := get2(b); v != nil {
		t.Fatal("b over a's memory: prepared form served at its first call")
	}
	if v := get2(b); v == nil {
		t.Fatal("b: not prepared at its second call")
	}

	// An entry goes with its tensor.
	key := prepKey{ptr: uintptr(unsafe.Pointer(&data2[0])), n: 2, kind: "test"}
	runtime.KeepAlive(a)
	b = nil
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		prepCache.Lock()
		_, ok := prepCache.m[key]
		prepCache.Unlock()
		if !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("entry of a collected tensor still cached after 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(wt)
}

// TestConvIndirectConcurrent runs one convolution from several goroutines
// at once with the same weights (a model served concurrently): the
// prepared weights are made once and every result is right (run with
// -race).
func TestConvIndirectConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	xs, ws := []int{1, 16, 14, 14}, []int{32, 16, 3, 3}
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}
	x, xd := convRandT(r, xs...)
	w, wd := convRandT(r, ws...)
	win, _ := convReadWin("Conv", attrs)
	g, _ := win.resolve(xs[2:], ws[2:])
	want, shape := convNaive(xd, xs, wd, ws, nil, 1, g)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				out, err := tryOp("Conv", 22, attrs, 1, x, w)
				if err != nil {
					errs <- err
					return
				}
				got := out[0].Data.([]float32)
				for i, v := range want {
					if math.Abs(float64(got[i])-v) > 1e-4 {
						errs <- fmt.Errorf("%v: [%d] = %v, want %v", shape, i, got[i], v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	prepCache.Lock()
	defer prepCache.Unlock()
	n := 0
	for _, e := range prepCache.m {
		n += e.floats
	}
	if n != prepCache.floats {
		t.Fatalf("cache counts %d floats, its entries hold %d", prepCache.floats, n)
	}
}

// TestConvAfterAdamInPlace updates a conv's weights with AdamInPlace
// between calls: the next call must use the new weights, not the packed
// old ones.
func TestConvAfterAdamInPlace(t *testing.T) {
	if len(gemm.IndirectKernels()) == 0 {
		t.Skip("no indirect kernel on this machine")
	}
	r := rand.New(rand.NewPCG(7, 8))
	xs, ws := []int{1, 8, 12, 12}, []int{16, 8, 3, 3}
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}
	x, xd := convRandT(r, xs...)
	w, _ := convRandT(r, ws...)
	win, _ := convReadWin("Conv", attrs)
	g, _ := win.resolve(xs[2:], ws[2:])
	for step := range 3 {
		wd := make([]float64, w.Len())
		for i, v := range w.Data.([]float32) {
			wd[i] = float64(v)
		}
		want, shape := convNaive(xd, xs, wd, ws, nil, 1, g)
		for range 2 {
			got := runOp(t, "Conv", 22, attrs, 1, x, w)[0]
			assertClose(t, got, shape, want, 1e-5)
		}
		grad, _ := convRandT(r, ws...)
		v, h := ir.Zeros(ir.Float32, ws...), ir.Zeros(ir.Float32, ws...)
		runOp2(t, keenDomain, "AdamInPlace", 1, ir.Attrs{ir.FloatAttr("epsilon", 1e-6)}, 0,
			ir.Scalar(float32(0.5)), ir.Scalar(int64(step)), w, grad, v, h)
	}
}
