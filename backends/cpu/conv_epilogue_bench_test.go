package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// BenchmarkFusedConv times MobileNetV2-like layers as Conv, Conv + Clip
// (two ops) and FusedConv with the Clip epilogue, one thread.
func BenchmarkFusedConv(b *testing.B) {
	cases := []struct {
		name   string
		xs, ws []int
		attrs  ir.Attrs
	}{
		{"dw112", []int{1, 32, 112, 112}, []int{32, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntAttr("group", 32)}},
		{"dw14", []int{1, 576, 14, 14}, []int{576, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntAttr("group", 576)}},
		{"dw7", []int{1, 960, 7, 7}, []int{960, 1, 3, 3}, ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntAttr("group", 960)}},
		{"pw56x144", []int{1, 24, 56, 56}, []int{144, 24, 1, 1}, nil},
		{"pw7x960", []int{1, 160, 7, 7}, []int{960, 160, 1, 1}, nil},
	}
	defer setPoolThreads(Threads())
	setPoolThreads(1)
	for _, tc := range cases {
		r := rand.New(rand.NewPCG(1, 1))
		x, _ := convRandT(r, tc.xs...)
		w, _ := convRandT(r, tc.ws...)
		bias, _ := convRandT(r, tc.ws[0])
		lo, hi := ir.Scalar(float32(0)), ir.Scalar(float32(6))
		conv := fusedBenchKernel(b, "", "Conv", 11, tc.attrs, x, w, bias)
		clip := fusedBenchKernel(b, "", "Clip", 13, nil, x, lo, hi)
		fused := fusedBenchKernel(b, keenDomain, "FusedConv", 1,
			append(ir.Attrs{ir.StringAttr("activation", "Clip")}, tc.attrs...), x, w, bias, nil, lo, hi)
		in := []*ir.Tensor{x, w, bias}
		b.Run(tc.name+"/conv", func(b *testing.B) {
			fusedBenchLoop(b, func() { conv(in) })
		})
		b.Run(tc.name+"/conv+clip", func(b *testing.B) {
			fusedBenchLoop(b, func() {
				y, _ := conv(in)
				clip([]*ir.Tensor{y[0], lo, hi})
			})
		})
		b.Run(tc.name+"/fused", func(b *testing.B) {
			fusedBenchLoop(b, func() { fused([]*ir.Tensor{x, w, bias, nil, lo, hi}) })
		})
	}
}

func fusedBenchKernel(b *testing.B, domain, op string, version int, attrs ir.Attrs, in ...*ir.Tensor) kernelFunc {
	spec := &backends.OpSpec{Domain: domain, Op: op, Version: version, Attrs: attrs, NumOutputs: 1}
	for _, x := range in {
		dt := ir.Undefined
		if x != nil {
			dt = x.DType
		}
		spec.InputTypes = append(spec.InputTypes, dt)
	}
	e := lookup(domain, op, version)
	k, err := e.prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		out, err := k(in)
		if err != nil {
			b.Fatal(err)
		}
		return out, nil
	}
}

// fusedBenchLoop runs f and reports the CPU time per call (steadier than
// wall time on a shared machine).
func fusedBenchLoop(b *testing.B, f func()) {
	c0 := cpuSeconds()
	for b.Loop() {
		f()
	}
	if c := cpuSeconds() - c0; c0 > 0 && c > 0 {
		b.ReportMetric(c/float64(b.N)*1e6, "cpu-µs/op")
	}
}

// BenchmarkPointwiseShapes times every pointwise layer of MobileNetV2
// (input channels x output channels x plane side) as FusedConv with the
// Clip epilogue, one thread.
func BenchmarkPointwiseShapes(b *testing.B) {
	shapes := [][3]int{{32, 16, 112}, {16, 96, 112}, {96, 24, 56}, {24, 144, 56}, {144, 24, 56}, {144, 32, 28}, {32, 192, 28}, {192, 32, 28}, {192, 64, 14},
		{64, 384, 14}, {384, 64, 14}, {384, 96, 14}, {96, 576, 14}, {576, 96, 14}, {576, 160, 7}, {160, 960, 7}, {960, 160, 7}, {960, 320, 7}, {320, 1280, 7}}
	defer setPoolThreads(Threads())
	setPoolThreads(1)
	for _, s := range shapes {
		r := rand.New(rand.NewPCG(1, 1))
		x, _ := convRandT(r, 1, s[0], s[2], s[2])
		w, _ := convRandT(r, s[1], s[0], 1, 1)
		bias, _ := convRandT(r, s[1])
		lo, hi := ir.Scalar(float32(0)), ir.Scalar(float32(6))
		fused := fusedBenchKernel(b, keenDomain, "FusedConv", 1, ir.Attrs{ir.StringAttr("activation", "Clip")}, x, w, bias, nil, lo, hi)
		b.Run(fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]), func(b *testing.B) {
			c0 := cpuSeconds()
			for b.Loop() {
				fused([]*ir.Tensor{x, w, bias, nil, lo, hi})
			}
			c := (cpuSeconds() - c0) / float64(b.N)
			b.ReportMetric(c*1e6, "cpu-µs/op")
			b.ReportMetric(2*float64(s[0]*s[1]*s[2]*s[2])/c/1e9, "GF/s")
		})
	}
}
