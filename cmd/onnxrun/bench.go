package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

func init() {
	commands["bench"] = command{runBench,
		"bench MODEL [--iters N] [--warmup N] [--threads T] [--dim NAME=V ...] [--backend NAME] [--train --optimizer adam] [--json]"}
}

type benchResult struct {
	Model    string  `json:"model"`
	Backend  string  `json:"backend"`
	Threads  int     `json:"threads"`
	Iters    int     `json:"iters"`
	MedianMS float64 `json:"median_ms"`
	MinMS    float64 `json:"min_ms"`
	MeanMS   float64 `json:"mean_ms"`
	Train    bool    `json:"train"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var bf backendFlag
	bf.register(fs)
	iters := fs.Int("iters", 20, "timed runs")
	warmup := fs.Int("warmup", 3, "untimed runs first")
	var dims listFlag
	fs.Var(&dims, "dim", "NAME=V: size of a symbolic dimension (default 1); repeatable")
	train := fs.Bool("train", false, "time a training step (loss = sum of output 0, backward, optimizer step)")
	optName := fs.String("optimizer", "adam", "optimizer for --train: adam, adamw or sgd")
	asJSON := fs.Bool("json", false, "print the result as one JSON object on the last line")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	nodes := fs.Bool("nodes", false, "print each node's median time over the timed runs, slowest first")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *iters < 1 || *warmup < 0 {
		return usagef("want one MODEL, --iters >= 1, --warmup >= 0")
	}
	sizes := map[string]int{}
	for _, d := range dims {
		name, v, ok := strings.Cut(d, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return usagef("--dim %q: want NAME=V with V a non-negative integer", d)
		}
		sizes[name] = n
	}
	dev, err := bf.open()
	if err != nil {
		return err
	}
	eager.SetDefaultBackend(dev)
	prof := newNodeProfile()
	opts := []onnx.Option{onnx.WithBackend(dev)}
	if *nodes {
		opts = append(opts, onnx.WithNodeObserver(prof.observe))
	}
	m, err := onnx.Load(pos[0], opts...)
	if err != nil {
		return err
	}
	inputs, err := randomInputs(dev, m, sizes)
	if err != nil {
		return err
	}
	step, err := benchStep(m, inputs, *train, *optName)
	if err != nil {
		return err
	}
	for i := 0; i < *warmup; i++ {
		if err := step(); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	prof.reset() // the timed runs only
	times := make([]float64, *iters)
	for i := range times {
		start := time.Now()
		if err := step(); err != nil {
			return err
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	res := summarize(times)
	res.Model, res.Backend, res.Iters, res.Train = pos[0], dev.Name(), *iters, *train
	res.Threads = runtime.GOMAXPROCS(0)
	if t, ok := dev.(backends.Threader); ok {
		res.Threads = t.Threads()
	}
	what := "inference"
	if *train {
		what = "training step (" + *optName + ")"
	}
	if *nodes {
		prof.print(stdout, *iters)
	}
	fmt.Fprintf(stdout, "%s: %s on %s, %d threads: median %.3f ms, min %.3f ms, mean %.3f ms over %d runs\n",
		pos[0], what, res.Backend, res.Threads, res.MedianMS, res.MinMS, res.MeanMS, res.Iters)
	if *asJSON {
		data, _ := json.Marshal(res)
		fmt.Fprintln(stdout, string(data))
	}
	return nil
}

func summarize(times []float64) benchResult {
	s := append([]float64(nil), times...)
	sort.Float64s(s)
	var sum float64
	for _, t := range s {
		sum += t
	}
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return benchResult{MedianMS: med, MinMS: s[0], MeanMS: sum / float64(len(s))}
}

// benchStep returns the timed work: one inference, or one training step.
func benchStep(m *onnx.Model, inputs []onnx.Value, train bool, optName string) (func() error, error) {
	ctx := context.Background()
	if !train {
		// A run ends when its outputs are complete (Sync); they are then
		// released, as a serving loop that has consumed them would, so
		// their memory serves the next run. Outputs that are the model's
		// own tensors (an input or initializer passed through) are kept.
		keep := map[*eager.Tensor]bool{}
		for _, v := range inputs {
			if t, ok := v.(*eager.Tensor); ok {
				keep[t] = true
			}
		}
		for _, name := range m.InitializerNames() {
			keep[m.Initializer(name)] = true
		}
		return func() error {
			outs, err := m.RunValues(ctx, inputs)
			if err != nil {
				return err
			}
			if err := m.Backend().Sync(); err != nil {
				return err
			}
			for _, o := range outs {
				if t, ok := o.(*eager.Tensor); ok && !keep[t] {
					t.Release()
				}
			}
			return nil
		}, nil
	}
	var params []*eager.Tensor
	for _, name := range m.InitializerNames() {
		if t := m.Initializer(name); t != nil && t.DType().IsFloat() {
			params = append(params, t)
		}
	}
	var opt optim.Optimizer
	switch optName {
	case "adam":
		opt = optim.NewAdam(params, 1e-4)
	case "adamw":
		opt = optim.NewAdamW(params, 1e-4, 0.01)
	case "sgd":
		opt = optim.NewSGD(params, 1e-4, 0.9)
	default:
		return nil, usagef("--optimizer %q: want adam, adamw or sgd", optName)
	}
	return func() error {
		return eager.Recover(func() {
			tape := eager.NewTape()
			outs, err := m.RunValues(ctx, inputs)
			if err != nil {
				tape.Stop()
				panic(err)
			}
			y, ok := outs[0].(*eager.Tensor)
			if !ok {
				panic(fmt.Errorf("output 0 is not a tensor"))
			}
			loss := eager.Sum(y)
			if err := opt.Step(tape.Gradient(loss, params...)); err != nil {
				panic(err)
			}
			loss.Item()
		})
	}, nil
}

// randomInputs makes inputs of the declared shapes (symbolic dims from
// sizes, default 1): floats uniform in [0,1), integers 0, bools false.
func randomInputs(dev backends.Backend, m *onnx.Model, sizes map[string]int) ([]onnx.Value, error) {
	r := rand.New(rand.NewSource(1))
	var vals []onnx.Value
	for _, vi := range m.Inputs() {
		if vi.Type == nil || vi.Type.Kind != ir.KindTensor || !vi.Type.HasShape {
			return nil, fmt.Errorf("input %q has no tensor shape to make random data for", vi.Name)
		}
		shape := make([]int, len(vi.Type.Shape))
		for i, d := range vi.Type.Shape {
			switch {
			case d.Known():
				shape[i] = int(d.Value)
			case sizes[d.Param] > 0:
				shape[i] = sizes[d.Param]
			default:
				shape[i] = 1
			}
		}
		h, err := ir.NewTensor(vi.Type.DType, shape...)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", vi.Name, err)
		}
		switch d := h.Data.(type) {
		case []float32:
			for i := range d {
				d[i] = r.Float32()
			}
		case []float64:
			for i := range d {
				d[i] = r.Float64()
			}
		}
		t, err := eager.FromHost(dev, h)
		if err != nil {
			return nil, err
		}
		vals = append(vals, t)
	}
	return vals, nil
}
