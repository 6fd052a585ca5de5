//go:build purego || !amd64

package dconv

const useAsm = false

func rows3x3V1M16AVX512(y, x, w, bias *float32, cin, xcs, xrs, ycs, rows, ysr int, mask uint16) {
	panic("dconv: no assembly in this build")
}

func rows3x3V2M8AVX512(y, x, w, bias *float32, cin, xcs, xrs, ycs, rows, ysr int, mask uint16) {
	panic("dconv: no assembly in this build")
}

func grad3x3V1M16AVX512(part, x, dy *float32, cin, xcs, xrs, dycs, rows, dysr int, mask uint16) {
	panic("dconv: no assembly in this build")
}

func grad3x3V2M8AVX512(part, x, dy *float32, cin, xcs, xrs, dycs, rows, dysr int, mask uint16) {
	panic("dconv: no assembly in this build")
}

func copyRowsAVX512(dst, src *float32, rows, dstStride, srcStride int, mask0, mask1 uint16) {
	panic("dconv: no assembly in this build")
}
