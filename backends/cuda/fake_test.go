package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// fakeDevice stands in for the driver, NVRTC and cuBLAS so that the whole
// backend (prepare functions, strides, launches, GEMM operand order) runs
// on the host: device memory is Go memory, and each kernel's CUDA C is
// compiled with g++ into a shared library (cached by source) whose run
// entry point executes the grid with one OS thread per GPU thread.
type fakeDevice struct {
	mu    sync.Mutex
	mem   map[uintptr][]byte
	mods  map[uintptr]uintptr // module -> run symbol
	srcs  map[*byte]string    // images handed out by compile
	cache string
	gxx   string
}

// emuShim is the C++ around each kernel. It avoids heavy headers to keep
// compiles short.
const emuShim = `#include <math.h>
#include <pthread.h>
#include <string.h>
struct dim3s { unsigned x, y, z; };
static __thread dim3s threadIdx, blockIdx;
static dim3s blockDim, gridDim;
static pthread_barrier_t bar;
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static inline void __syncthreads() { pthread_barrier_wait(&bar); }
static inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
struct targ { unsigned b, t; void* f; void (*call)(void*); };
static void* tmain(void* a) {
  targ* x = (targ*)a;
  blockIdx.x = x->b; blockIdx.y = blockIdx.z = 0;
  threadIdx.x = x->t; threadIdx.y = threadIdx.z = 0;
  x->call(x->f);
  return 0;
}
template <class F> static void callF(void* f) { (*(F*)f)(); }
// launchSeq runs kernels without __syncthreads on the calling thread.
template <class F> static void launchSeq(unsigned grid, F f) {
  gridDim.x = grid; gridDim.y = gridDim.z = 1;
  blockDim.x = 256; blockDim.y = blockDim.z = 1;
  for (unsigned b = 0; b < grid; b++)
    for (unsigned t = 0; t < 256; t++) { blockIdx.x = b; threadIdx.x = t; f(); }
}
template <class F> static void launch(unsigned grid, F f) {
  if (grid > 4) grid = 4; // every kernel loops over its grid, so fewer blocks do the same work
  gridDim.x = grid; gridDim.y = gridDim.z = 1;
  blockDim.x = 256; blockDim.y = blockDim.z = 1;
  static pthread_t th[256];
  static targ ta[256];
  for (unsigned b = 0; b < grid; b++) {
    pthread_barrier_init(&bar, 0, 256);
    for (unsigned t = 0; t < 256; t++) { ta[t] = targ{b, t, (void*)&f, &callF<F>}; pthread_create(&th[t], 0, tmain, &ta[t]); }
    for (unsigned t = 0; t < 256; t++) pthread_join(th[t], 0);
    pthread_barrier_destroy(&bar);
  }
}
`

// newFakeBackend returns a Backend on an emulated device, or skips.
func newFakeBackend(t testing.TB) *Backend {
	b, err := fakeBackend()
	if err != nil {
		t.Skip(err)
	}
	return b
}

// fakeBackend returns a Backend on an emulated device; it needs g++.
func fakeBackend() (*Backend, error) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		return nil, fmt.Errorf("g++ not found: no emulated device")
	}
	cache := filepath.Join(os.TempDir(), "keen-cuda-emu")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	f := &fakeDevice{mem: map[uintptr][]byte{}, mods: map[uintptr]uintptr{}, srcs: map[*byte]string{}, cache: cache, gxx: gxx}
	ok := func() int32 { return 0 }
	b := &Backend{funcs: map[string]uintptr{}, pool: map[int][]uintptr{}, cc: "80", sms: 1, devName: "emulated"}
	b.drv = &driver{
		cuCtxSetCurrent:           func(uintptr) int32 { return 0 },
		cuCtxSynchronize:          ok,
		cuDevicePrimaryCtxRelease: func(int32) int32 { return 0 },
		cuMemAlloc:                f.alloc,
		cuMemFree:                 f.free,
		cuMemcpyHtoD: func(d uintptr, s unsafe.Pointer, n uint64) int32 {
			copy(f.block(d)[:n], unsafe.Slice((*byte)(s), n))
			return 0
		},
		cuMemcpyDtoH: func(d unsafe.Pointer, s uintptr, n uint64) int32 {
			copy(unsafe.Slice((*byte)(d), n), f.block(s)[:n])
			return 0
		},
		cuMemcpyDtoD: func(d, s uintptr, n uint64) int32 {
			copy(f.block(d)[:n], f.block(s)[:n])
			return 0
		},
		cuMemsetD8:          f.memset,
		cuModuleLoadData:    f.load,
		cuModuleGetFunction: f.function,
		cuLaunchKernel:      f.launch,
	}
	b.compile = func(src, cc string) ([]byte, error) {
		img := append([]byte(src), 0)
		f.mu.Lock()
		f.srcs[&img[0]] = src
		f.mu.Unlock()
		return img, nil
	}
	b.blas = fakeBLAS(f)
	b.drv.cuMemAlloc(&b.errFlag, 4)
	return b, nil
}

func (f *fakeDevice) alloc(p *uintptr, n uint64) int32 {
	buf := make([]byte, n+8)
	f.mu.Lock()
	defer f.mu.Unlock()
	*p = uintptr(unsafe.Pointer(&buf[0]))
	f.mem[*p] = buf
	return 0
}

func (f *fakeDevice) free(p uintptr) int32 {
	f.mu.Lock()
	delete(f.mem, p)
	f.mu.Unlock()
	return 0
}

// block is the fake device memory from address p to the end of its block.
func (f *fakeDevice) block(p uintptr) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	for base, buf := range f.mem {
		if p >= base && p < base+uintptr(len(buf)) {
			return buf[p-base:]
		}
	}
	panic(fmt.Sprintf("fake device: no memory at %#x", p))
}

func (f *fakeDevice) memset(dst uintptr, v uint8, n uint64) int32 {
	b := f.block(dst)[:n]
	for i := range b {
		b[i] = v
	}
	return 0
}

// load compiles the kernel source (the image) into a shared library.
func (f *fakeDevice) load(mod *uintptr, image unsafe.Pointer) int32 {
	f.mu.Lock()
	src := f.srcs[(*byte)(image)]
	f.mu.Unlock()
	lib, err := f.build(src)
	if err != nil {
		panic(err)
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		panic(err)
	}
	run, err := purego.Dlsym(h, "run")
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.mods[h] = run
	f.mu.Unlock()
	*mod = h
	return 0
}

// build compiles src with a wrapper that unpacks cuLaunchKernel's
// parameter array.
func (f *fakeDevice) build(src string) (string, error) {
	sig := src[strings.Index(src, "void k(")+len("void k("):]
	sig = sig[:strings.Index(sig, ")")]
	var args []string
	for i, p := range strings.Split(sig, ",") {
		p = strings.TrimSpace(p)
		typ := strings.TrimSpace(p[:strings.LastIndexAny(p, " *")+1])
		args = append(args, fmt.Sprintf("*(%s*)p[%d]", typ, i))
	}
	launch := "launchSeq"
	if strings.Contains(src, "__syncthreads") {
		launch = "launch"
	}
	wrapper := fmt.Sprintf("extern \"C\" void run(void** p, unsigned grid) { %s(grid, [&] { k(%s); }); }\n", launch, strings.Join(args, ", "))
	prog := emuShim + src + wrapper
	sum := sha256.Sum256([]byte(prog))
	lib := filepath.Join(f.cache, hex.EncodeToString(sum[:12])+".so")
	if _, err := os.Stat(lib); err == nil {
		return lib, nil
	}
	cpp := lib + ".cpp"
	if err := os.WriteFile(cpp, []byte(prog), 0o644); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d", lib, os.Getpid())
	out, err := exec.Command(f.gxx, "-std=c++17", "-O0", "-w", "-shared", "-fPIC", "-pthread", "-o", tmp, cpp).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("g++: %v\n%s\n%s", err, out, prog)
	}
	return lib, os.Rename(tmp, lib)
}

func (f *fakeDevice) function(fn *uintptr, mod uintptr, name string) int32 {
	f.mu.Lock()
	*fn = f.mods[mod]
	f.mu.Unlock()
	return 0
}

func (f *fakeDevice) launch(fn uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params, extra unsafe.Pointer) int32 {
	purego.SyscallN(fn, uintptr(params), uintptr(gx))
	return 0
}
