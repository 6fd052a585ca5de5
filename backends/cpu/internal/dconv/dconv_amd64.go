//go:build !purego

package dconv

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../dconv_amd64.s -stubs ../dconv_stub_amd64.go -pkg dconv"

// useAsm reports whether the AVX-512 kernels run on this CPU.
var useAsm = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3)
