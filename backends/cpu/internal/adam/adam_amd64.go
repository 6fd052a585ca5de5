//go:build !purego

package adam

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../adam_amd64.s -stubs ../adam_stub_amd64.go -pkg adam"

// useAsm reports whether adamAVX2 runs on this CPU.
var useAsm = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3)
