//go:build purego || !amd64

package gemm

// pwAvail: no pointwise kernels without assembly (Pointwise reports false).
const pwAvail = false

var pwKernels [14]func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)

var pwKernels16 [28]func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)

var pwDot = dotGeneric
