package cpu

import (
	"math"
	"math/rand"
	"testing"

	"github.com/keenml/keen/ir"
)

func castOne(t *testing.T, x *ir.Tensor, to ir.DType, attrs ...ir.Attr) *ir.Tensor {
	t.Helper()
	as := append(ir.Attrs{ir.IntAttr("to", int64(to))}, attrs...)
	out := runOp(t, "Cast", 25, as, 1, x)[0]
	if out.DType != to {
		t.Fatalf("Cast to %v gave %v", to, out.DType)
	}
	return out
}

func TestEwCastNumbers(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		name string
		x    *ir.Tensor
		to   ir.DType
		want []float64
	}{
		{"float to int32 truncates", ir.FromSlice(f32s(1.9, -1.9, 0), 3), ir.Int32, []float64{1, -1, 0}},
		{"int16 to int8 wraps", ir.FromSlice([]int16{200, -129, 5}, 3), ir.Int8, []float64{-56, 127, 5}},
		{"float to bool", ir.FromSlice(f32s(0, -0.0, 2, nan), 4), ir.Bool, []float64{0, 0, 1, 1}},
		{"bool to float", ir.FromSlice([]bool{true, false}, 2), ir.Float64, []float64{1, 0}},
		{"int64 to float32", ir.FromSlice([]int64{1 << 40, -3}, 2), ir.Float32, []float64{1 << 40, -3}},
		{"float to int4 wraps", ir.FromSlice(f32s(-9, -8, 7, 8, 15), 5), ir.Int4, []float64{7, -8, 7, -8, -1}},
		{"float to uint4 wraps", ir.FromSlice(f32s(-9, -1, 15, 16), 4), ir.Uint4, []float64{7, 15, 15, 0}},
		{"float to int2 wraps", ir.FromSlice(f32s(-3, -2, 1, 2), 4), ir.Int2, []float64{1, -2, 1, -2}},
		{"int4 to float", &ir.Tensor{DType: ir.Int4, Shape: []int{2}, Data: []int8{-8, 7}}, ir.Float32, []float64{-8, 7}},
		{"float to float16", ir.FromSlice(f32s(1, 65504, 70000, 1e-8), 4), ir.Float16, []float64{1, 65504, math.Inf(1), 0}},
		{"double to bfloat16", ir.FromSlice([]float64{1.00390625, 3}, 2), ir.BFloat16, []float64{1, 3}},
		{"float to e4m3fn", ir.FromSlice(f32s(448, 470, 1e6, -1e6, 0.3), 5), ir.Float8E4M3FN, []float64{448, 448, 448, -448, 0.3125}},
		{"float to e5m2", ir.FromSlice(f32s(57344, 1e6, float32(math.Inf(-1))), 3), ir.Float8E5M2, []float64{57344, 57344, -57344}},
		{"float to e4m3fnuz", ir.FromSlice(f32s(240, 1e6, nan), 3), ir.Float8E4M3FNUZ, []float64{240, 240, math.NaN()}},
		{"float to e2m1", ir.FromSlice(f32s(0.25, 0.75, -3.5, 9), 4), ir.Float4E2M1, []float64{0, 1, -4, 6}},
		{"float to e8m0 up", ir.FromSlice(f32s(1, 1.1, 0.3, 0), 4), ir.Float8E8M0, []float64{1, 2, 0.5, math.Ldexp(1, -127)}},
		{"e5m2 to float", &ir.Tensor{DType: ir.Float8E5M2, Shape: []int{3}, Data: []uint8{0x3C, 0x7C, 0xC0}}, ir.Float32, []float64{1, math.Inf(1), -2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertClose(t, castOne(t, c.x, c.to), c.x.Shape, c.want, 1e-7)
		})
	}
}

func TestEwCastNoSaturate(t *testing.T) {
	x := ir.FromSlice(f32s(1e6, float32(math.Inf(-1))), 2)
	fn := castOne(t, x, ir.Float8E4M3FN, ir.IntAttr("saturate", 0)).Data.([]uint8)
	if fn[0] != 0x7F || fn[1] != 0xFF {
		t.Fatalf("E4M3FN without saturate: % x, want 7f ff", fn)
	}
	e5 := castOne(t, x, ir.Float8E5M2, ir.IntAttr("saturate", 0)).Data.([]uint8)
	if e5[0] != 0x7C || e5[1] != 0xFC {
		t.Fatalf("E5M2 without saturate: % x, want 7c fc", e5)
	}
	e8 := castOne(t, ir.FromSlice(f32s(1.4, 1.6), 2), ir.Float8E8M0, ir.StringAttr("round_mode", "nearest")).Data.([]uint8)
	if e8[0] != 127 || e8[1] != 128 {
		t.Fatalf("E8M0 nearest: %v, want [127 128]", e8)
	}
}

func TestEwCastStrings(t *testing.T) {
	s := ir.FromSlice([]string{"3.5", "-INF", "NaN", "1e-5", " 7 "}, 5)
	assertClose(t, castOne(t, s, ir.Float32), []int{5}, []float64{3.5, math.Inf(-1), math.NaN(), 1e-5, 7}, 1e-7)
	i := castOne(t, ir.FromSlice([]string{"9007199254740993", "-2"}, 2), ir.Int64).Data.([]int64)
	if i[0] != 9007199254740993 || i[1] != -2 {
		t.Fatalf("string to int64: %v", i)
	}
	got := castOne(t, ir.FromSlice(f32s(0.47892547, 1, 1e-5, 1e16, float32(math.Inf(-1)), -2.5), 6), ir.String).Data.([]string)
	want := []string{"0.47892547", "1.0", "1e-05", "1e+16", "-inf", "-2.5"}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("float to string: %q, want %q", got, want)
		}
	}
	u := castOne(t, ir.FromSlice([]uint64{math.MaxUint64}, 1), ir.String).Data.([]string)
	if u[0] != "18446744073709551615" {
		t.Fatalf("uint64 to string: %q", u)
	}
	if _, err := tryOp("Cast", 13, ir.Attrs{ir.IntAttr("to", int64(ir.Float32))}, 1, ir.FromSlice([]string{"abc"}, 1)); err == nil {
		t.Fatal("Cast of a non-number string: want an error")
	}
}

func TestEwCastLegacyAndLike(t *testing.T) {
	out := runOp(t, "Cast", 1, ir.Attrs{ir.StringAttr("to", "INT32")}, 1, ir.FromSlice(f32s(2.7), 1))[0]
	if out.DType != ir.Int32 || out.Data.([]int32)[0] != 2 {
		t.Fatalf("Cast-1 with a string to: %v", out)
	}
	like := runOp(t, "CastLike", 19, nil, 1, ir.FromSlice(f32s(2.5, -1), 2), ir.FromSlice([]float64{0}, 1))[0]
	assertClose(t, like, []int{2}, []float64{2.5, -1}, 0)
	if like.DType != ir.Float64 {
		t.Fatalf("CastLike dtype %v", like.DType)
	}
}

// TestEwEncodeMatchesIR checks the float64 encoder against ir's float32
// codecs on float32 inputs, for every narrow format and both saturations.
func TestEwEncodeMatchesIR(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	vals := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		448, 464, 480, 240, 57344, 61440, 65504, 65520, 6, 5, 0.25, 1e-7, 1e-40}
	for range 20000 {
		vals = append(vals, math.Float32frombits(rng.Uint32()))
		vals = append(vals, float32(rng.NormFloat64()*math.Exp2(float64(rng.Intn(40)-20))))
	}
	for dt := range ewFormats {
		for _, sat := range []bool{true, false} {
			for _, v := range vals {
				want := ir.Float32ToSmallFloat(dt, v, sat)
				var got uint16
				if dt.Bits() == 16 {
					if math.IsNaN(float64(v)) {
						continue // payloads differ; both are NaN
					}
					got = ewFormats[dt].encode(float64(v), false)
				} else {
					got = ewFormats[dt].encode(float64(v), sat)
				}
				if got != want {
					t.Fatalf("%v sat=%v: encode(%g) = %#x, ir says %#x", dt, sat, v, got, want)
				}
			}
		}
	}
	for _, mode := range []string{"up", "down", "nearest"} {
		for _, sat := range []bool{true, false} {
			for _, v := range vals {
				if v < 0 {
					v = -v
				}
				want := ir.Float32ToFloat8E8M0(v, sat, ewE8M0Modes[mode])
				if got := ewE8M0Encode(float64(v), sat, mode); got != want {
					t.Fatalf("e8m0 %s sat=%v: encode(%g) = %#x, ir says %#x", mode, sat, v, got, want)
				}
			}
		}
	}
}

func TestEwBitCast(t *testing.T) {
	x := ir.FromSlice(f32s(1, -2), 2)
	out := runOp(t, "BitCast", 26, ir.Attrs{ir.IntAttr("to", int64(ir.Int32))}, 1, x)[0].Data.([]int32)
	if out[0] != 0x3f800000 || uint32(out[1]) != 0xc0000000 {
		t.Fatalf("BitCast float32->int32: %#x", out)
	}
	b := runOp(t, "BitCast", 26, ir.Attrs{ir.IntAttr("to", int64(ir.Uint8))}, 1, ir.FromSlice([]bool{true, false}, 2))[0].Data.([]uint8)
	if b[0] != 1 || b[1] != 0 {
		t.Fatalf("BitCast bool->uint8: %v", b)
	}
	i4 := runOp(t, "BitCast", 26, ir.Attrs{ir.IntAttr("to", int64(ir.Int4))}, 1,
		&ir.Tensor{DType: ir.Uint4, Shape: []int{2}, Data: []uint8{15, 7}})[0].Data.([]int8)
	if i4[0] != -1 || i4[1] != 7 {
		t.Fatalf("BitCast uint4->int4: %v", i4)
	}
	if _, err := tryOp("BitCast", 26, ir.Attrs{ir.IntAttr("to", int64(ir.Int64))}, 1, x); err == nil {
		t.Fatal("BitCast float32->int64: want a width error")
	}
}
