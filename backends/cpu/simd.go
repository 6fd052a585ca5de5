package cpu

import (
	"github.com/keenml/keen/backends/cpu/internal/gemm"
	"github.com/keenml/keen/backends/cpu/internal/vecmath"
)

// simdLevel names the instruction sets the hot kernels use on this machine.
func simdLevel() string { return "gemm " + gemm.Impl() + ", vector math " + vecmath.Impl() }
