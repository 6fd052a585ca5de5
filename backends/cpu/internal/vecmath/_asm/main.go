// Command _asm generates vecmath_amd64.s and vecmath_stub_amd64.go, the
// SIMD kernels of package vecmath, with avo. Run it through `go generate`
// in the parent package (`make generate`); it is its own module so that
// avo never becomes a dependency of Keen. The approximation constants are
// read from the parent's consts.go, so the assembly and the Go twins share
// one copy of them.
package main

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"log"

	. "github.com/mmcloughlin/avo/build"
)

func main() {
	consts, err := parseConsts("../consts.go")
	if err != nil {
		log.Fatal(err)
	}
	ConstraintExpr("!purego")
	for _, g := range []*gen{newGen(avx2, consts), newGen(avx512, consts)} {
		g.mathKernels()
	}
	arithKernels(newGen(avx2, consts))
	Generate()
}

// parseConsts type-checks the package's consts.go (it imports nothing) and
// returns its constants by name.
func parseConsts(path string) (map[string]constant.Value, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	pkg, err := new(types.Config).Check("vecmath", fset, []*ast.File{f}, nil)
	if err != nil {
		return nil, err
	}
	out := map[string]constant.Value{}
	for _, name := range pkg.Scope().Names() {
		if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
			out[name] = c.Val()
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no constants", path)
	}
	return out, nil
}
