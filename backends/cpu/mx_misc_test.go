package cpu

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/keenml/keen/ir"
)

func mxStrs(t *testing.T, got *ir.Tensor, shape []int, want ...string) {
	t.Helper()
	if !equalInts(got.Shape, shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	gs := got.Data.([]string)
	for i, w := range want {
		if gs[i] != w {
			t.Fatalf("value %d = %q, want %q (all %q)", i, gs[i], w, gs)
		}
	}
}

func TestMxStringOps(t *testing.T) {
	x := ir.FromSlice([]string{"Monday", "tuesday", "MONDAY", "wed"}, 1, 4)
	attrs := ir.Attrs{ir.StringAttr("case_change_action", "UPPER"), mxStringsAttr("stopwords", "monday")}
	mxStrs(t, runOp(t, "StringNormalizer", 10, attrs, 1, x)[0], []int{1, 2}, "TUESDAY", "WED")
	attrs = append(attrs, ir.IntAttr("is_case_sensitive", 1))
	mxStrs(t, runOp(t, "StringNormalizer", 10, attrs, 1, x)[0], []int{1, 4}, "MONDAY", "TUESDAY", "MONDAY", "WED")
	all := ir.FromSlice([]string{"monday"}, 1)
	mxStrs(t, runOp(t, "StringNormalizer", 10, ir.Attrs{mxStringsAttr("stopwords", "monday")}, 1, all)[0], []int{1}, "")

	a := ir.FromSlice([]string{"a", "b"}, 2, 1)
	b := ir.FromSlice([]string{"x", "y", "z"}, 3)
	mxStrs(t, runOp(t, "StringConcat", 20, nil, 1, a, b)[0], []int{2, 3}, "ax", "ay", "az", "bx", "by", "bz")

	s := ir.FromSlice([]string{"a,b,,c", "", "d"}, 3)
	out := runOp(t, "StringSplit", 20, ir.Attrs{ir.StringAttr("delimiter", ",")}, 2, s)
	mxStrs(t, out[0], []int{3, 4}, "a", "b", "", "c", "", "", "", "", "d", "", "", "")
	assertClose(t, out[1], []int{3}, []float64{4, 1, 1}, 0)
	ws := ir.FromSlice([]string{"  one  two three ", ""}, 2)
	out = runOp(t, "StringSplit", 20, ir.Attrs{ir.IntAttr("maxsplit", 1)}, 2, ws)
	mxStrs(t, out[0], []int{2, 2}, "one", "two three ", "", "")
	assertClose(t, out[1], []int{2}, []float64{2, 0}, 0)

	re := ir.FromSlice([]string{"www.google.com", "www.x.org", "wwwXcom"}, 3)
	m := runOp(t, "RegexFullMatch", 20, ir.Attrs{ir.StringAttr("pattern", `www\.[\w.-]+\.com`)}, 1, re)[0]
	assertClose(t, m, []int{3}, []float64{1, 0, 0}, 0)
	if _, err := tryOp("RegexFullMatch", 20, ir.Attrs{ir.StringAttr("pattern", `(`)}, 1, re); !errors.Is(err, errAttr) {
		t.Errorf("bad pattern: %v", err)
	}
}

func TestMxTfIdfVectorizer(t *testing.T) {
	x := ir.FromSlice([]int32{1, 2, 1, 3, 2}, 5)
	base := ir.Attrs{ir.IntAttr("min_gram_length", 1), ir.IntAttr("max_gram_length", 2),
		ir.IntsAttr("ngram_counts", 0, 2), ir.IntsAttr("ngram_indexes", 0, 1, 2, 3),
		ir.IntsAttr("pool_int64s", 1, 2, 1, 2, 1, 3)} // 1-grams {1},{2}; 2-grams {1,2},{1,3}
	cases := []struct {
		mode string
		skip int64
		want []float64
	}{
		{"TF", 0, []float64{2, 2, 1, 1}},
		// skip 1 adds the 2-grams at distance 2, (1,1), (2,3), (1,2): {1,2} counts twice.
		{"TF", 1, []float64{2, 2, 2, 1}},
		{"IDF", 0, []float64{0.5, 0.5, 0.5, 0.5}},
		{"TFIDF", 0, []float64{1, 1, 0.5, 0.5}},
	}
	for _, c := range cases {
		attrs := append(ir.Attrs{ir.StringAttr("mode", c.mode), ir.IntAttr("max_skip_count", c.skip),
			ir.FloatsAttr("weights", 0.5, 0.5, 0.5, 0.5)}, base...)
		out := runOp(t, "TfIdfVectorizer", 9, attrs, 1, x)
		assertClose(t, out[0], []int{4}, c.want, 0)
	}
	strs := ir.FromSlice([]string{"a", "b", "a"}, 1, 3)
	attrs := ir.Attrs{ir.StringAttr("mode", "TF"), ir.IntAttr("min_gram_length", 1), ir.IntAttr("max_gram_length", 1),
		ir.IntAttr("max_skip_count", 0), ir.IntsAttr("ngram_counts", 0), ir.IntsAttr("ngram_indexes", 1, 0),
		mxStringsAttr("pool_strings", "a", "b")}
	assertClose(t, runOp(t, "TfIdfVectorizer", 9, attrs, 1, strs)[0], []int{1, 2}, []float64{1, 2}, 0)
}

func TestMxImageDecoder(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.RGBA{10, 20, 30, 255})
	img.Set(1, 0, color.RGBA{200, 100, 50, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	data := ir.FromSlice(buf.Bytes(), buf.Len())
	out := runOp(t, "ImageDecoder", 20, nil, 1, data)
	assertClose(t, out[0], []int{1, 2, 3}, []float64{10, 20, 30, 200, 100, 50}, 0)
	out = runOp(t, "ImageDecoder", 20, ir.Attrs{ir.StringAttr("pixel_format", "BGR")}, 1, data)
	assertClose(t, out[0], []int{1, 2, 3}, []float64{30, 20, 10, 50, 100, 200}, 0)
	out = runOp(t, "ImageDecoder", 20, ir.Attrs{ir.StringAttr("pixel_format", "Grayscale")}, 1, data)
	// L = round(0.299 R + 0.587 G + 0.114 B)
	assertClose(t, out[0], []int{1, 2, 1}, []float64{18, 124}, 0)

	pnm := []byte("P3\n# comment\n2 1\n15\n15 0 0  0 15 0\n")
	out = runOp(t, "ImageDecoder", 20, nil, 1, ir.FromSlice(pnm, len(pnm)))
	assertClose(t, out[0], []int{1, 2, 3}, []float64{255, 0, 0, 0, 255, 0}, 0)

	// A flat JPEG decodes to its color within the codec's error.
	flat := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []uint8{40, 160, 90, 255})
	}
	buf.Reset()
	if err := jpeg.Encode(&buf, flat, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	out = runOp(t, "ImageDecoder", 20, nil, 1, ir.FromSlice(buf.Bytes(), buf.Len()))
	got := out[0].Data.([]uint8)
	for i, w := range []float64{40, 160, 90} {
		if math.Abs(float64(got[i])-w) > 3 {
			t.Errorf("jpeg channel %d = %d, want about %v", i, got[i], w)
		}
	}
	// Corrupted JPEGs decode to something or to an empty image, never panic.
	enc := buf.Bytes()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		bad := append([]byte{}, enc[:rng.IntN(len(enc))+1]...)
		for k := 0; k < 4; k++ {
			bad[rng.IntN(len(bad))] = byte(rng.IntN(256))
		}
		bad[0], bad[1] = 0xff, 0xd8
		if _, err := tryOp("ImageDecoder", 20, nil, 1, ir.FromSlice(bad, len(bad))); err != nil {
			t.Fatalf("corrupt jpeg %d: %v", i, err)
		}
	}
	junk := ir.FromSlice([]uint8{1, 2, 3}, 3)
	out = runOp(t, "ImageDecoder", 20, nil, 1, junk)
	assertClose(t, out[0], []int{0, 0, 3}, nil, 0)
}

func TestMxTraining(t *testing.T) {
	r, step := ir.Scalar(float32(0.1)), ir.Scalar(int64(1))
	x, g := ir.FromSlice(mxF32(1, 2), 2), ir.FromSlice(mxF32(0.5, -1), 2)
	h := ir.FromSlice(mxF32(1, 0), 2)
	const dom = "ai.onnx.preview.training"
	// Adagrad: H' = H + g², X' = X - r g / (√H' + eps), decay 1 halves r at T=1.
	out := runOp2(t, dom, "Adagrad", 1, ir.Attrs{ir.FloatAttr("decay_factor", 1)}, 2, r, step, x, g, h)
	assertClose(t, out[0], []int{2}, []float64{1 - 0.05*0.5/math.Sqrt(1.25), 2 + 0.05*1/1}, 1e-6)
	assertClose(t, out[1], []int{2}, []float64{1.25, 1}, 1e-6)
	// Momentum standard with T=0: beta is 1, V' = alpha V + g.
	v := ir.FromSlice(mxF32(1, 1), 2)
	attrs := ir.Attrs{ir.FloatAttr("alpha", 0.5), ir.FloatAttr("beta", 0.1), ir.StringAttr("mode", "standard"), ir.FloatAttr("norm_coefficient", 0)}
	out = runOp2(t, dom, "Momentum", 1, attrs, 2, r, ir.Scalar(int64(0)), x, g, v)
	assertClose(t, out[1], []int{2}, []float64{1, -0.5}, 1e-6)
	assertClose(t, out[0], []int{2}, []float64{0.9, 2.05}, 1e-6)
	// Adam at T=1 with zero states: V' = 0.1 g, H' = 0.001 g², r' = r √0.001 / 0.1.
	z := ir.FromSlice(mxF32(0, 0), 2)
	out = runOp2(t, dom, "Adam", 1, nil, 3, r, step, x, g, z, z)
	lr := 0.1 * math.Sqrt(1-0.999) / (1 - 0.9)
	want := []float64{1 - lr*0.05/math.Sqrt(0.001*0.25), 2 + lr*0.1/math.Sqrt(0.001)}
	assertClose(t, out[0], []int{2}, want, 1e-5)
	assertClose(t, out[1], []int{2}, []float64{0.05, -0.1}, 1e-6)
	if _, err := tryOp2(dom, "Adam", 1, nil, 3, r, step, x, g, z); !errors.Is(err, errInput) {
		t.Errorf("wrong input count: %v", err)
	}
}

func TestMxML(t *testing.T) {
	const dom = "ai.onnx.ml"
	x := ir.FromSlice([]string{"a", "c", "zz"}, 3)
	attrs := ir.Attrs{mxStringsAttr("keys_strings", "a", "b", "c"), ir.IntsAttr("values_int64s", 1, 2, 3)}
	out := runOp2(t, dom, "LabelEncoder", 2, attrs, 1, x)
	assertClose(t, out[0], []int{3}, []float64{1, 3, -1}, 0)
	fk := ir.FromSlice(mxF32(float32(math.NaN()), 2), 2)
	attrs = ir.Attrs{ir.TensorAttr("keys_tensor", ir.FromSlice(mxF32(float32(math.NaN()), 2), 2)),
		ir.TensorAttr("values_tensor", ir.FromSlice([]string{"nan", "two"}, 2))}
	mxStrs(t, runOp2(t, dom, "LabelEncoder", 4, attrs, 1, fk)[0], []int{2}, "nan", "two")

	b := runOp2(t, dom, "Binarizer", 1, ir.Attrs{ir.FloatAttr("threshold", 1)}, 1, ir.FromSlice([]int64{0, 1, 2}, 3))
	assertClose(t, b[0], []int{3}, []float64{0, 0, 1}, 0)

	data := ir.FromSlice([]int32{1, 2, 3, 4, 5, 6}, 2, 3)
	afe := runOp2(t, dom, "ArrayFeatureExtractor", 1, nil, 1, data, ir.FromSlice([]int64{2, 0}, 2))
	assertClose(t, afe[0], []int{2, 2}, []float64{3, 1, 6, 4}, 0)
	if _, err := tryOp2(dom, "ArrayFeatureExtractor", 1, nil, 1, data, ir.FromSlice([]int64{3}, 1)); !errors.Is(err, errInput) {
		t.Errorf("index out of range: %v", err)
	}
}

// One tree: x0 <= 2 ? leaf 0 (target 0, w 1) : (x0 in {5, 7} ? leaf 1 : leaf 2).
func TestMxTreeEnsemble(t *testing.T) {
	tf := func(v ...float32) *ir.Tensor { return ir.FromSlice(v, len(v)) }
	attrs := ir.Attrs{
		ir.TensorAttr("nodes_splits", tf(2, 0)), ir.TensorAttr("nodes_modes", ir.FromSlice([]uint8{0, 6}, 2)),
		ir.IntsAttr("nodes_featureids", 0, 0), ir.IntsAttr("nodes_truenodeids", 0, 1), ir.IntsAttr("nodes_falsenodeids", 1, 2),
		ir.IntsAttr("nodes_trueleafs", 1, 1), ir.IntsAttr("nodes_falseleafs", 0, 1),
		ir.TensorAttr("membership_values", tf(5, 7, float32(math.NaN()))),
		ir.TensorAttr("leaf_weights", tf(1, 10, 100)), ir.IntsAttr("leaf_targetids", 0, 1, 1),
		ir.IntAttr("n_targets", 2), ir.IntsAttr("tree_roots", 0),
	}
	x := ir.FromSlice(mxF32(1, 5, 6), 3, 1)
	out := runOp2(t, "ai.onnx.ml", "TreeEnsemble", 5, attrs, 1, x)
	assertClose(t, out[0], []int{3, 2}, []float64{1, 0, 0, 10, 0, 100}, 0)
	soft := append(ir.Attrs{ir.IntAttr("post_transform", 2)}, attrs...)
	out = runOp2(t, "ai.onnx.ml", "TreeEnsemble", 5, soft, 1, ir.FromSlice(mxF32(1), 1, 1))
	assertClose(t, out[0], []int{1, 2}, []float64{1 / (1 + math.Exp(-1)), 0.5}, 1e-6)
}

// TestMxTrainingF32MatchesF64 runs the float32 fast path of the optimizers
// against the float64 path on the same values, for two tensors at once.
func TestMxTrainingF32MatchesF64(t *testing.T) {
	const dom = "ai.onnx.preview.training"
	r := rand.New(rand.NewPCG(7, 7))
	vals := func(n int, pos bool) ([]float32, []float64) {
		f, d := make([]float32, n), make([]float64, n)
		for i := range f {
			f[i] = float32(r.NormFloat64())
			if pos {
				f[i] = float32(math.Abs(float64(f[i])))
			}
			d[i] = float64(f[i])
		}
		return f, d
	}
	sizes := []int{3, 100}
	var in32, in64 []*ir.Tensor
	for part := 0; part < 4; part++ { // x, g, V, H for each tensor
		for _, n := range sizes {
			f, d := vals(n, part == 3)
			in32 = append(in32, ir.FromSlice(f, n))
			in64 = append(in64, ir.FromSlice(d, n))
		}
	}
	head := []*ir.Tensor{ir.Scalar(float32(0.01)), ir.Scalar(int64(3))}
	attrs := ir.Attrs{ir.FloatAttr("epsilon", 1e-8), ir.FloatAttr("norm_coefficient", 0.01)}
	got := runOp2(t, dom, "Adam", 1, attrs, 6, append(append([]*ir.Tensor{}, head...), in32...)...)
	want := runOp2(t, dom, "Adam", 1, attrs, 6, append(append([]*ir.Tensor{}, head...), in64...)...)
	for i := range want {
		assertClose(t, got[i], want[i].Shape, want[i].Data.([]float64), 1e-5)
	}
}
