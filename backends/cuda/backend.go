package cuda

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Backend is one CUDA device.
type Backend struct {
	drv     *driver
	rtc     *nvrtc
	blas    *cublas
	compile func(src, cc string) ([]byte, error) // rtc.image, or a test's stand-in

	dev     int32
	ctx     uintptr
	blasH   uintptr
	devName string
	cc      string // compute capability, "86"
	sms     int
	memory  uint64
	drvVer  int32
	errFlag uintptr // device int32 set by kernels that find bad data

	mu    sync.Mutex // one caller on the device at a time
	funcs map[string]uintptr

	poolMu sync.Mutex
	pool   map[int][]uintptr // free device blocks by size
}

// Open opens device $KEEN_CUDA_DEVICE (default 0). It fails with a message
// naming what is missing: the driver, a device, NVRTC or cuBLAS.
func Open() (backends.Backend, error) {
	ordinal := 0
	if s := os.Getenv("KEEN_CUDA_DEVICE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("cuda: bad device number %q", s)
		}
		ordinal = n
	}
	return New(ordinal)
}

// New opens the CUDA device with the given ordinal.
func New(ordinal int) (*Backend, error) {
	drv, err := loadDriver()
	if err != nil {
		return nil, fmt.Errorf("cuda: %v", err)
	}
	b := &Backend{drv: drv, funcs: map[string]uintptr{}, pool: map[int][]uintptr{}}
	if code := drv.cuInit(0); code != 0 {
		return nil, fmt.Errorf("cuda: no usable CUDA device (%v)", drv.check("cuInit", code))
	}
	var n int32
	if err := drv.check("cuDeviceGetCount", drv.cuDeviceGetCount(&n)); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("cuda: %w", errNoDevice)
	}
	if ordinal >= int(n) {
		return nil, fmt.Errorf("cuda: device %d asked for, %d present", ordinal, n)
	}
	if err := b.initDevice(int32(ordinal)); err != nil {
		return nil, err
	}
	if b.rtc, err = loadNVRTC(); err != nil {
		return nil, fmt.Errorf("cuda: %v (NVRTC compiles Keen's kernels; install the CUDA runtime libraries)", err)
	}
	b.compile = b.rtc.image
	if b.blas, err = loadCuBLAS(); err != nil {
		return nil, fmt.Errorf("cuda: %v (cuBLAS runs MatMul, Gemm and Conv)", err)
	}
	b.enter()
	defer b.leave()
	if err := blasCheck("cublasCreate", b.blas.create(&b.blasH)); err != nil {
		return nil, err
	}
	if err := drv.check("cuMemAlloc", drv.cuMemAlloc(&b.errFlag, 4)); err != nil {
		return nil, err
	}
	return b, drv.check("cuMemsetD8", drv.cuMemsetD8(b.errFlag, 0, 4))
}

func (b *Backend) initDevice(ordinal int32) error {
	d := b.drv
	if err := d.check("cuDeviceGet", d.cuDeviceGet(&b.dev, ordinal)); err != nil {
		return err
	}
	name := make([]byte, 256)
	d.cuDeviceGetName(&name[0], int32(len(name)), b.dev)
	b.devName = cutNUL(name)
	var major, minor, sms int32
	d.cuDeviceGetAttribute(&major, attrCCMajor, b.dev)
	d.cuDeviceGetAttribute(&minor, attrCCMinor, b.dev)
	d.cuDeviceGetAttribute(&sms, attrMultiprocessors, b.dev)
	b.cc, b.sms = fmt.Sprintf("%d%d", major, minor), max(int(sms), 1)
	d.cuDeviceTotalMem(&b.memory, b.dev)
	d.cuDriverGetVersion(&b.drvVer)
	return d.check("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain(&b.ctx, b.dev))
}

func (b *Backend) Name() string { return "cuda" }

// Describe names the device, its compute capability and the libraries.
func (b *Backend) Describe() string {
	rtc := "emulated"
	if b.rtc != nil {
		rtc = b.rtc.version
	}
	return fmt.Sprintf("%s, sm_%s, %d SMs, %.1f GiB, driver %d.%d, NVRTC %s",
		b.devName, b.cc, b.sms, float64(b.memory)/(1<<30), b.drvVer/1000, b.drvVer%1000/10, rtc)
}

// enter makes the device current on this OS thread for one caller.
func (b *Backend) enter() {
	b.mu.Lock()
	runtime.LockOSThread()
	b.drv.cuCtxSetCurrent(b.ctx)
}

func (b *Backend) leave() {
	runtime.UnlockOSThread()
	b.mu.Unlock()
}

// Buf is a device buffer. Strings, and copies of small integer tensors,
// are kept on the host in host.
type Buf struct {
	ptr   uintptr
	size  int // bytes of the block (0: no block)
	dt    ir.DType
	shape []int
	host  *ir.Tensor
	freed bool
	clean runtime.Cleanup
}

func (x *Buf) DType() ir.DType { return x.dt }
func (x *Buf) Shape() []int    { return x.shape }

func (x *Buf) len() int { return ir.Size(x.shape) }

// blockSize rounds a request up to the pool's size classes.
func blockSize(n int) int {
	if n <= 256 {
		return 256
	}
	if n >= 1<<20 {
		return (n + 1<<20 - 1) &^ (1<<20 - 1)
	}
	s := 512
	for s < n {
		s <<= 1
	}
	return s
}

// alloc makes an uninitialized buffer (device held).
func (b *Backend) alloc(dt ir.DType, shape []int) (*Buf, error) {
	if _, err := ir.NumElements(shape); err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	x := &Buf{dt: dt, shape: append([]int{}, shape...)}
	n := x.len() * dt.GoSize()
	if n == 0 {
		return x, nil
	}
	size := blockSize(n)
	b.poolMu.Lock()
	if free := b.pool[size]; len(free) > 0 {
		x.ptr = free[len(free)-1]
		b.pool[size] = free[:len(free)-1]
	}
	b.poolMu.Unlock()
	if x.ptr == 0 {
		if code := b.drv.cuMemAlloc(&x.ptr, uint64(size)); code != 0 {
			b.trimPool()
			if err := b.drv.check("cuMemAlloc", b.drv.cuMemAlloc(&x.ptr, uint64(size))); err != nil {
				return nil, fmt.Errorf("%w (%d bytes for %v%v)", err, size, dt, shape)
			}
		}
	}
	x.size = size
	x.clean = runtime.AddCleanup(x, b.putBlock, block{x.ptr, size})
	return x, nil
}

type block struct {
	ptr  uintptr
	size int
}

// putBlock returns a block to the pool. Work on it already queued runs
// first: everything goes to one stream.
func (b *Backend) putBlock(k block) {
	b.poolMu.Lock()
	b.pool[k.size] = append(b.pool[k.size], k.ptr)
	b.poolMu.Unlock()
}

// trimPool frees every pooled block (device held).
func (b *Backend) trimPool() {
	b.poolMu.Lock()
	defer b.poolMu.Unlock()
	for size, ps := range b.pool {
		for _, p := range ps {
			b.drv.cuMemFree(p)
		}
		delete(b.pool, size)
	}
}

func (b *Backend) FromHost(t *ir.Tensor) (backends.Buffer, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("cuda: FromHost: %w", err)
	}
	b.enter()
	defer b.leave()
	return b.upload(t)
}

// keepHost says whether a tensor keeps a host copy: strings, and small
// integer tensors, which are usually shapes, axes or indices.
func keepHost(t *ir.Tensor) bool {
	return t.DType == ir.String || (t.DType == ir.Int64 || t.DType == ir.Int32) && t.Len() <= 64
}

// upload copies a host tensor to the device (device held).
func (b *Backend) upload(t *ir.Tensor) (*Buf, error) {
	if t.DType == ir.String {
		return &Buf{dt: t.DType, shape: append([]int{}, t.Shape...), host: t.Clone()}, nil
	}
	x, err := b.alloc(t.DType, t.Shape)
	if err != nil {
		return nil, err
	}
	if raw := rawBytes(t.Data); len(raw) > 0 {
		if err := b.drv.check("cuMemcpyHtoD", b.drv.cuMemcpyHtoD(x.ptr, unsafe.Pointer(&raw[0]), uint64(len(raw)))); err != nil {
			return nil, err
		}
	}
	if keepHost(t) {
		x.host = t.Clone()
	}
	return x, nil
}

func (b *Backend) ToHost(buf backends.Buffer) (*ir.Tensor, error) {
	x, ok := buf.(*Buf)
	if !ok {
		return nil, fmt.Errorf("cuda: ToHost: buffer %T belongs to another backend", buf)
	}
	if x.freed {
		return nil, fmt.Errorf("cuda: ToHost: buffer was released")
	}
	if x.host != nil {
		return x.host.Clone(), nil
	}
	b.enter()
	defer b.leave()
	t, err := b.download(x)
	if err != nil {
		return nil, err
	}
	return t, b.checkFlag()
}

// download copies a buffer to a new host tensor (device held).
func (b *Backend) download(x *Buf) (*ir.Tensor, error) {
	if x.host != nil {
		return x.host.Clone(), nil
	}
	t, err := ir.NewTensor(x.dt, x.shape...)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	raw := rawBytes(t.Data)
	if len(raw) > 0 {
		if err := b.drv.check("cuMemcpyDtoH", b.drv.cuMemcpyDtoH(unsafe.Pointer(&raw[0]), x.ptr, uint64(len(raw)))); err != nil {
			return nil, err
		}
	}
	if bs, ok := t.Data.([]bool); ok { // bytes other than 0 and 1 are not Go bools
		for i, v := range raw {
			bs[i] = v != 0
		}
	}
	return t, nil
}

// checkFlag reports (and clears) an error a kernel flagged (device held).
func (b *Backend) checkFlag() error {
	var flag int32
	if err := b.drv.check("cuMemcpyDtoH", b.drv.cuMemcpyDtoH(unsafe.Pointer(&flag), b.errFlag, 4)); err != nil {
		return err
	}
	if flag == 0 {
		return nil
	}
	b.drv.cuMemsetD8(b.errFlag, 0, 4)
	return fmt.Errorf("cuda: a Gather or GatherElements index was out of range (found by a kernel; the op that queued it is not known)")
}

func (b *Backend) Release(buf backends.Buffer) {
	x, ok := buf.(*Buf)
	if !ok || x.freed {
		return
	}
	x.freed = true
	if x.size > 0 {
		x.clean.Stop()
		b.putBlock(block{x.ptr, x.size})
	}
}

// Sync waits for queued work and reports a fault in it.
func (b *Backend) Sync() error {
	b.enter()
	defer b.leave()
	if err := b.drv.check("cuCtxSynchronize", b.drv.cuCtxSynchronize()); err != nil {
		return err
	}
	return b.checkFlag()
}

func (b *Backend) Close() error {
	b.enter()
	defer b.leave()
	b.drv.cuCtxSynchronize()
	b.trimPool()
	if b.blasH != 0 {
		b.blas.destroy(b.blasH)
		b.blasH = 0
	}
	return b.drv.check("cuDevicePrimaryCtxRelease", b.drv.cuDevicePrimaryCtxRelease(b.dev))
}

// rawBytes is the memory of a fixed-size tensor's data.
func rawBytes(data any) []byte {
	switch s := data.(type) {
	case []float32:
		return bytesOf(s)
	case []float64:
		return bytesOf(s)
	case []int8:
		return bytesOf(s)
	case []int16:
		return bytesOf(s)
	case []int32:
		return bytesOf(s)
	case []int64:
		return bytesOf(s)
	case []uint8:
		return s
	case []uint16:
		return bytesOf(s)
	case []uint32:
		return bytesOf(s)
	case []uint64:
		return bytesOf(s)
	case []bool:
		return bytesOf(s)
	case []complex64:
		return bytesOf(s)
	case []complex128:
		return bytesOf(s)
	}
	return nil
}

func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}
