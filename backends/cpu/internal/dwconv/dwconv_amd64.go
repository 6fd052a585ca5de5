//go:build !purego

package dwconv

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../taps_amd64.s -stubs ../taps_stub_amd64.go -pkg dwconv"

// useAsm reports whether taps9AVX2 runs on this CPU.
var useAsm = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)

// useAVX512 reports whether direct3AVX512 runs on this CPU.
var useAVX512 = useAsm && cpuid.CPU.Supports(cpuid.AVX512F)
