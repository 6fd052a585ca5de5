package cpu

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// mxCasePattern selects the ONNX node test cases of the mx op family.
const mxCasePattern = `^test_(lstm|gru|rnn|simple_rnn|attention|rotary|flexattention|swiglu|dft|stft|` +
	`hannwindow|hammingwindow|blackmanwindow|melweightmatrix|nonmaxsuppression|random|bernoulli|multinomial|` +
	`string|strnormalizer|regex|tfidfvectorizer|image_decoder|adam|adagrad|momentum|nesterov|ai_onnx_ml)`

// mxKnownFailures are cases expected not to pass, with the reason.
var mxKnownFailures = map[string]string{
	"test_bernoulli":                       "skip: output is random",
	"test_bernoulli_double":                "skip: output is random",
	"test_bernoulli_seed":                  "skip: output is random (seeded numpy stream cannot be reproduced)",
	"test_image_decoder_decode_jpeg2k_rgb": "JPEG 2000 decoding is not implemented",
	"test_dft_inverse":                     "expected zeros carry float32 FFT noise of 1.9e-7, over atol 1e-7",
	"test_dft_inverse_opset19":             "expected zeros carry float32 FFT noise of 1.9e-7, over atol 1e-7",
}

// mxTestDataDir finds shared/onnx-backend-tests/node by walking up from the
// package directory ("" when absent).
func mxTestDataDir() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		for _, p := range []string{"shared", "../shared"} {
			d := filepath.Join(dir, p, "onnx-backend-tests", "node")
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestMxConformance runs the mx family's ONNX node cases. MX_CASES=regexp
// overrides the selection, MX_DIR another case folder; MX_VERBOSE=1 logs
// every result.
func TestMxConformance(t *testing.T) {
	root := mxTestDataDir()
	if d := os.Getenv("MX_DIR"); d != "" {
		root = d
	}
	if root == "" {
		t.Skip("onnx-backend-tests not found")
	}
	pat := mxCasePattern
	if p := os.Getenv("MX_CASES"); p != "" {
		pat = p
	}
	re := regexp.MustCompile(pat)
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Skip(err)
	}
	pass, total := 0, 0
	var failed []string
	for _, e := range ents {
		name := e.Name()
		if !re.MatchString(name) || pat == mxCasePattern && strings.Contains(name, "_expanded") {
			continue
		}
		total++
		err := mxRunCase(filepath.Join(root, name))
		switch {
		case err == nil:
			pass++
			if os.Getenv("MX_VERBOSE") != "" {
				t.Logf("PASS %s", name)
			}
		case mxKnownFailures[name] != "":
			t.Logf("known failure %s: %v", name, err)
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", name, err))
		}
	}
	sort.Strings(failed)
	for _, f := range failed {
		t.Errorf("FAIL %s", f)
	}
	t.Logf("mx conformance: %d/%d passed", pass, total)
}

// mxRunCase runs every node of the case's graph in order and compares the
// graph outputs with test_data_set_0.
func mxRunCase(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		return err
	}
	m, err := mxDecodeModel(b)
	if err != nil {
		return err
	}
	vals := map[string]*ir.Tensor{}
	for k, v := range m.inits {
		vals[k] = v
	}
	k := 0
	for _, name := range m.inputs {
		if _, ok := m.inits[name]; ok {
			continue
		}
		t, err := mxReadPB(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			return err
		}
		vals[name] = t
		k++
	}
	for _, n := range m.nodes {
		if err := mxRunNode(n, m.opsets[ir.NormDomain(n.domain)], vals); err != nil {
			return err
		}
	}
	for i, name := range m.outputs {
		want, err := mxReadPB(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			return err
		}
		if err := mxCompare(vals[name], want); err != nil {
			return fmt.Errorf("output %d (%s): %w", i, name, err)
		}
	}
	return nil
}

func mxReadPB(path string) (*ir.Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return mxDecodeTensor(b)
}

func mxRunNode(n *mxNode, version int, vals map[string]*ir.Tensor) error {
	spec := &backends.OpSpec{Domain: n.domain, Op: n.op, Version: version, Attrs: n.attrs}
	outs := n.outputs
	for len(outs) > 0 && outs[len(outs)-1] == "" {
		outs = outs[:len(outs)-1]
	}
	spec.NumOutputs = len(outs)
	bufs := make([]backends.Buffer, len(n.inputs))
	for i, name := range n.inputs {
		if name == "" {
			spec.InputTypes = append(spec.InputTypes, ir.Undefined)
			continue
		}
		v, ok := vals[name]
		if !ok {
			return fmt.Errorf("node %s: value %q missing", n.op, name)
		}
		spec.InputTypes = append(spec.InputTypes, v.DType)
		bufs[i] = &Buf{T: v}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		return err
	}
	res, err := k.Run(bufs)
	if err != nil {
		return err
	}
	if len(res) < len(outs) {
		return fmt.Errorf("node %s: %d outputs, want %d", n.op, len(res), len(outs))
	}
	for i, name := range outs {
		if name == "" {
			continue
		}
		if res[i] == nil {
			return fmt.Errorf("node %s: output %d not produced", n.op, i)
		}
		t := res[i].(*Buf).T
		if err := t.Validate(); err != nil {
			return fmt.Errorf("node %s: output %d: %w", n.op, i, err)
		}
		vals[name] = t
	}
	return nil
}

// mxCompare checks got against want with ONNX's default tolerances
// (rtol 1e-3, atol 1e-7, loosened for narrow floats).
func mxCompare(got, want *ir.Tensor) error {
	if got == nil {
		return fmt.Errorf("not produced")
	}
	if got.DType != want.DType {
		return fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	if !equalInts(got.Shape, want.Shape) {
		return fmt.Errorf("shape %v, want %v", got.Shape, want.Shape)
	}
	if gs, ok := got.Data.([]string); ok {
		ws := want.Data.([]string)
		for i := range ws {
			if gs[i] != ws[i] {
				return fmt.Errorf("value %d = %q, want %q", i, gs[i], ws[i])
			}
		}
		return nil
	}
	rtol, atol := 1e-3, 1e-7
	if got.DType.IsSmallFloat() {
		rtol, atol = 1e-2, 1e-3
	}
	for i := 0; i < want.Len(); i++ {
		g, w := mxComplexAt(got, i), mxComplexAt(want, i)
		for _, p := range [][2]float64{{real(g), real(w)}, {imag(g), imag(w)}} {
			if math.IsNaN(p[0]) && math.IsNaN(p[1]) || p[0] == p[1] {
				continue
			}
			if !(math.Abs(p[0]-p[1]) <= atol+rtol*math.Abs(p[1])) {
				return fmt.Errorf("value %d = %v, want %v (got %v, want %v)", i, g, w, got, want)
			}
		}
	}
	return nil
}

func mxComplexAt(t *ir.Tensor, i int) complex128 {
	switch s := t.Data.(type) {
	case []complex64:
		return complex128(s[i])
	case []complex128:
		return s[i]
	}
	return complex(t.Float64At(i), 0)
}
