package plugins

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/keenml/keen/backends"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// Serve serves the backend open returns to a Keen host and returns when the
// host is done with it. It is the whole main of a plugin binary:
//
//	func main() { plugins.Serve(func() (backends.Backend, error) { return cpu.New(), nil }) }
//
// When open fails, the plugin still answers the host, which reports open's
// error as the reason the backend is unavailable.
func Serve(open func() (backends.Backend, error)) { serve(open, Handshake) }

func serve(open func() (backends.Backend, error), hs plugin.HandshakeConfig) {
	s := newServer(open)
	go watchParent()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{pluginName: &grpcPlugin{srv: s}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, grpc.MaxRecvMsgSize(maxMessage), grpc.MaxSendMsgSize(maxMessage))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr, JSONFormat: true}),
	})
}

// watchParent ends the plugin when its host dies without stopping it.
func watchParent() {
	parent := os.Getppid()
	for range time.Tick(time.Second) {
		if os.Getppid() != parent {
			os.Exit(3)
		}
	}
}

// server runs commands on a backend. Buffers and kernels are kept under the
// ids the host chose; failed maps the ids of outputs that were never made to
// why, so later commands using them name the op that failed.
type server struct {
	pb.UnimplementedBackendServer
	b       backends.Backend
	initErr error
	area    *area

	mu      sync.Mutex
	kernels map[uint64]*srvKernel
	bufs    map[uint64]backends.Buffer
	refs    map[backends.Buffer]int // a kernel may return one buffer twice
	failed  map[uint64]string
}

type srvKernel struct {
	k       backends.Kernel
	spec    *backends.OpSpec
	err     string // Prepare failed
	notImpl bool
}

func newServer(open func() (backends.Backend, error)) *server {
	s := &server{kernels: map[uint64]*srvKernel{}, bufs: map[uint64]backends.Buffer{},
		refs: map[backends.Buffer]int{}, failed: map[uint64]string{}}
	func() {
		defer func() {
			if r := recover(); r != nil {
				s.initErr = fmt.Errorf("panic while opening the backend: %v", r)
			}
		}()
		s.b, s.initErr = open()
	}()
	if s.initErr == nil && s.b == nil {
		s.initErr = errors.New("no backend")
	}
	if fd := os.Getenv(shmEnv); fd != "" {
		if n, err := strconv.Atoi(fd); err == nil {
			s.area, _ = openArea(uintptr(n)) // without it, data travels inline
		}
	}
	return s
}

func (s *server) Info(context.Context, *pb.InfoRequest) (*pb.InfoReply, error) {
	r := &pb.InfoReply{Pid: int64(os.Getpid()), Shm: s.area != nil}
	if s.initErr != nil {
		r.InitError = s.initErr.Error()
		return r, nil
	}
	r.Name = s.b.Name()
	if d, ok := s.b.(backends.Describer); ok {
		r.Describe = d.Describe()
	}
	if t, ok := s.b.(backends.Threader); ok {
		r.Threads = int32(t.Threads())
	}
	r.Caps = encodeCaps(s.b.Capabilities())
	return r, nil
}

func (s *server) ready() error {
	if s.initErr != nil {
		return fmt.Errorf("plugins: the backend did not start: %v", s.initErr)
	}
	return nil
}

func (s *server) Prepare(_ context.Context, req *pb.PrepareRequest) (*pb.PrepareReply, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.prepare(req.Kernel, req.Spec)
	return &pb.PrepareReply{Error: k.err, NotImplemented: k.notImpl}, nil
}

func (s *server) prepare(id uint64, ps *pb.OpSpec) (k *srvKernel) {
	k = &srvKernel{}
	s.kernels[id] = k
	spec, err := decodeSpec(ps)
	if err != nil {
		k.err = "plugins: bad op spec: " + err.Error()
		return k
	}
	k.spec = spec
	defer func() {
		if r := recover(); r != nil {
			k.err = fmt.Sprintf("%v: panic in Prepare: %v", spec, r)
		}
	}()
	k.k, err = s.b.Prepare(spec)
	if err != nil {
		k.err, k.notImpl = err.Error(), errors.Is(err, backends.ErrNotImplemented)
	}
	return k
}

func (s *server) SetThreads(_ context.Context, req *pb.SetThreadsRequest) (*pb.SetThreadsReply, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	t, ok := s.b.(backends.Threader)
	if !ok {
		return &pb.SetThreadsReply{}, nil
	}
	t.SetThreads(int(req.N))
	return &pb.SetThreadsReply{Threads: int32(t.Threads())}, nil
}

func (s *server) Close(context.Context, *pb.CloseRequest) (*pb.CloseReply, error) {
	if s.initErr != nil {
		return &pb.CloseReply{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bufs, s.failed, s.refs = map[uint64]backends.Buffer{}, map[uint64]string{}, map[backends.Buffer]int{}
	if err := s.b.Close(); err != nil {
		return &pb.CloseReply{Error: err.Error()}, nil
	}
	return &pb.CloseReply{}, nil
}

// Exec runs a batch in order. A command that fails is reported and the
// batch goes on: commands that need its outputs fail in turn, naming it.
func (s *server) Exec(_ context.Context, b *pb.Batch) (*pb.BatchReply, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var mem []byte
	if s.area != nil {
		if err := s.area.follow(b.ShmSize); err != nil {
			return nil, fmt.Errorf("plugins: %w", err)
		}
		mem = s.area.mem
	}
	x := &execState{s: s, rep: &pb.BatchReply{}, mem: mem, off: align(b.ShmUsed)}
	for i, c := range b.Cmds {
		if err := x.run(c); err != "" {
			x.rep.Failures = append(x.rep.Failures, &pb.Failure{Index: uint32(i), Error: err, NotImplemented: x.notImpl})
		}
	}
	for _, id := range b.Free {
		s.free(id)
	}
	for _, id := range b.FreeKernels {
		delete(s.kernels, id)
	}
	if err := s.b.Sync(); err != nil {
		x.rep.SyncError = err.Error()
	}
	if s.area != nil && uint64(len(s.area.mem)) > b.ShmSize {
		x.rep.ShmSize = uint64(len(s.area.mem))
	}
	return x.rep, nil
}

func (s *server) store(id uint64, buf backends.Buffer) {
	s.bufs[id] = buf
	s.refs[buf]++
}

func (s *server) free(id uint64) {
	delete(s.failed, id)
	buf, ok := s.bufs[id]
	if !ok {
		return
	}
	delete(s.bufs, id)
	if s.refs[buf]--; s.refs[buf] <= 0 {
		delete(s.refs, buf)
		s.b.Release(buf)
	}
}

// lookup finds an input buffer, or says why it is not there.
func (s *server) lookup(id uint64) (backends.Buffer, string) {
	if buf, ok := s.bufs[id]; ok {
		return buf, ""
	}
	if why, ok := s.failed[id]; ok {
		return nil, why
	}
	return nil, fmt.Sprintf("buffer %d does not exist (released?)", id)
}

func align(n uint64) uint64 { return (n + 63) &^ 63 }

// metaOf describes an output for the host.
func metaOf(id uint64, buf backends.Buffer) *pb.Meta {
	return &pb.Meta{Id: id, Dtype: int32(buf.DType()), Shape: ints64(buf.Shape())}
}

// stack returns a short stack for panic reports.
func stack() string {
	s := string(debug.Stack())
	if len(s) > 2000 {
		s = s[:2000]
	}
	return s
}
