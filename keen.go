// Package keen is the convenience entry point to Keen, an eager
// deep-learning engine for Go that speaks ONNX. Importing it registers the
// in-tree CPU backend, so the common case needs no ceremony:
//
//	m, err := keen.Load("model.onnx")
//	outs, err := m.Run(ctx, keen.Tensor([]float32{...}, 1, 3, 224, 224))
//
// The parts live in their own packages: eager (tensors, the gradient tape),
// eager/nn, eager/optim, eager/losses, eager/data (training), onnx (import,
// run, export), backends (choosing a backend by name, "cpu", "cuda",
// "plugin:PATH", or $KEEN_BACKEND).
package keen

import (
	"github.com/keenml/keen/backends"
	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// Load reads an ONNX model and prepares it to run on the default backend
// ($KEEN_BACKEND, else the CPU).
func Load(path string) (*onnx.Model, error) { return onnx.Load(path) }

// LoadOn reads an ONNX model for the backend called name.
func LoadOn(path, name string) (*onnx.Model, error) {
	dev, err := backends.Open(name)
	if err != nil {
		return nil, err
	}
	return onnx.Load(path, onnx.WithBackend(dev))
}

// Tensor makes a tensor of data with shape on the default backend.
func Tensor[T ir.Elem](data []T, shape ...int) *eager.Tensor { return eager.New(data, shape...) }
