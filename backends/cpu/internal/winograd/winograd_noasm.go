//go:build purego || !amd64

package winograd

// lanes is 0: no assembly in this build.
func lanes() int { return 0 }

func inputAsm(v *float32, vStride int, x *float32, rowStride, colStride, n int) {
	panic("winograd: no assembly in this build")
}

func outputAsm(y *float32, rowStride, colStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int) {
	panic("winograd: no assembly in this build")
}

func outputPlanesAsm(y *float32, rowStride, chanStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int) {
	panic("winograd: no assembly in this build")
}

func vecLanesSet(n int) int { return 0 }
