//go:build arm64 || loong64 || ppc64 || ppc64le || riscv64 || s390x

package vecmath

// fma32 is a·b + c rounded once: the compiler fuses this expression into
// one instruction on these architectures.
func fma32(a, b, c float32) float32 { return a*b + c }
