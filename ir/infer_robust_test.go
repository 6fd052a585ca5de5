package ir

import (
	"sort"
	"strings"
	"testing"
)

// walkerOps are the default-domain ops InferGraph handles itself (they need
// subgraphs or sequence values, which InferOutputs does not see).
func walkerOps() map[string]bool {
	m := map[string]bool{"If": true, "Loop": true, "Scan": true, "SequenceMap": true}
	for op := range seqRules {
		m[op] = true
	}
	return m
}

// TestInferCoversDefaultDomain: every ai.onnx operator has a rule, or the
// walker handles it.
func TestInferCoversDefaultDomain(t *testing.T) {
	walk := walkerOps()
	var missing []string
	seen := map[string]bool{}
	for _, s := range AllSchemas() {
		if s.Domain != "" || seen[s.Op] {
			continue
		}
		seen[s.Op] = true
		if !HasInferRule("", s.Op) && !walk[s.Op] {
			missing = append(missing, s.Op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("no inference for %d ops: %v", len(missing), missing)
	}
	if len(seen) != 203 {
		t.Errorf("%d default-domain ops, want 203", len(seen))
	}
}

// hostileInfos are inputs a rule must survive without panicking.
var hostileInfos = []*TensorInfo{
	nil,
	UnknownInfo(),
	NewInfo(Float32),
	NewInfo(Int64, 0),
	NewInfo(Float32, -1),
	NewInfo(Float32, 2, 3),
	NewInfo(Int64, 1, -1, 0),
	NewInfo(Float32, 1, 2, 3, 4),
	NewInfo(Float32, 3, 0, 2, 5, 1),
	{DType: Float32, UnknownRank: true},
}

var hostileValues = []*Tensor{
	nil,
	FromSlice([]int64{}, 0),
	Scalar(int64(-1)),
	FromSlice([]int64{0, -1, 1 << 40, -(1 << 40)}, 4),
	FromSlice([]float32{0, -1, 1e30}, 3),
	FromSlice([]int64{2, 3}, 2),
	Scalar(true),
	FromSlice([]string{"a b", ""}, 2),
}

var hostileAttrs = []Attrs{
	nil,
	{IntAttr("axis", 0), IntAttr("new_axis", 1), IntAttr("num_scan_inputs", 1)},
	{IntAttr("axis", -1), IntAttr("layout", 1), StringAttr("direction", "bidirectional"), IntAttr("transA", 1)},
	{IntAttr("axis", 7), IntAttr("keepdims", 0), IntsAttr("axes", 9, -9), IntsAttr("perm", 1, 1)},
	{IntsAttr("kernel_shape", -2, 0), IntsAttr("strides", 0, -1), IntsAttr("pads", 5), IntsAttr("dilations"),
		IntAttr("blocksize", 0), IntAttr("group", 0), StringAttr("auto_pad", "SAME_UPPER"), IntAttr("ceil_mode", 1)},
	{IntAttr("to", 999), IntAttr("k", -3), IntsAttr("shape", -5, 2), IntAttr("q_num_heads", 0),
		IntAttr("kv_num_heads", -1), IntAttr("hidden_size", -4), IntAttr("num_outputs", -2), IntsAttr("split", 1, -1)},
	{StringAttr("equation", "ab...,b->...a"), IntsAttr("output_shape", 1), IntsAttr("output_padding", 3, 3, 3),
		IntsAttr("pooled_shape", 1), IntsAttr("starts", 0), IntsAttr("ends", -1, 2), FloatsAttr("scales", -1, 0)},
	{StringAttr("equation", "..."), IntAttr("batch_dims", 5), IntAttr("start", -100), IntAttr("end", 100),
		IntAttr("sample_size", -1), IntAttr("dtype", -7), stringsAttr("stopwords", "a"), IntAttr("maxsplit", 0)},
}

// stringsAttr builds a strings attribute.
func stringsAttr(name string, v ...string) Attr {
	return Attr{Name: name, Type: AttrStrings, Strings: v}
}

// TestInferHostileInputs runs every rule over odd input types, values and
// attributes: errors are fine, panics are not.
func TestInferHostileInputs(t *testing.T) {
	keys := make([]ruleKey, 0, len(inferRules))
	for k := range inferRules {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].domain+keys[i].op < keys[j].domain+keys[j].op })
	for _, k := range keys {
		domain, op := k.domain, k.op
		failed := false
		for ai, attrs := range hostileAttrs {
			for _, n := range []int{0, 1, 2, 3, 4, 6, 9} {
				for shift := range hostileInfos {
					in := make([]*TensorInfo, n)
					vals := make([]*Tensor, n)
					for i := range in {
						in[i] = hostileInfos[(shift+i)%len(hostileInfos)]
						vals[i] = hostileValues[(shift+2*i)%len(hostileValues)]
					}
					for _, version := range []int{0, 1, 9, 13, 28} {
						_, _, err := InferOutputs(domain, op, version, attrs, in, vals, 3)
						if err != nil && strings.Contains(err.Error(), "inference failed") && !failed {
							failed = true // the rule panicked; InferOutputs recovered
							t.Errorf("%s v%d attrs#%d inputs %v values %v: %v", k, version, ai, in, vals, err)
						}
					}
				}
			}
		}
	}
}

// TestFoldHostileInputs: the folder survives odd values too.
func TestFoldHostileInputs(t *testing.T) {
	ops := []string{"Reshape", "Cast", "ConstantOfShape", "Range", "Expand", "Gather", "Concat", "Slice",
		"Where", "ReduceProd", "ReduceSum", "Split", "Add", "Div", "Mod", "Neg", "Equal", "Shape", "Size", "Identity"}
	for _, op := range ops {
		for shift := range hostileValues {
			for _, out := range []*TensorInfo{NewInfo(Int64, 2), NewInfo(Float32), NewInfo(Bool, 0, 3), NewInfo(Int64, 4)} {
				vals := make([]*Tensor, 3)
				in := make([]*TensorInfo, 3)
				for i := range vals {
					vals[i] = hostileValues[(shift+i)%len(hostileValues)]
					in[i] = hostileInfos[(shift+i)%len(hostileInfos)]
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("%s values %v out %v: panic %v", op, vals, out, r)
						}
					}()
					for _, attrs := range hostileAttrs {
						foldOutputs(op, attrs, in, vals, []*TensorInfo{out, out})
					}
				}()
			}
		}
	}
}
