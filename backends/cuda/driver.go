package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// driver holds the CUDA driver API entry points, loaded from libcuda.so.1.
type driver struct {
	cuInit                    func(flags uint32) int32
	cuDriverGetVersion        func(v *int32) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceGetAttribute      func(v *int32, attr int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uint64, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemAlloc                func(p *uintptr, n uint64) int32
	cuMemFree                 func(p uintptr) int32
	cuMemcpyHtoD              func(dst uintptr, src unsafe.Pointer, n uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uintptr, n uint64) int32
	cuMemcpyDtoD              func(dst, src uintptr, n uint64) int32
	cuMemsetD8                func(dst uintptr, v uint8, n uint64) int32
	cuModuleLoadData          func(mod *uintptr, image unsafe.Pointer) int32
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name string) int32
	cuLaunchKernel            func(f uintptr, gx, gy, gz, bx, by, bz, shmem uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) int32
	cuGetErrorName            func(code int32, s **byte) int32
}

// Device attributes (CUdevice_attribute).
const (
	attrMultiprocessors = 16
	attrCCMajor         = 75
	attrCCMinor         = 76
)

// symbol binds one C function to a Go function pointer.
type symbol struct {
	name string
	fptr any
}

// openLib loads the first of names that dlopen finds, trying $KEEN_CUDA_LIB,
// /usr/local/cuda/lib64 and the usual library path, and binds syms.
func openLib(names []string, syms []symbol) (string, error) {
	var dirs []string
	if d := os.Getenv("KEEN_CUDA_LIB"); d != "" {
		dirs = append(dirs, d)
	}
	if d := os.Getenv("CUDA_PATH"); d != "" {
		dirs = append(dirs, filepath.Join(d, "lib64"))
	}
	dirs = append(dirs, "", "/usr/local/cuda/lib64")
	var firstErr error
	for _, n := range names {
		for _, d := range dirs {
			path := n
			if d != "" {
				path = filepath.Join(d, n)
			}
			h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			for _, s := range syms {
				p, err := purego.Dlsym(h, s.name)
				if err != nil {
					return "", fmt.Errorf("%s lacks %s (too old?)", path, s.name)
				}
				purego.RegisterFunc(s.fptr, p)
			}
			return path, nil
		}
	}
	return "", fmt.Errorf("%s not found", names[0])
}

func loadDriver() (*driver, error) {
	d := &driver{}
	_, err := openLib([]string{"libcuda.so.1", "libcuda.so"}, []symbol{
		{"cuInit", &d.cuInit},
		{"cuDriverGetVersion", &d.cuDriverGetVersion},
		{"cuDeviceGetCount", &d.cuDeviceGetCount},
		{"cuDeviceGet", &d.cuDeviceGet},
		{"cuDeviceGetName", &d.cuDeviceGetName},
		{"cuDeviceGetAttribute", &d.cuDeviceGetAttribute},
		{"cuDeviceTotalMem_v2", &d.cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &d.cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &d.cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &d.cuCtxSetCurrent},
		{"cuCtxSynchronize", &d.cuCtxSynchronize},
		{"cuMemAlloc_v2", &d.cuMemAlloc},
		{"cuMemFree_v2", &d.cuMemFree},
		{"cuMemcpyHtoD_v2", &d.cuMemcpyHtoD},
		{"cuMemcpyDtoH_v2", &d.cuMemcpyDtoH},
		{"cuMemcpyDtoD_v2", &d.cuMemcpyDtoD},
		{"cuMemsetD8_v2", &d.cuMemsetD8},
		{"cuModuleLoadData", &d.cuModuleLoadData},
		{"cuModuleGetFunction", &d.cuModuleGetFunction},
		{"cuLaunchKernel", &d.cuLaunchKernel},
		{"cuGetErrorName", &d.cuGetErrorName},
	})
	return d, err
}

// check turns a CUresult into an error naming the call.
func (d *driver) check(call string, code int32) error {
	if code == 0 {
		return nil
	}
	name := fmt.Sprintf("CUresult %d", code)
	var p *byte
	if d.cuGetErrorName != nil && d.cuGetErrorName(code, &p) == 0 && p != nil {
		name = cString(p)
	}
	return &Error{Call: call, Code: int(code), Name: name}
}

// Error is a failed CUDA call.
type Error struct {
	Call string
	Code int
	Name string
}

func (e *Error) Error() string { return fmt.Sprintf("cuda: %s: %s", e.Call, e.Name) }

// errNoDevice is returned by Open on a machine with a driver but no GPU.
var errNoDevice = errors.New("no CUDA device found")

// cString copies a NUL-terminated C string.
func cString(p *byte) string {
	var b strings.Builder
	for q := p; *q != 0 && b.Len() < 4096; q = (*byte)(unsafe.Add(unsafe.Pointer(q), 1)) {
		b.WriteByte(*q)
	}
	return b.String()
}
