package plugins

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/ir"
)

// The test binary doubles as the plugin: started with $KEEN_TEST_PLUGIN set,
// it serves a test backend instead of running tests.
const testModeEnv = "KEEN_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(testModeEnv) {
	case "":
		os.Exit(m.Run())
	case "test":
		Serve(func() (backends.Backend, error) { return newTestBackend(), nil })
	case "cpu":
		Serve(func() (backends.Backend, error) { return cpu.New(), nil })
	case "v99":
		hs := Handshake
		hs.ProtocolVersion = 99
		serve(func() (backends.Backend, error) { return newTestBackend(), nil }, hs)
	case "broken":
		Serve(func() (backends.Backend, error) { return nil, errors.New("libcuda.so.1 not found") })
	}
	os.Exit(0)
}

// startTest starts the test binary as a plugin serving the test backend.
func startTest(t testing.TB, opt Options) *Client {
	t.Helper()
	opt.Env = append(opt.Env, testModeEnv+"=test")
	c, err := Start(os.Args[0], opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testBackend is the CPU backend plus a few ops in domain "keen.test" whose
// behaviour the tests control (sleeps, crashes, failures, data-dependent
// shapes), so the protocol is tested whatever kernels the CPU has.
type testBackend struct {
	*cpu.Backend
	live atomic.Int64 // buffers not released
}

func newTestBackend() *testBackend { return &testBackend{Backend: cpu.New()} }

const testDomain = "keen.test"

var testOps = []string{"Add", "Sleep", "Crash", "Panic", "Fail", "Head", "Same", "Absent", "Live", "Neg64"}

func (b *testBackend) Name() string { return "keentest" }

func (b *testBackend) Capabilities() []backends.Capability {
	caps := b.Backend.Capabilities()
	for _, op := range testOps {
		caps = append(caps, backends.Capability{Domain: testDomain, Op: op, Since: 1})
	}
	return caps
}

func (b *testBackend) FromHost(t *ir.Tensor) (backends.Buffer, error) {
	buf, err := b.Backend.FromHost(t)
	if err == nil {
		b.live.Add(1)
	}
	return buf, err
}

func (b *testBackend) Release(backends.Buffer) { b.live.Add(-1) }

func (b *testBackend) Prepare(s *backends.OpSpec) (backends.Kernel, error) {
	if s.Domain == "" && s.Op == "Softsign" { // a wrong kernel: its output has the wrong shape
		return testKernel{b: b, s: s}, nil
	}
	if s.Domain != testDomain {
		return b.Backend.Prepare(s)
	}
	for _, op := range testOps {
		if op == s.Op {
			return testKernel{b: b, s: s}, nil
		}
	}
	return nil, fmt.Errorf("keentest: %v: %w", s, backends.ErrNotImplemented)
}

type testKernel struct {
	b *testBackend
	s *backends.OpSpec
}

func (k testKernel) out(t *ir.Tensor) backends.Buffer {
	k.b.live.Add(1)
	return &cpu.Buf{T: t}
}

func (k testKernel) Run(in []backends.Buffer) ([]backends.Buffer, error) {
	host := func(i int) *ir.Tensor { return in[i].(*cpu.Buf).T }
	switch k.s.Op {
	case "Add": // float32 x + y, same shapes
		x, y := ir.Data[float32](host(0)), ir.Data[float32](host(1))
		if len(x) != len(y) {
			return nil, fmt.Errorf("keentest: %v: shapes %v and %v differ", k.s, host(0).Shape, host(1).Shape)
		}
		z := make([]float32, len(x))
		for i := range z {
			z[i] = x[i] + y[i]
		}
		return []backends.Buffer{k.out(&ir.Tensor{DType: ir.Float32, Shape: host(0).Shape, Data: z})}, nil
	case "Neg64": // float64 -x
		x := ir.Data[float64](host(0))
		z := make([]float64, len(x))
		for i := range z {
			z[i] = -x[i]
		}
		return []backends.Buffer{k.out(&ir.Tensor{DType: ir.Float64, Shape: host(0).Shape, Data: z})}, nil
	case "Sleep": // copy of input 0 after ms milliseconds
		time.Sleep(time.Duration(k.s.Attrs.Int("ms", 0)) * time.Millisecond)
		return []backends.Buffer{k.out(host(0).Clone())}, nil
	case "Crash":
		os.Exit(7)
	case "Panic":
		panic("keentest: deliberate panic")
	case "Fail":
		return nil, fmt.Errorf("keentest: %v: deliberate failure", k.s)
	case "Head": // the first k values of input 0, k the int64 input 1
		n := int(ir.Data[int64](host(1))[0])
		x := append([]float32(nil), ir.Data[float32](host(0))[:n]...)
		return []backends.Buffer{k.out(ir.FromSlice(x, n))}, nil
	case "Same": // returns its input buffer twice
		return []backends.Buffer{in[0], in[0]}, nil
	case "Softsign":
		return []backends.Buffer{k.out(ir.FromSlice([]float32{1}, 1))}, nil
	case "Absent":
		return []backends.Buffer{nil}, nil
	case "Live": // the number of buffers not released
		return []backends.Buffer{k.out(ir.Scalar(k.b.live.Load()))}, nil
	}
	return nil, errors.New("unreachable")
}
