package eager_test

import (
	"fmt"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/optim"
)

// line is a custom model: a plain Go struct whose parameters are tensors
// and whose Forward is ordinary Go code.
type line struct {
	W, B *eager.Tensor
}

func (m *line) Forward(x *eager.Tensor) *eager.Tensor {
	return eager.Add(eager.Mul(x, m.W), m.B)
}

// A tape records the forward pass; Gradient then gives d loss / d parameter
// (and / d input: any tensor the recorded ops consumed). Tensors are values
// that can be printed at any moment.
func Example() {
	m := &line{W: eager.New([]float32{2}), B: eager.New([]float32{0.5})}
	x := eager.New([]float32{1, 2, 3})
	y := eager.New([]float32{3, 5, 7}) // y = 2x + 1

	tape := eager.NewTape()
	pred := m.Forward(x)
	diff := eager.Sub(pred, y)
	loss := eager.Mean(eager.Mul(diff, diff))
	grads := tape.Gradient(loss, m.W, m.B, x)

	fmt.Println("pred:", pred)
	fmt.Println("loss:", loss.Item())
	// d loss/dW = mean(2 (pred-y) x) = -2; d loss/dB = mean(2 (pred-y)) = -1;
	// d loss/dx = 2 (pred-y) W / 3.
	fmt.Println("dW:", grads[0].Floats(), "dB:", grads[1].Floats())
	fmt.Printf("dx: %.4f\n", grads[2].Floats())

	// Training: an optimizer updates the parameters in place.
	opt := optim.NewSGD([]*eager.Tensor{m.W, m.B}, 0.1, 0.9)
	for step := 0; step < 300; step++ {
		tape := eager.NewTape()
		d := eager.Sub(m.Forward(x), y)
		l := eager.Mean(eager.Mul(d, d))
		if err := opt.Step(tape.Gradient(l, opt.Params()...)); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("W %.3f, B %.3f\n", m.W.Item(), m.B.Item())
	// Output:
	// pred: Tensor(float32[3] [2.5 4.5 6.5])
	// loss: 0.25
	// dW: [-2] dB: [-1]
	// dx: [-0.6667 -0.6667 -0.6667]
	// W 2.000, B 1.000
}
