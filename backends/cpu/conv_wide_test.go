package cpu

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestConvWideLd(t *testing.T) {
	for _, c := range []struct{ ncols, want int }{
		{1, 1}, {9, 9}, {31, 31}, {32, 32}, {40, 40}, {49, 64}, {98, 128}, {100, 128}, {130, 130}, {980, 992}, {1017, 1024},
	} {
		if got := convWideLd(c.ncols); got != c.want {
			t.Errorf("convWideLd(%d) = %d, want %d", c.ncols, got, c.want)
		}
	}
}

// TestConvWideWhole: the wide path with whole-tile strides gives what it
// gives without them (integer-valued data: both exact), over 49 and 98
// columns, with the channels chunked or not.
func TestConvWideWhole(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	attrs := ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}
	for _, n := range []int{1, 2} {
		x, _ := convRandT(r, n, 24, 7, 7)
		w, _ := convRandT(r, 40, 24, 3, 3)
		bias, _ := convRandT(r, 40)
		for _, budget := range []int{convWideBudget, 2000} {
			run := func(whole bool) []float32 {
				saved, savedB := convWideWhole, convWideBudget
				defer func() { convWideWhole, convWideBudget = saved, savedB }()
				convWideWhole, convWideBudget = whole, budget
				return runOp(t, "Conv", 22, attrs, 1, x, w, bias)[0].Data.([]float32)
			}
			got, want := run(true), run(false)
			if want[0] == 0 && want[1] == 0 && want[2] == 0 {
				t.Fatalf("n %d budget %d: reference looks empty: %v", n, budget, want[:8])
			}
			if !slices.Equal(got, want) {
				t.Errorf("n %d budget %d: whole-tile output differs: %v vs %v", n, budget, got[:8], want[:8])
			}
		}
	}
}
