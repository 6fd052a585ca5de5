package backendtest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/ir"
)

// broken is the CPU backend with known defects, to check that the kit
// catches them: Add is off by 0.01, MatMul panics where it should return an
// error, Prepare errors lose ErrNotImplemented, one capability row is
// duplicated, and (not being *cpu.Backend) it shares host memory.
type broken struct{ *cpu.Backend }

func (b broken) Name() string { return "broken" }

func (b broken) Capabilities() []backends.Capability {
	caps := b.Backend.Capabilities()
	return append(caps, caps[0])
}

func (b broken) Prepare(s *backends.OpSpec) (backends.Kernel, error) {
	k, err := b.Backend.Prepare(s)
	if err != nil {
		return nil, fmt.Errorf("broken: %v", err) // %v drops the wrapped error
	}
	return brokenKernel{k, s.Op}, nil
}

type brokenKernel struct {
	backends.Kernel
	op string
}

func (k brokenKernel) Run(in []backends.Buffer) ([]backends.Buffer, error) {
	out, err := k.Kernel.Run(in)
	if err != nil && k.op == "MatMul" {
		panic("index out of range")
	}
	if err == nil && k.op == "Add" {
		if f, ok := out[0].(*cpu.Buf).T.Data.([]float32); ok {
			for i := range f {
				f[i] += 0.01
			}
		}
	}
	return out, err
}

// TestBrokenBackend is run by TestKitCatchesDefects in a child process.
func TestBrokenBackend(t *testing.T) {
	if os.Getenv("KEEN_BACKENDTEST_BROKEN") == "" {
		t.Skip("run by TestKitCatchesDefects")
	}
	RunAll(t, func() (backends.Backend, error) { return broken{cpu.New()}, nil })
}

// TestKitCatchesDefects runs the kit on the broken backend in a child
// process and checks which subtests fail.
func TestKitCatchesDefects(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenBackend$", "-test.v", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), "KEEN_BACKENDTEST_BROKEN=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a broken backend:\n%s", out)
	}
	for _, c := range []struct {
		result, test string
	}{
		{"FAIL", "Capabilities"},
		{"FAIL", "UnknownOp"},
		{"FAIL", "HostCopies"},
		{"FAIL", "Ops/Add/2x3x4\\+3x1"},
		{"FAIL", "Ops/Add/scalar\\+2x3"},
		{"FAIL", "BadInputs/MatMul/inner"},
		{"FAIL", "Concurrency"},
		{"PASS", "RoundTrip"},
		{"PASS", "Ops/Sub"},
		{"PASS", "Ops/Add/int64"},
		{"PASS", "Ops/MatMul/3x4@4x5"},
		{"PASS", "BadInputs/Conv/channels"},
	} {
		re := regexp.MustCompile(`--- ` + c.result + `: TestBrokenBackend/` + c.test + ` `)
		if !re.Match(out) {
			t.Errorf("want %s of %s in the child's output", c.result, c.test)
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

func TestCovers(t *testing.T) {
	caps := []backends.Capability{
		{Op: "Add", Since: 7, Until: 13},
		{Domain: "ai.onnx", Op: "Add", Since: 14, DTypes: []ir.DType{ir.Float32, ir.Int64}},
		{Domain: "com.x", Op: "Foo", Since: 1},
	}
	f32 := []ir.DType{ir.Float32, ir.Float32}
	for _, c := range []struct {
		spec backends.OpSpec
		want bool
	}{
		{backends.OpSpec{Op: "Add", Version: 6, InputTypes: f32}, false},
		{backends.OpSpec{Op: "Add", Version: 7, InputTypes: f32}, true},
		{backends.OpSpec{Op: "Add", Version: 13, InputTypes: []ir.DType{ir.Uint8}}, true},
		{backends.OpSpec{Op: "Add", Version: 21, InputTypes: f32}, true},
		{backends.OpSpec{Op: "Add", Version: 21, InputTypes: []ir.DType{ir.Float32, ir.Float16}}, false},
		{backends.OpSpec{Op: "Add", Version: 21, InputTypes: []ir.DType{ir.Int64, ir.Undefined}}, true},
		{backends.OpSpec{Domain: "com.x", Op: "Foo", Version: 1}, true},
		{backends.OpSpec{Op: "Foo", Version: 1}, false},
		{backends.OpSpec{Op: "Sub", Version: 14}, false},
	} {
		if got := covers(caps, &c.spec); got != c.want {
			t.Errorf("covers(%v %v) = %v, want %v", &c.spec, c.spec.InputTypes, got, c.want)
		}
	}
}

func TestAgree(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	v := func(x ...float32) *ir.Tensor { return ir.FromSlice(x, len(x)) }
	for _, c := range []struct {
		got, want *ir.Tensor
		tol       float64
		ok        bool
	}{
		{v(1, 2), v(1, 2), 0, true},
		{v(1, 2.00001), v(1, 2), 0, false},
		{v(1, 2.00001), v(1, 2), 1e-5, true},
		{v(1, 2.001), v(1, 2), 1e-5, false},
		{v(nan, inf), v(nan, inf), 1e-5, true},
		{v(nan), v(1), 1e-5, false},
		{v(inf), v(-inf), 1e-5, false},
		{v(float32(math.Copysign(0, -1))), v(0), 0, false},
		{v(1, 2), ir.FromSlice([]float32{1, 2}, 2, 1), 1e-5, false},
		{ir.FromSlice([]float64{1}, 1), v(1), 1e-5, false},
		{ir.FromSlice([]int64{3, 4}, 2), ir.FromSlice([]int64{3, 4}, 2), 1e-5, true},
		{ir.FromSlice([]int64{3, 5}, 2), ir.FromSlice([]int64{3, 4}, 2), 1e-5, false},
		{ir.FromSlice([]string{"a"}, 1), ir.FromSlice([]string{"b"}, 1), 0, false},
		{toSmall(ir.Float16, v(1.0005)), toSmall(ir.Float16, v(1)), 2e-3, true},
	} {
		err := agree(c.got, c.want, c.tol)
		if (err == nil) != c.ok {
			t.Errorf("agree(%v, %v, %g) = %v, want ok=%v", c.got, c.want, c.tol, err, c.ok)
		}
	}
}

func TestTooOld(t *testing.T) {
	caps := []backends.Capability{{Op: "Add", Since: 1}, {Op: "Where", Since: 9}, {Op: "Where", Since: 16},
		{Op: "Gelu", Since: 20}, {Domain: "com.x", Op: "Foo", Since: 30}}
	s := tooOld(caps)
	if s == nil || s.Op != "Gelu" || s.Version != 19 {
		t.Fatalf("tooOld = %v, want Gelu at opset 19", s)
	}
	if s := tooOld(caps[:1]); s != nil {
		t.Errorf("tooOld of ops all since 1 = %v, want nil", s)
	}
}

func TestRandomTensorsAreValid(t *testing.T) {
	r := newRand(3)
	for _, dt := range AllDTypes {
		x := randomTensor(r, dt, 3, 7)
		if err := x.Validate(); err != nil {
			t.Errorf("%v: %v", dt, err)
		}
		lo, hi := intRange(dt)
		if dt.IsInt() && dt.Bits() <= 32 {
			for i := range x.Len() {
				if v := x.Float64At(i); v < float64(lo) || v > float64(hi) {
					t.Errorf("%v: element %d = %v outside [%d, %d]", dt, i, v, lo, hi)
				}
			}
		}
	}
	// Every shape of RoundTrip with every dtype is a valid tensor.
	var errs []error
	for _, s := range roundTripShapes {
		errs = append(errs, randomTensor(r, ir.String, s...).Validate())
	}
	if err := errors.Join(errs...); err != nil {
		t.Error(err)
	}
}
