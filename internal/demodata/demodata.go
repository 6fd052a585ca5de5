// Package demodata embeds what `onnxrun demo` needs on a fresh machine: the
// fashion-mnist-cnn8 model (a PyTorch CNN trained on Fashion-MNIST classes
// 0-7, exported to ONNX opset 17) and a class-balanced subset of
// Fashion-MNIST (6,000 training and 2,000 test images; MIT licence).
package demodata

import (
	"bytes"
	_ "embed"

	"github.com/keenml/keen/eager/data"
	"github.com/keenml/keen/ir"
)

//go:embed fashion-mnist-cnn8.onnx
var Model []byte

var (
	//go:embed train-images.idx.gz
	trainImages []byte
	//go:embed train-labels.idx.gz
	trainLabels []byte
	//go:embed test-images.idx.gz
	testImages []byte
	//go:embed test-labels.idx.gz
	testLabels []byte
)

// Train returns the embedded training images (uint8 [N,28,28]) and labels (uint8 [N]).
func Train() (images, labels *ir.Tensor, err error) { return pair(trainImages, trainLabels) }

// Test returns the embedded test images and labels.
func Test() (images, labels *ir.Tensor, err error) { return pair(testImages, testLabels) }

func pair(img, lab []byte) (*ir.Tensor, *ir.Tensor, error) {
	i, err := data.ReadIDX(bytes.NewReader(img))
	if err != nil {
		return nil, nil, err
	}
	l, err := data.ReadIDX(bytes.NewReader(lab))
	if err != nil {
		return nil, nil, err
	}
	return i, l, nil
}
