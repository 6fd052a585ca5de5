package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// convNormT is a tensor of standard normal values and its float64 copy.
func convNormT(r *rand.Rand, shape ...int) (*ir.Tensor, []float64) {
	n := ir.Size(shape)
	f := make([]float32, n)
	d := make([]float64, n)
	for i := range f {
		f[i] = float32(r.NormFloat64())
		d[i] = float64(f[i])
	}
	return ir.FromSlice(f, shape...), d
}

// winoTesting makes every problem of a test take Winograd from its first
// call (any tile count, no admission on the second call).
func winoTesting(t testing.TB) {
	minT, admit := winoMinTiles, winoAdmitTiles
	winoMinTiles, winoAdmitTiles = 1, 0
	t.Cleanup(func() { winoMinTiles, winoAdmitTiles = minT, admit })
}

// winoErr is the largest |got - want| over the largest |want|: the error
// relative to the output's scale, which Winograd's transforms set.
func winoErr(got []float32, want []float64) float64 {
	var d, s float64
	for i, w := range want {
		d = max(d, math.Abs(float64(got[i])-w))
		s = max(s, math.Abs(w))
	}
	return d / s
}

// winoCases are Conv problems that take the Winograd path: channel counts
// on and off the 16-lane blocks, planes that are not whole tiles,
// asymmetric and missing padding, batches.
var winoCases = []struct {
	name   string
	xs, ws []int
	pads   []int64
}{
	{"resnet 64x56", []int{1, 64, 56, 56}, []int{64, 64, 3, 3}, []int64{1, 1, 1, 1}},
	{"odd channels 20->17", []int{1, 20, 13, 11}, []int{17, 20, 3, 3}, []int64{1, 1, 1, 1}},
	{"no padding 13x11 out", []int{2, 16, 15, 13}, []int{32, 16, 3, 3}, []int64{0, 0, 0, 0}},
	{"asymmetric pads", []int{1, 24, 10, 15}, []int{16, 24, 3, 3}, []int64{0, 2, 1, 0}},
	{"wide pads", []int{1, 16, 6, 6}, []int{16, 16, 3, 3}, []int64{2, 3, 3, 2}},
	{"batch 3, 9x9", []int{3, 48, 9, 9}, []int{40, 48, 3, 3}, []int64{1, 1, 1, 1}},
	{"deep 256x14", []int{1, 256, 14, 14}, []int{64, 256, 3, 3}, []int64{1, 1, 1, 1}},
}

// TestConvWinogradMatchesNaive runs each case through the Winograd path
// (with one and several threads, and chunks of one tile row) against the
// float64 direct convolution, and reports the error.
func TestConvWinogradMatchesNaive(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(11, 12))
	oldT, oldChunk, oldMin := Threads(), winoChunkTiles, winoMinTiles
	defer func() { setPoolThreads(oldT); winoChunkTiles, winoMinTiles = oldChunk, oldMin }()
	winoMinTiles = 1 // every case, however small
	for _, tc := range winoCases {
		x, xd := convNormT(r, tc.xs...)
		w, wd := convNormT(r, tc.ws...)
		b, bd := convNormT(r, tc.ws[0])
		attrs := ir.Attrs{ir.IntsAttr("pads", tc.pads...)}
		win, _ := convReadWin("Conv", attrs)
		g, err := win.resolve(tc.xs[2:], tc.ws[2:])
		if err != nil {
			t.Fatal(err)
		}
		p, err := convPlan(win, 1, tc.xs, tc.ws, b)
		if err != nil || !p.convWinogradOK() {
			t.Fatalf("%s: not a Winograd problem (%v)", tc.name, err)
		}
		want, shape := convNaive(xd, tc.xs, wd, tc.ws, bd, 1, g)
		// Chunks: the default, one tile row, about two images.
		for _, c := range []struct{ threads, chunk int }{{1, 64}, {3, 64}, {2, 1}, {1, 20}, {2, 20}} {
			t.Run(fmt.Sprintf("%s/t%d/chunk%d", tc.name, c.threads, c.chunk), func(t *testing.T) {
				setPoolThreads(c.threads)
				winoChunkTiles = c.chunk
				got := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
				if !equalInts(got.Shape, shape) {
					t.Fatalf("shape %v, want %v", got.Shape, shape)
				}
				e := winoErr(got.Data.([]float32), want)
				t.Logf("max error / max |y| = %.2g", e)
				if e > 3e-5 { // about 1e-5 at most here; the Go GEMM (purego) rounds more
					t.Fatalf("max error / max |y| = %g", e)
				}
			})
		}
	}
}

// TestConvWinogradEpilogue checks the clamp and the range callback of the
// output stage: y = min(max(conv + b, lo), hi), and fn sees every output
// exactly once.
func TestConvWinogradEpilogue(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(13, 14))
	xs, ws := []int{2, 16, 9, 10}, []int{24, 16, 3, 3}
	_, xd := convNormT(r, xs...)
	_, wd := convNormT(r, ws...)
	_, bd := convNormT(r, ws[0])
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	p, err := convPlan(win, 1, xs, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, shape := convNaive(xd, xs, wd, ws, bd, 1, p.geo)
	y := make([]float32, ir.Size(shape))
	seen := make([]int, len(y))
	ep := winoEpilogue{lo: 0, hi: 1.5, fn: func(y []float32, lo, hi int) {
		for i := lo; i < hi; i++ {
			seen[i]++
		}
	}}
	if !convWinograd(p, winoF32(xd), winoF32(wd), winoF32(bd), y, ep) {
		t.Fatal("convWinograd declined")
	}
	for i, w := range want {
		w = min(max(w, 0), 1.5)
		if math.Abs(float64(y[i])-w) > 3e-4 {
			t.Fatalf("y[%d] = %g, want %g", i, y[i], w)
		}
		if seen[i] != 1 {
			t.Fatalf("fn saw y[%d] %d times", i, seen[i])
		}
	}
}

func winoF32(d []float64) []float32 {
	f := make([]float32, len(d))
	for i, v := range d {
		f[i] = float32(v)
	}
	return f
}

// TestConvWinogradWeightsUpdated: weights changed in place (as an
// optimizer does) are transformed afresh, never served from the cache;
// after winoMaxChanges changes they run direct. Every step is checked.
func TestConvWinogradWeightsUpdated(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(15, 16))
	xs, ws := []int{1, 16, 12, 12}, []int{16, 16, 3, 3}
	xd := winoNorm(r, xs)
	wd := winoNorm(r, ws)
	x, w := winoF32(xd), winoF32(wd)
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	p, _ := convPlan(win, 1, xs, ws, nil)
	for step := range winoMaxChanges + 2 {
		want, shape := convNaive(xd, xs, wd, ws, nil, 1, p.geo)
		y := make([]float32, ir.Size(shape))
		ran := convWinograd(p, x, w, nil, y, winoNoEpilogue)
		if want := step < winoMaxChanges; ran != want {
			t.Fatalf("step %d: Winograd ran %v, want %v", step, ran, want)
		}
		if !ran {
			continue
		}
		if e := winoErr(y, want); e > 3e-5 {
			t.Fatalf("step %d: error %g", step, e)
		}
		w[step*7] += 3 // one value, in place
		wd[step*7] = float64(w[step*7])
	}
}

// TestConvWinogradCacheFull: with no room for the transform, Winograd
// declines (the direct path runs) rather than evicting weights in use;
// stale entries make room.
func TestConvWinogradCacheFull(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(17, 18))
	xs, ws := []int{1, 16, 12, 12}, []int{16, 16, 3, 3}
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	p, _ := convPlan(win, 1, xs, ws, nil)
	x := winoF32(winoNorm(r, xs))
	y := make([]float32, 16*12*12)
	savedMax, savedStale := winoCacheMax, winoStale
	defer func() { winoCacheMax, winoStale = savedMax, savedStale }()
	w1 := winoF32(winoNorm(r, ws))
	if !convWinograd(p, x, w1, nil, y, winoNoEpilogue) {
		t.Fatal("first weights declined")
	}
	winoCache.Lock()
	winoCacheMax, winoStale = winoCache.floats, 1<<40 // full, nothing stale
	winoCache.Unlock()
	w2 := winoF32(winoNorm(r, ws))
	if convWinograd(p, x, w2, nil, y, winoNoEpilogue) {
		t.Fatal("second weights taken with the cache full")
	}
	if !convWinograd(p, x, w1, nil, y, winoNoEpilogue) {
		t.Fatal("cached weights declined")
	}
	winoStale = 0 // everything not used by this very lookup is stale
	if !convWinograd(p, x, w2, nil, y, winoNoEpilogue) {
		t.Fatal("no room made from stale entries")
	}
}

func winoNorm(r *rand.Rand, shape []int) []float64 {
	_, d := convNormT(r, shape...)
	return d
}

// TestConvWinogradOK lists what takes the Winograd path.
func TestConvWinogradOK(t *testing.T) {
	for _, c := range []struct {
		xs, ws []int
		attrs  ir.Attrs
		group  int
		want   bool
	}{
		{[]int{1, 16, 32, 32}, []int{16, 16, 3, 3}, nil, 1, true},      // 64 tiles
		{[]int{1, 64, 56, 56}, []int{64, 64, 3, 3}, nil, 1, true},      // ResNet 56²: 196 tiles
		{[]int{1, 128, 28, 28}, []int{128, 128, 3, 3}, nil, 1, true},   // 49 tiles
		{[]int{1, 256, 14, 14}, []int{256, 256, 3, 3}, nil, 1, false},  // 16 tiles
		{[]int{4, 256, 14, 14}, []int{256, 256, 3, 3}, nil, 1, true},   // 4 images a chunk
		{[]int{1, 512, 7, 7}, []int{512, 512, 3, 3}, nil, 1, false},    // 4 tiles
		{[]int{8, 512, 7, 7}, []int{512, 512, 3, 3}, nil, 1, true},     // 8 images a chunk
		{[]int{1, 15, 32, 32}, []int{16, 15, 3, 3}, nil, 1, false},     // few input channels
		{[]int{1, 16, 32, 32}, []int{8, 16, 3, 3}, nil, 1, false},      // few outputs
		{[]int{1, 32, 32, 32}, []int{32, 16, 3, 3}, nil, 2, false},     // groups
		{[]int{1, 16, 32, 32}, []int{16, 16, 5, 5}, nil, 1, false},     // 5x5
		{[]int{1, 16, 8, 8, 8}, []int{16, 16, 3, 3, 3}, nil, 1, false}, // 3-D
		{[]int{1, 16, 64, 64}, []int{16, 16, 3, 3}, ir.Attrs{ir.IntsAttr("strides", 2, 2)}, 1, false},
		{[]int{1, 16, 64, 64}, []int{16, 16, 3, 3}, ir.Attrs{ir.IntsAttr("dilations", 2, 2)}, 1, false},
	} {
		win, _ := convReadWin("Conv", c.attrs)
		p, err := convPlan(win, c.group, c.xs, c.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.convWinogradOK(); got != c.want {
			t.Errorf("x %v w %v %v: %v, want %v", c.xs, c.ws, c.attrs, got, c.want)
		}
	}
}

// BenchmarkConvWinograd compares Winograd with the direct path on
// ResNet-18's stride-1 3x3 convolutions (batch 1 and 8; GFLOP/s counts the
// direct convolution's flops). Winograd runs whatever the tile count
// here (winoMinTiles keeps 256 channels at 14² and 512 at 7² direct at
// batch 1 by default). One untimed run first fills the weight cache, so
// the transformed weights are warm in cache, unlike inside a model.
func BenchmarkConvWinograd(b *testing.B) {
	for _, s := range []struct{ n, c, hw int }{{1, 64, 56}, {1, 128, 28}, {1, 256, 14}, {1, 512, 7}, {8, 64, 56}, {8, 256, 14}, {8, 512, 7}} {
		for _, nt := range []int{1, 2} {
			for _, on := range []bool{true, false} {
				name := map[bool]string{true: "winograd", false: "direct"}[on]
				b.Run(fmt.Sprintf("n%d_c%d_hw%d/t%d/%s", s.n, s.c, s.hw, nt, name), func(b *testing.B) {
					saved, savedT, savedMin := convWinogradOn, Threads(), winoMinTiles
					convWinogradOn, winoMinTiles = on, 1
					winoTesting(b)
					setPoolThreads(nt)
					defer func() { convWinogradOn, winoMinTiles = saved, savedMin; setPoolThreads(savedT) }()
					winoBench(b, []int{s.n, s.c, s.hw, s.hw}, []int{s.c, s.c, 3, 3})
				})
			}
		}
	}
}

func winoBench(b *testing.B, xs, ws []int) {
	r := rand.New(rand.NewPCG(1, 1))
	x, _ := convNormT(r, xs...)
	w, _ := convNormT(r, ws...)
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}
	spec := &backends.OpSpec{Op: "Conv", Version: 22, Attrs: attrs, NumOutputs: 1,
		InputTypes: []ir.DType{ir.Float32, ir.Float32}}
	k, err := New().Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	bufs := []backends.Buffer{&Buf{T: x}, &Buf{T: w}}
	if _, err := k.Run(bufs); err != nil {
		b.Fatal(err)
	}
	c0 := cpuSeconds()
	for b.Loop() {
		if _, err := k.Run(bufs); err != nil {
			b.Fatal(err)
		}
	}
	total := float64(2*xs[0]*ws[0]*xs[2]*xs[3]*ir.Size(ws[1:])) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds() - c0; c0 > 0 && cpu > 0 {
		b.ReportMetric(total/cpu/1e9, "GFLOP/s/core")
	}
}

// TestConvWinogradFusedEpilogue runs FusedConv's epilogues (convEpi)
// through Winograd and through the direct path: the same outputs.
func TestConvWinogradFusedEpilogue(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(19, 20))
	xs, ws := []int{2, 32, 14, 14}, []int{24, 32, 3, 3}
	x, w, b := winoF32(winoNorm(r, xs)), winoF32(winoNorm(r, ws)), winoF32(winoNorm(r, ws[:1]))
	res := winoF32(winoNorm(r, []int{2, 24, 14, 14}))
	inf := float32(math.Inf(1))
	epis := map[string]*convEpi{
		"none":          nil,
		"relu":          {act: epiRelu, lo: -inf, hi: inf},
		"clip":          {act: epiClip, lo: -0.5, hi: 0.7},
		"leaky":         {act: epiLeaky, alpha: 0.1, lo: -inf, hi: inf},
		"residual":      {act: epiNone, res: res, lo: -inf, hi: inf},
		"residual relu": {act: epiRelu, res: res, lo: -inf, hi: inf},
		"residual clip": {act: epiClip, res: res, lo: -1, hi: 1},
	}
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	savedOn, savedMin, savedChunk := convWinogradOn, winoMinTiles, winoChunkTiles
	defer func() { convWinogradOn, winoMinTiles, winoChunkTiles = savedOn, savedMin, savedChunk }()
	winoMinTiles = 1
	for name, e := range epis {
		// One chunk split over the threads; 8 chunks dealt out to them.
		for _, chunk := range []int{64, 4} {
			t.Run(fmt.Sprintf("%s/chunk%d", name, chunk), func(t *testing.T) {
				winoChunkTiles = chunk
				var ys [2][]float32
				for i, on := range []bool{true, false} {
					convWinogradOn = on
					p, err := convPlan(win, 1, xs, ws, nil)
					if err != nil {
						t.Fatal(err)
					}
					if on != p.convWinogradOK() {
						t.Fatalf("Winograd %v, want %v", p.convWinogradOK(), on)
					}
					p.epi = e
					ys[i] = make([]float32, 2*24*14*14)
					convForward(p, x, w, b, ys[i], convSgemmFn)
				}
				for i, v := range ys[0] {
					if d := math.Abs(float64(v - ys[1][i])); d > 1e-4*(1+math.Abs(float64(ys[1][i]))) {
						t.Fatalf("y[%d] = %g through Winograd, %g direct", i, v, ys[1][i])
					}
				}
			})
		}
	}
}

// TestConvWinogradCacheForgets: the entry of weights that are collected
// goes (a training loop's new weight tensor every step leaves none).
func TestConvWinogradCacheForgets(t *testing.T) {
	winoTesting(t)
	r := rand.New(rand.NewPCG(21, 22))
	xs, ws := []int{1, 16, 12, 12}, []int{16, 16, 3, 3}
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	p, _ := convPlan(win, 1, xs, ws, nil)
	x := winoF32(winoNorm(r, xs))
	y := make([]float32, 16*12*12)
	var id uint64
	held := func() bool {
		winoCache.Lock()
		defer winoCache.Unlock()
		for _, e := range winoCache.entries {
			if e.id == id {
				return true
			}
		}
		return false
	}
	func() {
		w := winoF32(winoNorm(r, ws))
		if !convWinograd(p, x, w, nil, y, winoNoEpilogue) {
			t.Fatal("declined")
		}
		winoCache.Lock()
		id = winoCache.lastID
		winoCache.Unlock()
	}()
	if !held() {
		t.Fatal("no entry for the weights")
	}
	for range 200 {
		runtime.GC()
		if !held() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("entry kept after the weights were collected")
}

// TestConvWinogradAdmission: small calls transform weights on their
// second call (the first runs direct); a call with winoAdmitTiles tiles
// or more transforms at once.
func TestConvWinogradAdmission(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	for _, c := range []struct {
		n     int
		first bool
	}{{1, false}, {8, true}} { // 64 tiles an image
		xs, ws := []int{c.n, 16, 32, 32}, []int{16, 16, 3, 3}
		p, _ := convPlan(win, 1, xs, ws, nil)
		x, w := winoF32(winoNorm(r, xs)), winoF32(winoNorm(r, ws))
		y := make([]float32, c.n*16*32*32)
		if got := convWinograd(p, x, w, nil, y, winoNoEpilogue); got != c.first {
			t.Fatalf("batch %d: first call ran Winograd %v, want %v", c.n, got, c.first)
		}
		if !convWinograd(p, x, w, nil, y, winoNoEpilogue) {
			t.Fatalf("batch %d: second call declined", c.n)
		}
	}
}

// TestWinoRowChunks checks the cut of one image into chunks of tile rows.
func TestWinoRowChunks(t *testing.T) {
	for _, c := range []struct {
		th, rows int
		want     []winoChunk
	}{
		{7, 2, []winoChunk{{0, 1, 0, 2}, {0, 1, 2, 4}, {0, 1, 4, 6}, {0, 1, 6, 7}}},
		{4, 1, []winoChunk{{0, 1, 0, 1}, {0, 1, 1, 2}, {0, 1, 2, 3}, {0, 1, 3, 4}}},
		{3, 4, []winoChunk{{0, 1, 0, 3}}},
	} {
		got := winoRowChunks(&winoGeo{th: c.th}, c.rows)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("th %d rows %d: %v, want %v", c.th, c.rows, got, c.want)
		}
	}
}
