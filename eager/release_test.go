package eager_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
)

func TestReleasedTensorIsAnError(t *testing.T) {
	x := eager.New(make([]float32, 1024), 32, 32)
	r := eager.Neg(x)
	kept := eager.Relu(x)
	r.Release()
	r.Release() // twice is harmless
	if !r.Released() || x.Released() {
		t.Fatalf("Released: r %v, x %v; want true, false", r.Released(), x.Released())
	}
	if _, err := r.Host(); err == nil || !strings.Contains(err.Error(), "released") {
		t.Fatalf("Host of a released tensor: err %v, want one saying it was released", err)
	}
	if got := r.Shape(); len(got) != 2 || got[0] != 32 {
		t.Fatalf("Shape of a released tensor = %v, want [32 32]", got)
	}
	func() {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "released") {
				t.Fatalf("an op on a released tensor: panic %v, want one saying it was released", p)
			}
		}()
		eager.Add(r, x)
	}()
	// A new op may reuse r's memory; kept is untouched.
	y := eager.Add(x, eager.Scalar[float32](1))
	for i, v := range y.Floats() {
		if v != 1 || kept.Floats()[i] != 0 {
			t.Fatalf("y[%d] = %v, kept[%d] = %v; want 1, 0", i, v, i, kept.Floats()[i])
		}
	}
}
