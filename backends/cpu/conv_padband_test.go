package cpu

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestConvPadBands runs padded-plane convolutions in bands of one or a few
// output rows (convPadBand forced small; bands dealt out over two threads
// or run in turn) against the float64 direct loop, and FusedConv with a
// residual through the bands against Conv then the epilogue.
func TestConvPadBands(t *testing.T) {
	cases := []struct {
		name  string
		xs    []int
		ws    []int
		attrs ir.Attrs
	}{
		{"stem-like 7x7/2", []int{1, 3, 30, 27}, []int{16, 3, 7, 7}, ir.Attrs{ir.IntsAttr("pads", 3, 3, 3, 3), ir.IntsAttr("strides", 2, 2)}},
		{"3x3/2", []int{1, 8, 17, 16}, []int{24, 8, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)}},
		{"3x3 unit", []int{1, 5, 14, 14}, []int{40, 5, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}},
	}
	savedBand, savedWino, savedWaste := convPadBand, convWinogradOn, convPadWaste
	defer func() { convPadBand, convWinogradOn, convPadWaste = savedBand, savedWino, savedWaste }()
	defer setPoolThreads(Threads())
	convWinogradOn, convPadWaste = false, 0
	r := rand.New(rand.NewPCG(8, 9))
	for _, band := range []int{1, 700, 1 << 30} {
		for _, threads := range []int{1, 2} {
			convPadBand = band
			setPoolThreads(threads)
			for _, tc := range cases {
				t.Run(fmt.Sprintf("band%d/t%d/%s", band, threads, tc.name), func(t *testing.T) {
					x, xd := convRandT(r, tc.xs...)
					w, wd := convRandT(r, tc.ws...)
					b, bd := convRandT(r, tc.ws[0])
					win, _ := convReadWin("Conv", tc.attrs)
					g, err := win.resolve(tc.xs[2:], tc.ws[2:])
					if err != nil {
						t.Fatal(err)
					}
					p, err := convPlan(win, 1, tc.xs, tc.ws, b)
					if err != nil || p.padGeom() == nil {
						t.Fatalf("not a padded problem (%v)", err)
					}
					want, shape := convNaive(xd, tc.xs, wd, tc.ws, bd, 1, g)
					y := runOp(t, "Conv", 22, tc.attrs, 1, x, w, b)[0]
					assertClose(t, y, shape, want, 1e-5)
					z, _ := convRandT(r, y.Shape...)
					for _, a := range fusedActs {
						if !a.residual {
							continue
						}
						wantF := runOp(t, "Add", 14, nil, 1, y, z)[0]
						if a.plain != nil {
							wantF = a.plain(t, wantF)
						}
						in := []*ir.Tensor{x, w, b, z}
						if a.clipIn {
							in = append(in, ir.Scalar(float32(-2.5)), ir.Scalar(float32(6)))
						}
						got := runOp2(t, keenDomain, "FusedConv", 1, append(slices.Clone(tc.attrs), a.attrs...), 1, in...)[0]
						fusedSame(t, got, wantF)
					}
				})
			}
		}
	}
}
