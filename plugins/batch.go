package plugins

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/keenml/keen/ir"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

const (
	// maxBatchBytes sends a batch once its uploads pass this size.
	maxBatchBytes = 64 << 20
	// gcEvery forces a collection after this many bytes of plugin-side
	// outputs: remote buffers are freed when their handles are collected,
	// and the handles alone are too small to make the host's GC run.
	gcEvery = 1 << 30
)

// batch is a list of queued commands, sent in one Exec.
type batch struct {
	cmds  []*pb.Command
	recs  []cmdRec
	outs  map[uint64]*meta // run outputs by id
	frees []uint64
	kfree []uint64 // kernels to drop
	bytes int      // upload bytes
	done  chan struct{}
}

// cmdRec is what the host keeps about a command to read its reply.
type cmdRec struct {
	k    *kernel   // RUN, PREPARE
	outs []*meta   // RUN
	raw  []byte    // UPLOAD: data to place in shared memory when sent
	m    *meta     // UPLOAD
	dl   *download // DOWNLOAD
}

type download struct {
	t   *ir.Tensor
	err error
}

func (c *Client) newBatch() *batch {
	return &batch{outs: map[uint64]*meta{}, done: make(chan struct{})}
}

func (b *batch) add(cmd *pb.Command, rec cmdRec) {
	b.cmds = append(b.cmds, cmd)
	b.recs = append(b.recs, rec)
}

// flushLocked sends the current batch (c.mu held).
func (c *Client) flushLocked() {
	c.freeMu.Lock()
	frees, kfree := c.frees, c.kfrees
	c.frees, c.kfrees = nil, nil
	c.freeMu.Unlock()
	b := c.cur
	if len(b.cmds) == 0 && len(frees) == 0 && len(kfree) == 0 {
		return
	}
	b.frees, b.kfree = frees, kfree
	c.cur = c.newBatch()
	if c.stopped {
		c.failBatch(b, c.failed())
		close(b.done)
		return
	}
	c.last = b
	c.sendq <- b // the sender never takes c.mu, so this only waits for it
}

// wait returns once batch b has been answered, sending it first if it is
// still being filled.
func (c *Client) wait(b *batch) {
	select {
	case <-b.done:
		return
	default:
	}
	c.mu.Lock()
	if c.cur == b {
		c.flushLocked()
	}
	c.mu.Unlock()
	<-b.done
}

// sender sends batches in order, one at a time.
func (c *Client) sender() {
	for b := range c.sendq {
		c.send(b)
		close(b.done)
	}
}

func (c *Client) send(b *batch) {
	if err := c.failed(); err != nil {
		c.failBatch(b, err)
		return
	}
	req := &pb.Batch{Cmds: b.cmds, Free: b.frees, FreeKernels: b.kfree}
	if err := c.placeUploads(b, req); err != nil {
		c.failBatch(b, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opt.Timeout)
	rep, err := c.rpc.Exec(ctx, req)
	cancel()
	if err != nil {
		err = c.callError("Exec", err)
		c.die(err)
		c.failBatch(b, err)
		return
	}
	c.apply(b, rep)
	if c.area != nil && req.ShmUsed > maxBatchBytes {
		c.area.trim()
	}
}

// placeUploads copies large uploads into shared memory.
func (c *Client) placeUploads(b *batch, req *pb.Batch) error {
	var off uint64
	for i, rec := range b.recs {
		if rec.raw == nil {
			continue
		}
		n := uint64(len(rec.raw))
		pt := b.cmds[i].Tensor
		if c.area != nil && c.area.ensure(int(off+n)) == nil {
			copy(c.area.mem[off:], rec.raw)
			pt.Shm, pt.Offset, pt.Length = true, off, n
			off = align(off + n)
		} else {
			pt.Raw = rec.raw
		}
	}
	if c.area != nil {
		req.ShmSize, req.ShmUsed = uint64(len(c.area.mem)), off
	}
	return nil
}

// apply reads a batch's reply into the metas, kernels and downloads.
func (c *Client) apply(b *batch, rep *pb.BatchReply) {
	var mem []byte
	if c.area != nil {
		if err := c.area.follow(rep.ShmSize); err != nil {
			err = fmt.Errorf("plugins: %s: %w", c.name, err)
			c.die(err)
			c.failBatch(b, err)
			return
		}
		mem = c.area.mem
	}
	var produced int
	for _, pm := range rep.Metas {
		if m := b.outs[pm.Id]; m != nil {
			produced += c.fill(m, pm)
		}
	}
	failed := make([]bool, len(b.recs))
	for _, f := range rep.Failures {
		if int(f.Index) >= len(b.recs) {
			continue
		}
		failed[f.Index] = true
		e := &remoteError{backend: c.name, msg: f.Error, notImpl: f.NotImplemented}
		rec := b.recs[f.Index]
		for _, m := range rec.outs {
			m.err = e
		}
		if rec.m != nil {
			rec.m.err = e
		}
		c.note(e)
	}
	di := 0
	for i, rec := range b.recs {
		switch {
		case rec.dl != nil:
			c.readDownload(rec.dl, rep.Downloads, di, mem)
			di++
		case rec.outs != nil && !failed[i]:
			rec.k.learn(rec.outs)
		}
	}
	if rep.SyncError != "" {
		c.note(&remoteError{backend: c.name, msg: "sync after batch: " + rep.SyncError})
	}
	if c.produced.Add(int64(produced)) > gcEvery {
		c.produced.Store(0)
		go runtime.GC()
	}
}

// fill records what the plugin says a run output is; it returns its size.
func (c *Client) fill(m *meta, pm *pb.Meta) int {
	if pm.Absent {
		m.err = fmt.Errorf("plugins: %s: %s: output %d was not produced", c.name, m.k.desc, m.idx)
		return 0
	}
	dt := ir.DType(pm.Dtype)
	shape, err := intsChecked(pm.Shape)
	if err != nil {
		m.err = fmt.Errorf("plugins: %s: %s: output %d: %v", c.name, m.k.desc, m.idx, err)
		return 0
	}
	// Fixed fields may be read concurrently: they are compared, not written.
	switch {
	case m.dtFixed && dt != m.dtype:
		m.err = fmt.Errorf("plugins: %s: %s: output %d is %v, but it was announced as %v", c.name, m.k.desc, m.idx, dt, m.dtype)
	case m.shapeFixed && !slices.Equal(shape, m.shape):
		m.err = fmt.Errorf("plugins: %s: %s: output %d has shape %v, but it was announced as %v", c.name, m.k.desc, m.idx, shape, m.shape)
	}
	if m.err != nil {
		c.note(m.err)
		return 0
	}
	if !m.dtFixed {
		m.dtype = dt
	}
	if !m.shapeFixed {
		m.shape = shape
	}
	return rawSize(dt, shape)
}

func (c *Client) readDownload(dl *download, ds []*pb.Download, i int, mem []byte) {
	if i >= len(ds) {
		dl.err = fmt.Errorf("plugins: %s: the plugin skipped a download", c.name)
		return
	}
	d := ds[i]
	if d.Error != "" {
		dl.err = &remoteError{backend: c.name, msg: d.Error}
		return
	}
	t, err := decodeTensor(d.Tensor, mem)
	if err != nil {
		dl.err = fmt.Errorf("plugins: %s: download: %w", c.name, err)
		return
	}
	dl.t = t
}

// failBatch gives every result of b the error err.
func (c *Client) failBatch(b *batch, err error) {
	for _, rec := range b.recs {
		for _, m := range rec.outs {
			m.err = err
		}
		if rec.m != nil {
			rec.m.err = err
		}
		if rec.dl != nil {
			rec.dl.err = err
		}
	}
}

// note keeps err for the next Sync if no earlier failure is pending.
func (c *Client) note(err error) {
	c.errMu.Lock()
	if c.unreported == nil {
		c.unreported = err
	}
	c.errMu.Unlock()
}

// reported marks err as seen by the caller (through ToHost).
func (c *Client) reported(err error) {
	c.errMu.Lock()
	if c.unreported == err {
		c.unreported = nil
	}
	c.errMu.Unlock()
}

// failed is the error every call returns once the plugin is gone or closed.
func (c *Client) failed() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	if c.dead != nil {
		return c.dead
	}
	if c.closed {
		return fmt.Errorf("plugins: %s: backend is closed", c.name)
	}
	return nil
}

// die marks the plugin gone and stops its process.
func (c *Client) die(err error) {
	c.errMu.Lock()
	first := c.dead == nil
	if first {
		c.dead = err
	}
	c.errMu.Unlock()
	if first {
		go c.pc.Kill()
	}
}

// callError turns a failed call into an error saying what became of the
// plugin; the plugin is unusable afterwards.
func (c *Client) callError(call string, err error) error {
	if status.Code(err) == codes.DeadlineExceeded {
		return fmt.Errorf("plugins: %s: %s did not answer within %v; the plugin was stopped: %w", c.name, call, c.opt.Timeout, ErrDied)
	}
	for i := 0; i < 50 && !c.pc.Exited(); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if c.pc.Exited() {
		how := "exited"
		if c.cmd != nil && c.cmd.ProcessState != nil {
			how = "ended (" + c.cmd.ProcessState.String() + ")"
		}
		return fmt.Errorf("plugins: %s: the plugin process %s during %s%s: %w", c.name, how, call, c.stderr.note(), ErrDied)
	}
	return fmt.Errorf("plugins: %s: %s: %v: %w", c.name, call, status.Convert(err).Message(), ErrDied)
}
