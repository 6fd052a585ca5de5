package onnx

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keenml/keen/ir"
)

// TestBackendData decodes every model and every test_data_set_0 value of the
// ONNX backend tests, and checks that encoding and decoding again gives the
// same ir values.
func TestBackendData(t *testing.T) {
	root := backendTests(t)
	var models, values int
	for _, folder := range []string{"node", "simple", "pytorch-converted", "pytorch-operator"} {
		cases, err := os.ReadDir(filepath.Join(root, folder))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			dir := filepath.Join(root, folder, c.Name())
			m, err := ReadModel(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Errorf("%s/%s: %v", folder, c.Name(), err)
				continue
			}
			models++
			checkModelRoundTrip(t, folder+"/"+c.Name(), m)
			values += checkTestData(t, folder+"/"+c.Name(), dir, m.Graph)
		}
	}
	t.Logf("decoded and round-tripped %d models and %d values", models, values)
	if models < 1900 || values < 6000 {
		t.Errorf("only %d models and %d values decoded", models, values)
	}
}

func checkModelRoundTrip(t *testing.T, name string, m *ir.Model) {
	t.Helper()
	data, err := EncodeModel(m)
	if err != nil {
		t.Errorf("%s: encode: %v", name, err)
		return
	}
	m2, err := DecodeModel(data)
	if err != nil {
		t.Errorf("%s: decode again: %v", name, err)
		return
	}
	if d := diff(m, m2); d != "" {
		t.Errorf("%s: model changed in an encode/decode round trip at %s", name, d)
	}
}

// checkTestData decodes input_K.pb and output_K.pb with the kind of the K-th
// real graph input or output, and round-trips each value.
func checkTestData(t *testing.T, name, dir string, g *ir.Graph) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "test_data_set_0", "*.pb"))
	sort.Strings(files)
	inputs, outputs := g.RealInputs(), g.Outputs
	n := 0
	for _, f := range files {
		base := filepath.Base(f)
		var k int
		var infos []ir.ValueInfo
		switch {
		case strings.HasPrefix(base, "input_"):
			infos = inputs
			k = atoiSuffix(base, "input_")
		case strings.HasPrefix(base, "output_"):
			infos = outputs
			k = atoiSuffix(base, "output_")
		default:
			continue
		}
		if k < 0 || k >= len(infos) {
			t.Errorf("%s: %s has no matching graph input/output", name, base)
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := DecodeValue(data, infos[k].Type)
		if err != nil {
			t.Errorf("%s: %s (%v): %v", name, base, infos[k].Type, err)
			continue
		}
		n++
		enc, err := EncodeValue(v)
		if err != nil {
			t.Errorf("%s: %s: encode: %v", name, base, err)
			continue
		}
		v2, err := DecodeValue(enc, infos[k].Type)
		if err != nil {
			t.Errorf("%s: %s: decode again: %v", name, base, err)
			continue
		}
		if d := diff(v, v2); d != "" {
			t.Errorf("%s: %s: value changed in an encode/decode round trip at %s", name, base, d)
		}
	}
	return n
}

func atoiSuffix(base, prefix string) int {
	s := strings.TrimSuffix(strings.TrimPrefix(base, prefix), ".pb")
	k := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		k = k*10 + int(c-'0')
	}
	return k
}
