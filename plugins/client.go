package plugins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// ErrDied is wrapped by every error of a plugin whose process is gone
// (crashed, killed, or stopped after it hung). The host keeps running; to go
// on, open the backend again (backends.Forget, then backends.Open) or move
// to another backend.
var ErrDied = errors.New("plugin process is gone")

// DefaultTimeout bounds one call to a plugin: a batch that takes longer is
// taken for a hang, and the plugin is stopped. $KEEN_PLUGIN_TIMEOUT (a Go
// duration) overrides it.
const DefaultTimeout = 2 * time.Minute

// Options tune Start.
type Options struct {
	// Name is the backend's name (default "plugin:PATH").
	Name string
	// Timeout bounds each call (0: $KEEN_PLUGIN_TIMEOUT, else DefaultTimeout).
	Timeout time.Duration
	// BatchSize is how many commands are queued before they are sent
	// without waiting for a sync (0: 512).
	BatchSize int
	// Env is added to the plugin's environment.
	Env []string
	// NoShm sends all tensor data inside messages.
	NoShm bool
	// AsyncPrepare queues Prepare with the ops instead of asking the plugin
	// at once. It saves a round trip per new kernel, but then only ops and
	// dtypes missing from Capabilities fail in Prepare (and fall back to the
	// CPU); other Prepare errors surface at the next sync. It is always on
	// when the plugin serves the CPU backend, whose Prepare errors the CPU
	// fallback would only repeat.
	AsyncPrepare bool
}

// Client is a backend served by a plugin process. It implements
// backends.Backend; see the package documentation for how work is batched.
type Client struct {
	name    string
	path    string
	pc      *plugin.Client
	cmd     *exec.Cmd
	rpc     pb.BackendClient
	info    *pb.InfoReply
	caps    []backends.Capability
	opt     Options
	stderr  *tail
	threads atomic.Int32

	nextID     atomic.Uint64
	nextKernel atomic.Uint64

	mu      sync.Mutex // guards cur, last and stopped
	cur     *batch     // being filled
	last    *batch     // most recently sent
	stopped bool       // Close ran: nothing more is sent
	sendq   chan *batch

	// The sender goroutine owns the area.
	area *area

	errMu      sync.Mutex
	dead       error // set once the process is gone
	unreported error // first failure no Sync has reported yet
	closed     bool

	freeMu sync.Mutex
	frees  []uint64 // buffers to free with the next batch
	kfrees []uint64 // kernels to drop with the next batch

	produced atomic.Int64 // bytes of outputs since the last forced GC
}

// Start launches the plugin binary at path and connects to it.
func Start(path string, opt Options) (*Client, error) {
	if opt.Name == "" {
		opt.Name = "plugin:" + path
	}
	if opt.Timeout == 0 {
		opt.Timeout = DefaultTimeout
		if d, err := time.ParseDuration(os.Getenv("KEEN_PLUGIN_TIMEOUT")); err == nil && d > 0 {
			opt.Timeout = d
		}
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 512
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", opt.Name, err)
	}
	c := &Client{name: opt.Name, path: path, opt: opt, stderr: &tail{}, sendq: make(chan *batch, 1)}
	cmd := exec.Command(path)
	cmd.Env = append(cmd.Env, opt.Env...)
	if !opt.NoShm {
		if a, err := newArea(4 << 20); err == nil {
			c.area = a
			cmd.ExtraFiles = []*os.File{a.f}
			cmd.Env = append(cmd.Env, shmEnv+"="+strconv.Itoa(3))
		}
	}
	c.cmd = cmd
	c.pc = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{pluginName: &grpcPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
		Stderr:           c.stderr,
		StartTimeout:     30 * time.Second,
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMessage), grpc.MaxCallSendMsgSize(maxMessage))},
	})
	if err := c.connect(); err != nil {
		c.pc.Kill()
		if c.area != nil {
			c.area.close()
		}
		return nil, err
	}
	c.cur = c.newBatch()
	go c.sender()
	return c, nil
}

func (c *Client) connect() error {
	proto, err := c.pc.Client()
	if err != nil {
		if v, ok := otherVersion(err); ok {
			return fmt.Errorf("plugins: %s: %s speaks protocol version %s, this host speaks %d: rebuild the plugin (make plugins)",
				c.name, c.path, v, ProtocolVersion)
		}
		if strings.HasPrefix(err.Error(), "Unrecognized remote plugin message") {
			return fmt.Errorf("plugins: %s: %s is not a Keen backend plugin (no handshake on its stdout)%s", c.name, c.path, c.stderr.note())
		}
		return fmt.Errorf("plugins: %s: starting %s: %v%s", c.name, c.path, err, c.stderr.note())
	}
	raw, err := proto.Dispense(pluginName)
	if err != nil {
		return fmt.Errorf("plugins: %s: %v", c.name, err)
	}
	c.rpc = raw.(pb.BackendClient)
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	defer cancel()
	c.info, err = c.rpc.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return c.callError("Info", err)
	}
	if c.info.InitError != "" {
		return &InitError{Name: c.name, Reason: c.info.InitError}
	}
	if c.area != nil && !c.info.Shm {
		c.area.close()
		c.area = nil
	}
	c.caps = withoutInPlace(decodeCaps(c.info.Caps))
	// A Prepare error of the CPU backend would meet the same CPU kernels in
	// eager's fallback, so for it there is nothing to gain by waiting.
	if c.info.Name == "cpu" {
		c.opt.AsyncPrepare = true
	}
	c.threads.Store(c.info.Threads)
	return nil
}

// otherVersion finds the plugin's version in go-plugin's refusal of it.
func otherVersion(err error) (string, bool) {
	msg := err.Error()
	if !strings.Contains(msg, "incompatible API version") {
		return "", false
	}
	_, v, _ := strings.Cut(msg, "Plugin version: ")
	v, _, _ = strings.Cut(v, ",")
	return v, v != ""
}

// InitError reports a plugin whose backend could not open (no driver, no
// device, ...). Reason is the backend's own words.
type InitError struct{ Name, Reason string }

func (e *InitError) Error() string {
	return fmt.Sprintf("plugins: %s: the backend did not start: %s", e.Name, e.Reason)
}

func (c *Client) Name() string { return c.name }

// Pid is the plugin's process id.
func (c *Client) Pid() int { return int(c.info.Pid) }

// Describe reports the served backend and how data travels.
func (c *Client) Describe() string {
	via := "data inline"
	if c.area != nil {
		via = "shared memory"
	}
	s := fmt.Sprintf("plugin %s, pid %d, protocol %d, %s", c.info.Name, c.info.Pid, ProtocolVersion, via)
	if c.info.Describe != "" {
		s += "; " + c.info.Describe
	}
	return s
}

func (c *Client) Capabilities() []backends.Capability { return c.caps }

// SetThreads sets the plugin backend's thread count, if it has one.
func (c *Client) SetThreads(n int) {
	if c.threads.Load() == 0 || c.failed() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	defer cancel()
	r, err := c.rpc.SetThreads(ctx, &pb.SetThreadsRequest{N: int32(n)})
	if err != nil {
		c.die(c.callError("SetThreads", err))
		return
	}
	c.threads.Store(r.Threads)
}

func (c *Client) Threads() int { return int(c.threads.Load()) }

// Prepare resolves a kernel on the plugin. Ops and dtypes missing from the
// plugin's Capabilities fail at once without a round trip.
func (c *Client) Prepare(spec *backends.OpSpec) (backends.Kernel, error) {
	if err := c.failed(); err != nil {
		return nil, err
	}
	if why := c.lacks(spec); why != "" {
		return nil, fmt.Errorf("plugins: %s: %v: %s: %w", c.name, spec, why, backends.ErrNotImplemented)
	}
	ps, err := encodeSpec(spec)
	if err != nil {
		if errors.Is(err, errNoWire) {
			return nil, fmt.Errorf("plugins: %s: %v: %v: %w", c.name, spec, err, backends.ErrNotImplemented)
		}
		return nil, fmt.Errorf("plugins: %s: %v: %w", c.name, spec, err)
	}
	k := &kernel{c: c, id: c.nextKernel.Add(1), spec: spec, desc: spec.String(), infer: inferDTypes(spec)}
	runtime.AddCleanup(k, dropKernel, freeArg{c, k.id})
	if c.opt.AsyncPrepare {
		c.mu.Lock()
		c.cur.add(&pb.Command{Kind: pb.Command_PREPARE, Kernel: k.id, Spec: ps}, cmdRec{k: k})
		c.mu.Unlock()
		return k, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	defer cancel()
	r, err := c.rpc.Prepare(ctx, &pb.PrepareRequest{Kernel: k.id, Spec: ps})
	if err != nil {
		err = c.callError("Prepare", err)
		c.die(err)
		return nil, err
	}
	if r.Error != "" {
		return nil, &remoteError{backend: c.name, msg: r.Error, notImpl: r.NotImplemented}
	}
	return k, nil
}

// lacks says why the capability table rules spec out ("" if it does not).
func (c *Client) lacks(spec *backends.OpSpec) string {
	dom := ir.NormDomain(spec.Domain)
	why := "not served by this backend"
	for i := range c.caps {
		cp := &c.caps[i]
		if cp.Op != spec.Op || ir.NormDomain(cp.Domain) != dom || cp.Since > spec.Version && spec.Version != 0 ||
			cp.Until != 0 && spec.Version > cp.Until {
			continue
		}
		if len(cp.DTypes) == 0 {
			return ""
		}
		missing := missingDType(cp.DTypes, spec.InputTypes)
		if missing == ir.Undefined {
			return ""
		}
		why = fmt.Sprintf("dtype %v not served", missing)
	}
	return why
}

func missingDType(have, want []ir.DType) ir.DType {
	for _, w := range want {
		if w == ir.Undefined {
			continue
		}
		ok := false
		for _, h := range have {
			ok = ok || h == w
		}
		if !ok {
			return w
		}
	}
	return ir.Undefined
}

// Close stops the plugin. Queued work is dropped, and the backend's buffers
// are gone.
func (c *Client) Close() error {
	c.errMu.Lock()
	if c.closed {
		c.errMu.Unlock()
		return nil
	}
	c.closed = true
	dead := c.dead
	c.errMu.Unlock()
	var err error
	if dead == nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
		r, cerr := c.rpc.Close(ctx, &pb.CloseRequest{})
		cancel()
		if cerr == nil && r.Error != "" {
			err = fmt.Errorf("plugins: %s: %s", c.name, r.Error)
		}
	}
	c.pc.Kill()
	c.mu.Lock()
	c.stopped = true
	close(c.sendq)
	c.mu.Unlock()
	return err
}

// remoteError is an error the plugin reported.
type remoteError struct {
	backend string
	msg     string
	notImpl bool
}

func (e *remoteError) Error() string { return e.backend + ": " + e.msg }

func (e *remoteError) Is(target error) bool {
	return e.notImpl && target == backends.ErrNotImplemented
}

// tail keeps the end of the plugin's stderr for error reports.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-2048:]...)
	}
	return len(p), nil
}

// note is the stderr tail formatted for an error message ("" if empty).
func (t *tail) note() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) == 0 {
		return ""
	}
	return "; plugin stderr: " + string(t.buf)
}

var _ io.Writer = (*tail)(nil)
