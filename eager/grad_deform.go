package eager

import (
	"fmt"

	"github.com/keenml/keen/ir"
)

// Gradient rule of DeformConv, written with GatherElements, ScatterElements
// and MatMul. The forward pass is rebuilt as a deformable im2col:
//
//	col[n,c,k,p] = mask[n,g,k,p] · Σ_corners w_corner(pos) X[n,c,corner]
//	Y[n,o,p]     = Σ_{c,k} W[o,c,k] col[n,c,k,p] + B[o]   (per group)
//
// with pos = p·stride - pad + k·dilation + offset[n,g,k,:,p] (g the offset
// group of channel c) and N-linear corner weights, zero off the map.

func init() {
	RegisterGradient("", "DeformConv", gradDeformConv)
}

// deformCorner is one corner of the N-linear sample at every tap: its flat
// index in the spatial plane (clamped), its weight (zero off the map) and
// the weight's derivative along each spatial axis. Shapes (N, og, 1, K·P).
type deformCorner struct {
	idx *Tensor
	w   *Tensor
	dw  []*Tensor
}

// deformCorners computes the sampling corners for offsets off (N, og·K·r,
// out...), a window geometry over spatial input in with output out.
func deformCorners(x, off *Tensor, geo geom, in, out []int) []deformCorner {
	r := len(in)
	kSize, pSize := ir.Size(geo.k), ir.Size(out)
	og := off.Dim(1) / (kSize * r)
	n := x.Dim(0)
	offs := Reshape(off, n, og, kSize, r, pSize)
	kSt, oSt, inSt := rowStrides(geo.k), rowStrides(out), rowStrides(in)
	fl, fr := make([]*Tensor, r), make([]*Tensor, r)
	for i := 0; i < r; i++ {
		base := make([]float64, kSize*pSize)
		for kk := 0; kk < kSize; kk++ {
			ki := kk / kSt[i] % geo.k[i]
			for o := 0; o < pSize; o++ {
				oi := o / oSt[i] % out[i]
				base[kk*pSize+o] = float64(oi*geo.s[i] - geo.pb[i] + ki*geo.d[i])
			}
		}
		oi := Reshape(Slice(offs, []int{i}, []int{i + 1}, []int{3}), n, og, 1, kSize*pSize)
		pos := Add(oi, Cast(hostTensor(x, ir.FromSlice(base, kSize*pSize)), x.DType()))
		fl[i] = Floor(pos)
		fr[i] = Sub(pos, fl[i])
	}
	one := ScalarLike(fr[0], 1)
	corners := make([]deformCorner, 1<<r)
	for c := range corners {
		var idx, valid *Tensor
		lin := make([]*Tensor, r) // per-axis weight
		for i := 0; i < r; i++ {
			ci := fl[i]
			lin[i] = Sub(one, fr[i])
			if c>>i&1 == 1 {
				ci = Add(ci, one)
				lin[i] = fr[i]
			}
			ok := And(GreaterOrEqual(ci, ScalarLike(ci, 0)), LessOrEqual(ci, ScalarLike(ci, float64(in[i]-1))))
			clamped := Cast(Min(Max(ci, ScalarLike(ci, 0)), ScalarLike(ci, float64(in[i]-1))), ir.Int64)
			term := Mul(clamped, Int64s(x, int64(inSt[i])).reshapedScalar())
			if idx == nil {
				idx, valid = term, ok
			} else {
				idx, valid = Add(idx, term), And(valid, ok)
			}
		}
		vf := Cast(valid, x.DType())
		prod := func(skip int) *Tensor {
			p := vf
			for i := 0; i < r; i++ {
				if i != skip {
					p = Mul(p, lin[i])
				}
			}
			return p
		}
		corners[c] = deformCorner{idx: idx, w: prod(-1), dw: make([]*Tensor, r)}
		for i := 0; i < r; i++ {
			corners[c].dw[i] = prod(i)
			if c>>i&1 == 0 {
				corners[c].dw[i] = Neg(corners[c].dw[i])
			}
		}
	}
	return corners
}

// rowStrides are the row-major strides of shape.
func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// deformGeom reads DeformConv's window: explicit pads (no auto_pad).
func deformGeom(a ir.Attrs, k []int) geom { return explicitGeom(a, k) }

// DeformConv, with col as above, per group:
// dcol = Wᵀ dY; dW = Σ_n dY colᵀ; dB = Σ dY;
// dX[n,c,corner] += mask·w_corner·dcol; dmask = Σ_c dcol · col/mask;
// doffset[axis] = Σ_c mask·dcol · Σ_corners ∂w_corner/∂pos[axis] X[corner].
func gradDeformConv(g *GradContext) []*Tensor {
	x, w, off, dy := g.In[0], g.In[1], g.In[2], g.D(0)
	var mask *Tensor
	if len(g.In) > 4 {
		mask = g.In[4]
	}
	if x.Rank() < 3 || w.Rank() != x.Rank() || off.Rank() != x.Rank() {
		panic(&OpError{Err: fmt.Errorf("DeformConv gradient: shapes X %v, W %v, offset %v", x.Shape(), w.Shape(), off.Shape())})
	}
	group := int(g.Attrs().Int("group", 1))
	in, out := x.Shape()[2:], dy.Shape()[2:]
	geo := deformGeom(g.Attrs(), w.Shape()[2:])
	n, c, o := x.Dim(0), x.Dim(1), w.Dim(0)
	kSize, pSize, sSize := ir.Size(geo.k), ir.Size(out), ir.Size(in)
	og := off.Dim(1) / (kSize * len(in))
	corners := deformCorners(x, off, geo, in, out)
	xr := Reshape(x, n, og, c/og, sSize)
	full := []int{n, og, c / og, kSize * pSize}
	vals := make([]*Tensor, len(corners))
	var bil *Tensor
	for i, cr := range corners {
		cr.idx = Expand(cr.idx, full...)
		corners[i] = cr
		vals[i] = op1("GatherElements", ir.Attrs{ir.IntAttr("axis", 3)}, xr, cr.idx)
		if t := Mul(vals[i], cr.w); bil == nil {
			bil = t
		} else {
			bil = Add(bil, t)
		}
	}
	col := bil
	var maskR *Tensor
	if mask != nil {
		maskR = Reshape(mask, n, og, 1, kSize*pSize)
		col = Mul(bil, maskR)
	}
	colG := Reshape(col, n, group, c/group*kSize, pSize)
	wr := Reshape(w, group, o/group, c/group*kSize)
	dyr := Reshape(dy, n, group, o/group, pSize)
	res := make([]*Tensor, len(g.In))
	res[1] = Reshape(ReduceSum(MatMul(dyr, Transpose(colG, 0, 1, 3, 2)), []int64{0}, false), w.Shape()...)
	if len(g.In) > 3 && g.In[3] != nil {
		res[3] = ReduceSum(dy, spatialAxes(dy, true), false)
	}
	dcol := Reshape(MatMul(Transpose(wr, 0, 2, 1), dyr), full...)
	dbil := dcol
	if mask != nil {
		res[4] = Reshape(ReduceSum(Mul(dcol, bil), []int64{2}, false), mask.Shape()...)
		dbil = Mul(dcol, maskR)
	}
	res[0], res[2] = deformSampleGrads(x, off, corners, vals, dbil)
	return res
}

// deformSampleGrads returns dX and doffset from dbil, the gradient of the
// N-linear samples (N, og, C/og, K·P): dX collects dbil·w at each corner;
// doffset[axis] = Σ_c dbil · Σ_corners ∂w/∂pos[axis] · X[corner].
func deformSampleGrads(x, off *Tensor, corners []deformCorner, vals []*Tensor, dbil *Tensor) (dx, doffset *Tensor) {
	n, og, cog, kp := dbil.Dim(0), dbil.Dim(1), dbil.Dim(2), dbil.Dim(3)
	r := x.Rank() - 2
	kSize := off.Dim(1) / (og * r)
	idx, upd := make([]*Tensor, len(corners)), make([]*Tensor, len(corners))
	for i, cr := range corners {
		idx[i], upd[i] = cr.idx, Mul(dbil, cr.w)
	}
	acc := op1("ScatterElements", ir.Attrs{ir.IntAttr("axis", 3), ir.StringAttr("reduction", "add")},
		Full(x, x.DType(), 0, n, og, cog, ir.Size(x.Shape()[2:])), Concat(3, idx...), Concat(3, upd...))
	doff := make([]*Tensor, r)
	for a := range doff {
		var s *Tensor
		for i, cr := range corners {
			if t := Mul(vals[i], cr.dw[a]); s == nil {
				s = t
			} else {
				s = Add(s, t)
			}
		}
		// (N, og, K·P) -> (N, og, K, 1, P), to be joined along the axis dim
		doff[a] = Reshape(ReduceSum(Mul(dbil, s), []int64{2}, false), n, og, kSize, 1, kp/kSize)
	}
	return Reshape(acc, x.Shape()...), Reshape(Concat(3, doff...), off.Shape()...)
}
