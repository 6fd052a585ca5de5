package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/backends/cpu/internal/dconv"

	"github.com/keenml/keen/ir"
)

// TestConvDirect3x3 runs the direct 3x3 path against the GEMM paths on
// small-integer data (exact in any order of addition): the CNN's layers
// and input gradient, asymmetric and no padding, rows of 1, 16, 17 and 32
// pixels, no bias, on one and two threads.
func TestConvDirect3x3(t *testing.T) {
	pads := func(p ...int64) ir.Attrs { return ir.Attrs{ir.IntsAttr("pads", p...)} }
	cases := []struct {
		name   string
		xs, ws []int
		attrs  ir.Attrs
		bias   bool
		direct bool
	}{
		{"conv1", []int{3, 1, 28, 28}, []int{16, 1, 3, 3}, pads(1, 1, 1, 1), true, true},
		{"conv2", []int{3, 16, 14, 14}, []int{32, 16, 3, 3}, pads(1, 1, 1, 1), true, true},
		{"dgrad2", []int{2, 32, 14, 14}, []int{16, 32, 3, 3}, pads(1, 1, 1, 1), false, true},
		{"nopad16", []int{1, 4, 18, 18}, []int{16, 4, 3, 3}, nil, true, true},
		{"asym", []int{2, 3, 9, 20}, []int{8, 3, 3, 3}, pads(0, 2, 1, 0), true, true},
		{"w32", []int{1, 2, 5, 32}, []int{8, 2, 3, 3}, pads(1, 1, 1, 1), true, true},
		{"w17", []int{1, 2, 4, 17}, []int{24, 2, 3, 3}, pads(1, 1, 1, 1), false, true},
		{"w1", []int{1, 2, 3, 1}, []int{16, 2, 3, 3}, pads(1, 1, 1, 1), true, true},
		{"same", []int{1, 5, 7, 12}, []int{16, 5, 3, 3}, ir.Attrs{ir.StringAttr("auto_pad", "SAME_LOWER")}, true, true},
		{"m8-narrow", []int{1, 2, 6, 6}, []int{8, 2, 3, 3}, pads(1, 1, 1, 1), true, false},
		{"w33", []int{1, 2, 3, 33}, []int{8, 2, 3, 3}, pads(1, 1, 1, 1), true, false},
	}
	defer setPoolThreads(Threads())
	r := rand.New(rand.NewPCG(5, 6))
	for _, threads := range []int{1, 2} {
		setPoolThreads(threads)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("t%d/%s", threads, tc.name), func(t *testing.T) {
				x, _ := convRandT(r, tc.xs...)
				w, _ := convRandT(r, tc.ws...)
				in := []*ir.Tensor{x, w}
				if tc.bias {
					b, _ := convRandT(r, tc.ws[0])
					in = append(in, b)
				}
				win, err := convReadWin("Conv", tc.attrs)
				if err != nil {
					t.Fatal(err)
				}
				p, err := convPlan(win, 1, tc.xs, tc.ws, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := p.direct3x3(); got != (tc.direct && dconv.Available()) {
					t.Fatalf("direct3x3() = %v, want %v", got, tc.direct)
				}
				got := runOp(t, "Conv", 11, tc.attrs, 1, in...)[0]
				convDirectOn, convWinogradOn = false, false // the GEMM paths: exact here
				want := runOp(t, "Conv", 11, tc.attrs, 1, in...)[0]
				convDirectOn, convWinogradOn = true, true
				fusedSame(t, got, want)
			})
		}
	}
}

// TestConvGradDirect3x3 runs ConvGradFilter (with the bias output) on the
// direct path against the float64 definition: the CNN's layers, no and
// asymmetric padding, rows of 1, 16, 17 and 32 pixels, 1 and 2 threads.
func TestConvGradDirect3x3(t *testing.T) {
	pads := func(p ...int64) ir.Attrs { return ir.Attrs{ir.IntsAttr("pads", p...)} }
	cases := []struct {
		name   string
		xs, ws []int
		attrs  ir.Attrs
	}{
		{"conv1", []int{3, 1, 28, 28}, []int{16, 1, 3, 3}, pads(1, 1, 1, 1)},
		{"conv2", []int{3, 16, 14, 14}, []int{32, 16, 3, 3}, pads(1, 1, 1, 1)},
		{"nopad16", []int{2, 4, 18, 18}, []int{16, 4, 3, 3}, nil},
		{"asym", []int{2, 3, 9, 20}, []int{8, 3, 3, 3}, pads(0, 2, 1, 0)},
		{"w32", []int{1, 2, 5, 32}, []int{8, 2, 3, 3}, pads(1, 1, 1, 1)},
		{"w17", []int{2, 2, 4, 17}, []int{24, 2, 3, 3}, pads(1, 1, 1, 1)},
		{"w1", []int{2, 2, 3, 1}, []int{16, 2, 3, 3}, pads(1, 1, 1, 1)},
	}
	defer setPoolThreads(Threads())
	r := rand.New(rand.NewPCG(7, 8))
	for _, threads := range []int{1, 2} {
		setPoolThreads(threads)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("t%d/%s", threads, tc.name), func(t *testing.T) {
				x, _ := convRandT(r, tc.xs...)
				w, _ := convRandT(r, tc.ws...)
				y := runOp(t, "Conv", 22, tc.attrs, 1, x, w)[0]
				dy, _ := convRandT(r, y.Shape...)
				attrs := append(tc.attrs, ir.IntsAttr("kernel_shape", 3, 3))
				got, err := keenOp2("ConvGradFilter", attrs, x, dy)
				if err != nil {
					t.Fatal(err)
				}
				want, err := keenOp2("ConvGradFilter", attrs, toF64(x), toF64(dy))
				if err != nil {
					t.Fatal(err)
				}
				assertClose(t, got[0], tc.ws, want[0].Data.([]float64), 1e-6)
				assertClose(t, got[1], tc.ws[:1], want[1].Data.([]float64), 1e-6)
			})
		}
	}
}
