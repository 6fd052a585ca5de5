package onnx_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	_ "github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// mlpModel builds y = relu(x W1) W2 as an ONNX graph with a symbolic batch.
func mlpModel() *ir.Model {
	w1 := ir.FromSlice([]float32{1, -1, 0.5, 2, 0, 1}, 2, 3)
	w1.Name = "w1"
	w2 := ir.FromSlice([]float32{1, 2, 3}, 3, 1)
	w2.Name = "w2"
	batch := ir.Dim{Value: -1, Param: "N"}
	return &ir.Model{IRVersion: 8, Opsets: []ir.OpsetImport{{Version: 17}}, Graph: &ir.Graph{
		Nodes: []*ir.Node{
			{Name: "mm1", OpType: "MatMul", Inputs: []string{"x", "w1"}, Outputs: []string{"h"}},
			{Name: "relu", OpType: "Relu", Inputs: []string{"h"}, Outputs: []string{"r"}},
			{Name: "mm2", OpType: "MatMul", Inputs: []string{"r", "w2"}, Outputs: []string{"y"}},
		},
		Inputs:       []ir.ValueInfo{{Name: "x", Type: &ir.Type{Kind: ir.KindTensor, DType: ir.Float32, HasShape: true, Shape: ir.Shape{batch, {Value: 2}}}}},
		Outputs:      []ir.ValueInfo{{Name: "y", Type: &ir.Type{Kind: ir.KindTensor, DType: ir.Float32, HasShape: true, Shape: ir.Shape{batch, {Value: 1}}}}},
		Initializers: []*ir.Tensor{w1, w2},
	}}
}

// TestConcurrentRuns runs one model from many goroutines at once; every
// result must match the single-threaded one.
func TestConcurrentRuns(t *testing.T) {
	m, err := onnx.Compile(mlpModel())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				a, b := float32(g), float32(i)
				out, err := m.Run(context.Background(), eager.New([]float32{a, b}, 1, 2))
				if err != nil {
					errs <- err
					return
				}
				// relu(a - b... ) computed by hand: h = [a+2b, -a, 0.5a+b]
				h := []float32{a + 2*b, -a, 0.5*a + b}
				want := float32(0)
				for j, w := range []float32{1, 2, 3} {
					want += float32(math.Max(float64(h[j]), 0)) * w
				}
				if got := out[0].Floats()[0]; got != want {
					errs <- fmt.Errorf("goroutine %d run %d: got %v, want %v", g, i, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestCancelledRunStops(t *testing.T) {
	m, err := onnx.Compile(mlpModel())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Run(ctx, eager.New([]float32{1, 2}, 1, 2))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	m, err := onnx.Compile(mlpModel())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		in   *eager.Tensor
		want string
	}{
		{eager.New([]float32{1, 2, 3}, 1, 3), "want shape [N,2], got float32[1 3]"},
		{eager.New([]int64{1, 2}, 1, 2), "want dtype float32, got int64[1 2]"},
		{nil, "is missing"},
	}
	for _, c := range cases {
		_, err := m.Run(context.Background(), c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("input %v: error %v, want it to contain %q", c.in, err, c.want)
		}
	}
	// A wrong-shaped initializer makes a kernel fail: the error names the node.
	bad := mlpModel()
	bad.Graph.Initializers[1] = func() *ir.Tensor { t := ir.FromSlice([]float32{1, 2}, 2, 1); t.Name = "w2"; return t }()
	bm, err := onnx.Compile(bad)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bm.Run(context.Background(), eager.New([]float32{1, 2}, 1, 2))
	if err == nil || !strings.Contains(err.Error(), `node "mm2" (MatMul)`) {
		t.Fatalf("error %v should name node mm2", err)
	}
}

func TestUnknownOpAndOpset(t *testing.T) {
	m := mlpModel()
	m.Graph.Nodes[1].OpType = "NoSuchOp"
	if _, err := onnx.Compile(m); err == nil || !strings.Contains(err.Error(), "NoSuchOp") {
		t.Fatalf("unknown op: %v", err)
	}
	m = mlpModel()
	m.Opsets[0].Version = 99
	if _, err := onnx.Compile(m); err == nil || !strings.Contains(err.Error(), "opset 99") {
		t.Fatalf("opset out of range: %v", err)
	}
	m = mlpModel()
	m.Graph.Nodes[1].Domain = "com.example"
	if _, err := onnx.Compile(m); err == nil || !strings.Contains(err.Error(), "com.example") {
		t.Fatalf("unknown domain: %v", err)
	}
}

func TestCustomOp(t *testing.T) {
	err := onnx.RegisterOp(onnx.CustomOp{Domain: "com.example", Op: "AddConst",
		Kernel: func(attrs ir.Attrs, in []*ir.Tensor) ([]*ir.Tensor, error) {
			c := attrs.Float("c", 0)
			x := in[0].Data.([]float32)
			out := make([]float32, len(x))
			for i, v := range x {
				out[i] = v + c
			}
			return []*ir.Tensor{ir.FromSlice(out, in[0].Shape...)}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	m := mlpModel()
	m.Opsets = append(m.Opsets, ir.OpsetImport{Domain: "com.example", Version: 1})
	m.Graph.Nodes = append(m.Graph.Nodes, &ir.Node{OpType: "AddConst", Domain: "com.example",
		Inputs: []string{"y"}, Outputs: []string{"z"}, Attrs: ir.Attrs{ir.FloatAttr("c", 10)}})
	m.Graph.Outputs[0].Name = "z"
	cm, err := onnx.Compile(m)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cm.Run(context.Background(), eager.New([]float32{1, 0}, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	// h = [1, -1, 0.5] -> relu -> [1, 0, 0.5] -> y = 1 + 1.5 = 2.5 -> z = 12.5
	if got := out[0].Floats()[0]; got != 12.5 {
		t.Fatalf("got %v, want 12.5", got)
	}
	if err := onnx.RegisterOp(onnx.CustomOp{Op: "X", Kernel: func(ir.Attrs, []*ir.Tensor) ([]*ir.Tensor, error) { return nil, nil }}); err == nil {
		t.Fatal("the default domain must be refused")
	}
}
