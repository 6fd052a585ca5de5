package conformance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/plugins"
)

// TestBaselinePlugin builds bin/keen-backend-cpu into a temporary folder and
// runs the CPU baseline over it: the out-of-process CPU backend must pass
// every case the in-process one does. With -short it runs every 8th case.
func TestBaselinePlugin(t *testing.T) {
	root := findSharedTests(t)
	bin := filepath.Join(t.TempDir(), "keen-backend-cpu")
	build := exec.Command("go", "build", "-o", bin, "./plugins/cmd/keen-backend-cpu")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	name := "plugin:" + bin
	dev, err := backends.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		backends.Forget(name)
		dev.Close()
	}()
	if c, ok := dev.(*plugins.Client); ok {
		t.Logf("%s: %s", name, c.Describe())
	}
	names, err := ReadBaseline("baseline/cpu.txt")
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		var some []string
		for i := 0; i < len(names); i += 8 {
			some = append(some, names[i])
		}
		names = some
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	all, err := Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cases []Case
	for _, c := range all {
		if want[c.Name] {
			cases = append(cases, c)
		}
	}
	if len(cases) != len(names) {
		t.Errorf("%d baseline cases, %d found under %s", len(names), len(cases), root)
	}
	start := time.Now()
	rep := Run(context.Background(), dev, cases, Options{})
	took := time.Since(start)
	for _, r := range rep.Cases {
		if r.Status != Pass {
			t.Errorf("%s: baseline case fails over the plugin: %s %s", r.Name, r.Status, r.Reason)
		}
	}
	t.Logf("%s in %v", rep.Summary(), took.Round(time.Millisecond))
}

// findSharedTests walks up from the working directory to a folder holding
// shared/onnx-backend-tests (worktrees sit deeper than the main checkout).
func findSharedTests(t *testing.T) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "onnx-backend-tests")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("shared/onnx-backend-tests not found above the working directory")
		}
		dir = up
	}
}
