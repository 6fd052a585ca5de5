package eager

// Gradient rules of matrix products.

func init() {
	RegisterGradient("", "MatMul", gradMatMul)
	RegisterGradient("", "Gemm", gradGemm)
}

// swapLast transposes the last two axes.
func swapLast(x *Tensor) *Tensor {
	r := x.Rank()
	perm := make([]int, r)
	for i := range perm {
		perm[i] = i
	}
	perm[r-1], perm[r-2] = r-2, r-1
	return Transpose(x, perm...)
}

// Y = A B (numpy matmul): dA = dY Bᵀ, dB = Aᵀ dY, summed over broadcast
// batch axes; 1-D operands are promoted to matrices and demoted back.
func gradMatMul(g *GradContext) []*Tensor {
	a, b, dy := g.In[0], g.In[1], g.D(0)
	if a.Rank() == 2 && b.Rank() == 2 {
		// Matrices: Gemm's transpose flags instead of transposed copies.
		out := make([]*Tensor, 2)
		if g.Needs(0) {
			out[0] = Gemm(dy, b, nil, 1, 0, false, true)
		}
		if g.Needs(1) {
			out[1] = Gemm(a, dy, nil, 1, 0, true, false)
		}
		return out
	}
	a2, b2 := a, b
	dyShape := append([]int(nil), dy.Shape()...)
	if a.Rank() == 1 {
		a2 = Unsqueeze(a, 0)
		dyShape = insertAxis(dyShape, len(dyShape)-boolInt(b.Rank() != 1), 1)
	}
	if b.Rank() == 1 {
		b2 = Unsqueeze(b, 1)
		dyShape = append(dyShape, 1)
	}
	dy2 := Reshape(dy, dyShape...)
	out := make([]*Tensor, 2)
	if g.Needs(0) {
		da := unbroadcast(MatMul(dy2, swapLast(b2)), a2.Shape())
		out[0] = Reshape(da, a.Shape()...)
	}
	if g.Needs(1) {
		db := unbroadcast(MatMul(swapLast(a2), dy2), b2.Shape())
		out[1] = Reshape(db, b.Shape()...)
	}
	return out
}

func insertAxis(shape []int, at, size int) []int {
	out := append([]int(nil), shape[:at]...)
	out = append(out, size)
	return append(out, shape[at:]...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Y = α A'B' + β C with A' = A or Aᵀ, B' = B or Bᵀ:
// dA' = α dY B'ᵀ, dB' = α A'ᵀ dY, dC = β dY.
func gradGemm(g *GradContext) []*Tensor {
	at := g.Attrs()
	alpha := at.Float("alpha", 1)
	beta := at.Float("beta", 1)
	transA, transB := at.Int("transA", 0) != 0, at.Int("transB", 0) != 0
	a, b, dy := g.In[0], g.In[1], g.D(0)
	var da, db *Tensor
	switch {
	case !g.Needs(0):
	case transA:
		da = Gemm(b, dy, nil, alpha, 0, transB, true) // (dY B'ᵀ)ᵀ = B' dYᵀ
	default:
		da = Gemm(dy, b, nil, alpha, 0, false, !transB)
	}
	switch {
	case !g.Needs(1):
	case transB:
		db = Gemm(dy, a, nil, alpha, 0, true, transA) // (A'ᵀ dY)ᵀ = dYᵀ A'
	default:
		db = Gemm(a, dy, nil, alpha, 0, !transA, false)
	}
	out := []*Tensor{da, db}
	if len(g.In) > 2 && g.In[2] != nil && g.Needs(2) {
		dc := dy
		if beta != 1 {
			dc = Mul(dy, ScalarLike(dy, float64(beta)))
		}
		out = append(out, dc)
	}
	return out
}
