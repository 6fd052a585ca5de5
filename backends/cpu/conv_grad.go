package cpu

import (
	"fmt"
	"math"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

// Keen-private gradient kernels (domain com.keenml, opset 1), which the
// eager engine's gradient rules call in place of their composite ONNX
// formulations when the backward pass is not itself recorded (see
// eager/grad_fused.go). They never appear in ONNX models.
//
//	ReluGrad(dY, X) -> dX = dY where X > 0, else 0
//	MaxPoolGrad(dY, X) -> dX (pool_grad.go)
//	ConvGradFilter(X, dY) -> dW of Y = Conv(X, W) [, dB = Σ dY over
//	    batch and space, when two outputs are asked for]

const keenDomain = backends.KeenDomain

func init() {
	regKeen("ReluGrad", prepReluGrad, ir.Float32, ir.Float64)
	regKeen("ConvGradFilter", prepConvGradFilter, ir.Float32, ir.Float64)
}

// regKeen registers a private op for the listed dtypes.
func regKeen(op string, prepare prepareFunc, dtypes ...ir.DType) {
	regDomain(keenDomain, op, 1, prepare)
	regMu.Lock()
	es := entries[keenDomain+"/"+op]
	es[len(es)-1].dtypes = dtypes
	regMu.Unlock()
}

func prepReluGrad(s *backends.OpSpec) (kernelFunc, error) {
	if s.NumOutputs > 1 {
		return nil, fmt.Errorf("%w: ReluGrad has one output, %d declared", errAttr, s.NumOutputs)
	}
	switch dt := inputType(s.InputTypes, 0); dt {
	case ir.Float32:
		return reluGradKernel[float32], nil
	case ir.Float64:
		return reluGradKernel[float64], nil
	default:
		return nil, fmt.Errorf("%w: ReluGrad: %v", errDType, dt)
	}
}

func reluGradKernel[T float32 | float64](in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("ReluGrad: %w", err)
	}
	dy, x := in[0], in[1]
	if dy.DType != x.DType || !slices.Equal(dy.Shape, x.Shape) {
		return nil, fmt.Errorf("%w: ReluGrad: dY (input 0) %v%v and X (input 1) %v%v differ",
			errShape, dy.DType, dy.Shape, x.DType, x.Shape)
	}
	out, err := newTensor(dy.DType, dy.Shape)
	if err != nil {
		return nil, fmt.Errorf("ReluGrad: %w", err)
	}
	d, xs, o := dy.Data.([]T), x.Data.([]T), out.Data.([]T)
	if df, ok := any(d).([]float32); ok {
		reluGradF32(df, any(xs).([]float32), any(o).([]float32))
		return one(out)
	}
	parallelFor(len(o), 1, func(lo, hi int) {
		d, xs, o := d[lo:hi], xs[lo:hi], o[lo:hi]
		for i := range o {
			v := d[i]
			if !(xs[i] > 0) {
				v = 0
			}
			o[i] = v
		}
	})
	return one(out)
}

// reluGradF32 is ReluGrad without a branch on the data (the sign of X is
// as good as random: a branch mispredicts about every other element).
func reluGradF32(d, xs, o []float32) {
	parallelFor(len(o), 1, func(lo, hi int) {
		d, xs, o := d[lo:hi], xs[lo:hi], o[lo:hi]
		xs, o = xs[:len(d)], o[:len(d)]
		for i, v := range d {
			o[i] = math.Float32frombits(math.Float32bits(v) & fmask(xs[i] > 0))
		}
	})
}

func prepConvGradFilter(s *backends.OpSpec) (kernelFunc, error) {
	const op = "ConvGradFilter"
	win, err := convReadWin(op, s.Attrs)
	if err != nil {
		return nil, err
	}
	if win.kernel == nil {
		return nil, fmt.Errorf("%w: %s: kernel_shape is required", errAttr, op)
	}
	group := int(s.Attrs.Int("group", 1))
	withBias := s.NumOutputs > 1
	if s.NumOutputs > 2 {
		return nil, fmt.Errorf("%w: %s has at most two outputs, %d declared", errAttr, op, s.NumOutputs)
	}
	dt := inputType(s.InputTypes, 0)
	if dt != ir.Float32 && dt != ir.Float64 {
		return nil, fmt.Errorf("%w: %s: %v", errDType, op, dt)
	}
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		if err := needInputs(in, 2); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		x, dy := in[0], in[1]
		p, ws, err := convGradPlan(win, group, x, dy)
		if err != nil {
			return nil, err
		}
		out, err := newTensor(x.DType, ws)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		var db *ir.Tensor
		if withBias {
			db, _ = newTensor(x.DType, []int{p.m})
		}
		switch xd := x.Data.(type) {
		case []float32:
			var bs []float32
			if db != nil {
				bs = db.Data.([]float32)
			}
			convGradFilterF32(p, xd, dy.Data.([]float32), out.Data.([]float32), bs)
		case []float64:
			convGradFilterDirect(p, xd, dy.Data.([]float64), out.Data.([]float64))
			if db != nil {
				convGradBias(p, dy.Data.([]float64), db.Data.([]float64))
			}
		}
		if db != nil {
			return []*ir.Tensor{out, db}, nil
		}
		return one(out)
	}, nil
}

// convGradPlan checks ConvGradFilter's X and dY and returns the
// convolution and dW's shape (M, C/group, kernel...).
func convGradPlan(win convWin, group int, x, dy *ir.Tensor) (*convProblem, []int, error) {
	const op = "ConvGradFilter"
	if dy.DType != x.DType || len(dy.Shape) != len(x.Shape) || len(x.Shape) < 3 {
		return nil, nil, fmt.Errorf("%w: %s: X (input 0) %v%v and dY (input 1) %v%v do not match",
			errShape, op, x.DType, x.Shape, dy.DType, dy.Shape)
	}
	ws := make([]int, 0, len(x.Shape))
	ws = append(ws, dy.Shape[1], x.Shape[1]/max(group, 1))
	for _, k := range win.kernel {
		ws = append(ws, int(k))
	}
	p, err := convPlan(win, group, x.Shape, ws, nil)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Equal(dy.Shape, p.outShape()) {
		return nil, nil, fmt.Errorf("%w: %s: dY (input 1) shape %v, want %v for X %v", errShape, op, dy.Shape, p.outShape(), x.Shape)
	}
	return p, ws, nil
}

// convGradCols is the number of im2col columns (positions of several
// images) one weight-gradient GEMM takes.
const convGradCols = 2048

// convGradPerImage is the output plane size from which each image's
// product reads dY in place rather than from a copy of several images'
// planes side by side (a variable so tests can take either path).
var convGradPerImage = 512

// convGradFilterF32 computes dW (M × C/group × k) = Σ_n dY[n] · im2col(X[n])ᵀ
// per group as GEMMs over the im2col columns of several images side by side
// (the depth of the product), chunked over channels to bound the scratch.
func convGradFilterF32(p *convProblem, x, dy, dw, db []float32) {
	var dbs []float64 // the bias gradient's sums
	if db != nil {
		dbs = make([]float64, p.m)
		defer func() {
			for i, v := range dbs {
				db[i] = float32(v)
			}
		}()
	}
	rows := p.cg * p.kSize
	if rows == 0 || p.m == 0 {
		return
	}
	if p.n == 0 || p.outSize == 0 {
		clear(dw)
		return
	}
	if p.direct3x3() {
		convGradDirect3x3(p, x, dy, dw, dbs)
		return
	}
	nbMax := max(1, min(p.n, convGradCols/p.outSize))
	chMax := max(1, min(p.cg, convWideBudget/(p.kSize*nbMax*p.outSize)))
	cols := convScratch[float32](chMax * p.kSize * nbMax * p.outSize)
	defer convRelease(cols)
	var dyc []float32
	if p.outSize < convGradPerImage {
		dyc = convScratch[float32](p.mg * nbMax * p.outSize)
		defer convRelease(dyc)
	}
	for g := 0; g < p.group; g++ {
		dwg := dw[g*p.mg*rows : (g+1)*p.mg*rows]
		for n0 := 0; n0 < p.n; n0 += nbMax {
			nb := min(nbMax, p.n-n0)
			ncols := nb * p.outSize
			perImage := p.outSize >= convGradPerImage
			convGradGather(p, dy, dyc, dbs, g, n0, nb, perImage)
			for c0 := 0; c0 < p.cg; c0 += chMax {
				kr := min(chMax, p.cg-c0) * p.kSize
				convWideIm2col(cols[:kr*ncols], x, p, g, n0, nb, c0)
				if !perImage {
					convSgemm(false, true, p.mg, kr, ncols, 1, dyc, ncols, cols, ncols, float32(min(n0, 1)), dwg[c0*p.kSize:], rows)
					continue
				}
				// Large planes: one product per image, reading dY in place.
				for i := 0; i < nb; i++ {
					dyi := dy[((n0+i)*p.m+g*p.mg)*p.outSize:]
					convSgemm(false, true, p.mg, kr, p.outSize, 1, dyi, p.outSize, cols[i*p.outSize:], ncols,
						float32(min(n0+i, 1)), dwg[c0*p.kSize:], rows)
				}
			}
		}
	}
}

// convGradGather adds the sums of dY's planes of group g, images n0 ..
// n0+nb-1, into dbs (when not nil), and unless perImage copies them into
// dyc (mg × nb·out): each output channel's planes side by side.
func convGradGather(p *convProblem, dy, dyc []float32, dbs []float64, g, n0, nb int, perImage bool) {
	ncols := nb * p.outSize
	for o := 0; o < p.mg; o++ {
		for i := 0; i < nb; i++ {
			src := dy[((n0+i)*p.m+g*p.mg+o)*p.outSize:][:p.outSize]
			if !perImage {
				copy(dyc[o*ncols+i*p.outSize:], src)
			} else if dbs != nil {
				dbs[g*p.mg+o] += convSum(src)
			}
		}
		if !perImage && dbs != nil {
			dbs[g*p.mg+o] += convSum(dyc[o*ncols : (o+1)*ncols])
		}
	}
}

// convSum is the sum of v, in float64 (eight partial sums).
func convSum(v []float32) float64 {
	var s [8]float64
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8 : i+8]
		s[0] += float64(w[0])
		s[1] += float64(w[1])
		s[2] += float64(w[2])
		s[3] += float64(w[3])
		s[4] += float64(w[4])
		s[5] += float64(w[5])
		s[6] += float64(w[6])
		s[7] += float64(w[7])
	}
	for ; i < len(v); i++ {
		s[0] += float64(v[i])
	}
	return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7]
}

// convGradBias sets db[o] = Σ_n Σ_out dY[n,o,out].
func convGradBias(p *convProblem, dy, db []float64) {
	for o := range db {
		var s float64
		for n := 0; n < p.n; n++ {
			for _, v := range dy[(n*p.m+o)*p.outSize:][:p.outSize] {
				s += v
			}
		}
		db[o] = s
	}
}

// convGradFilterDirect is the weight gradient by definition, for float64:
// dW[o,c,k] = Σ_n Σ_out dY[n,o,out] · X[n,c,in(out,k)].
func convGradFilterDirect(p *convProblem, x, dy, dw []float64) {
	geo := p.geo
	r := len(geo.in)
	kidx, oidx := make([]int, r), make([]int, r)
	kSt, outSt, inSt := stridesOf(geo.kernel), stridesOf(geo.out), stridesOf(geo.in)
	rows := p.cg * p.kSize
	for g := 0; g < p.group; g++ {
		for o := 0; o < p.mg; o++ {
			for c := 0; c < p.cg; c++ {
				for kk := 0; kk < p.kSize; kk++ {
					for d := range kidx {
						kidx[d] = kk / kSt[d] % geo.kernel[d]
					}
					var s float64
					for n := 0; n < p.n; n++ {
						yp := dy[(n*p.m+g*p.mg+o)*p.outSize:][:p.outSize]
						xp := x[(n*p.c+g*p.cg+c)*p.inSize:][:p.inSize]
						for q := range yp {
							at, ok := 0, true
							for d := 0; d < r && ok; d++ {
								oidx[d] = q / outSt[d] % geo.out[d]
								i := oidx[d]*geo.strides[d] - geo.padBegin[d] + kidx[d]*geo.dilations[d]
								ok = i >= 0 && i < geo.in[d]
								at += i * inSt[d]
							}
							if ok {
								s += yp[q] * xp[at]
							}
						}
					}
					dw[(g*p.mg+o)*rows+c*p.kSize+kk] = s
				}
			}
		}
	}
}
