package ir

import "testing"

func TestInferConvPool(t *testing.T) {
	x := f32(1, 3, 32, 32)
	w := f32(8, 3, 3, 3)
	runInferCases(t, []inferCase{
		{name: "conv", op: "Conv", version: 11, in: []*TensorInfo{x, w}, want: "float32[1,8,30,30]"},
		{name: "conv pads strides dilations", op: "Conv", version: 11,
			attrs: Attrs{IntsAttr("pads", 1, 2, 1, 2), IntsAttr("strides", 2, 3), IntsAttr("dilations", 2, 1)},
			in:    []*TensorInfo{x, w}, want: "float32[1,8,15,12]"},
		{name: "conv same upper", op: "Conv", version: 11, attrs: Attrs{StringAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", 2, 2)},
			in: []*TensorInfo{f32(1, 3, 7, 7), w}, want: "float32[1,8,4,4]"},
		{name: "conv valid", op: "Conv", version: 11, attrs: Attrs{StringAttr("auto_pad", "VALID"), IntsAttr("strides", 2, 2)},
			in: []*TensorInfo{f32(1, 3, 7, 7), w}, want: "float32[1,8,3,3]"},
		{name: "conv group", op: "Conv", version: 11, attrs: Attrs{IntAttr("group", 3)}, in: []*TensorInfo{f32(2, 6, 5), f32(9, 2, 3)}, want: "float32[2,9,3]"},
		{name: "conv channels", op: "Conv", version: 11, in: []*TensorInfo{f32(1, 4, 5, 5), w}, err: "has 4 channels"},
		{name: "conv unknown batch", op: "Conv", version: 11, in: []*TensorInfo{f32(-1, 3, 10, 10), w}, want: "float32[?,8,8,8]"},
		{name: "conv integer", op: "ConvInteger", version: 10, in: []*TensorInfo{NewInfo(Uint8, 1, 3, 5, 5), NewInfo(Uint8, 2, 3, 2, 2)}, want: "int32[1,2,4,4]"},
		{name: "maxpool ceil", op: "MaxPool", version: 12, attrs: Attrs{IntsAttr("kernel_shape", 3, 3), IntsAttr("strides", 2, 2), IntAttr("ceil_mode", 1)},
			in: []*TensorInfo{f32(1, 1, 6, 6)}, nout: 2, want: "float32[1,1,3,3] int64[1,1,3,3]"},
		{name: "maxpool ceil window in padding", op: "MaxPool", version: 12,
			attrs: Attrs{IntsAttr("kernel_shape", 2), IntsAttr("strides", 2), IntsAttr("pads", 1, 1), IntAttr("ceil_mode", 1)},
			in:    []*TensorInfo{f32(1, 1, 4)}, want: "float32[1,1,3]"},
		{name: "avgpool same lower", op: "AveragePool", version: 19, attrs: Attrs{IntsAttr("kernel_shape", 3, 3), StringAttr("auto_pad", "SAME_LOWER")},
			in: []*TensorInfo{f32(1, 2, 5, 5)}, want: "float32[1,2,5,5]"},
		{name: "lppool dilated", op: "LpPool", version: 18, attrs: Attrs{IntsAttr("kernel_shape", 2), IntsAttr("dilations", 3)},
			in: []*TensorInfo{f32(1, 2, 10)}, want: "float32[1,2,7]"},
		{name: "global pool", op: "GlobalAveragePool", version: 1, in: []*TensorInfo{f32(2, 3, 7, 9)}, want: "float32[2,3,1,1]"},
		{name: "conv transpose", op: "ConvTranspose", version: 11, attrs: Attrs{IntsAttr("strides", 3, 2)},
			in: []*TensorInfo{f32(1, 1, 3, 3), f32(1, 2, 3, 3)}, want: "float32[1,2,9,7]"},
		{name: "conv transpose output padding", op: "ConvTranspose", version: 11,
			attrs: Attrs{IntsAttr("strides", 3, 2), IntsAttr("output_padding", 1, 1), IntsAttr("pads", 1, 2, 1, 2)},
			in:    []*TensorInfo{f32(1, 1, 3, 3), f32(1, 2, 3, 3)}, want: "float32[1,2,8,4]"},
		{name: "conv transpose output shape", op: "ConvTranspose", version: 11, attrs: Attrs{IntsAttr("strides", 3, 2), IntsAttr("output_shape", 10, 8)},
			in: []*TensorInfo{f32(1, 1, 3, 3), f32(1, 2, 3, 3)}, want: "float32[1,2,10,8]"},
		{name: "conv transpose same", op: "ConvTranspose", version: 11, attrs: Attrs{IntsAttr("strides", 2), StringAttr("auto_pad", "SAME_UPPER"), IntAttr("group", 2)},
			in: []*TensorInfo{f32(1, 2, 5), f32(2, 3, 3)}, want: "float32[1,6,10]"},
		{name: "max unpool", op: "MaxUnpool", version: 11, attrs: Attrs{IntsAttr("kernel_shape", 2, 2), IntsAttr("strides", 2, 2)},
			in: []*TensorInfo{f32(1, 1, 2, 2), i64(1, 1, 2, 2)}, want: "float32[1,1,4,4]"},
		{name: "roi align", op: "RoiAlign", version: 16, attrs: Attrs{IntAttr("output_height", 5), IntAttr("output_width", 4)},
			in: []*TensorInfo{f32(1, 3, 10, 10), f32(7, 4), i64(7)}, want: "float32[7,3,5,4]"},
		{name: "col2im", op: "Col2Im", version: 18, in: []*TensorInfo{f32(1, 6, 12), i64(2), i64(2)},
			vals: []*Tensor{nil, ints(5, 5), ints(1, 2)}, want: "float32[1,3,5,5]"},
	})
}

func TestInferImageAndSignal(t *testing.T) {
	x := f32(1, 2, 4, 6)
	runInferCases(t, []inferCase{
		{name: "resize scales", op: "Resize", version: 19, in: []*TensorInfo{x, nil, f32(4)},
			vals: []*Tensor{nil, nil, FromSlice([]float32{1, 1, 0.6, 1.5}, 4)}, want: "float32[1,2,2,9]"},
		{name: "resize sizes axes", op: "Resize", version: 19, attrs: Attrs{IntsAttr("axes", 3, 2)}, in: []*TensorInfo{x, nil, nil, i64(2)},
			vals: []*Tensor{nil, nil, nil, ints(3, 7)}, want: "float32[1,2,7,3]"},
		{name: "resize not larger", op: "Resize", version: 19, attrs: Attrs{StringAttr("keep_aspect_ratio_policy", "not_larger"), IntsAttr("axes", 2, 3)},
			in: []*TensorInfo{x, nil, nil, i64(2)}, vals: []*Tensor{nil, nil, nil, ints(8, 8)}, want: "float32[1,2,5,8]"},
		{name: "resize not smaller", op: "Resize", version: 19, attrs: Attrs{StringAttr("keep_aspect_ratio_policy", "not_smaller"), IntsAttr("axes", 2, 3)},
			in: []*TensorInfo{x, nil, nil, i64(2)}, vals: []*Tensor{nil, nil, nil, ints(8, 8)}, want: "float32[1,2,8,12]"},
		{name: "resize v10", op: "Resize", version: 10, in: []*TensorInfo{x, f32(4)},
			vals: []*Tensor{nil, FromSlice([]float32{1, 1, 2, 0.5}, 4)}, want: "float32[1,2,8,3]"},
		{name: "resize unknown", op: "Resize", version: 19, in: []*TensorInfo{x, nil, f32(4)}, want: "float32[?,?,?,?]"},
		{name: "upsample attr", op: "Upsample", version: 7, attrs: Attrs{FloatsAttr("scales", 1, 1, 2, 3)}, in: []*TensorInfo{x}, want: "float32[1,2,8,18]"},
		{name: "grid sample", op: "GridSample", version: 20, in: []*TensorInfo{x, f32(1, 5, 7, 2)}, want: "float32[1,2,5,7]"},
		{name: "affine grid", op: "AffineGrid", version: 20, in: []*TensorInfo{f32(2, 2, 3), i64(4)}, vals: []*Tensor{nil, ints(2, 3, 5, 6)}, want: "float32[2,5,6,2]"},
		{name: "dft", op: "DFT", version: 20, in: []*TensorInfo{f32(3, 10, 1), nil, i64()}, vals: []*Tensor{nil, nil, Scalar(int64(1))}, want: "float32[3,10,2]"},
		{name: "rfft length", op: "DFT", version: 20, attrs: Attrs{IntAttr("onesided", 1)}, in: []*TensorInfo{f32(3, 10, 1), i64()},
			vals: []*Tensor{nil, Scalar(int64(8))}, want: "float32[3,5,2]"},
		{name: "irfft", op: "DFT", version: 20, attrs: Attrs{IntAttr("onesided", 1), IntAttr("inverse", 1)}, in: []*TensorInfo{f32(3, 6, 2)}, want: "float32[3,10,1]"},
		{name: "dft v17 axis attr", op: "DFT", version: 17, attrs: Attrs{IntAttr("axis", 2)}, in: []*TensorInfo{f32(2, 3, 4, 1)}, want: "float32[2,3,4,2]"},
		{name: "stft", op: "STFT", version: 17, in: []*TensorInfo{f32(1, 128, 1), i64(), f32(16)}, vals: []*Tensor{nil, Scalar(int64(8))},
			want: "float32[1,15,9,2]"},
		{name: "hann", op: "HannWindow", version: 17, in: []*TensorInfo{i64()}, vals: []*Tensor{Scalar(int64(10))}, want: "float32[10]"},
		{name: "mel", op: "MelWeightMatrix", version: 17, attrs: Attrs{IntAttr("output_datatype", int64(Float64))},
			in: []*TensorInfo{i64(), i64(), i64(), f32(), f32()}, vals: []*Tensor{Scalar(int64(8)), Scalar(int64(16))}, want: "float64[9,8]"},
	})
}

func TestInferSequenceModels(t *testing.T) {
	runInferCases(t, []inferCase{
		{name: "lstm", op: "LSTM", version: 14, attrs: Attrs{IntAttr("hidden_size", 7), StringAttr("direction", "bidirectional")},
			in: []*TensorInfo{f32(5, 2, 3), f32(2, 28, 3), f32(2, 28, 7)}, nout: 3, want: "float32[5,2,2,7] float32[2,2,7] float32[2,2,7]"},
		{name: "gru batch first", op: "GRU", version: 14, attrs: Attrs{IntAttr("hidden_size", 4), IntAttr("layout", 1)},
			in: []*TensorInfo{f32(2, 5, 3), f32(1, 12, 3), f32(1, 12, 4)}, nout: 2, want: "float32[2,5,1,4] float32[2,1,4]"},
		{name: "attention 4d cache", op: "Attention", version: 23,
			in:   []*TensorInfo{f32(2, 8, 3, 16), f32(2, 2, 5, 16), f32(2, 2, 5, 32), nil, f32(2, 2, 4, 16), f32(2, 2, 4, 32)},
			nout: 4, want: "float32[2,8,3,32] float32[2,2,9,16] float32[2,2,9,32] float32[2,8,3,9]"},
		{name: "attention 3d", op: "Attention", version: 23, attrs: Attrs{IntAttr("q_num_heads", 4), IntAttr("kv_num_heads", 2)},
			in: []*TensorInfo{f32(2, 3, 64), f32(2, 5, 32), f32(2, 5, 48)}, want: "float32[2,3,96]"},
		{name: "layer norm stats", op: "LayerNormalization", version: 17, attrs: Attrs{IntAttr("axis", 1)},
			in: []*TensorInfo{NewInfo(Float16, 2, 3, 4), NewInfo(Float16, 3, 4)}, nout: 3, want: "float16[2,3,4] float32[2,1,1] float32[2,1,1]"},
		{name: "batch norm training", op: "BatchNormalization", version: 15,
			in:   []*TensorInfo{f32(2, 3, 4), f32(3), f32(3), f32(3), f32(3)},
			nout: 3, want: "float32[2,3,4] float32[3] float32[3]"},
		{name: "linear attention", op: "LinearAttention", version: 27, attrs: Attrs{IntAttr("q_num_heads", 4), IntAttr("kv_num_heads", 2)},
			in: []*TensorInfo{f32(2, 1, 32), f32(2, 1, 16), f32(2, 1, 24)}, nout: 2, want: "float32[2,1,48] float32[2,2,8,12]"},
		{name: "causal conv", op: "CausalConvWithState", version: 27, in: []*TensorInfo{f32(2, 6, 9), f32(6, 1, 4)}, nout: 2,
			want: "float32[2,6,9] float32[2,6,3]"},
	})
}

// BenchmarkInferOutputs measures the per-op cost a backend pays to type an
// op's outputs before running it.
func BenchmarkInferOutputs(b *testing.B) {
	benches := []struct {
		name  string
		op    string
		attrs Attrs
		in    []*TensorInfo
		vals  []*Tensor
	}{
		{"Add", "Add", nil, []*TensorInfo{f32(8, 1, 64), f32(16, 1)}, nil},
		{"Conv", "Conv", Attrs{IntsAttr("pads", 1, 1, 1, 1), IntsAttr("strides", 2, 2)}, []*TensorInfo{f32(8, 3, 224, 224), f32(64, 3, 7, 7)}, nil},
		{"Reshape", "Reshape", nil, []*TensorInfo{f32(8, 197, 768), i64(4)}, []*Tensor{nil, ints(0, 0, 12, -1)}},
	}
	for _, bc := range benches {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, ok, err := InferOutputs("", bc.op, 21, bc.attrs, bc.in, bc.vals, 1); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
