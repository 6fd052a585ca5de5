package nn_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
)

// Style transfer optimizes an image, not a model: the tape gives the
// gradient of the loss with respect to the input, and an optimizer updates
// the image tensor in place. The feature extractor stays fixed.

type features struct {
	Conv1, Conv2 *nn.Conv
}

func (f *features) Forward(x *eager.Tensor) *eager.Tensor {
	h := eager.Relu(f.Conv1.Forward(x))
	return eager.Relu(f.Conv2.Forward(h))
}

// gram is the channel correlation matrix of features [1, C, H, W]: the
// "style" of an image, blind to where things are.
func gram(f *eager.Tensor) *eager.Tensor {
	c, hw := f.Dim(1), f.Dim(2)*f.Dim(3)
	m := eager.Reshape(f, c, hw)
	return eager.Div(eager.MatMul(m, eager.Transpose(m)), eager.ScalarLike(m, float64(hw)))
}

func randImage(r *rand.Rand, scale float64) *eager.Tensor {
	v := make([]float32, 3*16*16)
	for i := range v {
		v[i] = float32(scale * r.Float64())
	}
	return eager.New(v, 1, 3, 16, 16)
}

func TestStyleTransferOptimizesTheImage(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	net := &features{
		Conv1: nn.NewConv2D(3, 8, 3, nn.ConvOptions{Padding: 1}, nn.Seed(1)),
		Conv2: nn.NewConv2D(8, 8, 3, nn.ConvOptions{Padding: 1, Stride: 2}, nn.Seed(2)),
	}
	content, style := randImage(r, 1), randImage(r, 2)
	var contentF, styleG *eager.Tensor
	eager.NoGrad(func() {
		contentF = net.Forward(content)
		styleG = gram(net.Forward(style))
	})
	weightsBefore := net.Conv1.Weight.Floats()

	image := randImage(r, 1) // the only thing trained
	opt := optim.NewAdam([]*eager.Tensor{image}, 0.05)
	// The content term pulls the image's features towards the content
	// image's; the style term pulls its Gram matrix towards the style
	// image's. The two conflict, so the loss settles above zero.
	terms := func() (content, style *eager.Tensor) {
		f := net.Forward(image)
		return losses.MSE(f, contentF), eager.Mul(losses.MSE(gram(f), styleG), eager.ScalarLike(f, 1000))
	}
	lossOf := func() *eager.Tensor { c, s := terms(); return eager.Add(c, s) }
	_, style0 := terms()
	var first, last float64
	for step := 0; step < 150; step++ {
		tape := eager.NewTape()
		loss := lossOf()
		grads := tape.Gradient(loss, image) // d loss / d image
		if err := opt.Step(grads); err != nil {
			t.Fatal(err)
		}
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	_, style1 := terms()
	t.Logf("loss %.5f -> %.5f (factor %.1f); style term %.5f -> %.5f", first, last, first/last, style0.Item(), style1.Item())
	if last > first/10 || style1.Item() > style0.Item()/50 {
		t.Fatalf("loss %.5f -> %.5f, style term %.5f -> %.5f; want factors of 10 and 50", first, last, style0.Item(), style1.Item())
	}
	for i, w := range net.Conv1.Weight.Floats() {
		if w != weightsBefore[i] {
			t.Fatal("the feature extractor changed; only the image should")
		}
	}
}
