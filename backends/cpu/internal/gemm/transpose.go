package gemm

import "fmt"

// Transpose sets dst[q*ldd+i] = src[i*lds+q] for i < rows and q < cols:
// the rows×cols matrix src (row stride lds) transposed into dst (row
// stride ldd). Blocks of 8×8 go through the packing kernel's AVX
// transpose where the CPU has it; the edges through Go. It panics when
// a slice is too short or a stride smaller than its row.
func Transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	if ldd < rows || lds < cols || len(dst) < (cols-1)*ldd+rows || len(src) < (rows-1)*lds+cols {
		panic(fmt.Errorf("gemm: Transpose: %dx%d from %d floats (stride %d) into %d (stride %d)",
			rows, cols, len(src), lds, len(dst), ldd))
	}
	done := 0 // columns done by the kernel, for rows [0, fullRows)
	fullRows := 0
	if t := impls[0].transpose8; t != nil && ldd >= 8 && cols >= 8 {
		blocks := cols / 8
		done, fullRows = blocks*8, rows/8*8
		for i := 0; i < fullRows; i += 8 {
			t(dst[i:], src[i*lds:], lds, blocks, ldd, 1)
		}
	}
	for i := range rows {
		q0 := done
		if i >= fullRows {
			q0 = 0
		}
		row := src[i*lds : i*lds+cols]
		for q := q0; q < cols; q++ {
			dst[q*ldd+i] = row[q]
		}
	}
}
