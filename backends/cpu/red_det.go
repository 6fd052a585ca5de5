package cpu

import (
	"fmt"
	"math"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Det (11, 22): determinant of each square matrix in the last two dims,
// by LU decomposition with partial pivoting in float64.

func init() {
	reg("Det", 11, prepDet)
}

func prepDet(s *backends.OpSpec) (kernelFunc, error) {
	if err := redNeedFloat(s.InputTypes, 0); err != nil {
		return nil, err
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		r := x.Rank()
		if r < 2 || x.Shape[r-1] != x.Shape[r-2] {
			return nil, fmt.Errorf("%w: input 0 shape %v is not a batch of square matrices", errShape, x.Shape)
		}
		m := x.Shape[r-1]
		v := redF64(x)
		batch := ir.Size(x.Shape[:r-2])
		out := make([]float64, batch)
		for b := range out {
			out[b] = redDet(v[b*m*m:(b+1)*m*m], m)
		}
		y, err := redFromF64(out, x.DType, x.Shape[:r-2])
		return []*ir.Tensor{y}, err
	}, nil
}

// redDet returns the determinant of the m x m matrix a, destroying a.
func redDet(a []float64, m int) float64 {
	det := 1.0
	for c := 0; c < m; c++ {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r*m+c]) > math.Abs(a[p*m+c]) {
				p = r
			}
		}
		if a[p*m+c] == 0 {
			return 0
		}
		if p != c {
			for j := 0; j < m; j++ {
				a[p*m+j], a[c*m+j] = a[c*m+j], a[p*m+j]
			}
			det = -det
		}
		piv := a[c*m+c]
		det *= piv
		for r := c + 1; r < m; r++ {
			f := a[r*m+c] / piv
			if f == 0 {
				continue
			}
			for j := c + 1; j < m; j++ {
				a[r*m+j] -= f * a[c*m+j]
			}
		}
	}
	return det
}
