package keen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/keenml/keen"
	"github.com/keenml/keen/onnx"
)

func TestLoadAndRunSharedModel(t *testing.T) {
	dir := filepath.Join("..", "shared", "models", "fashion-mnist-cnn8")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/models not present")
	}
	m, err := keen.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := onnx.ReadTensor(filepath.Join(dir, "test_data_set_0", "input_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := onnx.ReadTensor(filepath.Join(dir, "test_data_set_0", "output_0.pb"))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := m.Run(context.Background(), keen.Tensor(x.Data.([]float32), x.Shape...))
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].Floats()
	w := want.Data.([]float32)
	for i := range w {
		if d := got[i] - w[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("logit %d = %v, PyTorch %v", i, got[i], w[i])
		}
	}
	if _, err := keen.LoadOn(filepath.Join(dir, "model.onnx"), "nosuch"); err == nil {
		t.Fatal("an unknown backend must be an error")
	}
}
