//go:build purego || !amd64

package dwconv

const useAsm = false

var useAVX512 = false

func taps9AVX2(dst *float32, src *[9]*float32, w *[9]float32, bias float32, n int, acc bool) {
	panic("dwconv: no assembly in this build")
}

func plane9AVX2(dst *float32, src *[9]*float32, w *[9]float32, bias, lo, hi float32, rows, cols, ss, ds int, mask *int32) {
	panic("dwconv: no assembly in this build")
}

func rowsAVX2(dst, src *float32, rows, cols, ds, ss int, mask *int32) {
	panic("dwconv: no assembly in this build")
}

func evenRows2AVX2(dst, src *float32, rows, n, ds, ss int, lo, hi, st *int32) {
	panic("dwconv: no assembly in this build")
}

func direct3AVX2(dst *float32, rows **float32, k *[9]float32, bias, lo, hi float32, h, w int, masks *[9][8]int32) {
	panic("dwconv: no assembly in this build")
}

func direct3AVX512(dst, src, k, bias *float32, biasStep int, lo, hi float32, n, h, w, r0, r1 int, masks *[9]uint16, zero *float32) {
	panic("dwconv: no assembly in this build")
}

func direct3s2AVX512(dst, src, k, bias *float32, biasStep int, lo, hi float32, n, h, w int, masks *[15]uint16, idx *[32]int32, zero *float32) {
	panic("dwconv: no assembly in this build")
}
