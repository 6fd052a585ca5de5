// Command keen-backend-cuda serves Keen's CUDA backend as a plugin; the
// backend name "cuda" runs it. Without a driver or device the host reports
// why ("cuda: unavailable: libcuda.so.1 not found").
package main

import (
	"github.com/keenml/keen/backends/cuda"
	"github.com/keenml/keen/plugins"
)

func main() { plugins.Serve(cuda.Open) }
