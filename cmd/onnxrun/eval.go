package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/keenml/keen/eager/data"
	"github.com/keenml/keen/internal/finetune"
	"github.com/keenml/keen/internal/ort"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["eval"] = command{runEval, "eval MODEL --data fashion-mnist[=DIR]|embedded [--ort] [--backend NAME]"}
}

// runEval prints a classifier's accuracy on the test split, computed by Keen
// or, with --ort, by ONNX Runtime (to check an export where it will be used).
func runEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	spec := fs.String("data", "embedded", "fashion-mnist[=DIR] or embedded")
	useORT := fs.Bool("ort", false, "run the model in ONNX Runtime instead of Keen")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one MODEL")
	}
	_, test, err := finetune.LoadData(*spec)
	if err != nil {
		return err
	}
	if !*useORT {
		dev, err := bf.open()
		if err != nil {
			return err
		}
		m, err := onnx.Load(pos[0], onnx.WithBackend(dev))
		if err != nil {
			return err
		}
		acc, err := finetune.Evaluate(m, test, 256)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: accuracy %.4f on %d test images (keen, %s)\n", pos[0], acc, test.Len(), dev.Name())
		return nil
	}
	model, err := onnx.ReadModel(pos[0])
	if err != nil {
		return err
	}
	in, out := model.Graph.RealInputs()[0].Name, model.Graph.Outputs[0].Name
	correct := 0
	batches, berr := test.Batches(1000, data.Map(data.ScaleImages))
	for b := range batches {
		x, err := b.X.Host()
		if err != nil {
			return err
		}
		res, err := ort.Run(pos[0], map[string]*ir.Tensor{in: x})
		if err != nil {
			return err
		}
		logits := res[out]
		labels, _ := b.Y.Host()
		correct += countCorrect(logits, labels)
	}
	if err := berr(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: accuracy %.4f on %d test images (onnxruntime)\n", pos[0], float64(correct)/float64(test.Len()), test.Len())
	return nil
}

// countCorrect counts rows of logits [N,C] whose argmax is the label.
func countCorrect(logits, labels *ir.Tensor) int {
	n, c := logits.Shape[0], logits.Shape[1]
	l := logits.Data.([]float32)
	ok := 0
	for i := 0; i < n; i++ {
		best := 0
		for j := 1; j < c; j++ {
			if l[i*c+j] > l[i*c+best] {
				best = j
			}
		}
		if int(labels.Float64At(i)) == best {
			ok++
		}
	}
	return ok
}
