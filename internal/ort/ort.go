// Package ort runs ONNX models in ONNX Runtime (the npm package
// onnxruntime-node under interop/) from Go, for interop tests and
// benchmarks. It is a test and tooling aid, never a dependency of the engine.
package ort

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/keenml/keen/ir"
)

// ErrUnavailable is returned when node or onnxruntime-node is missing.
var ErrUnavailable = errors.New("ort: ONNX Runtime unavailable (run: cd interop && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install)")

// Dir finds the interop folder (holding node_modules/onnxruntime-node) by
// walking up to the module root from the working directory, then from the
// running executable (bin/onnxrun of a checkout).
func Dir() (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", ErrUnavailable
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, start := range starts {
		for d := start; ; d = filepath.Dir(d) {
			p := filepath.Join(d, "interop")
			if _, err := os.Stat(filepath.Join(p, "node_modules", "onnxruntime-node")); err == nil {
				return p, nil
			}
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil || filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", ErrUnavailable
}

type wire struct {
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	Data string `json:"data"`
}

var typeNames = map[ir.DType]string{ir.Float32: "float32", ir.Float64: "float64", ir.Int64: "int64",
	ir.Int32: "int32", ir.Int8: "int8", ir.Uint8: "uint8", ir.Bool: "bool"}

// Run runs model (a file) on named inputs and returns the named outputs.
func Run(model string, inputs map[string]*ir.Tensor) (map[string]*ir.Tensor, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "keen-ort")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	in := map[string]wire{}
	for name, t := range inputs {
		w, err := toWire(t)
		if err != nil {
			return nil, fmt.Errorf("ort: input %q: %w", name, err)
		}
		in[name] = w
	}
	data, _ := json.Marshal(in)
	inPath, outPath := filepath.Join(tmp, "in.json"), filepath.Join(tmp, "out.json")
	if err := os.WriteFile(inPath, data, 0o644); err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(model)
	cmd := exec.Command("node", filepath.Join(dir, "ort_run.js"), abs, inPath, outPath)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ort: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		return nil, err
	}
	var out map[string]wire
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	res := map[string]*ir.Tensor{}
	for name, w := range out {
		t, err := fromWire(w)
		if err != nil {
			return nil, fmt.Errorf("ort: output %q: %w", name, err)
		}
		res[name] = t
	}
	return res, nil
}

func toWire(t *ir.Tensor) (wire, error) {
	name, ok := typeNames[t.DType]
	if !ok {
		return wire{}, fmt.Errorf("dtype %v not supported", t.DType)
	}
	var buf bytes.Buffer
	if b, ok := t.Data.([]bool); ok {
		for _, v := range b {
			if v {
				buf.WriteByte(1)
			} else {
				buf.WriteByte(0)
			}
		}
	} else if err := binary.Write(&buf, binary.LittleEndian, t.Data); err != nil {
		return wire{}, err
	}
	dims := t.Shape
	if dims == nil {
		dims = []int{}
	}
	return wire{Type: name, Dims: dims, Data: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

func fromWire(w wire) (*ir.Tensor, error) {
	var dt ir.DType
	for d, n := range typeNames {
		if n == w.Type {
			dt = d
		}
	}
	if dt == ir.Undefined {
		return nil, fmt.Errorf("type %q not supported", w.Type)
	}
	raw, err := base64.StdEncoding.DecodeString(w.Data)
	if err != nil {
		return nil, err
	}
	t, err := ir.NewTensor(dt, w.Dims...)
	if err != nil {
		return nil, err
	}
	if b, ok := t.Data.([]bool); ok {
		for i := range b {
			b[i] = raw[i] != 0
		}
		return t, nil
	}
	if err := binary.Read(bytes.NewReader(raw), binary.LittleEndian, t.Data); err != nil {
		return nil, err
	}
	return t, nil
}
