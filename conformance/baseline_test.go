package conformance

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	_ "github.com/keenml/keen/backends/cpu"
)

var update = flag.Bool("update", false, "run every case and add new passes to the baseline")

// sharedTests finds ../shared/onnx-backend-tests from the module root.
func sharedTests(t *testing.T) string {
	dir := filepath.Join("..", "..", "shared", "onnx-backend-tests")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/onnx-backend-tests not present")
	}
	return dir
}

// TestBaselineCPU runs every case named in baseline/cpu.txt on the CPU
// backend; each must pass. With -update it runs all cases and adds passes.
func TestBaselineCPU(t *testing.T) { checkBaseline(t, "cpu", "baseline/cpu.txt") }

func checkBaseline(t *testing.T, backend, file string) {
	root := sharedTests(t)
	dev, err := backends.Open(backend)
	if err != nil {
		t.Fatal(err)
	}
	names, err := ReadBaseline(file)
	if err != nil && !*update {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	all, err := Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	var cases []Case
	for _, c := range all {
		found[c.Name] = true
		if *update || want[c.Name] {
			cases = append(cases, c)
		}
	}
	for _, n := range names {
		if !found[n] {
			t.Errorf("baseline case %s not found under %s", n, root)
		}
	}
	rep := Run(context.Background(), dev, cases, Options{})
	pass := map[string]bool{}
	for _, r := range rep.Cases {
		if r.Status == Pass {
			pass[r.Name] = true
		} else if want[r.Name] {
			t.Errorf("%s: baseline case no longer passes: %s %s", r.Name, r.Status, r.Reason)
		}
	}
	t.Logf("%s", rep.Summary())
	if *update {
		for n := range want {
			pass[n] = true
		}
		out := make([]string, 0, len(pass))
		for n := range pass {
			out = append(out, n)
		}
		sort.Strings(out)
		body := "# Cases that pass on this backend; the list may only grow (make conformance-baseline).\n" + strings.Join(out, "\n") + "\n"
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("baseline %s: %d cases", file, len(out))
	}
}
