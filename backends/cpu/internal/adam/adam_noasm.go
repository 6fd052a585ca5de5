//go:build purego || !amd64

package adam

const useAsm = false

func adamAVX2(x, grad, v, h, nx, nv, nh *float32, n int, c *[8]float32) {
	panic("adam: no assembly in this build")
}
