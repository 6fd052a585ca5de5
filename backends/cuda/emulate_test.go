package cuda

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// There is no GPU where this package was written, so its kernels are
// checked by compiling the generated CUDA C as C++ with a shim that runs
// each block's threads as OS threads (with a barrier for __syncthreads)
// and comparing with Go references. This checks the kernels' index
// arithmetic and the host code's strides; it cannot check NVRTC, the
// driver calls or cuBLAS.

const shim = `#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>
using std::erf; using std::erff;
struct dim3s { unsigned x, y, z; };
thread_local dim3s threadIdx, blockIdx;
dim3s blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static std::barrier<>* bar;
inline void __syncthreads() { bar->arrive_and_wait(); }
inline int atomicExch(int* p, int v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
template <class F> void launch(unsigned grid, F f) {
  gridDim = {grid, 1, 1}; blockDim = {256, 1, 1};
  for (unsigned bi = 0; bi < grid; bi++) {
    std::barrier<> b(256); bar = &b;
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < 256; t++) ts.emplace_back([&, bi, t] { blockIdx = {bi, 0, 0}; threadIdx = {t, 0, 0}; f(); });
    for (auto& t : ts) t.join();
  }
}
template <class T> void show(const char* name, const T* v, int n) {
  printf("%s", name);
  for (int i = 0; i < n; i++) printf(" %.17g", (double)v[i]);
  printf("\n");
}
`

// emu collects kernels and launches into one C++ program.
type emu struct {
	kernels, main strings.Builder
	want          map[string][]float64
	tol           map[string]float64
	n             int
}

func newEmu() *emu { return &emu{want: map[string][]float64{}, tol: map[string]float64{}} }

// kernel adds a generated program in its own namespace and returns it.
func (e *emu) kernel(src string) string {
	e.n++
	ns := fmt.Sprintf("k%d", e.n)
	src = strings.ReplaceAll(src, `extern "C" `, "")
	fmt.Fprintf(&e.kernels, "namespace %s {\n#undef MAP\n#undef COMBINE\n#undef BETTER\n#undef GRID_LOOP\n%s}\n", ns, src)
	return ns
}

// array declares a C array of values.
func array(name, ctype string, vals []float64) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
		if math.IsInf(v, 1) {
			parts[i] = "INFINITY"
		} else if math.IsInf(v, -1) {
			parts[i] = "-INFINITY"
		} else if math.IsNaN(v) {
			parts[i] = "NAN"
		}
	}
	if len(vals) == 0 {
		return fmt.Sprintf("static %s %s[1];\n", ctype, name)
	}
	return fmt.Sprintf("static %s %s[] = {%s};\n", ctype, name, strings.Join(parts, ", "))
}

// out declares a zeroed output array.
func out(name, ctype string, n int) string {
	return fmt.Sprintf("static %s %s[%d] = {};\n", ctype, name, max(n, 1))
}

// words declares a struct of 8-byte fields filled from ws.
func words(name, typ string, ws []int64) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = strconv.FormatInt(w, 10) + "LL"
	}
	return fmt.Sprintf("static long long %s_w[] = {%s};\n%s %s; static_assert(sizeof %s == sizeof %s_w);\nmemcpy(&%s, %s_w, sizeof %s);\n",
		name, strings.Join(parts, ", "), typ, name, name, name, name, name, name)
}

// run adds one case: decls, then the launch of call over grid blocks, then
// the output printed under name and compared with want.
func (e *emu) run(name, decls string, grid int, call, outName string, want []float64, tol float64) {
	fmt.Fprintf(&e.main, "{\n%slaunch(%d, [&] { %s; });\nshow(%q, %s, %d);\n}\n", decls, grid, call, name, outName, len(want))
	e.want[name] = want
	e.tol[name] = tol
}

// check compiles and runs the program and compares every case.
func (e *emu) check(t *testing.T) {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("g++ not found: kernels not emulated")
	}
	dir := t.TempDir()
	prog := shim + e.kernels.String() + "int main() {\n" + e.main.String() + "return 0;\n}\n"
	src := filepath.Join(dir, "emu.cpp")
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "emu")
	cmd := exec.Command(gxx, "-std=c++20", "-O1", "-w", "-pthread", "-o", bin, src)
	if outp, err := cmd.CombinedOutput(); err != nil {
		if bytes.Contains(outp, []byte("barrier")) && bytes.Contains(outp, []byte("No such file")) {
			t.Skip("g++ lacks C++20 <barrier>")
		}
		t.Fatalf("compiling the emulated kernels: %v\n%s", err, outp)
	}
	outp, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running the emulated kernels: %v", err)
	}
	got := map[string][]float64{}
	sc := bufio.NewScanner(bytes.NewReader(outp))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		vals := make([]float64, len(f)-1)
		for i, s := range f[1:] {
			vals[i], _ = strconv.ParseFloat(s, 64)
		}
		got[f[0]] = vals
	}
	for name, want := range e.want {
		g, ok := got[name]
		if !ok || len(g) != len(want) {
			t.Errorf("%s: got %v, want %v", name, g, want)
			continue
		}
		for i := range want {
			if !close(g[i], want[i], e.tol[name]) {
				t.Errorf("%s: value %d = %v, want %v\n got  %v\n want %v", name, i, g[i], want[i], g, want)
				break
			}
		}
	}
}

func close(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol*(1+math.Abs(b))
}

// seq is start, start+step, ... (n values).
func seq(n int, start, step float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = start + float64(i)*step
	}
	return v
}
