package onnx

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keenml/keen/ir"
)

// npyFile builds a .npy file by hand: magic, version, header length, the
// header dict padded with spaces to a multiple of 64 bytes, then the data.
func npyFile(major byte, header string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	header += "\n"
	for (pre+len(header))%64 != 0 {
		header = header[:len(header)-1] + " \n"
	}
	b := append([]byte("\x93NUMPY"), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

func TestDecodeNpy(t *testing.T) {
	tests := []struct {
		name  string
		file  []byte
		dt    ir.DType
		shape []int
		want  any
	}{
		{"v1 float32", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }",
			[]byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}), ir.Float32, []int{2, 1}, []float32{1, -2}},
		{"v2 big-endian int16", npyFile(2, "{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }",
			[]byte{0, 1, 0xff, 0xfe, 0x01, 0x00}), ir.Int16, []int{3}, []int16{1, -2, 256}},
		{"v3 bool", npyFile(3, "{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }",
			[]byte{1, 0}), ir.Bool, []int{2}, []bool{true, false}},
		{"scalar float64", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
			[]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}), ir.Float64, []int{}, []float64{1}},
		{"uint8", npyFile(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
			[]byte{7, 255}), ir.Uint8, []int{2}, []uint8{7, 255}},
		{"big-endian uint64", npyFile(1, "{'descr': '>u8', 'fortran_order': False, 'shape': (1,), }",
			[]byte{0x80, 0, 0, 0, 0, 0, 0, 1}), ir.Uint64, []int{1}, []uint64{1<<63 | 1}},
		{"float16 bits", npyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }",
			[]byte{0x00, 0x3c}), ir.Float16, []int{1}, []uint16{0x3c00}},
		{"big-endian complex64", npyFile(1, "{'descr': '>c8', 'fortran_order': False, 'shape': (1,), }",
			[]byte{0x3f, 0x80, 0, 0, 0x40, 0, 0, 0}), ir.Complex64, []int{1}, []complex64{1 + 2i}},
		{"int64 key order", npyFile(1, `{"shape": (1, 1), "fortran_order": False, "descr": "<i8"}`,
			[]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), ir.Int64, []int{1, 1}, []int64{-2}},
		{"empty", npyFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (0, 3), }", nil), ir.Int32, []int{0, 3}, []int32{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeNpy(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if got.DType != tc.dt || !same(got.Shape, tc.shape) || !same(got.Data, tc.want) {
				t.Fatalf("got %v%v %v", got.DType, got.Shape, got.Data)
			}
		})
	}
}

func TestDecodeNpyErrors(t *testing.T) {
	hdr := func(descr, fortran, shape string) string {
		return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"
	}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"fortran", npyFile(1, hdr("<f4", "True", "(2, 2)"), make([]byte, 16)), "Fortran-ordered arrays are not supported"},
		{"magic", []byte("NUMPY not really"), "bad magic"},
		{"version", append([]byte("\x93NUMPY"), 9, 0, 0, 0), "unsupported format version 9.0"},
		{"header length", append([]byte("\x93NUMPY"), 1, 0, 0xff, 0xff), "header length 65535 past the end"},
		{"short data", npyFile(1, hdr("<f4", "False", "(3,)"), make([]byte, 8)), "shape [3] of <f4 needs 12 data bytes, file has 8"},
		{"unicode", npyFile(1, hdr("<U3", "False", "(1,)"), make([]byte, 12)), `unsupported dtype "<U3"`},
		{"object", npyFile(1, hdr("|O", "False", "(1,)"), make([]byte, 8)), `unsupported dtype "|O"`},
		{"structured", npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", nil), "malformed header"},
		{"negative dim", npyFile(1, hdr("<f4", "False", "(-1,)"), nil), `bad dimension "-1"`},
		{"huge", npyFile(1, hdr("<f4", "False", "(100000, 100000, 100000)"), nil), "too large"},
		{"missing key", npyFile(1, "{'descr': '<f4', 'shape': (1,), }", make([]byte, 4)), "lacks descr, fortran_order or shape"},
	}
	for _, tc := range tests {
		_, err := DecodeNpy(tc.file)
		if err == nil || !strings.HasPrefix(err.Error(), "onnx: npy: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestReadNpy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	writeFile(t, path, npyFile(1, "{'descr': '<i1', 'fortran_order': False, 'shape': (2,), }", []byte{0xff, 3}))
	x, err := ReadNpy(path)
	if err != nil || !same(x.Data, []int8{-1, 3}) {
		t.Fatalf("got %v, %v", x, err)
	}
	if _, err := ReadNpy(filepath.Join(dir, "missing.npy")); err == nil {
		t.Error("missing file read")
	}
}
