package optim_test

import (
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
)

// TestAdamOwnsStorage: the in-place Adam kernel never writes storage the
// optimizer did not make: the host tensor a parameter was made from, and
// values read from it before the first step, keep their values.
func TestAdamOwnsStorage(t *testing.T) {
	host := ir.FromSlice([]float32{0.5, -1.2, 2.0, 0.03}, 4)
	p, err := eager.FromHost(nil, host)
	if err != nil {
		t.Fatal(err)
	}
	before := p.Floats()
	alias := p.Detach()
	opt := optim.NewAdam([]*eager.Tensor{p}, 0.1)
	for k := 0; k < 3; k++ {
		if err := opt.Step([]*eager.Tensor{f32(g32[k], 4)}); err != nil {
			t.Fatal(err)
		}
	}
	want := refRun(adamRule(0.1, 0.9, 0.999, 1e-8, 0, false), p32Init, g32, 3)
	got := p.Floats64()
	for i, v := range host.Data.([]float32) {
		if float64(v) != float64(float32(p32Init[i])) || float64(before[i]) != float64(float32(p32Init[i])) ||
			alias.Floats64()[i] != float64(float32(p32Init[i])) {
			t.Errorf("[%d]: storage shared before the first step changed: host %v, read %v, detached %v",
				i, v, before[i], alias.Floats64()[i])
		}
		if !closeTo(got[i], want[i], 1e-6) {
			t.Errorf("[%d] = %.9g after 3 steps, want %.9g", i, got[i], want[i])
		}
	}
}

// TestAdamAssignedStorage: a parameter assigned a tensor between steps (a
// restored snapshot) is copied before the next in-place update, so the
// snapshot keeps its values.
func TestAdamAssignedStorage(t *testing.T) {
	p := f32(p32Init, 4)
	opt := optim.NewAdam([]*eager.Tensor{p}, 0.1)
	if err := opt.Step([]*eager.Tensor{f32(g32[0], 4)}); err != nil {
		t.Fatal(err)
	}
	snap := f32(p32Init, 4)
	if err := p.Assign(snap); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step([]*eager.Tensor{f32(g32[1], 4)}); err != nil {
		t.Fatal(err)
	}
	for i, v := range snap.Floats64() {
		if v != float64(float32(p32Init[i])) {
			t.Errorf("snapshot [%d] = %v after a step, want %v", i, v, float32(p32Init[i]))
		}
	}
	if p.Floats64()[0] == float64(float32(p32Init[0])) {
		t.Error("the parameter did not move")
	}
}
