package cpu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestConvSubsampled checks strided 1x1 convolutions (the subsampled
// pointwise path) against the float64 direct loop, on one and two threads,
// and FusedConv through it against Conv then the epilogue.
func TestConvSubsampled(t *testing.T) {
	cases := []struct {
		name    string
		xs, ws  []int
		strides []int64
	}{
		{"resnet shortcut 56->28", []int{1, 64, 56, 56}, []int{128, 64, 1, 1}, []int64{2, 2}},
		{"odd plane 15x13", []int{1, 8, 15, 13}, []int{12, 8, 1, 1}, []int64{2, 2}},
		{"strides 3x1", []int{1, 5, 10, 9}, []int{7, 5, 1, 1}, []int64{3, 1}},
		{"strides 1x4", []int{1, 6, 9, 17}, []int{4, 6, 1, 1}, []int64{1, 4}},
		{"batch 3", []int{3, 16, 12, 12}, []int{20, 16, 1, 1}, []int64{2, 2}},
	}
	defer setPoolThreads(Threads())
	r := rand.New(rand.NewPCG(5, 6))
	for _, threads := range []int{1, 2} {
		setPoolThreads(threads)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("t%d/%s", threads, tc.name), func(t *testing.T) {
				x, xd := convRandT(r, tc.xs...)
				w, wd := convRandT(r, tc.ws...)
				b, bd := convRandT(r, tc.ws[0])
				attrs := ir.Attrs{ir.IntsAttr("strides", tc.strides...)}
				win, err := convReadWin("Conv", attrs)
				if err != nil {
					t.Fatal(err)
				}
				g, err := win.resolve(tc.xs[2:], tc.ws[2:])
				if err != nil {
					t.Fatal(err)
				}
				p, err := convPlan(win, 1, tc.xs, tc.ws, b)
				if err != nil || !p.subsampled() {
					t.Fatalf("not a subsampled problem (%v)", err)
				}
				want, shape := convNaive(xd, tc.xs, wd, tc.ws, bd, 1, g)
				y := runOp(t, "Conv", 22, attrs, 1, x, w, b)[0]
				assertClose(t, y, shape, want, 1e-5)
				z, _ := convRandT(r, y.Shape...)
				for _, a := range fusedActs {
					wantF := y
					in := []*ir.Tensor{x, w, b, nil}
					if a.residual {
						wantF = runOp(t, "Add", 14, nil, 1, wantF, z)[0]
						in[3] = z
					}
					if a.plain != nil {
						wantF = a.plain(t, wantF)
					}
					if a.clipIn {
						in = append(in, ir.Scalar(float32(-2.5)), ir.Scalar(float32(6)))
					}
					got := runOp2(t, keenDomain, "FusedConv", 1, append(slices.Clone(attrs), a.attrs...), 1, in...)[0]
					fusedSame(t, got, wantF)
				}
			})
		}
	}
}

// TestConvSubsampledNot lists problems that keep their paths.
func TestConvSubsampledNot(t *testing.T) {
	for _, tc := range []struct {
		ws    []int
		attrs ir.Attrs
	}{
		{[]int{4, 3, 1, 1}, nil}, // unit strides: pointwise
		{[]int{4, 3, 1, 1}, ir.Attrs{ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{[]int{4, 3, 3, 3}, ir.Attrs{ir.IntsAttr("strides", 2, 2)}},
	} {
		win, err := convReadWin("Conv", tc.attrs)
		if err != nil {
			t.Fatal(err)
		}
		p, err := convPlan(win, 1, []int{1, 3, 8, 8}, tc.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.subsampled() {
			t.Errorf("%v %v: subsampled", tc.ws, tc.attrs)
		}
	}
}
