package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Ops that only change the shape: the output shares the input's data.

func init() {
	reg("Reshape", 1, prepReshape)
	reg("Reshape", 5, prepReshape)
	reg("Flatten", 1, prepFlatten)
	reg("Squeeze", 1, prepSqueeze)
	reg("Squeeze", 13, prepSqueeze)
	reg("Unsqueeze", 1, prepUnsqueeze)
	reg("Unsqueeze", 13, prepUnsqueeze)
	reg("Shape", 1, prepShape)
	reg("Shape", 15, prepShape)
	reg("Size", 1, prepSize)
}

func prepReshape(s *backends.OpSpec) (kernelFunc, error) {
	allowZero := s.Attrs.Int("allowzero", 0) != 0
	if movVer(s) < 5 {
		if !s.Attrs.Has("shape") {
			return nil, fmt.Errorf("%w: Reshape-1 needs the shape attribute", errAttr)
		}
		shape := s.Attrs.Ints("shape", nil)
		return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
			if err := needInputs(in, 1); err != nil {
				return nil, err
			}
			out, err := movReshapeShape(in[0].Shape, shape, false)
			if err != nil {
				return nil, err
			}
			return one(movView(in[0], out))
		}, nil
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		shape, err := movShapeInput(in[1], "input 1 (shape)")
		if err != nil {
			return nil, err
		}
		out, err := movReshapeShape(in[0].Shape, shape, allowZero)
		if err != nil {
			return nil, err
		}
		return one(movView(in[0], out))
	}, nil
}

// movReshapeShape resolves a Reshape target (0 copies a dimension unless
// allowZero, -1 is inferred) against the input shape.
func movReshapeShape(in []int, target []int64, allowZero bool) ([]int, error) {
	out := make([]int, len(target))
	infer, known := -1, 1
	hasZero := false
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("%w: Reshape: more than one -1 in shape %v", errInput, target)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in) {
				return nil, fmt.Errorf("%w: Reshape: 0 at index %d of shape %v copies a dimension input %v lacks", errShape, i, target, in)
			}
			out[i] = in[i]
		case d < 0:
			return nil, fmt.Errorf("%w: Reshape: negative dimension %d in shape %v", errInput, d, target)
		default:
			out[i] = int(d)
			hasZero = hasZero || d == 0
		}
		known *= out[i]
	}
	total, err := ir.NumElements(in)
	if err != nil {
		return nil, err
	}
	if infer >= 0 {
		if hasZero {
			return nil, fmt.Errorf("%w: Reshape: allowzero shape %v has both 0 and -1", errInput, target)
		}
		if known == 0 || total%known != 0 {
			return nil, fmt.Errorf("%w: Reshape: cannot infer -1 in %v from input shape %v", errShape, target, in)
		}
		out[infer] = total / known
		known = total
	}
	if _, err := ir.NumElements(out); err != nil || known != total {
		return nil, fmt.Errorf("%w: Reshape: input shape %v (%d elements) cannot become %v", errShape, in, total, target)
	}
	return out, nil
}

func prepFlatten(s *backends.OpSpec) (kernelFunc, error) {
	axis := s.Attrs.Int("axis", 1)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		r := in[0].Rank()
		a := int(axis)
		if a < 0 {
			a += r
		}
		if a < 0 || a > r {
			return nil, fmt.Errorf("%w: Flatten: axis %d out of range for input shape %v", errAttr, axis, in[0].Shape)
		}
		return one(movView(in[0], []int{ir.Size(in[0].Shape[:a]), ir.Size(in[0].Shape[a:])}))
	}, nil
}

func prepSqueeze(s *backends.OpSpec) (kernelFunc, error) {
	attrAxes := s.Attrs.Ints("axes", nil)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		axes := attrAxes
		if movVer(s) >= 13 && len(in) > 1 && in[1] != nil {
			var err error
			if axes, err = movShapeInput(in[1], "input 1 (axes)"); err != nil {
				return nil, err
			}
		}
		x := in[0]
		drop := make([]bool, x.Rank())
		if len(axes) == 0 {
			for i, d := range x.Shape {
				drop[i] = d == 1
			}
		}
		norm, err := normAxes(axes, x.Rank())
		if err != nil {
			return nil, fmt.Errorf("Squeeze: input shape %v: %w", x.Shape, err)
		}
		for _, a := range norm {
			if x.Shape[a] != 1 {
				return nil, fmt.Errorf("%w: Squeeze: axis %d of input shape %v is not 1", errShape, a, x.Shape)
			}
			drop[a] = true
		}
		var out []int
		for i, d := range x.Shape {
			if !drop[i] {
				out = append(out, d)
			}
		}
		return one(movView(x, out))
	}, nil
}

func prepUnsqueeze(s *backends.OpSpec) (kernelFunc, error) {
	attrAxes := s.Attrs.Ints("axes", nil)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		axes := attrAxes
		if movVer(s) >= 13 {
			if err := needInputs(in, 2); err != nil {
				return nil, err
			}
			var err error
			if axes, err = movShapeInput(in[1], "input 1 (axes)"); err != nil {
				return nil, err
			}
		}
		x := in[0]
		r := x.Rank() + len(axes)
		norm, err := normAxes(axes, r)
		if err != nil {
			return nil, fmt.Errorf("Unsqueeze: input shape %v: %w", x.Shape, err)
		}
		out := make([]int, r)
		for _, a := range norm {
			out[a] = -1
		}
		j := 0
		for i := range out {
			if out[i] == -1 {
				out[i] = 1
			} else {
				out[i] = x.Shape[j]
				j++
			}
		}
		return one(movView(x, out))
	}, nil
}

func prepShape(s *backends.OpSpec) (kernelFunc, error) {
	start := s.Attrs.Int("start", 0)
	end, hasEnd := s.Attrs.Int("end", 0), s.Attrs.Has("end")
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		r := in[0].Rank()
		lo, hi := movClampIndex(start, r), r
		if hasEnd {
			hi = movClampIndex(end, r)
		}
		dims := make([]int64, 0, max(hi-lo, 0))
		for i := lo; i < hi; i++ {
			dims = append(dims, int64(in[0].Shape[i]))
		}
		return one(ir.FromSlice(dims, len(dims)))
	}, nil
}

// movClampIndex maps a possibly negative index into [0, n].
func movClampIndex(i int64, n int) int {
	if i < 0 {
		i += int64(n)
	}
	return int(min(max(i, 0), int64(n)))
}

func prepSize(s *backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		return one(ir.Scalar(int64(ir.Size(in[0].Shape))))
	}, nil
}
