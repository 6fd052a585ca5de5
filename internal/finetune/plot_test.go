package finetune

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestPlotWritesSVGAndPNG(t *testing.T) {
	res := &Result{AccBefore: 0.7, Losses: []float64{2, 1.5, 1, 0.8, 0.6}, EpochAcc: []float64{0.85, 0.9}}
	dir := t.TempDir()
	for _, c := range []struct{ name, magic string }{{"p.svg", "<svg"}, {"p.png", "\x89PNG"}} {
		path := filepath.Join(dir, c.name)
		if err := Plot(path, res); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data[:min(len(data), 200)], []byte(c.magic)) {
			t.Fatalf("%s does not start like a %s file", c.name, c.magic)
		}
	}
	if err := Plot(filepath.Join(dir, "p.pdf"), res); err == nil {
		t.Fatal("want an error for .pdf")
	}
}
