package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["grad"] = command{runGrad, "grad MODEL --inputs DIR --outdir DIR [--backend NAME]"}
}

// runGrad writes d(sum of output 0)/dx for every floating-point initializer
// (OUTDIR/<name>.pb, '/' becoming '_') and every floating-point graph input
// that is not an initializer (OUTDIR/input_K.pb).
func runGrad(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("grad", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	var inf inputFlags
	inf.register(fs)
	outDir := fs.String("outdir", "", "folder for the gradient files")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *outDir == "" {
		return usagef("want MODEL and --outdir")
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	m, err := onnx.Load(pos[0], onnx.WithBackend(dev))
	if err != nil {
		return err
	}
	hostIn, err := inf.read(m)
	if err != nil {
		return err
	}
	inputs := make([]onnx.Value, len(hostIn))
	for i, h := range hostIn {
		if inputs[i], err = onnx.ToRuntime(dev, h); err != nil {
			return err
		}
	}
	type source struct {
		file, name string
		t          *eager.Tensor
	}
	var sources []source
	for _, name := range m.InitializerNames() {
		if t := m.Initializer(name); t != nil && t.DType().IsFloat() {
			sources = append(sources, source{strings.ReplaceAll(name, "/", "_") + ".pb", name, t})
		}
	}
	for k, v := range inputs {
		if t, ok := v.(*eager.Tensor); ok && t.DType().IsFloat() {
			sources = append(sources, source{fmt.Sprintf("input_%d.pb", k), m.Inputs()[k].Name, t})
		}
	}
	tape := eager.NewTape()
	outs, err := m.RunValues(context.Background(), inputs)
	if err != nil {
		tape.Stop()
		return err
	}
	y, ok := outs[0].(*eager.Tensor)
	if !ok || !y.DType().IsFloat() {
		tape.Stop()
		return fmt.Errorf("output 0 must be a floating-point tensor to differentiate, got %v", y)
	}
	ts := make([]*eager.Tensor, len(sources))
	for i, s := range sources {
		ts[i] = s.t
	}
	var grads []*eager.Tensor
	if err := recoverOp(func() { grads = tape.Gradient(eager.Sum(y), ts...) }); err != nil {
		return err
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		return err
	}
	for i, s := range sources {
		h, err := grads[i].Host()
		if err != nil {
			return err
		}
		h = &ir.Tensor{Name: s.name, DType: h.DType, Shape: h.Shape, Data: h.Data}
		if err := onnx.WriteTensor(filepath.Join(*outDir, s.file), h); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "wrote %d gradient files to %s (loss = sum of %q: %.6g)\n", len(sources), *outDir, m.Outputs()[0].Name, eager.Sum(y).Item())
	return nil
}

// recoverOp runs fn and turns an eager op panic into an error.
func recoverOp(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	fn()
	return nil
}
