package cpu

// simdLevel names the instruction set the hot kernels use on this machine.
func simdLevel() string { return "generic Go" }
