//go:build purego || !amd64

package pgrad

const useAsm = false

func max2x2PosAVX512(g0, g1, r0, r1, dy *float32, n int, cols, grads uint16) {
	panic("pgrad: no assembly in this build")
}
