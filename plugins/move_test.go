package plugins

import (
	"math"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
)

// TestMoveBitExact moves tensors of every dtype from the CPU backend to the
// CPU plugin and back (inline and through shared memory) and checks every
// bit survives.
func TestMoveBitExact(t *testing.T) {
	plug := startTest(t, Options{})
	local := cpu.New()
	var all []*ir.Tensor
	for _, n := range []int{0, 3, 50_000} {
		all = append(all, samples(n)...)
	}
	all = append(all, ir.FromSlice([]string{"x", "yz"}, 2))
	for _, x := range all {
		a, err := eager.FromHost(local, x)
		if err != nil {
			t.Fatal(err)
		}
		there, err := a.To(plug)
		if err != nil {
			t.Fatal(err)
		}
		back, err := there.To(local)
		if err != nil {
			t.Fatal(err)
		}
		if !bitsEqual(back.MustHost(), x) || !bitsEqual(there.MustHost(), x) {
			t.Errorf("%v%v changed on the way", x.DType, x.Shape)
		}
	}
}

// step is a small network step of core ops: x (8,16), w (16,16), b (16).
func step(x, w, b *eager.Tensor) *eager.Tensor {
	h := eager.Softmax(eager.Relu(eager.Add(eager.MatMul(x, w), b)), -1)
	h = eager.Concat(0, h, eager.Exp(eager.Neg(h)))                               // (16,16)
	s := eager.Reshape(eager.ReduceSum(eager.Mul(h, h), []int64{1}, true), 1, 16) // (1,16)
	y := eager.Add(eager.Tanh(eager.Transpose(h, 1, 0)), s)
	return eager.Slice(y, []int{0}, []int{8}, []int{0})
}

// TestMoveMidRun runs a chain of steps all on the CPU, and again moving the
// running value and the parameters between the CPU and the CPU plugin every
// step: both runs must agree bit for bit (the kernels are the same code).
func TestMoveMidRun(t *testing.T) {
	plug := startTest(t, Options{})
	local, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"MatMul", "Softmax", "Concat", "ReduceSum", "Transpose", "Slice", "Tanh"} {
		if !hasCap(local, op) {
			t.Skipf("the CPU backend lacks %s yet", op)
		}
	}
	x0 := make([]float32, 8*16)
	w0 := make([]float32, 16*16)
	b0 := make([]float32, 16)
	for i := range x0 {
		x0[i] = float32(math.Sin(float64(i)))
	}
	for i := range w0 {
		w0[i] = float32(math.Cos(float64(i)*0.7)) * 0.3
	}
	for i := range b0 {
		b0[i] = float32(i%5) * 0.01
	}
	put := func(dev backends.Backend, data []float32, shape ...int) *eager.Tensor {
		tt, err := eager.FromHost(dev, ir.FromSlice(append([]float32(nil), data...), shape...))
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	move := func(v *eager.Tensor, dev backends.Backend) *eager.Tensor {
		m, err := v.To(dev)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const steps = 6
	var want []*ir.Tensor
	x, w, b := put(local, x0, 8, 16), put(local, w0, 16, 16), put(local, b0, 16)
	for range steps {
		x = step(x, w, b)
		want = append(want, x.MustHost())
	}
	x, w, b = put(local, x0, 8, 16), put(local, w0, 16, 16), put(local, b0, 16)
	devs := []backends.Backend{local, plug}
	for i := range steps {
		dev := devs[i%2]
		x, w, b = move(x, dev), move(w, dev), move(b, dev)
		x = step(x, w, b)
		if x.Backend() != dev {
			t.Fatalf("step %d ran on %s, want %s", i, x.Backend().Name(), dev.Name())
		}
		if got := x.MustHost(); !bitsEqual(got, want[i]) {
			t.Fatalf("step %d on %s: differs from the CPU run\ngot  %v\nwant %v", i, dev.Name(), got, want[i])
		}
	}
	if err := plug.Sync(); err != nil {
		t.Fatal(err)
	}
}

func hasCap(b backends.Backend, op string) bool {
	for _, c := range b.Capabilities() {
		if c.Op == op && c.Domain == "" {
			return true
		}
	}
	return false
}

// mlp is a two-layer classifier for the training move test.
type mlp struct{ L1, L2 *nn.Linear }

func (m *mlp) forward(x *eager.Tensor) *eager.Tensor {
	return m.L2.Forward(eager.Relu(m.L1.Forward(x)))
}

// train runs steps of Adam on (x, y); before step i it moves the model, the
// optimizer state and the data to devs[i] (nil: stay). It returns the
// losses and the final parameters.
func train(t *testing.T, devs []backends.Backend) ([]float64, []*ir.Tensor) {
	m := &mlp{L1: nn.NewLinear(8, 16, nn.Seed(1)), L2: nn.NewLinear(16, 3, nn.Seed(2))}
	opt := optim.NewAdam(nn.Params(m), 0.01)
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
	for _, dev := range devs {
		if dev != nil {
			moving := append(nn.Params(m), x, y)
			for _, s := range opt.State() {
				moving = append(moving, s)
			}
			for _, p := range moving {
				if err := p.MoveTo(dev); err != nil {
					t.Fatal(err)
				}
			}
		}
		tape := eager.NewTape()
		loss := losses.SoftmaxCrossEntropy(m.forward(x), y)
		grads := tape.Gradient(loss, nn.Params(m)...)
		if err := opt.Step(grads); err != nil {
			t.Fatal(err)
		}
		if dev != nil && (loss.Backend() != dev || m.L1.Weight.Backend() != dev) {
			t.Fatalf("the step ran on %s, want %s", loss.Backend().Name(), dev.Name())
		}
		ls = append(ls, loss.Item())
	}
	var params []*ir.Tensor
	for _, p := range nn.Params(m) {
		params = append(params, p.MustHost())
	}
	return ls, params
}

// TestMoveTrainingMidRun trains a small model with Adam on the CPU, and
// again moving the model, the optimizer state and the data to the CPU
// plugin and back between steps: losses and parameters agree bit for bit.
func TestMoveTrainingMidRun(t *testing.T) {
	plug := startTest(t, Options{})
	local, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	eager.SetDefaultBackend(local)
	want, wantP := train(t, make([]backends.Backend, 6))
	got, gotP := train(t, []backends.Backend{nil, nil, plug, nil, local, plug})
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("step %d: loss %v with moves, %v on the CPU", i, got[i], want[i])
		}
	}
	for i := range wantP {
		if !bitsEqual(gotP[i], wantP[i]) {
			t.Fatalf("parameter %d differs after the moves", i)
		}
	}
	if want[len(want)-1] >= want[0] {
		t.Fatalf("the loss did not fall: %v", want)
	}
	t.Logf("losses %v", got)
}
