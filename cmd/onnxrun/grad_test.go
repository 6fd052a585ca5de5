package main

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/keenml/keen/onnx"
)

// TestGradAgreesWithPyTorch compares `onnxrun grad` with PyTorch autograd's
// gradients of sum(output 0) on models exported from PyTorch 1.13 by
// tools/export_models.py --grad (committed under testdata/gradref): an MLP,
// a CNN with BatchNorm in training mode and a depthwise convolution, a
// 2-layer LSTM and a Transformer encoder layer. Each gradient must agree
// within 1e-3 x its largest magnitude + 1e-6.
func TestGradAgreesWithPyTorch(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "gradref", "*"))
	if len(dirs) == 0 {
		t.Fatal("no reference models under testdata/gradref")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := run("grad", filepath.Join(dir, "model.onnx"), "--inputs", filepath.Join(dir, "test_data_set_0"), "--outdir", out)
			if code != 0 {
				t.Fatalf("grad: exit %d: %s %s", code, stdout, stderr)
			}
			refs, _ := filepath.Glob(filepath.Join(dir, "grad", "*.pb"))
			if len(refs) == 0 {
				t.Fatal("no reference gradients")
			}
			for _, ref := range refs {
				want, err := onnx.ReadTensor(ref)
				if err != nil {
					t.Fatal(err)
				}
				got, err := onnx.ReadTensor(filepath.Join(out, filepath.Base(ref)))
				if err != nil {
					t.Errorf("%s: %v", filepath.Base(ref), err)
					continue
				}
				if got.Len() != want.Len() {
					t.Errorf("%s: %d values, want %d", filepath.Base(ref), got.Len(), want.Len())
					continue
				}
				scale := 0.0
				for i := 0; i < want.Len(); i++ {
					scale = math.Max(scale, math.Abs(want.Float64At(i)))
				}
				tol := 1e-3*scale + 1e-6
				for i := 0; i < want.Len(); i++ {
					if d := math.Abs(got.Float64At(i) - want.Float64At(i)); d > tol {
						t.Errorf("%s: value %d = %g, PyTorch %g (tolerance %g)", filepath.Base(ref), i, got.Float64At(i), want.Float64At(i), tol)
						break
					}
				}
			}
		})
	}
}
