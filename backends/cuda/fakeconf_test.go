package cuda

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/backendtest"
	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/conformance"
	"github.com/keenml/keen/eager"
)

// TestEmulatedConformance runs ONNX node tests over the backend on the
// emulated device. $KEEN_CUDA_EMU_RUN widens the selection (a regexp).
func TestEmulatedConformance(t *testing.T) {
	root := findTests(t)
	b := newFakeBackend(t)
	pat := `^test_(add|sub|mul|div|relu|sigmoid|tanh|softmax_axis_1|matmul_2d|matmul_3d|matmul_4d|gemm_default_matrix_bias|gemm_transposeA|gemm_transposeB|conv_with_strides_padding|transpose_all_permutations_1|slice|concat_2d_axis_1|gather_1|reduce_sum_keepdims_example|reduce_max_do_not_keepdims_example|argmax_default_axis_example|where_example|cast_FLOAT_to_DOUBLE|expand_dim_changed|pad|reshape_reordered_all_dims|unsqueeze_axis_0|squeeze|split_equal_parts_1d_opset18|pow|leakyrelu|elu|selu|mod_mixed_sign_int32|equal|less|not_2d|and2d|reduce_log_sum_exp_do_not_keepdims_example|reduce_mean_default_axes_keepdims_example|logsoftmax_axis_1|flatten_axis0|shape|size)$`
	if s := os.Getenv("KEEN_CUDA_EMU_RUN"); s != "" {
		pat = s
	}
	cases, err := conformance.Discover([]string{filepath.Join(root, "node")}, regexp.MustCompile(pat))
	if err != nil {
		t.Fatal(err)
	}
	before := eager.Fallbacks.Load()
	rep := conformance.Run(context.Background(), b, cases, conformance.Options{})
	for _, r := range rep.Cases {
		if r.Status == conformance.Fail {
			t.Errorf("%s: %s", r.Name, r.Reason)
		}
	}
	t.Logf("%s; %d kernels compiled, %d ops fell back to the CPU", rep.Summary(), len(b.funcs), eager.Fallbacks.Load()-before)
}

func findTests(t *testing.T) string {
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "onnx-backend-tests")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("shared/onnx-backend-tests not found")
		}
		dir = up
	}
}

// TestBackendKit runs the backend test kit on the emulated device.
func TestBackendKit(t *testing.T) {
	backendtest.RunAll(t, func() (backends.Backend, error) { return newFakeBackend(t), nil })
}
