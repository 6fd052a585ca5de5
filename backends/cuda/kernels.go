package cuda

import (
	"fmt"
	"strings"

	"github.com/keenml/keen/ir"
)

// The kernels are CUDA C generated from a few templates. Each program
// defines one extern "C" kernel named k; programs differ in their element
// types and expressions, and are compiled once each (see Backend.fn).

// ctype is the C type of a dtype's elements ("" when kernels cannot
// compute on it).
func ctype(dt ir.DType) string {
	switch dt {
	case ir.Float32:
		return "float"
	case ir.Float64:
		return "double"
	case ir.Int8:
		return "signed char"
	case ir.Uint8, ir.Bool:
		return "unsigned char"
	case ir.Int16:
		return "short"
	case ir.Uint16:
		return "unsigned short"
	case ir.Int32:
		return "int"
	case ir.Uint32:
		return "unsigned int"
	case ir.Int64:
		return "long long"
	case ir.Uint64:
		return "unsigned long long"
	}
	return ""
}

// bitsType is an unsigned C type as wide as a dtype's elements, for kernels
// that only move data ("" for widths they cannot move).
func bitsType(dt ir.DType) string {
	switch dt.GoSize() {
	case 1:
		return "unsigned char"
	case 2:
		return "unsigned short"
	case 4:
		return "unsigned int"
	case 8:
		return "unsigned long long"
	}
	return ""
}

var mathFuncs = []string{"exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
	"tanh", "asinh", "acosh", "atanh", "erf", "floor", "ceil", "rint", "fabs", "log1p", "expm1"}

// header is shared by every program: index type, the strided-shape struct
// and float/double overloads k_f of the math functions.
var header = func() string {
	var b strings.Builder
	b.WriteString("typedef long long I;\n")
	fmt.Fprintf(&b, "struct Sh { I n, rank, dims[%d], s0[%[1]d], s1[%[1]d], s2[%[1]d], sy[%[1]d], o0, o1, o2, oy; };\n", maxRank)
	for _, f := range mathFuncs {
		fmt.Fprintf(&b, "__device__ __forceinline__ float k_%s(float x) { return %sf(x); }\n", f, f)
		fmt.Fprintf(&b, "__device__ __forceinline__ double k_%s(double x) { return %s(x); }\n", f, f)
	}
	b.WriteString("__device__ __forceinline__ float k_pow(float x, float y) { return powf(x, y); }\n")
	b.WriteString("__device__ __forceinline__ double k_pow(double x, double y) { return pow(x, y); }\n")
	b.WriteString("__device__ __forceinline__ float k_fmod(float x, float y) { return fmodf(x, y); }\n")
	b.WriteString("__device__ __forceinline__ double k_fmod(double x, double y) { return fmod(x, y); }\n")
	b.WriteString("#define GRID_LOOP(i, n) for (I i = (I)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (I)gridDim.x * blockDim.x)\n")
	return b.String()
}()

// mapSource is the strided elementwise kernel: y[view] = expr(a, b, c) over
// up to three strided inputs of C types in, with scalar parameters p0, p1.
// T is the compute type (the first input's type, or the output's).
func mapSource(in []string, out, compute, expr string) string {
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "typedef %s T;\ntypedef %s Y;\n", compute, out)
	names := []string{"a", "b", "c"}
	b.WriteString(`extern "C" __global__ void k(`)
	for i, t := range in {
		fmt.Fprintf(&b, "const %s* x%d, ", t, i)
	}
	b.WriteString("Y* y, Sh s, double p0, double p1) {\n")
	b.WriteString("  GRID_LOOP(i, s.n) {\n    I r = i, a0 = s.o0, a1 = s.o1, a2 = s.o2, ay = s.oy;\n")
	b.WriteString("    for (int d = (int)s.rank - 1; d >= 0; d--) { I q = r % s.dims[d]; r /= s.dims[d];" +
		" a0 += q * s.s0[d]; a1 += q * s.s1[d]; a2 += q * s.s2[d]; ay += q * s.sy[d]; }\n")
	for i, t := range in {
		fmt.Fprintf(&b, "    %s %s = x%d[a%d];\n", t, names[i], i, i)
	}
	b.WriteString("    (void)a0; (void)a1; (void)a2; (void)p0; (void)p1;\n")
	fmt.Fprintf(&b, "    y[ay] = (Y)(%s);\n  }\n}\n", expr)
	return b.String()
}

// redShape is the layout a reduction kernel walks: outputs over the kept
// dims, each summing over the reduced dims (strides into the input).
const redStruct = "struct Rd { I nout, nred, orank, odims[8], ostr[8], rrank, rdims[8], rstr[8]; };\n"

// reduceSource reduces x (type in, accumulated as acc) into y (type out):
// acc = combine(acc, mapv(v)) from init, then y = final(t); aux[o] is a
// per-output value the map and final may use (LogSumExp's max).
func reduceSource(in, acc, out, init, mapv, combine, final string) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString(redStruct)
	fmt.Fprintf(&b, "typedef %s X;\ntypedef %s A;\ntypedef %s Y;\n", in, acc, out)
	fmt.Fprintf(&b, "#define MAP(v) (%s)\n#define COMBINE(p, q) (%s)\n", mapv, combine)
	b.WriteString(`extern "C" __global__ void k(const X* x, Y* y, const A* aux, Rd s, double scale) {
  __shared__ A buf[256];
  for (I o = blockIdx.x; o < s.nout; o += gridDim.x) {
    I base = 0, r = o;
    for (int d = (int)s.orank - 1; d >= 0; d--) { base += (r % s.odims[d]) * s.ostr[d]; r /= s.odims[d]; }
    A m = aux ? aux[o] : (A)0;
    (void)m;
`)
	fmt.Fprintf(&b, "    A acc = (%s);\n", init)
	b.WriteString(`    for (I j = threadIdx.x; j < s.nred; j += blockDim.x) {
      I off = base, q = j;
      for (int d = (int)s.rrank - 1; d >= 0; d--) { off += (q % s.rdims[d]) * s.rstr[d]; q /= s.rdims[d]; }
      A v = (A)x[off];
      acc = COMBINE(acc, MAP(v));
    }
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) buf[threadIdx.x] = COMBINE(buf[threadIdx.x], buf[threadIdx.x + w]);
      __syncthreads();
    }
    if (threadIdx.x == 0) { A t = buf[0]; (void)scale;
`)
	fmt.Fprintf(&b, "      y[o] = (Y)(%s);\n    }\n    __syncthreads();\n  }\n}\n", final)
	return b.String()
}

// argSource finds the index of the largest (or smallest) value along one
// axis of x viewed as (outer, n, inner); ties go to the first index, or the
// last with last set. NaN wins, as in the CPU backend's comparisons.
func argSource(in string, isMax, last bool) string {
	better := "(v > bv || (v != v && bv == bv))"
	if !isMax {
		better = "(v < bv || (v != v && bv == bv))"
	}
	tie := "(v == bv && j < bj)"
	if last {
		tie = "(v == bv && j > bj)"
	}
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "typedef %s X;\n#define BETTER(v, bv, j, bj) (%s || %s)\n", in, better, tie)
	b.WriteString(`extern "C" __global__ void k(const X* x, long long* y, I outer, I n, I inner) {
  __shared__ X bufv[256];
  __shared__ I bufi[256];
  for (I o = blockIdx.x; o < outer * inner; o += gridDim.x) {
    I base = (o / inner) * n * inner + o % inner;
    X bv = x[base]; I bj = 0;
    for (I j = threadIdx.x; j < n; j += blockDim.x) {
      X v = x[base + j * inner];
      if (j == threadIdx.x || BETTER(v, bv, j, bj)) { bv = v; bj = j; }
    }
    if (threadIdx.x >= n) { bj = -1; }
    bufv[threadIdx.x] = bv; bufi[threadIdx.x] = bj;
    __syncthreads();
    for (int w = blockDim.x / 2; w > 0; w >>= 1) {
      if (threadIdx.x < w) {
        X v = bufv[threadIdx.x + w]; I j = bufi[threadIdx.x + w];
        if (j >= 0 && (bufi[threadIdx.x] < 0 || BETTER(v, bufv[threadIdx.x], j, bufi[threadIdx.x]))) {
          bufv[threadIdx.x] = v; bufi[threadIdx.x] = j;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) y[o] = bufi[0] < 0 ? 0 : bufi[0];
    __syncthreads();
  }
}
`)
	return b.String()
}

// softmaxSource computes softmax (or log-softmax) of x viewed as
// (outer, n, inner) along n, one block per (outer, inner) row.
func softmaxSource(t string, logSoftmax bool) string {
	out := "k_exp(x[base + j * inner] - mx) / sum"
	if logSoftmax {
		out = "x[base + j * inner] - mx - k_log(sum)"
	}
	var b strings.Builder
	b.WriteString(header)
	fmt.Fprintf(&b, "typedef %s T;\n", t)
	b.WriteString(`__device__ T blockReduce(T* buf, T v, bool isMax) {
  buf[threadIdx.x] = v;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      T a = buf[threadIdx.x], c = buf[threadIdx.x + w];
      buf[threadIdx.x] = isMax ? (a > c || a != a ? a : c) : a + c;
    }
    __syncthreads();
  }
  T r = buf[0];
  __syncthreads();
  return r;
}
extern "C" __global__ void k(const T* x, T* y, I outer, I n, I inner) {
  __shared__ T buf[256];
  for (I o = blockIdx.x; o < outer * inner; o += gridDim.x) {
    I base = (o / inner) * n * inner + o % inner;
    T mx = -1.0 / 0.0;
    for (I j = threadIdx.x; j < n; j += blockDim.x) { T v = x[base + j * inner]; mx = (v > mx || v != v) ? v : mx; }
    mx = blockReduce(buf, mx, true);
    T sum = 0;
    for (I j = threadIdx.x; j < n; j += blockDim.x) sum += k_exp(x[base + j * inner] - mx);
    sum = blockReduce(buf, sum, false);
`)
	fmt.Fprintf(&b, "    for (I j = threadIdx.x; j < n; j += blockDim.x) y[base + j * inner] = %s;\n  }\n}\n", out)
	return b.String()
}

// gatherSource gathers along one axis of x viewed as (outer, axisLen,
// inner) with indices of C type idx; an index out of range sets *err.
func gatherSource(elem, idx string) string {
	return header + fmt.Sprintf("typedef %s E;\ntypedef %s X;\n", elem, idx) +
		`extern "C" __global__ void k(const E* x, const X* ind, E* y, I n, I nidx, I inner, I axisLen, int* err) {
  GRID_LOOP(i, n) {
    I r = i % inner, t = i / inner, j = t % nidx, o = t / nidx;
    I q = (I)ind[j];
    if (q < 0) q += axisLen;
    if (q < 0 || q >= axisLen) { atomicExch(err, 1); continue; }
    y[i] = x[(o * axisLen + q) * inner + r];
  }
}
`
}

// im2colSource unfolds one image (C, D0, D1, D2) into columns
// (C, K0, K1, K2, O0, O1, O2); unused leading spatial dims have size 1.
func im2colSource(t string) string {
	return header + fmt.Sprintf("typedef %s T;\n", t) +
		`struct Cv { I n, in[3], out[3], ker[3], str[3], pad[3], dil[3]; };
extern "C" __global__ void k(const T* x, T* col, Cv s) {
  GRID_LOOP(i, s.n) {
    I r = i, o[3], kk[3];
    for (int d = 2; d >= 0; d--) { o[d] = r % s.out[d]; r /= s.out[d]; }
    for (int d = 2; d >= 0; d--) { kk[d] = r % s.ker[d]; r /= s.ker[d]; }
    I off = r;
    bool ok = true;
    for (int d = 0; d < 3; d++) {
      I p = o[d] * s.str[d] - s.pad[d] + kk[d] * s.dil[d];
      ok = ok && p >= 0 && p < s.in[d];
      off = off * s.in[d] + p;
    }
    col[i] = ok ? x[off] : (T)0;
  }
}
`
}
