//go:build !purego

package gemm

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asmpw && go run . -out ../pointwise_amd64.s -stubs ../pointwise_stub_amd64.go -pkg gemm"

// pwAvail reports whether the pointwise kernels run on this CPU.
var pwAvail = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3)

type pwKernel func(k int, a *float32, lda int, b *float32, ldb int, bias, c *float32, ldc int, res *float32, lo, hi float32, mask uint32, flags, tiles int)

// pwKernels[r-1] is the kernel of an r-row tile.
var pwKernels = [14]pwKernel{pw1x32AVX512, pw2x32AVX512, pw3x32AVX512, pw4x32AVX512, pw5x32AVX512,
	pw6x32AVX512, pw7x32AVX512, pw8x32AVX512, pw9x32AVX512, pw10x32AVX512, pw11x32AVX512,
	pw12x32AVX512, pw13x32AVX512, pw14x32AVX512}

// pwKernels16[r-1] is the kernel of an r-row, 16-column tile.
var pwKernels16 = [28]pwKernel{pw1x16AVX512, pw2x16AVX512, pw3x16AVX512, pw4x16AVX512, pw5x16AVX512,
	pw6x16AVX512, pw7x16AVX512, pw8x16AVX512, pw9x16AVX512, pw10x16AVX512, pw11x16AVX512,
	pw12x16AVX512, pw13x16AVX512, pw14x16AVX512, pw15x16AVX512, pw16x16AVX512, pw17x16AVX512,
	pw18x16AVX512, pw19x16AVX512, pw20x16AVX512, pw21x16AVX512, pw22x16AVX512, pw23x16AVX512,
	pw24x16AVX512, pw25x16AVX512, pw26x16AVX512, pw27x16AVX512, pw28x16AVX512}

// pwDotKernels[r-1] computes r dot products; they need AVX512DQ too.
var (
	pwDotKernels = [8]func(k int, a *float32, lda int, x, out *float32, mask uint32){pwdot1AVX512, pwdot2AVX512,
		pwdot3AVX512, pwdot4AVX512, pwdot5AVX512, pwdot6AVX512, pwdot7AVX512, pwdot8AVX512}
	pwDotAvail = pwAvail && cpuid.CPU.Supports(cpuid.AVX512DQ)
)

// pwDots sets out[i] = Σ_q a[i·lda+q]·x[q] for i < len(out), q < len(x),
// eight rows at a time (one accumulator each, the lanes summed at the end).
func pwDots(a []float32, lda int, x, out []float32) {
	k := len(x)
	if !pwDotAvail || k == 0 {
		for i := range out {
			out[i] = dotAVX(a[i*lda:][:k], x)
		}
		return
	}
	mask := uint32(1)<<(k%16) - 1
	for i0 := 0; i0 < len(out); i0 += 8 {
		r := min(8, len(out)-i0)
		_ = a[(i0+r-1)*lda+k-1]
		pwDotKernels[r-1](k, &a[i0*lda], lda, &x[0], &out[i0], mask)
	}
}
