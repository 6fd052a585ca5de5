package backendtest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// The Concurrency check runs goroutines goroutines of rounds kernel runs each.
const (
	goroutines = 8
	rounds     = 16
)

// job is a prepared kernel with input variants and their expected outputs.
type job struct {
	spec   *backends.OpSpec
	kernel backends.Kernel
	tol    float64
	ins    [][]*ir.Tensor
	wants  [][]*ir.Tensor
}

func concurrencyCases() []opCase {
	return []opCase{
		{op: "MatMul", tol: mmTol, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 16, 32), normal(r, 32, 24)}
		}},
		{op: "Add", in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, 8, 16), normal(r, 16)} }},
		{op: "Conv", tol: mmTol, attrs: ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)}, in: func(r *rand.Rand) []*ir.Tensor {
			return []*ir.Tensor{normal(r, 1, 3, 8, 8), normal(r, 4, 3, 3, 3)}
		}},
		{op: "ReduceSum", in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, 6, 40), i64(1)} }},
		{op: "Softmax", in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, 5, 33)} }},
		{op: "Transpose", tol: exact, in: func(r *rand.Rand) []*ir.Tensor { return []*ir.Tensor{normal(r, 12, 20)} }},
	}
}

// Concurrency checks that 8 goroutines sharing a few prepared
// kernels (MatMul, Add, Conv, ReduceSum, Softmax, Transpose), each uploading
// its own inputs, running and downloading, all get the CPU backend's
// answers.
func Concurrency(t *testing.T, b backends.Backend) {
	jobs := prepareJobs(t, b, 4)
	if len(jobs) == 0 {
		t.Skipf("%s: none of the kernels is listed", b.Name())
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				j := jobs[(g+i)%len(jobs)]
				v := (g*7 + i) % len(j.ins)
				if err := j.check(b, v); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("goroutine %d round %d: %w", g, i, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%s: %d goroutines x %d runs of %d shared kernels; %d failures", b.Name(), goroutines, rounds, len(jobs), len(errs))
	for i, err := range errs {
		if i == 5 {
			t.Errorf("%s: ... %d failures in all", b.Name(), len(errs))
			break
		}
		t.Errorf("%s: %v", b.Name(), err)
	}
	if err := b.Sync(); err != nil {
		t.Errorf("%s: Sync after the concurrent runs: %v", b.Name(), err)
	}
}

// prepareJobs prepares each listed concurrency case once on b and computes
// the reference outputs of variants input sets.
func prepareJobs(t *testing.T, b backends.Backend, variants int) []*job {
	caps := b.Capabilities()
	var jobs []*job
	for i, c := range concurrencyCases() {
		r := newRand(uint64(1000 + i))
		in := c.in(r)
		spec := newSpec(c.op, c.version, c.attrs, c.nout, in)
		if !covers(caps, spec) {
			t.Logf("%s: %s not listed; not run concurrently", b.Name(), c.op)
			continue
		}
		k, err := b.Prepare(spec)
		if err != nil {
			t.Errorf("%s: Prepare %v: %v", b.Name(), spec, err)
			continue
		}
		j := &job{spec: spec, kernel: k, tol: c.tol}
		for v := range variants {
			if v > 0 {
				in = c.in(r)
			}
			want, err := run(reference, spec, in)
			if err != nil {
				t.Fatalf("backendtest: reference %v: %v", spec, err)
			}
			j.ins, j.wants = append(j.ins, in), append(j.wants, want)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// check runs variant v of j on b and compares with the reference.
func (j *job) check(b backends.Backend, v int) error {
	got, err := runKernel(b, j.kernel, j.ins[v])
	if err != nil {
		return fmt.Errorf("%v: %w", j.spec, err)
	}
	want := j.wants[v][0]
	if len(got) != 1 {
		return fmt.Errorf("%v: %d outputs, want 1", j.spec, len(got))
	}
	if err := agree(got[0], want, caseTol(j.tol, want.DType)); err != nil {
		return fmt.Errorf("%v: %w", j.spec, err)
	}
	return nil
}
