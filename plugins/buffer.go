package plugins

import (
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// Buf is a buffer of a plugin backend: an id into the plugin's memory.
//
// Its dtype is known at once when it comes from FromHost, when the op's
// schema fixes it, or when the kernel has run before; its shape is known at
// once for FromHost and for the elementwise ops and MatMul whose input
// shapes are known to ir's inference (see shapes.go). Otherwise DType and Shape send the
// queued work and wait for the plugin's answer. When the op that makes the
// buffer failed, Shape returns nil (or the guessed shape) and DType what was
// known; the error itself comes from ToHost or Sync.
type Buf struct {
	c        *Client
	id       uint64
	m        *meta
	released atomic.Bool
	cleanup  runtime.Cleanup
}

// meta is what the host knows of a buffer. Fields marked fixed are set at
// creation; the others are written by the sender goroutine before b.done
// closes and read only after it.
type meta struct {
	b          *batch // the batch that makes the buffer
	k          *kernel
	idx        int // output index of k
	dtFixed    bool
	shapeFixed bool
	dtype      ir.DType
	shape      []int
	value      *ir.Tensor // a small integer tensor's values, kept for inference
	err        error
}

// settled returns the meta's error once its batch was answered (nil before).
func (m *meta) settled() (done bool, err error) {
	select {
	case <-m.b.done:
		return true, m.err
	default:
		return false, nil
	}
}

func (b *Buf) DType() ir.DType {
	if !b.m.dtFixed {
		b.c.wait(b.m.b)
	}
	return b.m.dtype
}

func (b *Buf) Shape() []int {
	if !b.m.shapeFixed {
		b.c.wait(b.m.b)
	}
	return b.m.shape
}

func (c *Client) newBuf(id uint64, m *meta) *Buf {
	b := &Buf{c: c, id: id, m: m}
	b.cleanup = runtime.AddCleanup(b, freeID, freeArg{c, id})
	return b
}

type freeArg struct {
	c  *Client
	id uint64
}

// freeID runs when a Buf is collected: its remote buffer is freed with the
// next batch.
func freeID(a freeArg) { a.c.queueFree(a.id) }

// dropKernel runs when a kernel is collected: the plugin drops it with the
// next batch.
func dropKernel(a freeArg) {
	a.c.freeMu.Lock()
	a.c.kfrees = append(a.c.kfrees, a.id)
	a.c.freeMu.Unlock()
}

func (c *Client) queueFree(id uint64) {
	c.freeMu.Lock()
	c.frees = append(c.frees, id)
	c.freeMu.Unlock()
}

// own checks that buf is a live buffer of this client; what names it in
// the error (formatted only then).
func (c *Client) own(buf backends.Buffer, what func() string) (*Buf, error) {
	b, ok := buf.(*Buf)
	if !ok || b.c != c {
		return nil, fmt.Errorf("plugins: %s: %s is a %T buffer of another backend", c.name, what(), buf)
	}
	if b.released.Load() {
		return nil, fmt.Errorf("plugins: %s: %s was released", c.name, what())
	}
	return b, nil
}

// FromHost copies t and queues the copy for the plugin: small tensors go
// inside the message, larger ones into shared memory when the batch is sent.
func (c *Client) FromHost(t *ir.Tensor) (backends.Buffer, error) {
	if err := c.failed(); err != nil {
		return nil, err
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("plugins: %s: FromHost: %w", c.name, err)
	}
	id := c.nextID.Add(1)
	m := &meta{dtype: t.DType, dtFixed: true, shape: append([]int{}, t.Shape...), shapeFixed: true}
	if keepValue(t) {
		m.value = t.Clone()
	}
	cmd := &pb.Command{Kind: pb.Command_UPLOAD, Id: id}
	rec := cmdRec{m: m}
	n := rawSize(t.DType, t.Shape)
	pt, err := encodeTensor(t)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: FromHost: %w", c.name, err)
	}
	pt.Raw = append([]byte(nil), pt.Raw...)
	cmd.Tensor = pt
	if t.DType != ir.String && n >= shmMin {
		rec.raw, pt.Raw = pt.Raw, nil // placed when the batch is sent
	}
	c.mu.Lock()
	m.b = c.cur
	c.cur.add(cmd, rec)
	c.cur.bytes += n
	if c.cur.bytes >= maxBatchBytes || len(c.cur.cmds) >= c.opt.BatchSize {
		c.flushLocked()
	}
	c.mu.Unlock()
	return c.newBuf(id, m), nil
}

// ToHost sends the queued work and waits for buf's contents.
func (c *Client) ToHost(buf backends.Buffer) (*ir.Tensor, error) {
	b, err := c.own(buf, func() string { return "ToHost buffer" })
	if err != nil {
		return nil, err
	}
	if _, err := b.m.settled(); err != nil {
		c.reported(err)
		return nil, err
	}
	if err := c.failed(); err != nil {
		return nil, err
	}
	dl := &download{}
	c.mu.Lock()
	last := c.cur
	last.add(&pb.Command{Kind: pb.Command_DOWNLOAD, Id: b.id}, cmdRec{dl: dl})
	c.flushLocked()
	c.mu.Unlock()
	<-last.done
	runtime.KeepAlive(b)
	if b.m.err != nil {
		c.reported(b.m.err)
		return nil, b.m.err
	}
	return dl.t, dl.err
}

// Release frees buf on the plugin with the next batch.
func (c *Client) Release(buf backends.Buffer) {
	b, ok := buf.(*Buf)
	if !ok || b.c != c || b.released.Swap(true) {
		return
	}
	b.cleanup.Stop()
	c.queueFree(b.id)
}

// Sync sends the queued work, waits for it, and returns the first failure
// not reported yet (or the error that ended the plugin).
func (c *Client) Sync() error {
	c.mu.Lock()
	c.flushLocked()
	last := c.last
	c.mu.Unlock()
	if last != nil {
		<-last.done
	}
	if err := c.failed(); err != nil {
		return err
	}
	c.errMu.Lock()
	defer c.errMu.Unlock()
	err := c.unreported
	c.unreported = nil
	return err
}

// kernel is a prepared kernel on the plugin.
type kernel struct {
	c       *Client
	id      uint64
	spec    *backends.OpSpec
	desc    string
	infer   []ir.DType                 // output dtypes from the schema (Undefined: unknown)
	learned atomic.Pointer[[]ir.DType] // output dtypes seen on a run
}

// learn records the output dtypes of a successful run.
func (k *kernel) learn(outs []*meta) {
	if k.learned.Load() != nil {
		return
	}
	dts := make([]ir.DType, len(outs))
	for i, m := range outs {
		if m.err == nil {
			dts[i] = m.dtype
		}
	}
	k.learned.Store(&dts)
}

// Run queues the kernel; it returns handles at once.
func (k *kernel) Run(in []backends.Buffer) ([]backends.Buffer, error) {
	c := k.c
	if err := c.failed(); err != nil {
		return nil, err
	}
	ids := make([]uint64, len(in))
	inMetas := make([]*meta, len(in))
	for i, buf := range in {
		if buf == nil {
			continue
		}
		b, err := c.own(buf, func() string { return fmt.Sprintf("%s: input %d", k.desc, i) })
		if err != nil {
			return nil, err
		}
		if _, err := b.m.settled(); err != nil {
			return nil, fmt.Errorf("plugins: %s: %s: input %d: %w", c.name, k.desc, i, err)
		}
		ids[i], inMetas[i] = b.id, b.m
	}
	n := k.spec.NumOutputs
	outIDs := make([]uint64, n)
	metas := make([]*meta, n)
	learned := k.learned.Load()
	for j := range outIDs {
		outIDs[j] = c.nextID.Add(1)
		metas[j] = &meta{k: k, idx: j}
		if learned != nil && j < len(*learned) && (*learned)[j] != ir.Undefined {
			metas[j].dtype, metas[j].dtFixed = (*learned)[j], true
		}
	}
	inferOutputs(k.spec, inMetas, metas)
	for j, m := range metas {
		if !m.dtFixed && j < len(k.infer) && k.infer[j] != ir.Undefined {
			m.dtype, m.dtFixed = k.infer[j], true
		}
	}
	cmd := &pb.Command{Kind: pb.Command_RUN, Kernel: k.id, Inputs: ids, Outputs: outIDs}
	c.mu.Lock()
	b := c.cur
	for j, m := range metas {
		m.b = b
		b.outs[outIDs[j]] = m
	}
	b.add(cmd, cmdRec{k: k, outs: metas})
	if len(b.cmds) >= c.opt.BatchSize {
		c.flushLocked()
	}
	c.mu.Unlock()
	outs := make([]backends.Buffer, n)
	for j, m := range metas {
		outs[j] = c.newBuf(outIDs[j], m)
	}
	runtime.KeepAlive(in)
	return outs, nil
}
