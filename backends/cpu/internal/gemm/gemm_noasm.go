//go:build purego || !amd64

package gemm

// impls lists the implementations this build can run, best first.
var impls = []*impl{genericImpl}

// narrowImpl: none without assembly.
var narrowImpl *impl
