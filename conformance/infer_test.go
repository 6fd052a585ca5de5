package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// findShared looks for shared/onnx-backend-tests in the working directory
// and its parents (the repository may be a worktree beside ../shared).
func findShared(t *testing.T) string {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "onnx-backend-tests")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Skip("shared/onnx-backend-tests not found in a parent folder")
		}
		dir = up
	}
}

// inferTally counts, per folder, the tensor outputs seen, those whose type
// was inferred statically, and those inferred statically from the input
// types alone (without the input tensors' values).
type inferTally struct {
	outputs, inferred, typesOnly, ran int
	seqOutputs, seqInferred           int // sequence outputs, and those whose every item was inferred
}

// TestInferMatchesRun checks ir.InferModel against running every backend
// test case on the CPU backend: for every graph output whose type is
// inferred statically, dtype and shape must equal the actual output's (and
// the reference output's), and no known part of a partial inference may
// contradict them. It reports coverage; the node cases must stay above 90%.
func TestInferMatchesRun(t *testing.T) {
	root := findShared(t)
	cases, err := Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tally := map[string]*inferTally{}
	var missed []string
	for _, c := range cases {
		folder := filepath.Base(filepath.Dir(c.Dir))
		if tally[folder] == nil {
			tally[folder] = &inferTally{}
		}
		miss, err := checkInferCase(c, tally[folder])
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		missed = append(missed, miss...)
	}
	folders := make([]string, 0, len(tally))
	for f := range tally {
		folders = append(folders, f)
	}
	sort.Strings(folders)
	var all inferTally
	for _, f := range folders {
		n := tally[f]
		all.outputs += n.outputs
		all.inferred += n.inferred
		all.typesOnly += n.typesOnly
		all.ran += n.ran
		all.seqOutputs += n.seqOutputs
		all.seqInferred += n.seqInferred
		logTally(t, f, n)
	}
	logTally(t, "all", &all)
	if os.Getenv("KEEN_INFER_MISSES") != "" {
		for _, m := range missed {
			t.Log("not inferred: " + m)
		}
	}
	if n := tally["node"]; n != nil && pct(n.inferred, n.outputs) < 90 {
		t.Errorf("node cases: %.1f%% of tensor outputs inferred, want > 90%%", pct(n.inferred, n.outputs))
	}
}

func logTally(t *testing.T, name string, n *inferTally) {
	t.Logf("%-18s %4d of %4d tensor outputs inferred (%.1f%%); from input types alone %d (%.1f%%); %d checked against a CPU run",
		name, n.inferred, n.outputs, pct(n.inferred, n.outputs), n.typesOnly, pct(n.typesOnly, n.outputs), n.ran)
	if n.seqOutputs > 0 {
		t.Logf("%-18s %4d of %4d sequence outputs inferred item by item", name, n.seqInferred, n.seqOutputs)
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// checkInferCase infers one case's output types from its inputs and compares
// them with the outputs of a CPU run and the reference outputs. It returns
// the outputs not inferred (for the miss list).
func checkInferCase(c Case, tally *inferTally) ([]string, error) {
	m, err := onnx.ReadModel(filepath.Join(c.Dir, "model.onnx"))
	if err != nil {
		return nil, nil // the decoder's tests own this
	}
	set := filepath.Join(c.Dir, "test_data_set_0")
	values := map[string]ir.Value{}
	types := map[string]*ir.TensorInfo{}
	seqValues := map[string]ir.Value{} // non-tensor inputs have no TensorInfo
	var inputs []ir.Value
	for k, vi := range m.Graph.RealInputs() {
		data, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
		if err != nil {
			break // trailing optional inputs may be absent
		}
		v, err := onnx.DecodeValue(data, vi.Type)
		if err != nil {
			return nil, err
		}
		values[vi.Name] = v
		inputs = append(inputs, v)
		if tv, ok := v.(*ir.Tensor); ok {
			types[vi.Name] = ir.InfoOf(tv)
		} else {
			seqValues[vi.Name] = v
		}
	}
	info, inferErr := ir.InferModel(m, nil, values)
	typed, typedErr := ir.InferModel(m, types, seqValues)
	if typedErr != nil && inferErr == nil {
		return nil, fmt.Errorf("without input values: %v", typedErr)
	}
	actual := runOnCPU(m, inputs)
	var missed []string
	for k, vo := range m.Graph.Outputs {
		want := referenceOutput(set, k, vo.Type)
		if want == nil {
			if err := checkSequenceOutput(info, set, k, vo, tally); err != nil && inferErr == nil {
				return missed, fmt.Errorf("output %d %q: %v", k, vo.Name, err)
			}
			continue
		}
		tally.outputs++
		got := info.Output(vo.Name)
		if inferErr != nil {
			got = ir.UnknownInfo()
		}
		if err := compareInfo(got, want); err != nil {
			return missed, fmt.Errorf("output %d %q: %v (reference)", k, vo.Name, err)
		}
		if tg := typed.Output(vo.Name); typedErr == nil {
			if err := compareInfo(tg, want); err != nil {
				return missed, fmt.Errorf("output %d %q without input values: %v", k, vo.Name, err)
			}
			if tg.Static() {
				tally.typesOnly++
			} else if got.Static() {
				missed = append(missed, fmt.Sprintf("%s output %d: from input types alone %v, actual %v%v", c.Name, k, tg, want.DType, want.Shape))
			}
		}
		if k < len(actual) {
			if a, ok := actual[k].(*ir.Tensor); ok {
				tally.ran++
				if err := compareInfo(got, a); err != nil {
					return missed, fmt.Errorf("output %d %q: %v (CPU run)", k, vo.Name, err)
				}
			}
		}
		if got.Static() {
			tally.inferred++
		} else {
			missed = append(missed, fmt.Sprintf("%s output %d: inferred %v, actual %v%v", c.Name, k, got, want.DType, want.Shape))
		}
	}
	if inferErr != nil {
		return missed, inferErr
	}
	return missed, nil
}

// runOnCPU runs the model on the default (CPU) backend; nil when it fails.
func runOnCPU(m *ir.Model, inputs []ir.Value) []ir.Value {
	cm, err := onnx.Compile(m)
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outs, err := cm.RunHost(ctx, inputs...)
	if err != nil {
		return nil
	}
	return outs
}

// checkSequenceOutput compares the items of a sequence output with the
// inferred item types.
func checkSequenceOutput(info *ir.GraphInfo, set string, k int, vo ir.ValueInfo, tally *inferTally) error {
	if vo.Type == nil || vo.Type.Kind != ir.KindSequence {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
	if err != nil {
		return nil
	}
	v, err := onnx.DecodeValue(data, vo.Type)
	seq, ok := v.(*ir.Sequence)
	if err != nil || !ok {
		return nil
	}
	tally.seqOutputs++
	items, known := info.SequenceItems(vo.Name)
	if !known {
		return nil
	}
	if len(items) != len(seq.Items) {
		return fmt.Errorf("inferred %d items, actual %d", len(items), len(seq.Items))
	}
	static := true
	for i, it := range seq.Items {
		want, ok := it.(*ir.Tensor)
		if !ok {
			return nil
		}
		if err := compareInfo(items[i], want); err != nil {
			return fmt.Errorf("item %d: %v", i, err)
		}
		static = static && items[i].Static()
	}
	if static {
		tally.seqInferred++
	}
	return nil
}

// referenceOutput reads output k of a test set; nil for non-tensors.
func referenceOutput(set string, k int, typ *ir.Type) *ir.Tensor {
	if typ != nil && typ.Kind != ir.KindTensor {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", k)))
	if err != nil {
		return nil
	}
	v, err := onnx.DecodeValue(data, typ)
	if err != nil {
		return nil
	}
	t, _ := v.(*ir.Tensor)
	return t
}

// compareInfo reports a contradiction between an inferred type and an
// actual tensor: a known dtype, rank or dim that differs.
func compareInfo(got *ir.TensorInfo, want *ir.Tensor) error {
	bad := got.DType != ir.Undefined && got.DType != want.DType
	if !got.UnknownRank {
		bad = bad || len(got.Shape) != len(want.Shape)
		for i := 0; !bad && i < len(got.Shape); i++ {
			bad = got.Shape[i] >= 0 && got.Shape[i] != want.Shape[i]
		}
	}
	if bad {
		return fmt.Errorf("inferred %v, actual %v%v", got, want.DType, shapeStr(want.Shape))
	}
	return nil
}

func shapeStr(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// TestInferSurvivesWrongInputs feeds every test model input types it was
// not made for (each dim one larger, or the rank one higher) and values
// that no longer match: inference may report inconsistent shapes, but no
// rule may fail on them.
func TestInferSurvivesWrongInputs(t *testing.T) {
	root := findShared(t)
	cases, err := Discover([]string{root}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		m, err := onnx.ReadModel(filepath.Join(c.Dir, "model.onnx"))
		if err != nil {
			continue
		}
		for variant := range 2 {
			types := map[string]*ir.TensorInfo{}
			for _, vi := range m.Graph.RealInputs() {
				in := ir.InfoFromType(vi.Type)
				if in.UnknownRank {
					continue
				}
				s := append([]int{}, in.Shape...)
				for i := range s {
					s[i]++
				}
				if variant == 1 {
					s = append(s, 2)
				}
				types[vi.Name] = ir.NewInfo(in.DType, s...)
			}
			_, err := ir.InferModel(m, types, nil)
			if err != nil && strings.Contains(err.Error(), "inference failed") {
				t.Errorf("%s variant %d: %v", c.Name, variant, err)
			}
		}
	}
}
