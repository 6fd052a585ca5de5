package gemm

// genericImpl is the plain Go micro-kernel, always built: the reference
// twin of the assembly kernels and the path under purego and on other
// architectures.
var genericImpl = &impl{name: "generic", mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048, kernel: kernelGeneric,
	dot: dotGeneric, axpy: axpyGeneric}

// kernelGeneric is the 4x4 tile: a (k columns of 4), b (k rows of 4), c 4x4
// with row stride ldc. Sixteen scalar accumulators keep the loop free of
// loads and stores to c.
func kernelGeneric(k int, a, b, c []float32, ldc int, accumulate bool) {
	a, b = a[:4*k], b[:4*k]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for q := 0; q+4 <= len(a); q += 4 {
		a0, a1, a2, a3 := a[q], a[q+1], a[q+2], a[q+3]
		b0, b1, b2, b3 := b[q], b[q+1], b[q+2], b[q+3]
		c00, c01, c02, c03 = c00+a0*b0, c01+a0*b1, c02+a0*b2, c03+a0*b3
		c10, c11, c12, c13 = c10+a1*b0, c11+a1*b1, c12+a1*b2, c13+a1*b3
		c20, c21, c22, c23 = c20+a2*b0, c21+a2*b1, c22+a2*b2, c23+a2*b3
		c30, c31, c32, c33 = c30+a3*b0, c31+a3*b1, c32+a3*b2, c33+a3*b3
	}
	rows := [4][4]float32{
		{c00, c01, c02, c03}, {c10, c11, c12, c13},
		{c20, c21, c22, c23}, {c30, c31, c32, c33},
	}
	for i, r := range rows {
		dst := c[i*ldc : i*ldc+4]
		if accumulate {
			dst[0], dst[1], dst[2], dst[3] = dst[0]+r[0], dst[1]+r[1], dst[2]+r[2], dst[3]+r[3]
		} else {
			dst[0], dst[1], dst[2], dst[3] = r[0], r[1], r[2], r[3]
		}
	}
}
