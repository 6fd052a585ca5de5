//go:build purego || !amd64

package gemm

// pwAvail: no pointwise kernels without assembly (Pointwise reports false).
const pwAvail = false

// pwDotAvail: no eight-row dot kernels either.
const pwDotAvail = false

var pwKernels [14]func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)

var pwKernels16 [28]func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)

func pwDots(a []float32, lda int, x, out []float32) {
	for i := range out {
		out[i] = dotGeneric(a[i*lda:][:len(x)], x)
	}
}
