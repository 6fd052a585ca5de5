package cpu

import (
	"fmt"
	"slices"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func init() {
	reg("MatMul", 1, prepMatMul)
	reg("Gemm", 1, prepGemm)
}

// convMMPlan is a batched matrix product: out[b] = A[aOff[b]] × B[bOff[b]],
// each A m×k, each B k×n (offsets in elements).
type convMMPlan struct {
	m, n, k    int
	aOff, bOff []int
	outShape   []int
}

// convPlanMatMul applies numpy matmul rules: 1-D operands are promoted to a
// matrix and the added dimension is dropped from the result; leading
// (batch) dimensions broadcast.
func convPlanMatMul(op string, as, bs []int) (*convMMPlan, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("%w: %s: inputs must have rank >= 1, got A %v, B %v", errShape, op, as, bs)
	}
	a, b := as, bs
	if len(a) == 1 {
		a = []int{1, a[0]}
	}
	if len(b) == 1 {
		b = []int{b[0], 1}
	}
	m, k := a[len(a)-2], a[len(a)-1]
	k2, n := b[len(b)-2], b[len(b)-1]
	if k != k2 {
		return nil, fmt.Errorf("%w: %s: inner dimensions differ: A %v, B %v", errShape, op, as, bs)
	}
	aBatch, bBatch := a[:len(a)-2], b[:len(b)-2]
	batch, err := broadcastShapes(aBatch, bBatch)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: batch dimensions of A %v and B %v do not broadcast", errShape, op, as, bs)
	}
	p := &convMMPlan{m: m, n: n, k: k}
	nb := ir.Size(batch)
	p.aOff, p.bOff = make([]int, nb), make([]int, nb)
	aSt, bSt := broadcastStrides(aBatch, batch), broadcastStrides(bBatch, batch)
	idx := make([]int, len(batch))
	for i := 0; i < nb; i++ {
		ao, bo := 0, 0
		for d := range idx {
			ao += idx[d] * aSt[d]
			bo += idx[d] * bSt[d]
		}
		p.aOff[i], p.bOff[i] = ao*m*k, bo*k*n
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	p.outShape = append([]int{}, batch...)
	if len(as) > 1 {
		p.outShape = append(p.outShape, m)
	}
	if len(bs) > 1 {
		p.outShape = append(p.outShape, n)
	}
	return p, nil
}

// foldable reports whether every batch uses the same B and consecutive A
// blocks, so the whole product is one (batch*m)×k by k×n GEMM.
func (p *convMMPlan) foldable() bool {
	for i := range p.aOff {
		if p.bOff[i] != 0 || p.aOff[i] != i*p.m*p.k {
			return false
		}
	}
	return true
}

// strided reports whether batch i reads A at i*sa and B at i*sb (a stride
// of 0 broadcasts), the layout one strided batched GEMM call takes.
func (p *convMMPlan) strided() (sa, sb int, ok bool) {
	if len(p.aOff) < 2 {
		return 0, 0, false
	}
	sa, sb = p.aOff[1], p.bOff[1]
	for i := range p.aOff {
		if p.aOff[i] != i*sa || p.bOff[i] != i*sb {
			return 0, 0, false
		}
	}
	return sa, sb, true
}

// run calls gemm(a, b, c) for each batch, folding or spreading batches over
// the workers when each product is small.
func (p *convMMPlan) run(gemm func(m int, aOff, bOff, cOff int)) {
	nb := len(p.aOff)
	if nb > 1 && p.foldable() {
		gemm(nb*p.m, 0, 0, 0)
		return
	}
	work := p.m * p.n * p.k
	if nb > 1 && work < 1<<16 {
		parallelFor(nb, work, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gemm(p.m, p.aOff[i], p.bOff[i], i*p.m*p.n)
			}
		})
		return
	}
	for i := 0; i < nb; i++ {
		gemm(p.m, p.aOff[i], p.bOff[i], i*p.m*p.n)
	}
}

func prepMatMul(s *backends.OpSpec) (kernelFunc, error) {
	dt := inputType(s.InputTypes, 0)
	if bt := inputType(s.InputTypes, 1); bt != dt {
		return nil, fmt.Errorf("%w: MatMul: input 1 is %v, input 0 is %v", errDType, bt, dt)
	}
	switch dt {
	case ir.Float32:
		return convMatMulF32, nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(convMatMulF32, dt, 0, 1), nil
	case ir.Float64:
		return convMatMulT[float64], nil
	case ir.Int32:
		return convMatMulT[int32], nil
	case ir.Int64:
		return convMatMulT[int64], nil
	case ir.Uint32:
		return convMatMulT[uint32], nil
	case ir.Uint64:
		return convMatMulT[uint64], nil
	}
	return nil, fmt.Errorf("%w: MatMul: %v", errDType, dt)
}

// convMatMulF32: A (...,M,K) × B (...,K,N) -> (...,M,N).
func convMatMulF32(in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("MatMul: %w", err)
	}
	p, err := convPlanMatMul("MatMul", in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	out, err := newTensorRaw(ir.Float32, p.outShape)
	if err != nil {
		return nil, fmt.Errorf("MatMul: %w", err)
	}
	a, b, c := in[0].Data.([]float32), in[1].Data.([]float32), out.Data.([]float32)
	if sa, sb, ok := p.strided(); ok && !p.foldable() {
		convSgemmBatch(p.m, p.n, p.k, a, sa, b, sb, c, len(p.aOff))
		return one(out)
	}
	p.run(func(m, ao, bo, co int) {
		convSgemm(false, false, m, p.n, p.k, 1, a[ao:], p.k, b[bo:], p.n, 0, c[co:], p.n)
	})
	return one(out)
}

func convMatMulT[T convNum](in []*ir.Tensor) ([]*ir.Tensor, error) {
	if err := needInputs(in, 2); err != nil {
		return nil, fmt.Errorf("MatMul: %w", err)
	}
	p, err := convPlanMatMul("MatMul", in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	out, err := newTensorRaw(in[0].DType, p.outShape)
	if err != nil {
		return nil, fmt.Errorf("MatMul: %w", err)
	}
	a, b, c := in[0].Data.([]T), in[1].Data.([]T), out.Data.([]T)
	p.run(func(m, ao, bo, co int) {
		convGemmT(false, false, m, p.n, p.k, a[ao:], p.k, b[bo:], p.n, false, c[co:], p.n)
	})
	return one(out)
}

// convGemmAttrs holds Gemm's attributes.
type convGemmAttrs struct {
	transA, transB bool
	alpha, beta    float32
}

func prepGemm(s *backends.OpSpec) (kernelFunc, error) {
	g := convGemmAttrs{
		transA: s.Attrs.Int("transA", 0) != 0,
		transB: s.Attrs.Int("transB", 0) != 0,
		alpha:  s.Attrs.Float("alpha", 1),
		beta:   s.Attrs.Float("beta", 1),
	}
	dt := inputType(s.InputTypes, 0)
	for i := 1; i < 3; i++ {
		if t := inputType(s.InputTypes, i); t != ir.Undefined && t != dt {
			return nil, fmt.Errorf("%w: Gemm: input %d is %v, input 0 is %v", errDType, i, t, dt)
		}
	}
	switch dt {
	case ir.Float32:
		return g.f32, nil
	case ir.Float16, ir.BFloat16:
		return viaFloat32(g.f32, dt, 0, 1, 2), nil
	case ir.Float64:
		return convGemmKernel[float64](g), nil
	case ir.Int32:
		return convGemmKernel[int32](g), nil
	case ir.Int64:
		return convGemmKernel[int64](g), nil
	case ir.Uint32:
		return convGemmKernel[uint32](g), nil
	case ir.Uint64:
		return convGemmKernel[uint64](g), nil
	}
	return nil, fmt.Errorf("%w: Gemm: %v", errDType, dt)
}

// shapes checks A, B and C and returns M, N, K.
func (g convGemmAttrs) shapes(in []*ir.Tensor) (m, n, k int, err error) {
	if err := needInputs(in, 2); err != nil {
		return 0, 0, 0, fmt.Errorf("Gemm: %w", err)
	}
	as, bs := in[0].Shape, in[1].Shape
	if len(as) != 2 || len(bs) != 2 {
		return 0, 0, 0, fmt.Errorf("%w: Gemm: A %v and B %v must be 2-D", errShape, as, bs)
	}
	m, k = as[0], as[1]
	if g.transA {
		m, k = k, m
	}
	k2, n := bs[0], bs[1]
	if g.transB {
		k2, n = n, k2
	}
	if k != k2 {
		return 0, 0, 0, fmt.Errorf("%w: Gemm: inner dimensions differ: A %v, B %v (transA %v, transB %v)",
			errShape, as, bs, g.transA, g.transB)
	}
	if len(in) > 2 && in[2] != nil {
		bc, err := broadcastShapes(in[2].Shape, []int{m, n})
		if err != nil || len(in[2].Shape) > 2 || !slices.Equal(bc, []int{m, n}) {
			return 0, 0, 0, fmt.Errorf("%w: Gemm: C %v does not broadcast to (%d, %d)", errShape, in[2].Shape, m, n)
		}
	}
	return m, n, k, nil
}

// convFillC writes C broadcast to m×n into y.
func convFillC[T any](y []T, c *ir.Tensor, m, n int) {
	src := c.Data.([]T)
	st := broadcastStrides(c.Shape, []int{m, n})
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			y[i*n+j] = src[i*st[0]+j*st[1]]
		}
	}
}

// f32: Y (M,N) = alpha * op(A) (M,K) × op(B) (K,N) + beta * C.
func (g convGemmAttrs) f32(in []*ir.Tensor) ([]*ir.Tensor, error) {
	m, n, k, err := g.shapes(in)
	if err != nil {
		return nil, err
	}
	out, err := newTensorRaw(ir.Float32, []int{m, n})
	if err != nil {
		return nil, fmt.Errorf("Gemm: %w", err)
	}
	y := out.Data.([]float32)
	beta := float32(0)
	if len(in) > 2 && in[2] != nil && g.beta != 0 {
		convFillC[float32](y, in[2], m, n)
		beta = g.beta
	}
	a, b := in[0].Data.([]float32), in[1].Data.([]float32)
	convSgemm(g.transA, g.transB, m, n, k, g.alpha, a, in[0].Shape[1], b, in[1].Shape[1], beta, y, n)
	return one(out)
}

func convGemmKernel[T convNum](g convGemmAttrs) kernelFunc {
	return func(in []*ir.Tensor) ([]*ir.Tensor, error) {
		m, n, k, err := g.shapes(in)
		if err != nil {
			return nil, err
		}
		out, err := newTensorRaw(in[0].DType, []int{m, n})
		if err != nil {
			return nil, fmt.Errorf("Gemm: %w", err)
		}
		y := out.Data.([]T)
		a, b := in[0].Data.([]T), in[1].Data.([]T)
		convGemmT(g.transA, g.transB, m, n, k, a, in[0].Shape[1], b, in[1].Shape[1], false, y, n)
		if g.alpha != 1 {
			for i, v := range y {
				y[i] = T(float64(v) * float64(g.alpha))
			}
		}
		if len(in) > 2 && in[2] != nil && g.beta != 0 {
			c := make([]T, m*n)
			convFillC[T](c, in[2], m, n)
			for i, v := range c {
				if g.beta == 1 {
					y[i] += v
				} else {
					y[i] += T(float64(v) * float64(g.beta))
				}
			}
		}
		return one(out)
	}
}
