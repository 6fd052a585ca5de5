package ir

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// findShared walks up from the working directory to a folder named shared
// that holds rel, and returns the joined path, or skips the test.
func findShared(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Skip(err)
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("shared/%s not found above the working directory", rel)
		}
		dir = parent
	}
}

// pbTensor is the part of a TensorProto these tests need.
type pbTensor struct {
	dims  []int
	dtype DType
	raw   []byte
}

// readPBTensor decodes dims (1), data_type (2) and raw_data (9) of a
// serialized TensorProto; other fields are skipped.
func readPBTensor(b []byte) (pbTensor, error) {
	var t pbTensor
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return t, fmt.Errorf("bad key")
		}
		b = b[n:]
		field, wire := key>>3, key&7
		switch wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return t, fmt.Errorf("bad varint")
			}
			b = b[n:]
			switch field {
			case 1:
				t.dims = append(t.dims, int(v))
			case 2:
				t.dtype = DType(v)
			}
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return t, fmt.Errorf("bad length")
			}
			val := b[n : n+int(l)]
			b = b[n+int(l):]
			switch field {
			case 1: // packed dims
				for len(val) > 0 {
					v, n := binary.Uvarint(val)
					if n <= 0 {
						return t, fmt.Errorf("bad packed dims")
					}
					t.dims = append(t.dims, int(v))
					val = val[n:]
				}
			case 9:
				t.raw = val
			}
		case 1:
			b = b[min(8, len(b)):]
		case 5:
			b = b[min(4, len(b)):]
		default:
			return t, fmt.Errorf("wire type %d", wire)
		}
	}
	return t, nil
}

// floats decodes raw float32, float16 or small-float data as float32 values
// (4-bit values two to a byte, low nibble first).
func (t pbTensor) floats() []float32 {
	n := 1
	for _, d := range t.dims {
		n *= d
	}
	out := make([]float32, n)
	for i := range out {
		switch t.dtype {
		case Float32:
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.raw[4*i:]))
		case Float16:
			out[i] = Float16ToFloat32(binary.LittleEndian.Uint16(t.raw[2*i:]))
		default:
			out[i] = float8ToFloat32(t.dtype, t.codes()[i])
		}
	}
	return out
}

// codes returns one raw code per element for the 8- and 4-bit formats.
func (t pbTensor) codes() []uint8 {
	if t.dtype != Float4E2M1 {
		return t.raw
	}
	out := make([]uint8, 0, 2*len(t.raw))
	for _, b := range t.raw {
		out = append(out, b&0x0f, b>>4)
	}
	return out
}

func loadPB(t *testing.T, path string) pbTensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := readPBTensor(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pt
}

// TestFloat8ONNXCastCases runs the codecs on the inputs of ONNX's own Cast
// backend tests to and from the 8- and 4-bit formats and compares with their
// expected outputs, code for code.
func TestFloat8ONNXCastCases(t *testing.T) {
	root := findShared(t, "onnx-backend-tests/node")
	dirs, _ := filepath.Glob(filepath.Join(root, "test_cast_*"))
	checked := 0
	for _, dir := range dirs {
		name := filepath.Base(dir)
		in := loadPB(t, filepath.Join(dir, "test_data_set_0", "input_0.pb"))
		want := loadPB(t, filepath.Join(dir, "test_data_set_0", "output_0.pb"))
		small := func(d DType) bool { return d.IsSmallFloat() && d != Float16 && d != BFloat16 }
		switch {
		case small(want.dtype) && (in.dtype == Float32 || in.dtype == Float16):
			sat := !strings.Contains(name, "no_saturate")
			wc := want.codes()
			for i, f := range in.floats() {
				got := float32ToFloat8(want.dtype, f, sat)
				if got != wc[i] {
					t.Errorf("%s[%d]: %v -> %#02x, want %#02x", name, i, f, got, wc[i])
				}
			}
		case small(in.dtype) && want.dtype == Float32:
			wf := want.floats()
			for i, c := range in.codes()[:len(wf)] {
				if got := float8ToFloat32(in.dtype, c); !sameFloat(got, wf[i]) {
					t.Errorf("%s[%d]: %#02x -> %v, want %v", name, i, c, got, wf[i])
				}
			}
		default:
			continue
		}
		checked++
	}
	if checked < 15 {
		t.Errorf("checked %d Cast cases, want at least 15", checked)
	}
	t.Logf("checked %d ONNX Cast cases", checked)
}
