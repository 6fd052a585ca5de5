package plugins

import (
	"math"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
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
