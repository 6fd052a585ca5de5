package onnx

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/onnx/internal/onnxpb"
)

// externalModel is a model whose initializer "w" (float32[3]) lies in an
// external file under the keys given.
func externalModel(kv ...string) *pb.ModelProto {
	w := &pb.TensorProto{Name: proto.String("w"), DataType: proto32(1), Dims: []int64{3},
		DataLocation: pb.TensorProto_EXTERNAL.Enum()}
	for i := 0; i+1 < len(kv); i += 2 {
		w.ExternalData = append(w.ExternalData, &pb.StringStringEntryProto{Key: proto.String(kv[i]), Value: proto.String(kv[i+1])})
	}
	return &pb.ModelProto{IrVersion: proto64(8), Graph: &pb.GraphProto{Name: proto.String("g"), Initializer: []*pb.TensorProto{w}}}
}

func floatBytes(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadExternalData(t *testing.T) {
	dir := t.TempDir()
	blob := append([]byte("pad-"), floatBytes(1, 2, 3)...)
	writeFile(t, filepath.Join(dir, "data", "w.bin"), blob)
	sum := sha1.Sum(blob)
	mp := externalModel("location", "data/w.bin", "offset", "4", "length", "12", "checksum", hex.EncodeToString(sum[:]))
	data := marshalModel(t, mp)
	writeFile(t, filepath.Join(dir, "model.onnx"), data)

	m, err := ReadModel(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Graph.Initializers[0].Data.([]float32); !same(got, []float32{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
	if m2, err := DecodeModelDir(data, dir); err != nil || !same(m, m2) {
		t.Fatalf("DecodeModelDir: %v", err)
	}
	if _, err := DecodeModel(data); !errors.Is(err, ErrExternalData) {
		t.Fatalf("DecodeModel without a folder: %v", err)
	}
	// No offset and no length: the whole file.
	writeFile(t, filepath.Join(dir, "all.bin"), floatBytes(4, 5, 6))
	m, err = DecodeModelDir(marshalModel(t, externalModel("location", "./all.bin")), dir)
	if err != nil || !same(m.Graph.Initializers[0].Data, []float32{4, 5, 6}) {
		t.Fatalf("whole file: %v %v", m, err)
	}
}

func TestExternalDataErrors(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	writeFile(t, filepath.Join(root, "secret.bin"), floatBytes(7, 8, 9))
	writeFile(t, filepath.Join(dir, "w.bin"), floatBytes(1, 2, 3))
	if err := os.Symlink(filepath.Join(root, "secret.bin"), filepath.Join(dir, "link.bin")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(root, filepath.Join(dir, "up")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"dot dot", []string{"location", "../secret.bin"}, "escapes the model's folder"},
		{"inner dot dot", []string{"location", "sub/../../secret.bin"}, "escapes the model's folder"},
		{"absolute", []string{"location", filepath.Join(root, "secret.bin")}, "absolute path not allowed"},
		{"symlink file", []string{"location", "link.bin"}, "through a symlink"},
		{"symlink folder", []string{"location", "up/secret.bin"}, "through a symlink"},
		{"no location", []string{"offset", "0"}, "no location"},
		{"missing file", []string{"location", "nope.bin"}, "nope.bin"},
		{"bad offset", []string{"location", "w.bin", "offset", "-4"}, `bad offset "-4"`},
		{"bad length", []string{"location", "w.bin", "length", "x"}, `bad length "x"`},
		{"past the end", []string{"location", "w.bin", "offset", "8", "length", "12"}, "past the end of the file"},
		{"wrong length", []string{"location", "w.bin", "length", "8"}, "length 8, but dtype and dims need 12 bytes"},
		{"checksum", []string{"location", "w.bin", "checksum", strings.Repeat("0", 40)}, "checksum mismatch"},
		{"folder", []string{"location", "."}, "not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeModelDir(marshalModel(t, externalModel(tc.kv...)), dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `tensor "w"`) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestWriteModelExternal(t *testing.T) {
	defer func(n int) { maxProtoSize = n }(maxProtoSize)
	maxProtoSize = 8000 // as if the model passed 2 GiB

	big := make([]float32, 1500) // 6000 bytes
	for i := range big {
		big[i] = float32(i)
	}
	m := fullModel()
	w1 := ir.FromSlice(big, 30, 50)
	w1.Name = "big1"
	w2 := ir.FromSlice(append([]float32{}, big[:300]...), 300) // 1200 bytes
	w2.Name = "big2"
	m.Graph.Initializers = append(m.Graph.Initializers, w1, w2)

	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	if err := WriteModel(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := diff(got, m); d != "" {
		t.Fatalf("model changed at %s", d)
	}
	// The big initializers are external and page-aligned; the small one inline.
	raw, _ := os.ReadFile(path)
	mp := &pb.ModelProto{}
	if err := proto.Unmarshal(raw, mp); err != nil {
		t.Fatal(err)
	}
	var offsets []string
	for _, tp := range mp.Graph.Initializer {
		ext := tp.GetDataLocation() == pb.TensorProto_EXTERNAL
		if ext != (len(tp.GetName()) > 3) {
			t.Errorf("initializer %q: external %v", tp.GetName(), ext)
		}
		for _, kv := range tp.ExternalData {
			if kv.GetKey() == "location" && kv.GetValue() != "m.onnx.data" {
				t.Errorf("location %q", kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				offsets = append(offsets, kv.GetValue())
			}
		}
	}
	if strings.Join(offsets, ",") != "0,"+strconv.Itoa(extAlign*2) {
		t.Errorf("offsets %v", offsets)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want m.onnx and m.onnx.data", len(entries))
	}
	if _, err := EncodeModel(m); err == nil || !strings.Contains(err.Error(), "2 GiB") {
		t.Errorf("EncodeModel of an oversized model: %v", err)
	}
}

func TestWriteModelInline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	m := fullModel()
	for i := 0; i < 2; i++ { // the second write replaces the first
		if err := WriteModel(path, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadModel(path)
	if err != nil || !same(got, m) {
		t.Fatalf("read back: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only m.onnx", len(entries))
	}
	if err := WriteModel(filepath.Join(dir, "missing", "m.onnx"), m); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

func TestWriteReadTensor(t *testing.T) {
	dir := t.TempDir()
	for _, x := range sampleTensors() {
		path := filepath.Join(dir, x.Name+".pb")
		if err := WriteTensor(path, x); err != nil {
			t.Fatal(err)
		}
		got, err := ReadTensor(path)
		if err != nil || !same(got, x) {
			t.Fatalf("%s: got %v, %v", x.Name, got, err)
		}
	}
	writeFile(t, filepath.Join(dir, "bad.pb"), []byte{0xff})
	if _, err := ReadTensor(filepath.Join(dir, "bad.pb")); err == nil || !strings.Contains(err.Error(), "bad.pb: malformed protobuf") {
		t.Errorf("garbage file: %v", err)
	}
}
