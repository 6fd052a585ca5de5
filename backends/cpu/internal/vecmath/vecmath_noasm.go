//go:build purego || !amd64

package vecmath

// impls lists the implementations this build can run, best first.
var impls = []*impl{genericImpl}
