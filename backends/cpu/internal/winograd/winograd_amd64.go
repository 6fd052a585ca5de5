//go:build !purego

package winograd

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../winograd_amd64.s -stubs ../winograd_stub_amd64.go -pkg winograd"

// vecLanes is the assembly's vector width in float32 lanes: 16 (AVX-512),
// 8 (AVX2/FMA) or 0 (none: Go only). Tests lower it to check the narrower
// kernels.
var vecLanes = func() int {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3):
		return 16
	case cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3):
		return 8
	}
	return 0
}()

func lanes() int { return vecLanes }

func inputAsm(v *float32, vStride int, x *float32, rowStride, colStride, n int) {
	if vecLanes == 16 {
		inputAVX512(v, 4*vStride, x, 4*rowStride, 4*colStride, n)
		return
	}
	inputAVX2(v, 4*vStride, x, 4*rowStride, 4*colStride, n)
}

func outputAsm(y *float32, rowStride, colStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int) {
	if vecLanes == 16 {
		outputAVX512(y, 4*rowStride, 4*colStride, z, 4*zStride, bias, lo, hi, n)
		return
	}
	outputAVX2(y, 4*rowStride, 4*colStride, z, 4*zStride, bias, lo, hi, n)
}

func outputPlanesAsm(y *float32, rowStride, chanStride int, z *float32, zStride int, bias *float32, lo, hi float32, n int) {
	if vecLanes == 16 {
		outputPlanesAVX512(y, 4*rowStride, 4*chanStride, z, 4*zStride, bias, lo, hi, n)
		return
	}
	outputPlanesAVX2(y, 4*rowStride, 4*chanStride, z, 4*zStride, bias, lo, hi, n)
}

// vecLanesSet sets vecLanes (tests) and returns the old value.
func vecLanesSet(n int) int {
	old := vecLanes
	vecLanes = n
	return old
}
