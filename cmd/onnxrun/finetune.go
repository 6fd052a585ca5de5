package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/data"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/internal/demodata"
	"github.com/keenml/keen/internal/finetune"
	"github.com/keenml/keen/internal/ort"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["finetune"] = command{runFinetune,
		"finetune MODEL --data fashion-mnist[=DIR] [--classes 10 --replace-head] [--freeze REGEX] [--epochs N] [--batch B] [--lr X] [--optimizer adam|sgd|adamw] --out OUT.onnx [--plot FILE.svg|.png]"}
	commands["demo"] = command{runDemo, "demo [--data embedded|fashion-mnist[=DIR]] [--epochs N] [--seconds S]"}
}

// Defaults that reach the fine-tuning target on Fashion-MNIST.
const (
	defaultLR        = 1e-3
	defaultBatch     = 64
	defaultOptimizer = "adam"
)

type tuneFlags struct {
	data, freeze, optimizer, out, plot string
	classes, epochs, batch             int
	replaceHead                        bool
	lr                                 float64
	bf                                 backendFlag
}

func (t *tuneFlags) register(fs *flag.FlagSet, dataDefault string, epochs int) {
	fs.StringVar(&t.data, "data", dataDefault, "fashion-mnist[=DIR] or embedded")
	fs.StringVar(&t.freeze, "freeze", "", "keep parameters whose names match REGEX fixed")
	fs.StringVar(&t.optimizer, "optimizer", defaultOptimizer, "adam, adamw or sgd")
	fs.IntVar(&t.classes, "classes", 10, "classes of the new head (with --replace-head)")
	fs.IntVar(&t.epochs, "epochs", epochs, "passes over the training set")
	fs.IntVar(&t.batch, "batch", defaultBatch, "batch size")
	fs.Float64Var(&t.lr, "lr", defaultLR, "learning rate")
	t.bf.register(fs)
}

func runFinetune(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("finetune", flag.ContinueOnError)
	var t tuneFlags
	t.register(fs, "", 2)
	fs.BoolVar(&t.replaceHead, "replace-head", false, "replace the final layer with one of --classes outputs")
	fs.StringVar(&t.out, "out", "", "write the fine-tuned model here (ONNX)")
	fs.StringVar(&t.plot, "plot", "", "plot loss and accuracy to FILE.svg or FILE.png")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || t.data == "" || t.out == "" {
		return usagef("want MODEL, --data and --out")
	}
	dev, err := t.bf.open()
	if err != nil {
		return err
	}
	eager.SetDefaultBackend(dev)
	m, err := onnx.Load(pos[0], onnx.WithBackend(dev))
	if err != nil {
		return err
	}
	_, err = tune(m, t, 0, stdout, stderr)
	return err
}

// tune runs the job and exports; it returns the exported file's path.
func tune(m *onnx.Model, t tuneFlags, limit time.Duration, stdout, stderr io.Writer) (*finetune.Result, error) {
	train, test, err := finetune.LoadData(t.data)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "data: %d training and %d test images\n", train.Len(), test.Len())
	res, err := finetune.Run(context.Background(), finetune.Config{
		Model: m, Train: train, Test: test, Classes: t.classes, ReplaceHead: t.replaceHead,
		Freeze: t.freeze, Epochs: t.epochs, Batch: t.batch, LR: t.lr, Optimizer: t.optimizer,
		Seed: 1, MaxDuration: limit, Log: stderr,
	})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "accuracy before: %.4f\naccuracy after:  %.4f (%d steps in %.1fs)\n", res.AccBefore, res.AccAfter, res.Steps, res.Duration.Seconds())
	sample, err := sampleBatch(test)
	if err != nil {
		return nil, err
	}
	exported, err := onnx.ExportModule(res.Module, sample)
	if err != nil {
		return nil, err
	}
	if err := onnx.WriteModel(t.out, exported); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "wrote %s\n", t.out)
	if t.plot != "" {
		if err := plotRun(t.plot, res); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "wrote %s\n", t.plot)
	}
	return res, nil
}

func sampleBatch(ds *data.Dataset) (*eager.Tensor, error) {
	batches, berr := ds.Batches(4, data.Map(data.ScaleImages))
	for b := range batches {
		return b.X, nil
	}
	return nil, berr()
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var t tuneFlags
	t.register(fs, "embedded", 3)
	seconds := fs.Float64("seconds", 60, "stop training after about this long")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	t.replaceHead, t.out = true, "keen-demo.onnx"
	dev, err := t.bf.open()
	if err != nil {
		return err
	}
	eager.SetDefaultBackend(dev)
	ir, err := onnx.DecodeModel(demodata.Model)
	if err != nil {
		return err
	}
	m, err := onnx.Compile(ir, onnx.WithBackend(dev))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Keen demo: a PyTorch CNN that knows Fashion-MNIST classes 0-7 learns classes 8 (Bag) and 9 (Ankle boot).")
	res, err := tune(m, t, time.Duration(*seconds*float64(time.Second)), stdout, stderr)
	if err != nil {
		return err
	}
	return checkExport(t.out, res.Module, t.data, stdout)
}

// checkExport reloads the exported file and compares its outputs with the
// in-memory model's on test images.
func checkExport(path string, m nn.Module, dataSpec string, stdout io.Writer) error {
	re, err := onnx.Load(path)
	if err != nil {
		return fmt.Errorf("reloading %s: %w", path, err)
	}
	_, test, err := finetune.LoadData(dataSpec)
	if err != nil {
		return err
	}
	batches, berr := test.Batches(256, data.Map(data.ScaleImages))
	worst, ortWorst := 0.0, -1.0
	for b := range batches {
		var a []float32
		err := eager.Recover(func() {
			a = m.Forward(b.X).Floats()
			c := re.Forward(b.X).Floats()
			for i := range a {
				worst = math.Max(worst, math.Abs(float64(a[i]-c[i])))
			}
		})
		if err != nil {
			return err
		}
		ortWorst, err = compareORT(path, re, b.X, a)
		if err != nil {
			return err
		}
		break
	}
	if err := berr(); err != nil {
		return err
	}
	acc, err := finetune.Evaluate(re, test, 256)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reloaded %s: accuracy %.4f, max |logit difference| vs. the trained model %.2g\n", path, acc, worst)
	if worst > 1e-4 {
		return fmt.Errorf("the exported model disagrees with the trained one (max difference %g)", worst)
	}
	if ortWorst < 0 {
		fmt.Fprintln(stdout, "ONNX Runtime not installed (cd interop && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install): export not checked there")
		return nil
	}
	fmt.Fprintf(stdout, "ONNX Runtime runs %s: max |logit difference| vs. Keen %.2g\n", path, ortWorst)
	if ortWorst > 1e-4 {
		return fmt.Errorf("ONNX Runtime disagrees with Keen on the export (max difference %g)", ortWorst)
	}
	return nil
}

// compareORT runs the exported file in ONNX Runtime on x and returns the
// largest difference from want, or -1 when ONNX Runtime is not installed.
func compareORT(path string, m *onnx.Model, x *eager.Tensor, want []float32) (float64, error) {
	h, err := x.Host()
	if err != nil {
		return 0, err
	}
	outs, err := ort.Run(path, map[string]*ir.Tensor{m.Inputs()[0].Name: h})
	if errors.Is(err, ort.ErrUnavailable) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	got, ok := outs[m.Outputs()[0].Name]
	if !ok || got.Len() != len(want) {
		return 0, fmt.Errorf("ONNX Runtime returned no output %q of %d values", m.Outputs()[0].Name, len(want))
	}
	worst := 0.0
	for i, v := range got.Data.([]float32) {
		worst = math.Max(worst, math.Abs(float64(v-want[i])))
	}
	return worst, nil
}
