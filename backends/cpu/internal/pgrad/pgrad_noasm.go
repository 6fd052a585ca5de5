//go:build purego || !amd64

package pgrad

const useAsm = false

func max2x2PosAVX512(g0, g1, r0, r1, dy *float32, n int, cols, grads uint16) {
	panic("pgrad: no assembly in this build")
}

func max2x2AVX512(y, r0, r1 *float32, n int, lo, hi, out uint16) {
	panic("pgrad: no assembly in this build")
}
