package plugins

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// TestKillMidRun kills the plugin with SIGKILL while it runs a batch: the
// host gets an error naming the plugin, and goes on, first on another
// backend (the same kernels in process), then on a restarted plugin.
func TestKillMidRun(t *testing.T) {
	t.Setenv(testModeEnv, "test") // plugins started through the registry serve the test backend
	name := "plugin:" + os.Args[0]
	backends.Forget(name)
	dev, err := backends.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	c := dev.(*Client)
	defer c.Close()
	x := upload(t, c, ir.FromSlice([]float32{1, 2}, 2))
	sleep := prep(t, c, "Sleep", 1, ir.Attrs{ir.IntAttr("ms", 10_000)}, ir.Float32)
	y := run(t, sleep, x)[0]
	done := make(chan error)
	start := time.Now()
	go func() { done <- c.Sync() }()
	time.Sleep(300 * time.Millisecond) // the batch is running in the plugin
	if err := syscall.Kill(c.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = <-done
	t.Log(err)
	if !errors.Is(err, ErrDied) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Sync after SIGKILL: %v", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("the host noticed the death after %v", d)
	}
	if _, err := c.ToHost(y); !errors.Is(err, ErrDied) {
		t.Fatalf("ToHost after death: %v", err)
	}
	if _, err := c.FromHost(ir.Scalar(float32(1))); !errors.Is(err, ErrDied) {
		t.Fatalf("FromHost after death: %v", err)
	}

	// Go on with the in-process CPU backend.
	local, err := backends.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	add := prepOp(t, local, "Add", 14, ir.Float32, ir.Float32)
	a := upload(t, local, ir.FromSlice([]float32{1, 2}, 2))
	if got := ir.Data[float32](fetch(t, local, run(t, add, a, a)[0])); got[0] != 2 || got[1] != 4 {
		t.Fatalf("on the CPU after the plugin died: %v", got)
	}

	// Or restart the plugin.
	backends.Forget(name)
	dev2, err := backends.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer dev2.Close()
	add2 := prep(t, dev2, "Add", 1, nil, ir.Float32, ir.Float32)
	b := upload(t, dev2, ir.FromSlice([]float32{3}, 1))
	if got := ir.Data[float32](fetch(t, dev2, run(t, add2, b, b)[0])); got[0] != 6 {
		t.Fatalf("restarted plugin: %v", got)
	}
	backends.Forget(name)
}

func TestCrash(t *testing.T) {
	c := startTest(t, Options{})
	x := upload(t, c, ir.FromSlice([]float32{1}, 1))
	run(t, prep(t, c, "Crash", 1, nil, ir.Float32), x)
	err := c.Sync()
	t.Log(err)
	if !errors.Is(err, ErrDied) || !strings.Contains(err.Error(), "exit status 7") {
		t.Fatalf("Sync after a crash: %v", err)
	}
	if _, err := c.Prepare(&backends.OpSpec{Domain: testDomain, Op: "Add", Version: 1, NumOutputs: 1}); !errors.Is(err, ErrDied) {
		t.Fatalf("Prepare after a crash: %v", err)
	}
}

func TestHang(t *testing.T) {
	c := startTest(t, Options{Timeout: 2 * time.Second})
	x := upload(t, c, ir.FromSlice([]float32{1}, 1))
	run(t, prep(t, c, "Sleep", 1, ir.Attrs{ir.IntAttr("ms", 60_000)}, ir.Float32), x)
	start := time.Now()
	err := c.Sync()
	t.Log(err)
	if !errors.Is(err, ErrDied) || !strings.Contains(err.Error(), "did not answer within 2s") {
		t.Fatalf("Sync on a hung plugin: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("took %v to give up", d)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !c.pc.Exited() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !c.pc.Exited() {
		t.Fatal("the hung plugin was not stopped")
	}
}

func TestProtocolMismatch(t *testing.T) {
	_, err := Start(os.Args[0], Options{Env: []string{testModeEnv + "=v99"}})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "protocol version 99") || !strings.Contains(err.Error(), "speaks 1") {
		t.Fatalf("Start of a version-99 plugin: %v", err)
	}
}

func TestInitError(t *testing.T) {
	_, err := Start(os.Args[0], Options{Env: []string{testModeEnv + "=broken"}})
	var ie *InitError
	if !errors.As(err, &ie) || ie.Reason != "libcuda.so.1 not found" {
		t.Fatalf("Start of a plugin whose backend fails: %v", err)
	}
}

func TestNotAPlugin(t *testing.T) {
	_, err := Start("/bin/true", Options{})
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), "/bin/true") {
		t.Fatalf("Start of a non-plugin: %v", err)
	}
	_, err = backends.Open("plugin:/no/such/binary")
	if err == nil || !strings.Contains(err.Error(), "/no/such/binary") {
		t.Fatalf("Open of a missing binary: %v", err)
	}
}

func TestCUDAOpenerSaysWhy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Chdir(t.TempDir())
	_, err := backends.Open("cuda")
	if err == nil {
		t.Skip("a cuda plugin was found next to the test binary")
	}
	msg := err.Error()
	t.Log(msg)
	if !strings.HasPrefix(msg, "cuda: plugin binary keen-backend-cuda not found") || !strings.Contains(msg, "$PATH") {
		t.Fatalf("cuda without a binary: %v", err)
	}
}

// TestCUDAPluginSaysWhy builds keen-backend-cuda, puts it on PATH and opens
// "cuda": without a driver the error is the plugin's own reason.
func TestCUDAPluginSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, CUDABinary), "./cmd/keen-backend-cuda")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	t.Setenv("PATH", dir)
	t.Chdir(t.TempDir()) // no bin/ of a module on the way
	backends.Forget("cuda")
	dev, err := backends.Open("cuda")
	if err == nil {
		t.Logf("a CUDA device is present: %s", dev.(*Client).Describe())
		backends.Forget("cuda")
		dev.Close()
		return
	}
	t.Log(err)
	if !strings.HasPrefix(err.Error(), "cuda: ") || strings.HasPrefix(err.Error(), "cuda: cuda:") ||
		!strings.Contains(err.Error(), "not found") && !strings.Contains(err.Error(), "device") {
		t.Fatalf("cuda without a GPU: %v", err)
	}
}
