package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keenml/keen/ir"
)

func TestIDXRoundTrip(t *testing.T) {
	for _, x := range []*ir.Tensor{
		ir.FromSlice([]uint8{0, 1, 254, 255, 7, 9}, 2, 3),
		ir.FromSlice([]int8{-128, -1, 0, 127}, 4),
		ir.FromSlice([]int16{-32768, -2, 300, 32767}, 2, 1, 2),
		ir.FromSlice([]int32{-1 << 31, 5, 1<<31 - 1}, 3),
		ir.FromSlice([]float32{1.5, -2.25, 3e-8, 0}, 1, 4),
		ir.FromSlice([]float64{3.141592653589793, -1e300}, 2),
	} {
		var buf bytes.Buffer
		if err := WriteIDX(&buf, x); err != nil {
			t.Fatalf("%v: %v", x.DType, err)
		}
		raw := buf.Bytes()
		if raw[0] != 0 || raw[1] != 0 || int(raw[3]) != x.Rank() {
			t.Errorf("%v: header % x", x.DType, raw[:4])
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(raw)
		zw.Close()
		for name, src := range map[string][]byte{"plain": raw, "gzip": gz.Bytes()} {
			got, err := ReadIDX(bytes.NewReader(src))
			if err != nil {
				t.Fatalf("%v %s: %v", x.DType, name, err)
			}
			if got.String() != x.String() {
				t.Errorf("%v %s: read %v, wrote %v", x.DType, name, got, x)
			}
		}
	}
	// Big-endian on the wire, as the format says: int16 300 is 01 2c.
	var buf bytes.Buffer
	WriteIDX(&buf, ir.FromSlice([]int16{300}, 1))
	if want := []byte{0, 0, 0x0B, 1, 0, 0, 0, 1, 0x01, 0x2c}; !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("int16 IDX bytes % x, want % x", buf.Bytes(), want)
	}
	if err := WriteIDX(&buf, ir.FromSlice([]int64{1}, 1)); err == nil || !strings.Contains(err.Error(), "no IDX code") {
		t.Errorf("int64 has no IDX code: %v", err)
	}
	if err := WriteIDX(&buf, &ir.Tensor{DType: ir.Uint8, Shape: []int{3}, Data: []uint8{1, 2}}); err == nil {
		t.Error("a tensor whose data does not fit its shape was written")
	}
}

func TestIDXFileAndGzipDetection(t *testing.T) {
	dir := t.TempDir()
	x := ir.FromSlice([]uint8{1, 2, 3, 4, 5, 6}, 3, 2)
	var raw bytes.Buffer
	WriteIDX(&raw, x)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	// The name does not decide: a gzip stream named .idx and a plain one
	// named .gz both read.
	os.WriteFile(filepath.Join(dir, "a.idx"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "b.gz"), raw.Bytes(), 0o644)
	for _, name := range []string{"a.idx", "b.gz"} {
		got, err := ReadIDXFile(filepath.Join(dir, name))
		if err != nil || got.String() != x.String() {
			t.Errorf("%s: %v, %v", name, got, err)
		}
	}
	if _, err := ReadIDXFile(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte{0, 0, 8}, 0o644)
	if _, err := ReadIDXFile(filepath.Join(dir, "bad")); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "bad")) {
		t.Errorf("an error must name the file: %v", err)
	}
}

func TestIDXMalformed(t *testing.T) {
	gzipOf := func(b []byte) []byte {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(b)
		zw.Close()
		return gz.Bytes()
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "short header"},
		{"short magic", []byte{0, 0}, "short header"},
		{"not idx", []byte("PK\x03\x04"), "bad magic"},
		{"unknown type", []byte{0, 0, 0x0A, 1, 0, 0, 0, 1, 0}, "bad magic"},
		{"rank 0", []byte{0, 0, 8, 0}, "rank 0"},
		{"rank 9", []byte{0, 0, 8, 9}, "rank 9"},
		{"short dims", []byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0}, "short header"},
		{"truncated data", []byte{0, 0, 0x0D, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1}, "truncated after 5 of 8 bytes"},
		// 2^31-1 float64 values claimed, 0 present: an error, not 16 GiB.
		{"huge claim", []byte{0, 0, 0x0E, 1, 0x7f, 0xff, 0xff, 0xff}, "truncated after 0 of"},
		{"too many elements", []byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "too large"},
		{"broken gzip header", []byte{0x1f, 0x8b, 0, 0}, "gzip"},
		{"truncated gzip", gzipOf([]byte{0, 0, 8, 1, 0, 0, 0, 9, 1, 2})[:20], "unexpected EOF"},
		{"gzip of short data", gzipOf([]byte{0, 0, 8, 1, 0, 0, 0, 9, 1, 2}), "truncated after 2 of 9 bytes"},
	} {
		_, err := ReadIDX(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
	// An error from the reader itself comes through.
	_, err := ReadIDX(io.MultiReader(bytes.NewReader([]byte{0, 0, 8, 1, 0, 0, 0, 4, 1}), errReader{}))
	if !errors.Is(err, errBroken) {
		t.Errorf("reader error: %v", err)
	}
}

var errBroken = errors.New("broken disk")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }
