package cpu

import (
	"cmp"
	"fmt"
	"math"
	"sort"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Unique: distinct elements (or slices along an axis), with first-occurrence
// indices, inverse indices and counts.

func init() { reg("Unique", 11, prepUnique) }

func prepUnique(s *backends.OpSpec) (kernelFunc, error) {
	axis, hasAxis := s.Attrs.Int("axis", 0), s.Attrs.Has("axis")
	sorted := s.Attrs.Int("sorted", 1) != 0
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 1); err != nil {
			return nil, err
		}
		x := in[0]
		shape, a := []int{x.Len()}, 0
		if hasAxis {
			var err error
			if a, err = normAxis(axis, x.Rank()); err != nil {
				return nil, fmt.Errorf("Unique: input shape %v: %w", x.Shape, err)
			}
			shape = x.Shape
		}
		less, err := movCompare(x)
		if err != nil {
			return nil, fmt.Errorf("Unique: %w", err)
		}
		m, inner := shape[a], ir.Size(shape[a+1:])
		outer := ir.Size(shape[:a])
		cmpSlices := func(s1, s2 int) int {
			for o := 0; o < outer; o++ {
				b1, b2 := (o*m+s1)*inner, (o*m+s2)*inner
				for p := 0; p < inner; p++ {
					if c := less(b1+p, b2+p); c != 0 {
						return c
					}
				}
			}
			return 0
		}
		first, inverse, counts := movUniqueGroups(m, cmpSlices, sorted)
		st := stridesOf(shape)
		tab := make([]int, len(first))
		idx := make([]int64, len(first))
		for i, f := range first {
			tab[i] = f * st[a]
			idx[i] = int64(f)
		}
		axes := movIdentityAxes(shape)
		axes[a] = movTable(tab)
		yShape := append([]int{}, shape...)
		yShape[a] = len(first)
		y, err := movMap(x, x.DType, yShape, axes, nil)
		if err != nil {
			return nil, err
		}
		outs := []*ir.Tensor{y, ir.FromSlice(idx, len(idx)), ir.FromSlice(inverse, len(inverse)), ir.FromSlice(counts, len(counts))}
		return outs[:max(min(s.NumOutputs, 4), 1)], nil
	}, nil
}

// movUniqueGroups groups m items by cmp and returns, in output order (sorted
// by value, or by first occurrence), the first index of each group, the
// group number of every item and the group sizes.
func movUniqueGroups(m int, cmpFn func(i, j int) int, sorted bool) (first []int, inverse, counts []int64) {
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return cmpFn(order[i], order[j]) < 0 })
	group := make([]int, m) // group of each item, numbered in sorted order
	for i, it := range order {
		if i > 0 && cmpFn(order[i-1], it) == 0 {
			group[it] = group[order[i-1]]
			counts[len(counts)-1]++
			continue
		}
		group[it] = len(first)
		first = append(first, it)
		counts = append(counts, 1)
	}
	rank := make([]int, len(first)) // output position of each group
	for g := range rank {
		rank[g] = g
	}
	if !sorted {
		byFirst := make([]int, len(first))
		for g := range byFirst {
			byFirst[g] = g
		}
		sort.Slice(byFirst, func(i, j int) bool { return first[byFirst[i]] < first[byFirst[j]] })
		f2, c2 := make([]int, len(first)), make([]int64, len(first))
		for pos, g := range byFirst {
			rank[g] = pos
			f2[pos], c2[pos] = first[g], counts[g]
		}
		first, counts = f2, c2
	}
	inverse = make([]int64, m)
	for i := range inverse {
		inverse[i] = int64(rank[group[i]])
	}
	return first, inverse, counts
}

// movCompare returns a three-way comparison of two flat elements of x.
// NaNs sort last and equal each other.
func movCompare(x *ir.Tensor) (func(i, j int) int, error) {
	switch d := x.Data.(type) {
	case []float32:
		return func(i, j int) int { return movCmpFloat(float64(d[i]), float64(d[j])) }, nil
	case []float64:
		return func(i, j int) int { return movCmpFloat(d[i], d[j]) }, nil
	case []int8:
		return movCmpOrdered(d), nil
	case []int16:
		return movCmpOrdered(d), nil
	case []int32:
		return movCmpOrdered(d), nil
	case []int64:
		return movCmpOrdered(d), nil
	case []uint32:
		return movCmpOrdered(d), nil
	case []uint64:
		return movCmpOrdered(d), nil
	case []string:
		return movCmpOrdered(d), nil
	case []bool:
		return func(i, j int) int { return cmp.Compare(movB2I(d[i]), movB2I(d[j])) }, nil
	case []uint8, []uint16:
		if x.DType.IsSmallFloat() {
			return func(i, j int) int { return movCmpFloat(x.Float64At(i), x.Float64At(j)) }, nil
		}
		if u, ok := d.([]uint8); ok {
			return movCmpOrdered(u), nil
		}
		return movCmpOrdered(d.([]uint16)), nil
	}
	return nil, fmt.Errorf("%w: cannot order %v", errDType, x.DType)
}

func movCmpOrdered[T cmp.Ordered](d []T) func(i, j int) int {
	return func(i, j int) int { return cmp.Compare(d[i], d[j]) }
}

func movCmpFloat(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return cmp.Compare(a, b)
}

func movB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}
