package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"
)

// nvrtc holds the NVRTC entry points: kernels are CUDA C text compiled at
// run time for the device present.
type nvrtc struct {
	version      string
	nvrtcVersion func(major, minor *int32) int32
	create       func(prog *uintptr, src, name string, nh int32, hdrs, names unsafe.Pointer) int32
	compile      func(prog uintptr, nopt int32, opts unsafe.Pointer) int32
	logSize      func(prog uintptr, n *uint64) int32
	log          func(prog uintptr, buf *byte) int32
	ptxSize      func(prog uintptr, n *uint64) int32
	ptx          func(prog uintptr, buf *byte) int32
	cubinSize    func(prog uintptr, n *uint64) int32
	cubin        func(prog uintptr, buf *byte) int32
	destroy      func(prog *uintptr) int32
	errString    func(code int32) string
}

func loadNVRTC() (*nvrtc, error) {
	n := &nvrtc{}
	_, err := openLib([]string{"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"}, []symbol{
		{"nvrtcVersion", &n.nvrtcVersion},
		{"nvrtcCreateProgram", &n.create},
		{"nvrtcCompileProgram", &n.compile},
		{"nvrtcGetProgramLogSize", &n.logSize},
		{"nvrtcGetProgramLog", &n.log},
		{"nvrtcGetPTXSize", &n.ptxSize},
		{"nvrtcGetPTX", &n.ptx},
		{"nvrtcGetCUBINSize", &n.cubinSize},
		{"nvrtcGetCUBIN", &n.cubin},
		{"nvrtcDestroyProgram", &n.destroy},
		{"nvrtcGetErrorString", &n.errString},
	})
	if err != nil {
		return nil, err
	}
	var major, minor int32
	n.nvrtcVersion(&major, &minor)
	n.version = fmt.Sprintf("%d.%d", major, minor)
	return n, nil
}

func (n *nvrtc) check(call string, code int32) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s", call, n.errString(code))
}

// image compiles src for compute capability cc ("86") and returns a CUBIN
// (or PTX, NUL-terminated, when kind is 'P') for cuModuleLoadData. Results
// are cached on disk under the user cache folder, keyed by source, device
// and NVRTC version.
func (n *nvrtc) image(src, cc string) (img []byte, err error) {
	sum := sha256.Sum256([]byte(src + "\x00" + cc + "\x00" + n.version))
	var cache string
	if dir, err := os.UserCacheDir(); err == nil {
		cache = filepath.Join(dir, "keen", "cuda", hex.EncodeToString(sum[:16])+".img")
		if b, err := os.ReadFile(cache); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	img, err = n.build(src, "-arch=sm_"+cc, true)
	if err != nil {
		// An NVRTC older than the device: PTX for the newest target it
		// knows, left to the driver to finish.
		if img, err = n.build(src, "--gpu-architecture=compute_"+cc, false); err != nil {
			return nil, err
		}
	}
	if cache != "" && os.MkdirAll(filepath.Dir(cache), 0o755) == nil {
		tmp := cache + fmt.Sprintf(".%d", os.Getpid())
		if os.WriteFile(tmp, img, 0o644) == nil {
			_ = os.Rename(tmp, cache)
		}
	}
	return img, nil
}

func (n *nvrtc) build(src, arch string, cubin bool) ([]byte, error) {
	var prog uintptr
	if err := n.check("nvrtcCreateProgram", n.create(&prog, src, "keen.cu", 0, nil, nil)); err != nil {
		return nil, err
	}
	defer n.destroy(&prog)
	opts := []string{arch, "--std=c++14", "-default-device", "--use_fast_math=false"}
	copts := make([]*byte, len(opts))
	for i, o := range opts {
		b := append([]byte(o), 0)
		copts[i] = &b[0]
	}
	if code := n.compile(prog, int32(len(copts)), unsafe.Pointer(&copts[0])); code != 0 {
		var size uint64
		n.logSize(prog, &size)
		log := make([]byte, size+1)
		n.log(prog, &log[0])
		return nil, fmt.Errorf("cuda: NVRTC %s (%s): %s\n%s", n.version, arch, n.errString(code), cutNUL(log))
	}
	sizeFn, getFn := n.ptxSize, n.ptx
	if cubin {
		sizeFn, getFn = n.cubinSize, n.cubin
	}
	var size uint64
	if err := n.check("nvrtcGetSize", sizeFn(prog, &size)); err != nil {
		return nil, err
	}
	img := make([]byte, size+1) // PTX must end in NUL
	if size == 0 {
		return nil, fmt.Errorf("cuda: NVRTC produced an empty image for %s", arch)
	}
	if err := n.check("nvrtcGet", getFn(prog, &img[0])); err != nil {
		return nil, err
	}
	return img, nil
}

func cutNUL(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
