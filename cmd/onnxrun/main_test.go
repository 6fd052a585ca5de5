package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sharedModel returns ../shared/models/fashion-mnist-cnn8 or skips.
func sharedModel(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "models", "fashion-mnist-cnn8")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/models not present")
	}
	return dir
}

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.onnx")
	os.WriteFile(garbage, []byte("this is not a model"), 0o644)
	truncated := filepath.Join(dir, "truncated.onnx")
	data, _ := os.ReadFile(filepath.Join(sharedModelOrEmpty(), "model.onnx"))
	os.WriteFile(truncated, data[:len(data)/3], 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"run"}, 2, "want one MODEL"},
		{[]string{"run", "--bogus", "x"}, 2, "flag provided but not defined"},
		{[]string{"run", filepath.Join(dir, "missing.onnx")}, 1, "no such file"},
		{[]string{"run", garbage}, 1, "garbage.onnx"},
		{[]string{"inspect", garbage}, 1, "garbage.onnx"},
		{[]string{"conformance"}, 2, "no test case folder"},
		{[]string{"bench", garbage}, 1, "garbage.onnx"},
	}
	if len(data) > 0 {
		cases = append(cases, struct {
			args []string
			code int
			want string
		}{[]string{"run", truncated}, 1, "truncated.onnx"})
	}
	for _, c := range cases {
		code, out, errs := run(c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("onnxrun %v: exit %d, output %q; want exit %d and %q", c.args, code, out+errs, c.code, c.want)
		}
	}
}

func sharedModelOrEmpty() string {
	return filepath.Join("..", "..", "..", "shared", "models", "fashion-mnist-cnn8")
}

func TestRunAndGradOnSharedModel(t *testing.T) {
	dir := sharedModel(t)
	out := t.TempDir()
	code, stdout, stderr := run("run", filepath.Join(dir, "model.onnx"), "--inputs", filepath.Join(dir, "test_data_set_0"), "--outdir", out)
	if code != 0 || !strings.Contains(stdout, "logits: float32 [16 8]") {
		t.Fatalf("run: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run("conformance", dir)
	if code != 0 || !strings.Contains(stdout, "conformance: 1 of 1 cases pass (0 fail, 0 skipped)") {
		t.Fatalf("conformance: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run("conformance", "--repeat", "3", dir)
	if code != 0 || !strings.Contains(stdout, "conformance: 1 of 1 cases pass") {
		t.Fatalf("conformance --repeat 3: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run("bench", filepath.Join(dir, "model.onnx"), "--iters", "3", "--warmup", "1", "--nodes", "--json")
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || !strings.HasPrefix(lines[len(lines)-1], "{") || !strings.Contains(stdout, "sum of node medians") ||
		!strings.Contains(stdout, "Gemm") {
		t.Fatalf("bench --nodes --json: exit %d: %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run("grad", filepath.Join(dir, "model.onnx"), "--inputs", filepath.Join(dir, "test_data_set_0"), "--outdir", out)
	if code != 0 {
		t.Fatalf("grad: exit %d: %s %s", code, stdout, stderr)
	}
	for _, f := range []string{"classifier.1.weight.pb", "onnx::Conv_32.pb", "input_0.pb"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("grad did not write %s", f)
		}
	}
	code, stdout, stderr = run("run", filepath.Join(dir, "model.onnx"), "--input", "image="+filepath.Join(dir, "test_data_set_0", "output_0.pb"))
	if code != 1 || !strings.Contains(stdout+stderr, `input 0 ("image")`) {
		t.Fatalf("wrong-shaped input: exit %d: %s %s", code, stdout, stderr)
	}
}
