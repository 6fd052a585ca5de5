// Package finetune is the fine-tuning job behind `onnxrun finetune` and
// `onnxrun demo`: take an imported classifier, optionally give it a new head
// for more classes, train it eagerly on an image dataset, measure accuracy
// before and after, and export the result as ONNX.
package finetune

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/data"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/internal/progress"
	"github.com/keenml/keen/onnx"
)

// Config describes one fine-tuning run.
type Config struct {
	Model       *onnx.Model
	Train, Test *data.Dataset
	Classes     int    // classes of the new head (with ReplaceHead)
	ReplaceHead bool   // give the model a new final layer of Classes outputs
	Freeze      string // regular expression of parameter names to keep fixed
	Epochs      int
	Batch       int
	LR          float64
	Optimizer   string // adam, adamw or sgd
	Seed        int64
	MaxDuration time.Duration // stop early after this long (0: no limit)
	Log         io.Writer     // progress lines (a bar when a terminal)
}

// Result reports what a run did.
type Result struct {
	AccBefore, AccAfter float64
	Steps               int
	Losses              []float64 // per step
	EpochAcc            []float64 // test accuracy after each epoch
	Module              nn.Module
	Duration            time.Duration
}

// Run fine-tunes cfg.Model. Ctrl-C stops training early (the model as it
// is then is returned, so the caller can still export it).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Epochs <= 0 || cfg.Batch <= 0 || cfg.LR <= 0 {
		return nil, fmt.Errorf("finetune: epochs, batch and lr must be positive (got %d, %d, %g)", cfg.Epochs, cfg.Batch, cfg.LR)
	}
	if err := checkLabels(cfg); err != nil {
		return nil, err
	}
	res := &Result{}
	start := time.Now()
	var m nn.Module = cfg.Model
	var err error
	res.AccBefore, err = Evaluate(m, cfg.Test, 256)
	if err != nil {
		return nil, err
	}
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "test accuracy before fine-tuning: %.4f\n", res.AccBefore)
	}
	if cfg.ReplaceHead {
		if m, err = newHead(cfg.Model, cfg.Classes, cfg.Seed); err != nil {
			return nil, err
		}
	}
	if cfg.Freeze != "" {
		if _, err := nn.Freeze(m, cfg.Freeze); err != nil {
			return nil, fmt.Errorf("finetune: --freeze: %w", err)
		}
	}
	params := nn.Params(m)
	if len(params) == 0 {
		return nil, fmt.Errorf("finetune: every parameter is frozen; nothing to train")
	}
	var opt optim.Optimizer
	switch cfg.Optimizer {
	case "adam", "":
		opt = optim.NewAdam(params, cfg.LR)
	case "adamw":
		opt = optim.NewAdamW(params, cfg.LR, 0.01)
	case "sgd":
		opt = optim.NewSGD(params, cfg.LR, 0.9)
	default:
		return nil, fmt.Errorf("finetune: unknown optimizer %q (adam, adamw, sgd)", cfg.Optimizer)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := train(ctx, cfg, m, opt, res, start); err != nil {
		return nil, err
	}
	res.Module = m
	res.AccAfter, err = Evaluate(m, cfg.Test, 256)
	res.Duration = time.Since(start)
	return res, err
}

func train(ctx context.Context, cfg Config, m nn.Module, opt optim.Optimizer, res *Result, start time.Time) error {
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	nb := cfg.Train.NumBatches(cfg.Batch)
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		bar := progress.New(log, fmt.Sprintf("epoch %d/%d", epoch+1, cfg.Epochs), nb)
		batches, berr := cfg.Train.Batches(cfg.Batch, data.Shuffle(cfg.Seed+int64(epoch)), data.Prefetch(2), data.Map(data.ScaleImages))
		var running float64
		nn.SetTraining(m, true)
		for b := range batches {
			var loss *eager.Tensor
			err := eager.Recover(func() {
				tape := eager.NewTape()
				loss = losses.SoftmaxCrossEntropy(m.Forward(b.X), b.Y)
				grads := tape.Gradient(loss, opt.Params()...)
				if err := opt.Step(grads); err != nil {
					panic(err)
				}
			})
			if err != nil {
				bar.Done()
				return fmt.Errorf("finetune: step %d: %w", res.Steps, err)
			}
			l := loss.Item()
			res.Losses = append(res.Losses, l)
			res.Steps++
			if b.Index == 0 {
				running = l
			}
			running = 0.95*running + 0.05*l
			bar.Set(b.Index+1, fmt.Sprintf("loss %.4f", running))
			if ctx.Err() != nil || (cfg.MaxDuration > 0 && time.Since(start) > cfg.MaxDuration) {
				break
			}
		}
		bar.Done()
		if err := berr(); err != nil {
			return err
		}
		nn.SetTraining(m, false)
		acc, err := Evaluate(m, cfg.Test, 256)
		if err != nil {
			return err
		}
		res.EpochAcc = append(res.EpochAcc, acc)
		fmt.Fprintf(log, "epoch %d: loss %.4f, test accuracy %.4f (%d steps, %.1fs)\n", epoch+1, running, acc, res.Steps, time.Since(start).Seconds())
		if ctx.Err() != nil {
			fmt.Fprintln(log, "interrupted: stopping training")
			return nil
		}
		if cfg.MaxDuration > 0 && time.Since(start) > cfg.MaxDuration {
			return nil
		}
	}
	return nil
}

// newHead replaces the model's final layer with a Linear of `classes`
// outputs whose first rows start from the old layer's weights, so the new
// model keeps what the old one knew.
func newHead(m *onnx.Model, classes int, seed int64) (nn.Module, error) {
	c, err := m.ReplaceHead(nil)
	if err != nil {
		return nil, err
	}
	oldW, oldB, in, err := oldHead(m, c)
	if err != nil {
		return nil, err
	}
	head := nn.NewLinear(in, classes, nn.Seed(seed))
	if oldW != nil && oldW.Shape[0] <= classes {
		if err := seedHead(head, oldW, oldB); err != nil {
			return nil, err
		}
	}
	c.Head = head
	return c, nil
}

// Evaluate returns the accuracy of m on ds (argmax of the logits).
func Evaluate(m nn.Module, ds *data.Dataset, batch int) (float64, error) {
	nn.SetTraining(m, false)
	correct, total := 0.0, 0
	batches, berr := ds.Batches(batch, data.Map(data.ScaleImages))
	var err error
	for b := range batches {
		err = eager.Recover(func() {
			eager.NoGrad(func() {
				acc := losses.Accuracy(m.Forward(b.X), b.Y)
				correct += acc * float64(b.X.Dim(0))
			})
		})
		if err != nil {
			return 0, fmt.Errorf("finetune: evaluate: %w", err)
		}
		total += b.X.Dim(0)
	}
	if err := berr(); err != nil {
		return 0, err
	}
	return correct / float64(max(total, 1)), nil
}

func checkLabels(cfg Config) error {
	classes := cfg.Classes
	if !cfg.ReplaceHead {
		return nil
	}
	for _, ds := range []*data.Dataset{cfg.Train, cfg.Test} {
		for i := 0; i < ds.Y.Len(); i++ {
			if v := ds.Y.Float64At(i); v < 0 || int(v) >= classes {
				return fmt.Errorf("finetune: label %d of example %d is outside 0..%d", int(v), i, classes-1)
			}
		}
	}
	return nil
}
