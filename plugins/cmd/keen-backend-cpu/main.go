// Command keen-backend-cpu serves Keen's in-tree CPU backend as a plugin, so
// the whole out-of-process path can be tested on any machine:
//
//	onnxrun conformance --backend plugin:bin/keen-backend-cpu PATH
package main

import (
	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/cpu"
	"github.com/keenml/keen/plugins"
)

func main() {
	plugins.Serve(func() (backends.Backend, error) { return cpu.New(), nil })
}
