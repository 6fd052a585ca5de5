package plugins

import (
	"fmt"

	"github.com/keenml/keen/backends"
	pb "github.com/keenml/keen/plugins/internal/pluginpb"
)

// shmMin is the size from which tensor data goes through shared memory
// rather than inside the message.
const shmMin = 16 << 10

// execState is one batch being run on the plugin side.
type execState struct {
	s       *server
	rep     *pb.BatchReply
	mem     []byte // the shared area as mapped when the batch began
	off     uint64 // where the next download may go in it
	notImpl bool   // the last failure wraps ErrNotImplemented
}

// run executes one command and returns why it failed ("" on success).
func (x *execState) run(c *pb.Command) (msg string) {
	x.notImpl = false
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("plugins: panic in %v: %v\n%s", c.Kind, r, stack())
			for _, id := range c.Outputs {
				x.s.failed[id] = msg
			}
		}
	}()
	switch c.Kind {
	case pb.Command_UPLOAD:
		return x.upload(c)
	case pb.Command_RUN:
		return x.runKernel(c)
	case pb.Command_DOWNLOAD:
		x.download(c.Id)
		return ""
	case pb.Command_PREPARE:
		k := x.s.prepare(c.Kernel, c.Spec)
		x.notImpl = k.notImpl
		return k.err
	}
	return fmt.Sprintf("plugins: unknown command kind %v", c.Kind)
}

func (x *execState) upload(c *pb.Command) string {
	t, err := decodeTensor(c.Tensor, x.mem)
	if err == nil {
		var buf backends.Buffer
		if buf, err = x.s.b.FromHost(t); err == nil {
			x.s.store(c.Id, buf)
			return ""
		}
	}
	msg := fmt.Sprintf("plugins: upload of buffer %d: %v", c.Id, err)
	x.s.failed[c.Id] = msg
	return msg
}

func (x *execState) runKernel(c *pb.Command) string {
	s := x.s
	fail := func(msg string) string {
		for _, id := range c.Outputs {
			s.failed[id] = msg
		}
		return msg
	}
	k, ok := s.kernels[c.Kernel]
	switch {
	case !ok:
		return fail(fmt.Sprintf("plugins: kernel %d was never prepared", c.Kernel))
	case k.err != "":
		x.notImpl = k.notImpl
		return fail(k.err)
	}
	in := make([]backends.Buffer, len(c.Inputs))
	for i, id := range c.Inputs {
		if id == 0 {
			continue
		}
		buf, why := s.lookup(id)
		if buf == nil {
			return fail(fmt.Sprintf("%v: input %d: %s", k.spec, i, why))
		}
		in[i] = buf
	}
	outs, err := k.k.Run(in)
	if err != nil {
		return fail(err.Error())
	}
	for j, id := range c.Outputs {
		if j >= len(outs) || outs[j] == nil {
			s.failed[id] = fmt.Sprintf("%v: output %d was not produced", k.spec, j)
			x.rep.Metas = append(x.rep.Metas, &pb.Meta{Id: id, Absent: true})
			continue
		}
		s.store(id, outs[j])
		x.rep.Metas = append(x.rep.Metas, metaOf(id, outs[j]))
	}
	for j := len(c.Outputs); j < len(outs); j++ {
		if outs[j] != nil {
			s.b.Release(outs[j])
		}
	}
	return ""
}

// download copies a buffer into the reply, through shared memory when it is
// large.
func (x *execState) download(id uint64) {
	d := &pb.Download{Id: id}
	x.rep.Downloads = append(x.rep.Downloads, d)
	buf, why := x.s.lookup(id)
	if buf == nil {
		d.Error = why
		return
	}
	t, err := x.s.b.ToHost(buf)
	if err != nil {
		d.Error = err.Error()
		return
	}
	if d.Tensor, err = encodeTensor(t); err != nil {
		d.Error = err.Error()
		return
	}
	n := uint64(len(d.Tensor.Raw))
	a := x.s.area
	if a == nil || n < shmMin {
		return
	}
	if err := a.ensure(int(x.off + n)); err != nil {
		return // stays inline
	}
	x.mem = a.mem
	copy(a.mem[x.off:], d.Tensor.Raw)
	d.Tensor.Raw, d.Tensor.Shm, d.Tensor.Offset, d.Tensor.Length = nil, true, x.off, n
	x.off = align(x.off + n)
}
