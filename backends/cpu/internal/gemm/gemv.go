package gemm

// gemv computes the products where C is a single row (m == 1) or column
// (n == 1): with one operand a vector, packing would cost as much as the
// multiply, so these run as dot products and axpys over the matrix as it
// lies. C has already been scaled by beta.
func (im *impl) gemv(p *problem) {
	if p.m == 1 {
		// c (1×n) += alpha · x (1×k) · op(B); x is row 0 of op(A).
		x, xb := vector(p.a, p.k, p.lda, p.transA)
		if p.transB { // B is n×k: one dot product per output
			im.dotsInto(p.n, p.b, p.ldb, x, p.alpha, p.c, 1)
		} else { // B is k×n: c += (alpha·x[q]) · row q, a chunk of c at a time
			for j0 := 0; j0 < p.n; j0 += gemvChunk {
				c := p.c[j0:min(j0+gemvChunk, p.n)]
				for q, v := range x {
					im.axpy(p.alpha*v, p.b[q*p.ldb+j0:][:len(c)], c)
				}
			}
		}
		release(xb)
		return
	}
	// c (m×1) += alpha · op(A) · x (k×1); x is column 0 of op(B).
	x, xb := vector(p.b, p.k, p.ldb, !p.transB)
	if !p.transA { // A is m×k: one dot product per output
		im.dotsInto(p.m, p.a, p.lda, x, p.alpha, p.c, p.ldc)
	} else { // A is k×m: y = Σ x[q] · row q, then c += alpha·y
		yb := getBuffer(p.m)
		y := yb.f
		clear(y)
		for q, v := range x {
			im.axpy(v, p.a[q*p.lda:][:p.m], y)
		}
		for i, v := range y {
			p.c[i*p.ldc] += p.alpha * v
		}
		putBuffer(yb)
	}
	release(xb)
}

// dotsInto adds alpha·Σ_q a[i·lda+q]·x[q] to c[i·ldc] for i < rows: eight rows at a time with the pointwise dot
// kernels where the CPU has them (one accumulator per row hides the FMA
// latency a single dot waits on), else one dot product per row.
func (im *impl) dotsInto(rows int, a []float32, lda int, x []float32, alpha float32, c []float32, ldc int) {
	if !pwDotAvail || len(x) == 0 {
		for i := range rows {
			c[i*ldc] += alpha * im.dot(a[i*lda:][:len(x)], x)
		}
		return
	}
	sb := getBuffer(rows)
	sums := sb.f[:rows]
	pwDots(a, lda, x, sums)
	for i, v := range sums {
		c[i*ldc] += alpha * v
	}
	putBuffer(sb)
}

// gemvChunk is how many floats of the output row stay in L1 while the
// rows of B stream past.
const gemvChunk = 2048

// vector returns the k floats of a vector stored contiguously (strided
// false) or one every ld floats (strided true), gathering the latter into
// a pooled buffer, which the caller releases.
func vector(s []float32, k, ld int, strided bool) ([]float32, *buffer) {
	if !strided || k <= 1 {
		return s[:k], nil
	}
	b := getBuffer(k)
	for q := range b.f {
		b.f[q] = s[q*ld]
	}
	return b.f, b
}

func release(b *buffer) {
	if b != nil {
		putBuffer(b)
	}
}

// dotGeneric returns Σ x[i]·y[i].
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpyGeneric sets y[i] += alpha·x[i].
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}
