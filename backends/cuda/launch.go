package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// threads is the block size of every kernel.
const threads = 256

// maxRank is the largest rank the strided kernels take.
const maxRank = 8

// args packs kernel parameters: each value sits in 8-byte slots of vals,
// and ptrs points at each parameter's first slot, as cuLaunchKernel wants.
// ptrs holds addresses as integers, so the array holds no Go pointers; the
// args value is kept alive across the launch.
type args struct {
	vals [160]uint64
	ptrs [16]uintptr
	nv   int
	np   int
}

func (a *args) start() {
	a.ptrs[a.np] = uintptr(unsafe.Pointer(&a.vals[a.nv]))
	a.np++
}

func (a *args) ptr(p uintptr) *args { a.start(); a.vals[a.nv] = uint64(p); a.nv++; return a }
func (a *args) i64(v int64) *args   { a.start(); a.vals[a.nv] = uint64(v); a.nv++; return a }
func (a *args) f64(v float64) *args {
	a.start()
	a.vals[a.nv] = math.Float64bits(v)
	a.nv++
	return a
}

// words passes a struct made of 8-byte integer fields.
func (a *args) words(ws []int64) *args {
	a.start()
	for _, w := range ws {
		a.vals[a.nv] = uint64(w)
		a.nv++
	}
	return a
}

// fn returns the kernel called name in src, compiling src on first use
// (device held).
func (b *Backend) fn(src, name string) (uintptr, error) {
	key := name + "\x00" + src
	if f, ok := b.funcs[key]; ok {
		return f, nil
	}
	img, err := b.compile(src, b.cc)
	if err != nil {
		return 0, err
	}
	var mod uintptr
	if err := b.drv.check("cuModuleLoadData", b.drv.cuModuleLoadData(&mod, unsafe.Pointer(&img[0]))); err != nil {
		return 0, fmt.Errorf("%w (loading kernels compiled for sm_%s)", err, b.cc)
	}
	var f uintptr
	if err := b.drv.check("cuModuleGetFunction", b.drv.cuModuleGetFunction(&f, mod, name)); err != nil {
		return 0, err
	}
	b.funcs[key] = f
	return f, nil
}

// launch runs kernel k of src over n work items with grid-stride loops
// (device held). Nothing is launched for n == 0.
func (b *Backend) launch(src string, n int, a *args) error {
	return b.launchBlocks(src, min((n+threads-1)/threads, b.sms*32), n, a)
}

// launchBlocks launches with an explicit number of blocks.
func (b *Backend) launchBlocks(src string, blocks, n int, a *args) error {
	if n == 0 {
		return nil
	}
	f, err := b.fn(src, "k")
	if err != nil {
		return err
	}
	blocks = max(blocks, 1)
	code := b.drv.cuLaunchKernel(f, uint32(blocks), 1, 1, threads, 1, 1, 0, 0, unsafe.Pointer(&a.ptrs[0]), nil)
	runtime.KeepAlive(a)
	return b.drv.check("cuLaunchKernel", code)
}
