package cpu

import (
	"fmt"
	"math"
	"sort"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() { reg("NonMaxSuppression", 10, prepNonMaxSuppression) }

func prepNonMaxSuppression(s *backends.OpSpec) (kernelFunc, error) {
	center := s.Attrs.Int("center_point_box", 0) != 0
	for i := 0; i < 2; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Float32 {
			return nil, fmt.Errorf("NonMaxSuppression: %w: input %d is %v, want float32", errDType, i, t)
		}
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("NonMaxSuppression: %w", err)
		}
		boxes, scores := in[0], in[1]
		if boxes.Rank() != 3 || boxes.Shape[2] != 4 || scores.Rank() != 3 ||
			scores.Shape[0] != boxes.Shape[0] || scores.Shape[2] != boxes.Shape[1] {
			return nil, fmt.Errorf("NonMaxSuppression: %w: boxes %v, scores %v", errShape, boxes.Shape, scores.Shape)
		}
		maxOut := int64(0)
		if t := mxOptIn(in, 2); t != nil && t.Len() > 0 {
			v, err := mxScalarInt("NonMaxSuppression", t, 2)
			if err != nil {
				return nil, err
			}
			maxOut = v
		}
		iouThr, scoreThr := 0.0, math.Inf(-1)
		if t := mxOptIn(in, 3); t != nil && t.Len() > 0 {
			iouThr = t.Float64At(0)
		}
		if t := mxOptIn(in, 4); t != nil && t.Len() > 0 {
			scoreThr = t.Float64At(0)
		}
		sel := mxNMS(boxes.Data.([]float32), scores.Data.([]float32), scores.Shape, center, maxOut, iouThr, scoreThr)
		return one(ir.FromSlice(sel, len(sel)/3, 3))
	}, nil
}

// mxNMS returns (batch, class, box) triples of the selected boxes.
func mxNMS(boxes, scores []float32, shape []int, center bool, maxOut int64, iouThr, scoreThr float64) []int64 {
	nb, nc, n := shape[0], shape[1], shape[2]
	sel := []int64{}
	if maxOut <= 0 {
		return sel
	}
	order := make([]int, 0, n)
	var kept []int
	for b := 0; b < nb; b++ {
		bx := boxes[b*n*4 : (b+1)*n*4]
		for c := 0; c < nc; c++ {
			sc := scores[(b*nc+c)*n : (b*nc+c+1)*n]
			order = order[:0]
			for i, v := range sc {
				if float64(v) > scoreThr {
					order = append(order, i)
				}
			}
			sort.SliceStable(order, func(i, j int) bool { return sc[order[i]] > sc[order[j]] })
			kept = kept[:0]
			for _, i := range order {
				if int64(len(kept)) >= maxOut {
					break
				}
				ok := true
				for _, k := range kept {
					if mxIOU(bx[i*4:i*4+4], bx[k*4:k*4+4], center) > iouThr {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, i)
					sel = append(sel, int64(b), int64(c), int64(i))
				}
			}
		}
	}
	return sel
}

// mxIOU is the intersection over union of two boxes.
func mxIOU(a, b []float32, center bool) float64 {
	ay1, ax1, ay2, ax2 := mxCorners(a, center)
	by1, bx1, by2, bx2 := mxCorners(b, center)
	areaA := (ay2 - ay1) * (ax2 - ax1)
	areaB := (by2 - by1) * (bx2 - bx1)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	ih := math.Min(ay2, by2) - math.Max(ay1, by1)
	iw := math.Min(ax2, bx2) - math.Max(ax1, bx1)
	if ih <= 0 || iw <= 0 {
		return 0
	}
	inter := ih * iw
	return inter / (areaA + areaB - inter)
}

// mxCorners returns (ymin, xmin, ymax, xmax) of a box.
func mxCorners(v []float32, center bool) (y1, x1, y2, x2 float64) {
	if center {
		xc, yc, w, h := float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
		return yc - h/2, xc - w/2, yc + h/2, xc + w/2
	}
	y1, x1, y2, x2 = float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])
	return math.Min(y1, y2), math.Min(x1, x2), math.Max(y1, y2), math.Max(x1, x2)
}
