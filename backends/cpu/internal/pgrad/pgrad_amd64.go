//go:build !purego

package pgrad

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _asm && go run . -out ../pgrad_amd64.s -stubs ../pgrad_stub_amd64.go -pkg pgrad"

// useAsm reports whether the AVX-512 kernel runs on this CPU.
var useAsm = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL)
