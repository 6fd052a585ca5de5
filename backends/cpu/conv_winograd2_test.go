package cpu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

// wino2Cases take the F(2x2, 3x3) path: ResNet's 14², planes that are not
// whole tiles, asymmetric and missing padding, a batch, channels off the
// 16-lane blocks.
var wino2Cases = []struct {
	name   string
	xs, ws []int
	pads   []int64
}{
	{"resnet 256x14", []int{1, 256, 14, 14}, []int{256, 256, 3, 3}, []int64{1, 1, 1, 1}},
	{"odd 13x11, 70->66", []int{1, 70, 13, 11}, []int{66, 70, 3, 3}, []int64{1, 1, 1, 1}},
	{"no padding", []int{1, 64, 13, 14}, []int{64, 64, 3, 3}, []int64{0, 0, 0, 0}},
	{"asymmetric pads", []int{1, 64, 11, 12}, []int{80, 64, 3, 3}, []int64{0, 2, 1, 0}},
	{"batch 2", []int{2, 64, 10, 10}, []int{64, 64, 3, 3}, []int64{1, 1, 1, 1}},
}

// wino2Testing turns F(2x2) on and transforms weights on their first call
// (F(4x4) keeps its tile threshold, so these problems stay F(2x2)'s).
func wino2Testing(t testing.TB) {
	admit, on := winoAdmitTiles, convWino2On
	winoAdmitTiles, convWino2On = 0, true
	t.Cleanup(func() { winoAdmitTiles, convWino2On = admit, on })
}

// TestConvWinograd2MatchesNaive runs each case through F(2x2, 3x3) on one
// and two threads against the float64 direct convolution.
func TestConvWinograd2MatchesNaive(t *testing.T) {
	wino2Testing(t)
	defer setPoolThreads(Threads())
	r := rand.New(rand.NewPCG(31, 32))
	for _, tc := range wino2Cases {
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
		if err != nil || !p.wino2OK() || p.convWinogradOK() {
			t.Fatalf("%s: not an F(2x2) problem (%v)", tc.name, err)
		}
		want, shape := convNaive(xd, tc.xs, wd, tc.ws, bd, 1, g)
		for _, threads := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/t%d", tc.name, threads), func(t *testing.T) {
				setPoolThreads(threads)
				got := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
				if !equalInts(got.Shape, shape) {
					t.Fatalf("shape %v, want %v", got.Shape, shape)
				}
				e := winoErr(got.Data.([]float32), want)
				t.Logf("max error / max |y| = %.2g", e)
				if e > 1e-5 {
					t.Fatalf("max error / max |y| = %g", e)
				}
			})
		}
	}
}

// TestConvWinograd2Fused checks FusedConv epilogues through F(2x2)
// against the direct path's (F(2x2) off) within Winograd's rounding.
func TestConvWinograd2Fused(t *testing.T) {
	wino2Testing(t)
	r := rand.New(rand.NewPCG(33, 34))
	xs, ws := []int{1, 64, 12, 12}, []int{72, 64, 3, 3}
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}
	x, _ := convNormT(r, xs...)
	w, _ := convNormT(r, ws...)
	b, _ := convNormT(r, ws[0])
	z, _ := convNormT(r, 1, 72, 12, 12)
	win, _ := convReadWin("Conv", attrs)
	if p, err := convPlan(win, 1, xs, ws, b); err != nil || !p.wino2OK() || p.convWinogradOK() {
		t.Fatalf("not an F(2x2) problem (%v)", err)
	}
	for _, a := range fusedActs {
		t.Run(a.name, func(t *testing.T) {
			in := []*ir.Tensor{x, w, b, nil}
			if a.residual {
				in[3] = z
			}
			if a.clipIn {
				in = append(in, ir.Scalar(float32(-0.5)), ir.Scalar(float32(0.75)))
			}
			at := append(slices.Clone(attrs), a.attrs...)
			got := runOp2(t, keenDomain, "FusedConv", 1, at, 1, in...)[0]
			convWino2On = false
			want := runOp2(t, keenDomain, "FusedConv", 1, at, 1, in...)[0]
			convWino2On = true
			g, wv := got.Data.([]float32), want.Data.([]float32)
			var d float64
			for i := range wv {
				d = max(d, float64(abs32(g[i]-wv[i])))
			}
			// The convolutions reach about 100 here; both paths round
			// at about 1e-7 of that.
			if d > 1e-4 {
				t.Fatalf("max |F(2x2) - direct| = %g", d)
			}
		})
	}
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// TestWino2WeightTile checks G g Gᵀ against the definition on one kernel.
func TestWino2WeightTile(t *testing.T) {
	g := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	G := [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}
	got := wino2WeightTile(g)
	for i := range 4 {
		for j := range 4 {
			var s float64
			for a := range 3 {
				for c := range 3 {
					s += G[i][a] * float64(g[a*3+c]) * G[j][c]
				}
			}
			if got[i*4+j] != s {
				t.Fatalf("u[%d][%d] = %v, want %v", i, j, got[i*4+j], s)
			}
		}
	}
}

// BenchmarkConvWinograd2 is ResNet's 256->256 14² layer through F(2x2)
// (BenchmarkConvResNet18/c256_14 runs the default path).
func BenchmarkConvWinograd2(b *testing.B) {
	wino2Testing(b)
	convBenchConv(b, []int{1, 256, 14, 14}, []int{256, 256, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, 14*14)
}
