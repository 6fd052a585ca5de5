package onnx_test

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/internal/ort"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// smallCNN is a custom Go model: conv-relu-pool, conv-relu-pool, linear.
type smallCNN struct {
	Conv1, Conv2 *nn.Conv
	Pool         *nn.Pool
	FC           *nn.Linear
}

func newSmallCNN() *smallCNN {
	return &smallCNN{
		Conv1: nn.NewConv2D(1, 4, 3, nn.ConvOptions{Padding: 1}, nn.Seed(1)),
		Conv2: nn.NewConv2D(4, 8, 3, nn.ConvOptions{Padding: 1}, nn.Seed(2)),
		Pool:  nn.NewMaxPool2D(2, 2),
		FC:    nn.NewLinear(8*3*3, 3, nn.Seed(3)),
	}
}

func (m *smallCNN) Forward(x *eager.Tensor) *eager.Tensor {
	x = m.Pool.Forward(eager.Relu(m.Conv1.Forward(x)))
	x = m.Pool.Forward(eager.Relu(m.Conv2.Forward(x)))
	return m.FC.Forward(eager.Flatten(x, 1))
}

// images makes n 12x12 single-channel images of three patterns.
func images(n int) (*eager.Tensor, *eager.Tensor) {
	xs := make([]float32, n*12*12)
	ys := make([]int64, n)
	for i := 0; i < n; i++ {
		c := i % 3
		ys[i] = int64(c)
		for p := 0; p < 144; p++ {
			r, col := p/12, p%12
			v := float32(math.Sin(float64(r*(c+1))*0.5+float64(col)*0.3)) * 0.5
			if (r+col+i)%7 == 0 {
				v += 0.1
			}
			xs[i*144+p] = v
		}
	}
	return eager.New(xs, n, 1, 12, 12), eager.New(ys, n)
}

// TestCustomModelTrainsAndExportsToORT trains a Go CNN from scratch, exports
// it, and checks that Keen's reload and ONNX Runtime compute the same logits
// (to 1e-4), at a batch size other than the one traced.
func TestCustomModelTrainsAndExportsToORT(t *testing.T) {
	m := newSmallCNN()
	x, y := images(24)
	opt := optim.NewAdam(nn.Params(m), 0.01)
	var first, last float64
	for step := 0; step < 15; step++ {
		tape := eager.NewTape()
		loss := losses.SoftmaxCrossEntropy(m.Forward(x), y)
		if err := opt.Step(tape.Gradient(loss, opt.Params()...)); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	if !(last < first*0.7) {
		t.Fatalf("training did not reduce the loss enough: %.4f -> %.4f", first, last)
	}
	model, err := onnx.Export(m, x, onnx.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cnn.onnx")
	if err := onnx.WriteModel(path, model); err != nil {
		t.Fatal(err)
	}
	re, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	x5, _ := images(5)
	want := m.Forward(x5).Floats()
	assertNear(t, "keen reload", re.Forward(x5).Floats(), want, 1e-5)
	outs, err := ort.Run(path, map[string]*ir.Tensor{"input": x5.MustHost()})
	if errors.Is(err, ort.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	assertNear(t, "onnxruntime", outs["output"].Data.([]float32), want, 1e-4)
}

func assertNear(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}
