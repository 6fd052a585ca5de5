//go:build purego || !amd64

package dwconv

const useAsm = false

func taps9AVX2(dst *float32, src *[9]*float32, w *[9]float32, bias float32, n int, acc bool) {
	panic("dwconv: no assembly in this build")
}

func even2AVX2(dst, src *float32, n int) {
	panic("dwconv: no assembly in this build")
}
