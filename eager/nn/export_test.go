package nn_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// seqModel is a sequence model: a recurrent layer, then a Linear head on the
// time-averaged outputs.
type seqModel struct {
	RNN  nn.Module
	Head *nn.Linear
}

func (m *seqModel) Forward(x *eager.Tensor) *eager.Tensor {
	return m.Head.Forward(eager.ReduceMean(m.RNN.Forward(x), []int64{1}, false))
}

// TestNewLayersExport exports models made of the new layers, reloads the
// ONNX bytes, and runs them at another batch size: the traces are plain
// ONNX ops with the batch dimension left symbolic.
func TestNewLayersExport(t *testing.T) {
	bf := nn.RNNOptions{NumLayers: 2, Bidirectional: true, BatchFirst: true}
	for _, c := range []struct {
		name   string
		m      nn.Module
		sample []int // per-example shape
	}{
		{"lstm", &seqModel{nn.NewLSTM(3, 4, bf, nn.Seed(1)), nn.NewLinear(8, 2, nn.Seed(2))}, []int{5, 3}},
		{"gru", &seqModel{nn.NewGRU(3, 4, bf, nn.Seed(1)), nn.NewLinear(8, 2, nn.Seed(2))}, []int{5, 3}},
		{"causal-attention", &nn.MultiHeadAttention{}, []int{4, 8}},
		{"convtranspose1d", nn.NewSequential(nn.NewConvTranspose1D(3, 2, 3, nn.ConvOptions{Stride: 2, Padding: 1}, 1, nn.Seed(1)),
			nn.GELU, nn.NewMaxPool1D(2, 0), nn.SiLU, nn.NewAvgPool1D(2, 1), nn.GlobalMaxPool{}, nn.Flatten{}, nn.NewSoftmax(1)), []int{3, 6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if a, ok := c.m.(*nn.MultiHeadAttention); ok {
				*a = *nn.NewMultiHeadAttention(8, 2, nn.Seed(4))
				a.Causal = true
			}
			sample := eager.Cast(randF64(1, append([]int{2}, c.sample...)...), ir.Float32)
			g, err := onnx.Export(c.m, sample, onnx.ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]bool{}
			for _, n := range g.Graph.Nodes {
				ops[n.OpType] = true
			}
			for _, op := range []string{"LSTM", "GRU", "Attention"} {
				if ops[op] {
					t.Errorf("the export holds a fused %s node; want plain ops", op)
				}
			}
			data, err := onnx.EncodeModel(g)
			if err != nil {
				t.Fatal(err)
			}
			back, err := onnx.DecodeModel(data)
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Compile(back)
			if err != nil {
				t.Fatal(err)
			}
			x := eager.Cast(randF64(9, append([]int{3}, c.sample...)...), ir.Float32)
			outs, err := m.Run(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(t, outs[0], c.m.Forward(x)); d > 1e-5 {
				t.Fatalf("the exported model differs from the Go model by %g", d)
			}
			t.Logf("%d nodes: %s", len(g.Graph.Nodes), strings.Join(sortedKeys(ops), " "))
		})
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
