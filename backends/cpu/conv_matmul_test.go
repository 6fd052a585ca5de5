package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

func convSeq(n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i) * scale
	}
	return x
}

func TestMatMulShapes(t *testing.T) {
	cases := []struct {
		name   string
		as, bs []int
		out    []int
	}{
		{"2d", []int{2, 3}, []int{3, 4}, []int{2, 4}},
		{"1d 1d", []int{3}, []int{3}, []int{}},
		{"1d 3d", []int{3}, []int{2, 3, 4}, []int{2, 4}},
		{"4d 1d", []int{2, 1, 2, 3}, []int{3}, []int{2, 1, 2}},
		{"bcast", []int{5, 1, 2, 3}, []int{4, 3, 2}, []int{5, 4, 2, 2}},
		{"fold", []int{2, 4, 3}, []int{3, 5}, []int{2, 4, 5}},
		{"strided", []int{3, 2, 3}, []int{3, 3, 4}, []int{3, 2, 4}},
		{"shared A", []int{1, 4, 3}, []int{3, 3, 5}, []int{3, 4, 5}},
		{"big strided", []int{2, 70, 90}, []int{2, 90, 80}, []int{2, 70, 80}},
		{"k0", []int{2, 3, 0}, []int{2, 0, 4}, []int{2, 3, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := ir.FromSlice(convSeq(ir.Size(tc.as), 0.5), tc.as...)
			b := ir.FromSlice(convSeq(ir.Size(tc.bs), -0.25), tc.bs...)
			want := convNaiveMatMul(t, a, b)
			got := runOp(t, "MatMul", 13, nil, 1, a, b)[0]
			assertClose(t, got, tc.out, want, 1e-5)
			a64 := &ir.Tensor{DType: ir.Float64, Shape: tc.as, Data: convFloats(a)}
			b64 := &ir.Tensor{DType: ir.Float64, Shape: tc.bs, Data: convFloats(b)}
			assertClose(t, runOp(t, "MatMul", 13, nil, 1, a64, b64)[0], tc.out, want, 1e-12)
		})
	}
}

// convNaiveMatMul is numpy matmul by definition, through per-element indexing.
func convNaiveMatMul(t *testing.T, a, b *ir.Tensor) []float64 {
	p, err := convPlanMatMul("MatMul", a.Shape, b.Shape)
	if err != nil {
		t.Fatal(err)
	}
	av, bv := convFloats(a), convFloats(b)
	var out []float64
	for bi := range p.aOff {
		for i := 0; i < p.m; i++ {
			for j := 0; j < p.n; j++ {
				s := 0.0
				for k := 0; k < p.k; k++ {
					s += av[p.aOff[bi]+i*p.k+k] * bv[p.bOff[bi]+k*p.n+j]
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func TestMatMulIntsAndHalf(t *testing.T) {
	a := ir.FromSlice([]int32{1, 2, 3, 4}, 2, 2)
	b := ir.FromSlice([]int32{5, 6, 7, 8}, 2, 2)
	assertClose(t, runOp(t, "MatMul", 13, nil, 1, a, b)[0], []int{2, 2}, []float64{19, 22, 43, 50}, 0)
	h := func(v ...float32) *ir.Tensor {
		return fromFloat32(ir.FromSlice(v, 2, 2), ir.Float16)
	}
	got := runOp(t, "MatMul", 13, nil, 1, h(1, 2, 3, 4), h(5, 6, 7, 8))[0]
	if got.DType != ir.Float16 {
		t.Fatalf("dtype %v", got.DType)
	}
	assertClose(t, got, []int{2, 2}, []float64{19, 22, 43, 50}, 0)
	if _, err := tryOp("MatMul", 13, nil, 1, ir.Zeros(ir.Float32, 2, 3), ir.Zeros(ir.Float32, 2, 3)); err == nil {
		t.Fatal("mismatched inner dims: no error")
	}
	if _, err := tryOp("MatMul", 13, nil, 1, ir.Zeros(ir.Float32, 2, 2, 3), ir.Zeros(ir.Float32, 3, 3, 1)); err == nil {
		t.Fatal("non-broadcasting batch: no error")
	}
}

func TestGemm(t *testing.T) {
	a := ir.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)  // (M=2,K=3)
	at := ir.FromSlice([]float32{1, 4, 2, 5, 3, 6}, 3, 2) // A^T
	b := ir.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2)  // (K=3,N=2)
	bt := ir.FromSlice([]float32{1, 0, 1, 0, 1, 1}, 2, 3) // B^T
	ab := []float64{4, 5, 10, 11}
	cases := []struct {
		name  string
		attrs ir.Attrs
		in    []*ir.Tensor
		want  []float64
	}{
		{"plain", nil, []*ir.Tensor{a, b}, ab},
		{"transA", ir.Attrs{ir.IntAttr("transA", 1)}, []*ir.Tensor{at, b}, ab},
		{"transB", ir.Attrs{ir.IntAttr("transB", 1)}, []*ir.Tensor{a, bt}, ab},
		{"both", ir.Attrs{ir.IntAttr("transA", 1), ir.IntAttr("transB", 1)}, []*ir.Tensor{at, bt}, ab},
		{"scalar C", nil, []*ir.Tensor{a, b, ir.Scalar[float32](1)}, []float64{5, 6, 11, 12}},
		{"vector C", nil, []*ir.Tensor{a, b, ir.FromSlice([]float32{1, 2}, 2)}, []float64{5, 7, 11, 13}},
		{"column C", nil, []*ir.Tensor{a, b, ir.FromSlice([]float32{1, 2}, 2, 1)}, []float64{5, 6, 12, 13}},
		{"alpha beta", ir.Attrs{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 2)},
			[]*ir.Tensor{a, b, ir.FromSlice([]float32{1, 2, 3, 4}, 2, 2)}, []float64{4, 6.5, 11, 13.5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertClose(t, runOp(t, "Gemm", 13, tc.attrs, 1, tc.in...)[0], []int{2, 2}, tc.want, 1e-6)
			var in64 []*ir.Tensor
			for _, x := range tc.in {
				in64 = append(in64, &ir.Tensor{DType: ir.Int64, Shape: x.Shape, Data: convInts64(x)})
			}
			if tc.attrs.Float("alpha", 1) == 1 {
				assertClose(t, runOp(t, "Gemm", 13, tc.attrs, 1, in64...)[0], []int{2, 2}, tc.want, 0)
			}
		})
	}
	if _, err := tryOp("Gemm", 13, nil, 1, a, b, ir.Zeros(ir.Float32, 3)); err == nil {
		t.Fatal("bad C: no error")
	}
}

func convInts64(t *ir.Tensor) []int64 {
	out := make([]int64, t.Len())
	for i := range out {
		out[i] = int64(t.Float64At(i))
	}
	return out
}
