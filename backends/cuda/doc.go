// Package cuda is Keen's CUDA backend. It is served out of process by the
// keen-backend-cuda plugin (plugins/cmd/keen-backend-cuda) and chosen with
// the backend name "cuda".
//
// UNPROVEN ON HARDWARE: this package was written on a machine without a
// GPU, and no kernel in it has run on a GPU yet. What is tested without one
// is the host logic (shapes, strides, launches, the operand order of the
// cuBLAS calls) and the kernels' CUDA C, on an emulated device: the tests'
// fakeDevice replaces the driver and cuBLAS with host stand-ins and compiles
// each kernel with g++ as C++, run with one OS thread per GPU thread and a
// barrier for __syncthreads. ONNX's node tests and the backendtest kit run
// over it, directly and served through the plugin protocol as
// keen-backend-cuda serves it; 1793 of the 1802 node tests pass there, as
// on the CPU (123 distinct kernels ran; ops the backend lacks fell back to
// the CPU 2891 times). Not tested: NVRTC, the real driver and cuBLAS, the
// purego bindings' calling conventions, memory and speed on a device.
// Treat its results as unverified until the conformance suite has been run
// over it on a real GPU (`onnxrun conformance --backend cuda PATH`).
//
// It needs no CUDA SDK to build (CGO_ENABLED=0): the driver (libcuda.so.1),
// NVRTC and cuBLAS are loaded at run time with purego. Kernels are CUDA C
// text generated per (op, dtypes) and compiled by NVRTC for the compute
// capability of the device present; compiled images are kept in memory and
// on disk under the user cache folder (keen/cuda). MatMul, Gemm and Conv
// (through im2col) use cuBLAS.
//
// Without a driver, a device, NVRTC or cuBLAS, Open fails and says which is
// missing ("cuda: libcuda.so.1 not found").
//
// What it serves: elementwise unary and binary math with broadcasting
// (float32, float64; integer and bool ops where they make sense), Where,
// Cast, the reductions and ArgMax/ArgMin, Softmax/LogSoftmax, the movement
// ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Transpose, Expand,
// Slice, Concat, Split, Gather, Pad with constant mode, Shape, Size), MatMul,
// Gemm and Conv, MaxPool, AveragePool, their Global forms, and
// BatchNormalization for inference. Everything else fails Prepare with an error wrapping
// backends.ErrNotImplemented, and eager runs it on the CPU instead (a
// counted, visible fallback).
//
// Buffers are device allocations taken from a pool of free blocks; all work
// goes to the legacy default stream, so a block freed by one op and reused
// by the next is ordered. Kernel launches are asynchronous: a fault inside a
// kernel surfaces at the next Sync or ToHost, which cannot name the op. An
// out-of-range Gather index sets a device flag that Sync reports. Small
// int32/int64 tensors keep a host copy, so shape inputs (Reshape, Slice,
// Expand, ...) need no device read; other such inputs are read back.
// String tensors stay on the host.
package cuda
