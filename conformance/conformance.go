// Package conformance runs ONNX backend test cases (a folder with
// model.onnx and test_data_set_*/input_K.pb, output_K.pb) against any
// backend and reports which pass, using ONNX's own comparison rules: float
// outputs within rtol 1e-3 and atol 1e-7 (NaN equals NaN), integers, bools
// and strings exactly.
package conformance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	"github.com/keenml/keen/onnx"
)

// Case is one test case folder.
type Case struct {
	Name string // the folder's name, e.g. "test_abs"
	Dir  string
}

// Status of a case.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// Result is the outcome of one case.
type Result struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"`
	Reason   string        `json:"reason"`
	Dir      string        `json:"-"`
	Duration time.Duration `json:"-"`
}

// Report is the outcome of a run. It marshals to the JSON contract of
// `onnxrun conformance --json`.
type Report struct {
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Skipped int      `json:"skipped"`
	Cases   []Result `json:"cases"`
}

// Add records a result.
func (r *Report) Add(res Result) {
	switch res.Status {
	case Pass:
		r.Passed++
	case Fail:
		r.Failed++
	default:
		r.Skipped++
	}
	r.Cases = append(r.Cases, res)
}

// Summary is the summary line of the CLI contract.
func (r *Report) Summary() string {
	return fmt.Sprintf("conformance: %d of %d cases pass (%d fail, %d skipped)",
		r.Passed, r.Passed+r.Failed+r.Skipped, r.Failed, r.Skipped)
}

// Discover finds cases under each path: a folder holding model.onnx and a
// test_data_set_* folder is a case; other folders are searched recursively.
// Cases are sorted by name; filter (may be nil) selects by case name.
func Discover(paths []string, filter *regexp.Regexp) ([]Case, error) {
	var cases []Case
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() || !isCase(path) {
				return nil
			}
			name := filepath.Base(path)
			if filter == nil || filter.MatchString(name) {
				cases = append(cases, Case{Name: name, Dir: path})
			}
			return filepath.SkipDir
		})
		if err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
	}
	sort.SliceStable(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

func isCase(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err != nil {
		return false
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	return len(sets) > 0
}

// Options tune a run.
type Options struct {
	// Progress, when set, is called after each case.
	Progress func(done, total int, r Result)
	// Timeout bounds one case (0: 2 minutes).
	Timeout time.Duration
	// RTol and ATol override the float tolerances (0: RTol and ATol).
	RTol, ATol float64
	// Repeat runs every data set this many times on the one loaded model
	// (0 or 1: once). Later runs take the paths that reuse state across
	// calls: prepared weights, pooled buffers.
	Repeat int
}

func (o Options) tol() Tolerance {
	t := Tolerance{RTol: RTol, ATol: ATol}
	if o.RTol > 0 {
		t.RTol = o.RTol
	}
	if o.ATol > 0 {
		t.ATol = o.ATol
	}
	return t
}

// Run runs every case on dev.
func Run(ctx context.Context, dev backends.Backend, cases []Case, opt Options) *Report {
	rep := &Report{}
	for i, c := range cases {
		res := RunCase(ctx, dev, c, opt)
		rep.Add(res)
		if opt.Progress != nil {
			opt.Progress(i+1, len(cases), res)
		}
	}
	return rep
}

// RunCase runs one case: every test_data_set_* folder must match.
func RunCase(ctx context.Context, dev backends.Backend, c Case, opt Options) (res Result) {
	start := time.Now()
	res = Result{Name: c.Name, Dir: c.Dir, Status: Pass}
	defer func() {
		if r := recover(); r != nil {
			res.Status, res.Reason = Fail, fmt.Sprintf("panic: %v\n%s", r, debug.Stack())
		}
		res.Duration = time.Since(start)
	}()
	if why := skipReason(c.Name); why != "" {
		res.Status, res.Reason = Skip, why
		return res
	}
	timeout := opt.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	model, err := onnx.Load(filepath.Join(c.Dir, "model.onnx"), onnx.WithBackend(dev))
	if err != nil {
		res.Status, res.Reason = Fail, oneLine(err)
		return res
	}
	sets, _ := filepath.Glob(filepath.Join(c.Dir, "test_data_set_*"))
	sort.Strings(sets)
	for run := range max(1, opt.Repeat) {
		for _, set := range sets {
			if err := runSet(ctx, model, set, opt.tol()); err != nil {
				at := filepath.Base(set)
				if run > 0 {
					at = fmt.Sprintf("%s (run %d)", at, run+1)
				}
				res.Status, res.Reason = Fail, at+": "+oneLine(err)
				return res
			}
		}
	}
	return res
}

func runSet(ctx context.Context, m *onnx.Model, dir string, tol Tolerance) error {
	ins := m.Inputs()
	inputs := make([]ir.Value, 0, len(ins))
	for k, vi := range ins {
		path := filepath.Join(dir, fmt.Sprintf("input_%d.pb", k))
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			break // trailing optional inputs may be absent
		}
		if err != nil {
			return err
		}
		v, err := onnx.DecodeValue(data, vi.Type)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		inputs = append(inputs, v)
	}
	outs, err := m.RunHost(ctx, inputs...)
	if err != nil {
		return err
	}
	for k, vi := range m.Outputs() {
		path := filepath.Join(dir, fmt.Sprintf("output_%d.pb", k))
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		want, err := onnx.DecodeValue(data, vi.Type)
		if err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		if err := tol.Compare(outs[k], want); err != nil {
			return fmt.Errorf("output %d (%q): %w", k, vi.Name, err)
		}
	}
	return nil
}

func oneLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}
