package cpu

import (
	"fmt"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Transpose-like ops (axis permutations) and broadcasting copies.

func init() {
	reg("Transpose", 1, prepTranspose)
	reg("DepthToSpace", 1, prepDepthToSpace)
	reg("SpaceToDepth", 1, prepSpaceToDepth)
	reg("Expand", 8, prepExpand)
	reg("Tile", 1, prepTile)
	reg("Tile", 6, prepTile)
}

// movPermute copies x, read with shape `shape` (same element count), into
// the axis order perm, and returns it with shape outShape (or the permuted
// shape when outShape is nil).
func movPermute(x *ir.Tensor, shape []int, perm []int, outShape []int) (*ir.Tensor, error) {
	st := stridesOf(shape)
	axes := make([]movAxis, len(perm))
	permuted := make([]int, len(perm))
	for k, p := range perm {
		axes[k] = movAffine(shape[p], 0, st[p])
		permuted[k] = shape[p]
	}
	if outShape == nil {
		outShape = permuted
	}
	return movMap(x, x.DType, outShape, axes, nil)
}

func prepTranspose(s *backends.OpSpec) (kernelFunc, error) {
	permAttr := s.Attrs.Ints("perm", nil)
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		r := x.Rank()
		perm := make([]int, r)
		if permAttr == nil {
			for i := range perm {
				perm[i] = r - 1 - i
			}
		} else {
			if len(permAttr) != r {
				return nil, fmt.Errorf("%w: Transpose: perm %v does not match input shape %v", errAttr, permAttr, x.Shape)
			}
			p, err := normAxes(permAttr, r)
			if err != nil {
				return nil, fmt.Errorf("Transpose: perm %v for input shape %v: %w", permAttr, x.Shape, err)
			}
			perm = p
		}
		out, err := movPermute(x, x.Shape, perm, nil)
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

// movBlockArgs validates a 4-D input and positive blocksize.
func movBlockArgs(op string, in []*ir.Tensor, b int) (n, c, h, w int, err error) {
	if err = needInputs(in, 1); err != nil {
		return
	}
	x := in[0]
	if x.Rank() != 4 {
		err = fmt.Errorf("%w: %s: input 0 must be 4-D, got shape %v", errShape, op, x.Shape)
		return
	}
	if b <= 0 {
		err = fmt.Errorf("%w: %s: blocksize %d must be positive", errAttr, op, b)
		return
	}
	return x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], nil
}

func prepDepthToSpace(s *backends.OpSpec) (kernelFunc, error) {
	b := int(s.Attrs.Int("blocksize", 0))
	mode := s.Attrs.Str("mode", "DCR")
	if mode != "DCR" && mode != "CRD" {
		return nil, fmt.Errorf("%w: DepthToSpace: mode %q (want DCR or CRD)", errAttr, mode)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		n, c, h, w, err := movBlockArgs("DepthToSpace", in, b)
		if err != nil {
			return nil, err
		}
		if c%(b*b) != 0 {
			return nil, fmt.Errorf("%w: DepthToSpace: channels of input shape %v not divisible by blocksize² = %d", errShape, in[0].Shape, b*b)
		}
		cc := c / (b * b)
		outShape := []int{n, cc, h * b, w * b}
		var out *ir.Tensor
		if mode == "DCR" {
			out, err = movPermute(in[0], []int{n, b, b, cc, h, w}, []int{0, 3, 4, 1, 5, 2}, outShape)
		} else {
			out, err = movPermute(in[0], []int{n, cc, b, b, h, w}, []int{0, 1, 4, 2, 5, 3}, outShape)
		}
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepSpaceToDepth(s *backends.OpSpec) (kernelFunc, error) {
	b := int(s.Attrs.Int("blocksize", 0))
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		n, c, h, w, err := movBlockArgs("SpaceToDepth", in, b)
		if err != nil {
			return nil, err
		}
		if h%b != 0 || w%b != 0 {
			return nil, fmt.Errorf("%w: SpaceToDepth: spatial dims of input shape %v not divisible by blocksize %d", errShape, in[0].Shape, b)
		}
		out, err := movPermute(in[0], []int{n, c, h / b, b, w / b, b}, []int{0, 3, 5, 1, 2, 4},
			[]int{n, c * b * b, h / b, w / b})
		if err != nil {
			return nil, err
		}
		return one(out)
	}, nil
}

func prepExpand(s *backends.OpSpec) (kernelFunc, error) {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		target, err := movShapeInput(in[1], "input 1 (shape)")
		if err != nil {
			return nil, err
		}
		for _, d := range target {
			if d < 0 {
				return nil, fmt.Errorf("%w: Expand: negative dimension in shape %v", errInput, target)
			}
		}
		x := in[0]
		shape, err := broadcastShapes(x.Shape, movToInts(target))
		if err != nil {
			return nil, fmt.Errorf("Expand: input shape %v to %v: %w", x.Shape, target, err)
		}
		if movSameShape(shape, x.Shape) {
			return one(x)
		}
		return movBroadcast(x, shape)
	}, nil
}

// movBroadcast copies x broadcast to shape.
func movBroadcast(x *ir.Tensor, shape []int) ([]*ir.Tensor, error) {
	st := broadcastStrides(x.Shape, shape)
	axes := make([]movAxis, len(shape))
	for i, d := range shape {
		axes[i] = movAffine(d, 0, st[i])
	}
	out, err := movMap(x, x.DType, shape, axes, nil)
	if err != nil {
		return nil, err
	}
	return one(out)
}

// movSameShape reports whether two shapes are equal.
func movSameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func prepTile(s *backends.OpSpec) (kernelFunc, error) {
	legacy := movVer(s) < 6
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, err
		}
		x := in[0]
		var reps []int64
		if legacy {
			// Tile-1: scalar tiles and axis inputs.
			if err := needInputs(in, 3); err != nil {
				return nil, err
			}
			t, err := movScalarInt(in[1], "input 1 (tiles)")
			if err != nil {
				return nil, err
			}
			a, err := movScalarInt(in[2], "input 2 (axis)")
			if err != nil {
				return nil, err
			}
			ax, err := normAxis(a, x.Rank())
			if err != nil {
				return nil, fmt.Errorf("Tile: input shape %v: %w", x.Shape, err)
			}
			reps = make([]int64, x.Rank())
			for i := range reps {
				reps[i] = 1
			}
			reps[ax] = t
		} else {
			var err error
			if reps, err = movShapeInput(in[1], "input 1 (repeats)"); err != nil {
				return nil, err
			}
		}
		return movTile(x, reps)
	}, nil
}

// movTile repeats x reps[i] times along each axis i.
func movTile(x *ir.Tensor, reps []int64) ([]*ir.Tensor, error) {
	if len(reps) != x.Rank() {
		return nil, fmt.Errorf("%w: Tile: %d repeats for input shape %v", errShape, len(reps), x.Shape)
	}
	st := stridesOf(x.Shape)
	axes := make([]movAxis, 0, 2*len(reps))
	shape := make([]int, len(reps))
	for i, r := range reps {
		if r < 0 || r > ir.MaxElements {
			return nil, fmt.Errorf("%w: Tile: repeat %d on axis %d", errInput, r, i)
		}
		axes = append(axes, movAffine(int(r), 0, 0), movAffine(x.Shape[i], 0, st[i]))
		shape[i] = int(r) * x.Shape[i]
		if x.Shape[i] != 0 && shape[i]/x.Shape[i] != int(r) {
			return nil, fmt.Errorf("%w: Tile: repeat %d on axis %d of input shape %v", ir.ErrTooLarge, r, i, x.Shape)
		}
	}
	if _, err := ir.NumElements(shape); err != nil {
		return nil, fmt.Errorf("Tile: input shape %v repeats %v: %w", x.Shape, reps, err)
	}
	out, err := movMap(x, x.DType, shape, axes, nil)
	if err != nil {
		return nil, err
	}
	return one(out)
}
