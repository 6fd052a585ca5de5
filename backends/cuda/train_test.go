package cuda

import (
	"math"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
)

// TestEmulatedTraining trains a small classifier with Adam on the emulated
// device and on the CPU: the losses agree closely (not bit for bit: sums
// run in another order), and ops the backend lacks fall back to the CPU.
func TestEmulatedTraining(t *testing.T) {
	dev := newFakeBackend(t)
	cpu, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	want := trainOn(t, cpu)
	before := eager.Fallbacks.Load()
	got := trainOn(t, dev)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("step %d: loss %v on the emulated device, %v on the CPU", i, got[i], want[i])
		}
	}
	if want[len(want)-1] >= want[0] {
		t.Fatalf("the loss did not fall: %v", want)
	}
	t.Logf("losses %v; %d ops fell back to the CPU", got, eager.Fallbacks.Load()-before)
}

func trainOn(t *testing.T, dev backends.Backend) []float64 {
	eager.SetDefaultBackend(dev)
	defer eager.SetDefaultBackend(nil)
	l1, l2 := nn.NewLinear(8, 16, nn.Seed(1)), nn.NewLinear(16, 3, nn.Seed(2))
	params := append(nn.Params(l1), nn.Params(l2)...)
	opt := optim.NewAdam(params, 0.01)
	xs := make([]float32, 16*8)
	ys := make([]int64, 16)
	for i := range xs {
		xs[i] = float32(math.Sin(float64(i) * 0.37))
	}
	for i := range ys {
		ys[i] = int64(i % 3)
	}
	x, y := eager.New(xs, 16, 8), eager.New(ys, 16)
	var ls []float64
	for range 5 {
		tape := eager.NewTape()
		loss := losses.SoftmaxCrossEntropy(l2.Forward(eager.Relu(l1.Forward(x))), y)
		if loss.Backend() != dev {
			t.Fatalf("the loss is on %s, want %s", loss.Backend().Name(), dev.Name())
		}
		if err := opt.Step(tape.Gradient(loss, params...)); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, loss.Item())
	}
	return ls
}
