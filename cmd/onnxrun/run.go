package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["run"] = command{runRun,
		"run MODEL [--inputs DIR] [--input NAME=FILE ...] [--outdir DIR] [--backend NAME] [--threads N]"}
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	var inf inputFlags
	inf.register(fs)
	outDir := fs.String("outdir", "", "write output_K.pb files here")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one MODEL, got %d arguments", len(pos))
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	m, err := onnx.Load(pos[0], onnx.WithBackend(dev))
	if err != nil {
		return err
	}
	inputs, err := inf.read(m)
	if err != nil {
		return err
	}
	outs, err := m.RunHost(context.Background(), inputs...)
	if err != nil {
		return err
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return err
		}
	}
	for k, vi := range m.Outputs() {
		printValue(stdout, vi.Name, outs[k])
		if *outDir == "" {
			continue
		}
		if t, ok := outs[k].(*ir.Tensor); ok {
			t.Name = vi.Name
		}
		data, err := onnx.EncodeValue(outs[k])
		if err != nil {
			return fmt.Errorf("output %d (%q): %w", k, vi.Name, err)
		}
		if err := writeFileAtomic(filepath.Join(*outDir, fmt.Sprintf("output_%d.pb", k)), data); err != nil {
			return err
		}
	}
	return nil
}

// inputFlags are --inputs DIR and repeated --input NAME=FILE.
type inputFlags struct {
	dir   string
	named listFlag
}

func (f *inputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "inputs", "", "folder with input_K.pb (K = position among non-initializer graph inputs)")
	fs.Var(&f.named, "input", "NAME=FILE (.pb TensorProto or .npy); repeatable")
}

func (f *inputFlags) read(m *onnx.Model) ([]ir.Value, error) { return readInputs(m, f.dir, f.named) }

// readInputs gathers the model's inputs from DIR/input_K.pb and NAME=FILE flags.
func readInputs(m *onnx.Model, dir string, named []string) ([]ir.Value, error) {
	ins := m.Inputs()
	vals := make([]ir.Value, len(ins))
	if dir != "" {
		for k, vi := range ins {
			path := filepath.Join(dir, fmt.Sprintf("input_%d.pb", k))
			data, err := os.ReadFile(path)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if vals[k], err = onnx.DecodeValue(data, vi.Type); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	for _, nv := range named {
		name, file, ok := strings.Cut(nv, "=")
		if !ok {
			return nil, usagef("--input %q: want NAME=FILE", nv)
		}
		k := -1
		for i, vi := range ins {
			if vi.Name == name {
				k = i
			}
		}
		if k < 0 {
			return nil, fmt.Errorf("--input %s: the model has no input %q (inputs: %s)", nv, name, inputNames(ins))
		}
		var err error
		if strings.HasSuffix(file, ".npy") {
			vals[k], err = onnx.ReadNpy(file)
		} else {
			var data []byte
			if data, err = os.ReadFile(file); err == nil {
				vals[k], err = onnx.DecodeValue(data, ins[k].Type)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	for k, vi := range ins {
		if vals[k] == nil && (vi.Type == nil || vi.Type.Kind != ir.KindOptional) {
			return nil, fmt.Errorf("input %d (%q, %v) not given: use --inputs DIR or --input %s=FILE", k, vi.Name, vi.Type, vi.Name)
		}
	}
	return vals, nil
}

func inputNames(ins []ir.ValueInfo) string {
	names := make([]string, len(ins))
	for i, vi := range ins {
		names[i] = vi.Name
	}
	return strings.Join(names, ", ")
}

// printValue prints name, dtype, shape and leading values.
func printValue(w io.Writer, name string, v ir.Value) {
	switch x := v.(type) {
	case *ir.Tensor:
		fmt.Fprintf(w, "%s: %v %v %s\n", name, x.DType, x.Shape, ir.FormatValues(x, 10))
	case *ir.Sequence:
		fmt.Fprintf(w, "%s: sequence of %d\n", name, len(x.Items))
		for i, it := range x.Items {
			printValue(w, fmt.Sprintf("  [%d]", i), it)
		}
	case *ir.Optional:
		if x.Value == nil {
			fmt.Fprintf(w, "%s: optional (none)\n", name)
		} else {
			printValue(w, name, x.Value)
		}
	default:
		fmt.Fprintf(w, "%s: %T\n", name, v)
	}
}
