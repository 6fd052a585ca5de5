package cuda

import "fmt"

// cublas holds the cuBLAS entry points used for GEMM.
type cublas struct {
	create  func(h *uintptr) int32
	destroy func(h uintptr) int32
	sgemm   func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32
	dgemm   func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, b uintptr, ldb int32, beta *float64, c uintptr, ldc int32) int32
	sgemmSB func(h uintptr, ta, tb, m, n, k int32, alpha *float32, a uintptr, lda int32, sa int64, b uintptr, ldb int32, sb int64, beta *float32, c uintptr, ldc int32, sc int64, batch int32) int32
	dgemmSB func(h uintptr, ta, tb, m, n, k int32, alpha *float64, a uintptr, lda int32, sa int64, b uintptr, ldb int32, sb int64, beta *float64, c uintptr, ldc int32, sc int64, batch int32) int32
}

const (
	opN = 0 // CUBLAS_OP_N
	opT = 1 // CUBLAS_OP_T
)

func loadCuBLAS() (*cublas, error) {
	c := &cublas{}
	_, err := openLib([]string{"libcublas.so", "libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}, []symbol{
		{"cublasCreate_v2", &c.create},
		{"cublasDestroy_v2", &c.destroy},
		{"cublasSgemm_v2", &c.sgemm},
		{"cublasDgemm_v2", &c.dgemm},
		{"cublasSgemmStridedBatched", &c.sgemmSB},
		{"cublasDgemmStridedBatched", &c.dgemmSB},
	})
	return c, err
}

func blasCheck(call string, code int32) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: cublasStatus %d", call, code)
}

// gemmCall is one row-major product, possibly batched with strides (in
// elements; 0 repeats an operand): C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]
// with op(A) (m,k), op(B) (k,n), C (m,n).
type gemmCall struct {
	f64            bool
	transA, transB bool
	m, n, k        int
	a, b, c        uintptr
	sa, sb, sc     int64
	batch          int
	alpha, beta    float64
}

// run issues the product. cuBLAS is column-major: a row-major C = A B is
// the column-major C^T = B^T A^T, so the operands swap places.
func (bl *cublas) run(h uintptr, g *gemmCall) error {
	lda, ldb := g.k, g.n
	if g.transA {
		lda = g.m
	}
	if g.transB {
		ldb = g.k
	}
	ta, tb := int32(opN), int32(opN)
	if g.transA {
		ta = opT
	}
	if g.transB {
		tb = opT
	}
	m, n, k := int32(g.n), int32(g.m), int32(g.k)
	if g.batch <= 1 {
		if g.f64 {
			al, be := g.alpha, g.beta
			return blasCheck("cublasDgemm", bl.dgemm(h, tb, ta, m, n, k, &al, g.b, int32(ldb), g.a, int32(lda), &be, g.c, int32(g.n)))
		}
		al, be := float32(g.alpha), float32(g.beta)
		return blasCheck("cublasSgemm", bl.sgemm(h, tb, ta, m, n, k, &al, g.b, int32(ldb), g.a, int32(lda), &be, g.c, int32(g.n)))
	}
	if g.f64 {
		al, be := g.alpha, g.beta
		return blasCheck("cublasDgemmStridedBatched", bl.dgemmSB(h, tb, ta, m, n, k, &al, g.b, int32(ldb), g.sb,
			g.a, int32(lda), g.sa, &be, g.c, int32(g.n), g.sc, int32(g.batch)))
	}
	al, be := float32(g.alpha), float32(g.beta)
	return blasCheck("cublasSgemmStridedBatched", bl.sgemmSB(h, tb, ta, m, n, k, &al, g.b, int32(ldb), g.sb,
		g.a, int32(lda), g.sa, &be, g.c, int32(g.n), g.sc, int32(g.batch)))
}
