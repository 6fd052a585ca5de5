package nn_test

import (
	"math/rand"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
)

// mlp is a custom model: a plain Go struct with a Forward method.
type mlp struct {
	FC1 *nn.Linear
	FC2 *nn.Linear
}

func (m *mlp) Forward(x *eager.Tensor) *eager.Tensor {
	return m.FC2.Forward(eager.Relu(m.FC1.Forward(x)))
}

// blobs makes n points in 2-D from three Gaussian clusters.
func blobs(n int, seed int64) (*eager.Tensor, *eager.Tensor) {
	r := rand.New(rand.NewSource(seed))
	centers := [][2]float32{{-2, 0}, {2, 0}, {0, 2.5}}
	xs := make([]float32, 0, 2*n)
	ys := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		c := i % 3
		xs = append(xs, centers[c][0]+float32(r.NormFloat64())*0.5, centers[c][1]+float32(r.NormFloat64())*0.5)
		ys = append(ys, int64(c))
	}
	return eager.New(xs, n, 2), eager.New(ys, n)
}

func TestNamedParams(t *testing.T) {
	m := &mlp{FC1: nn.NewLinear(2, 16, nn.Seed(1)), FC2: nn.NewLinear(16, 3, nn.Seed(2))}
	var names []string
	for _, p := range nn.NamedParams(m) {
		names = append(names, p.Name)
	}
	want := []string{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}
	if len(names) != len(want) {
		t.Fatalf("names %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names %v, want %v", names, want)
		}
	}
	if n, err := nn.Freeze(m, `^fc1\.`); err != nil || n != 2 || len(nn.Params(m)) != 2 {
		t.Fatalf("Freeze: %d, %v, %d params left", n, err, len(nn.Params(m)))
	}
	if _, err := nn.Freeze(m, "nothing"); err == nil {
		t.Fatal("a pattern that matches nothing must be an error")
	}
}

func TestTrainMLPWithEachOptimizer(t *testing.T) {
	x, y := blobs(192, 3)
	for _, tc := range []struct {
		name string
		opt  func(ps []*eager.Tensor) optim.Optimizer
	}{
		{"adam", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdam(ps, 0.02) }},
		{"adamw", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdamW(ps, 0.02, 0.01) }},
		{"sgd-momentum", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewSGD(ps, 0.1, 0.9) }},
		{"rmsprop", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewRMSprop(ps, 0.01) }},
		{"adagrad", func(ps []*eager.Tensor) optim.Optimizer { return optim.NewAdagrad(ps, 0.1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &mlp{FC1: nn.NewLinear(2, 16, nn.Seed(1)), FC2: nn.NewLinear(16, 3, nn.Seed(2))}
			opt := tc.opt(nn.Params(m))
			first := 0.0
			var last float64
			for step := 0; step < 60; step++ {
				tape := eager.NewTape()
				loss := losses.SoftmaxCrossEntropy(m.Forward(x), y)
				grads := tape.Gradient(loss, opt.Params()...)
				if err := opt.Step(grads); err != nil {
					t.Fatal(err)
				}
				if step == 0 {
					first = loss.Item()
				}
				last = loss.Item()
			}
			acc := losses.Accuracy(m.Forward(x), y)
			if last > first/4 || acc < 0.95 {
				t.Fatalf("loss %.4f -> %.4f, accuracy %.3f; want a quarter of the first loss and >= 0.95", first, last, acc)
			}
		})
	}
}
