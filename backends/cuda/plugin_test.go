package cuda

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/conformance"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/plugins"
)

// With $KEEN_CUDA_EMU_PLUGIN set, the test binary is a plugin serving the
// backend on the emulated device: the path keen-backend-cuda takes, minus
// the GPU.
func TestMain(m *testing.M) {
	if os.Getenv("KEEN_CUDA_EMU_PLUGIN") != "" {
		plugins.Serve(func() (backends.Backend, error) { return fakeBackend() })
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestEmulatedPlugin runs node tests over the emulated backend served by a
// plugin: Prepare is answered by the plugin, missing ops fall back to the
// CPU in the host, and data crosses through shared memory.
func TestEmulatedPlugin(t *testing.T) {
	root := findTests(t)
	if _, err := fakeBackend(); err != nil {
		t.Skip(err)
	}
	c, err := plugins.Start(os.Args[0], plugins.Options{Name: "cuda-emulated", Env: []string{"KEEN_CUDA_EMU_PLUGIN=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pat := `^test_(matmul_2d|gemm_default_matrix_bias|conv_with_strides_padding|softmax_axis_1|reduce_sum_keepdims_example|gather_1|slice|concat_2d_axis_1|where_example|relu|add_bcast|topk|cumsum_1d)$`
	cases, err := conformance.Discover([]string{filepath.Join(root, "node")}, regexp.MustCompile(pat))
	if err != nil {
		t.Fatal(err)
	}
	before := eager.Fallbacks.Load()
	rep := conformance.Run(context.Background(), c, cases, conformance.Options{})
	for _, r := range rep.Cases {
		if r.Status == conformance.Fail {
			t.Errorf("%s: %s", r.Name, r.Reason)
		}
	}
	if eager.Fallbacks.Load() == before {
		t.Error("TopK and CumSum did not fall back to the CPU")
	}
	if rep.Passed != len(cases) {
		t.Errorf("%d of %d cases pass", rep.Passed, len(cases))
	}
	t.Logf("%s: %s; %d ops fell back to the CPU", c.Describe(), rep.Summary(), eager.Fallbacks.Load()-before)
}
