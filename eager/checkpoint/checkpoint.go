package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
)

// Save writes model's parameters and buffers (nn.NamedTensors, frozen ones
// included) and, when opt is not nil, its state to path, atomically: the
// file is written beside path under a temporary name, synced, and renamed.
func Save(path string, model any, opt optim.Optimizer) error {
	entries, err := Collect(model, opt)
	if err != nil {
		return err
	}
	return WriteFile(path, entries)
}

// Collect lists the entries Save writes: the model's tensors in field order,
// then the optimizer's state sorted by name.
func Collect(model any, opt optim.Optimizer) ([]Entry, error) {
	var entries []Entry
	for _, n := range nn.NamedTensors(model) {
		h, err := n.T.Host()
		if err != nil {
			return nil, fmt.Errorf("checkpoint: %s: %w", n.Name, err)
		}
		kind := Param
		if n.Buffer {
			kind = Buffer
		}
		entries = append(entries, Entry{Kind: kind, Name: n.Name, T: h})
	}
	if opt == nil {
		return entries, nil
	}
	st := opt.State()
	for _, name := range sortedNames(st) {
		h, err := st[name].Host()
		if err != nil {
			return nil, fmt.Errorf("checkpoint: optimizer %s: %w", name, err)
		}
		entries = append(entries, Entry{Kind: OptimizerState, Name: name, T: h})
	}
	return entries, nil
}

func sortedNames[T any](m map[string]T) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// WriteFile writes entries to path atomically (temporary file and rename).
func WriteFile(path string, entries []Entry) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = Write(f, entries); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// ReadFile reads the entries of the checkpoint at path.
func ReadFile(path string) ([]Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	entries, err := Read(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, nil
}

// Load restores what Save wrote into model and, when opt is not nil, opt.
// Every model tensor must be in the file with its dtype and shape, and the
// file may hold no model tensor the model lacks; likewise for the
// optimizer's state. All of it is checked before anything is assigned, so
// a failed Load changes nothing. The errors name each tensor and both
// shapes. Optimizer state is keyed by parameter position ("m.0", "m.1",
// ...), so opt must be built over the model's parameters in the same order
// as the saved one (nn.Params(model) gives a stable order).
func Load(path string, model any, opt optim.Optimizer) error {
	entries, err := ReadFile(path)
	if err != nil {
		return err
	}
	file := map[string]*ir.Tensor{}
	state := map[string]*ir.Tensor{}
	for _, e := range entries {
		if e.Kind == OptimizerState {
			state[e.Name] = e.T
		} else {
			file[e.Name] = e.T
		}
	}
	targets := map[string]*eager.Tensor{}
	for _, n := range nn.NamedTensors(model) {
		targets[n.Name] = n.T
	}
	problems := match("model", targets, file)
	var stTargets map[string]*eager.Tensor
	if opt != nil {
		stTargets = opt.State()
		if len(state) == 0 {
			problems = append(problems, "the file holds no optimizer state")
		} else {
			problems = append(problems, match("optimizer", stTargets, state)...)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("checkpoint: Load %s: %s", path, strings.Join(problems, "; "))
	}
	for name, t := range targets {
		if err := assign(t, file[name]); err != nil {
			return fmt.Errorf("checkpoint: Load %s: %s: %w", path, name, err)
		}
	}
	if opt == nil {
		return nil
	}
	loaded := map[string]*eager.Tensor{}
	for name, t := range stTargets {
		v, err := eager.FromHost(t.Backend(), state[name])
		if err != nil {
			return fmt.Errorf("checkpoint: Load %s: optimizer %s: %w", path, name, err)
		}
		loaded[name] = v
	}
	if err := opt.LoadState(loaded); err != nil {
		return fmt.Errorf("checkpoint: Load %s: %w", path, err)
	}
	return nil
}

// match lists, in name order, the tensors of want missing from or shaped
// differently in have, and those of have that want lacks.
func match(what string, want map[string]*eager.Tensor, have map[string]*ir.Tensor) []string {
	var out []string
	for _, name := range sortedNames(want) {
		t := want[name]
		h, ok := have[name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s tensor %q %v%v is not in the file", what, name, t.DType(), t.Shape()))
		case h.DType != t.DType() || !slices.Equal(h.Shape, t.Shape()):
			out = append(out, fmt.Sprintf("%s tensor %q: the file holds %v%v, the %s has %v%v", what, name, h.DType, h.Shape, what, t.DType(), t.Shape()))
		}
	}
	for _, name := range sortedNames(have) {
		if _, ok := want[name]; !ok {
			h := have[name]
			out = append(out, fmt.Sprintf("the file holds %s tensor %q %v%v that the %s lacks", what, name, h.DType, h.Shape, what))
		}
	}
	return out
}

func assign(t *eager.Tensor, h *ir.Tensor) error {
	if h == nil {
		return errors.New("missing")
	}
	v, err := eager.FromHost(t.Backend(), h)
	if err != nil {
		return err
	}
	return t.Assign(v)
}
