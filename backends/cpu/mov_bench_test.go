package cpu

import (
	"fmt"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/ir"
)

func BenchmarkMovTranspose2D(b *testing.B) {
	x := movIota(1024, 1024)
	k := movBenchKernel(b, "Transpose", ir.Attrs{ir.IntsAttr("perm", 1, 0)}, x)
	b.SetBytes(4 << 20)
	for b.Loop() {
		k(x)
	}
}

func BenchmarkMovTransposeNCHW(b *testing.B) {
	x := movIota(8, 64, 56, 56)
	k := movBenchKernel(b, "Transpose", ir.Attrs{ir.IntsAttr("perm", 0, 2, 3, 1)}, x)
	b.SetBytes(int64(x.Len() * 4))
	for b.Loop() {
		k(x)
	}
}

func BenchmarkMovConcat(b *testing.B) {
	x := movIota(64, 256, 64)
	k := movBenchKernel(b, "Concat", ir.Attrs{ir.IntAttr("axis", 1)}, x, x)
	b.SetBytes(int64(x.Len() * 8))
	for b.Loop() {
		k(x, x)
	}
}

func BenchmarkMovGather(b *testing.B) {
	x := movIota(30000, 256)
	idx := make([]int64, 4096)
	for i := range idx {
		idx[i] = int64(i * 7 % 30000)
	}
	it := ir.FromSlice(idx, 4096)
	k := movBenchKernel(b, "Gather", nil, x, it)
	b.SetBytes(4096 * 256 * 4)
	for b.Loop() {
		k(x, it)
	}
}

// movBenchKernel prepares op once for the dtypes of in and returns a
// function running it on in.
func movBenchKernel(b *testing.B, op string, attrs ir.Attrs, in ...*ir.Tensor) func(...*ir.Tensor) {
	spec := &backends.OpSpec{Op: op, Version: 21, Attrs: attrs, NumOutputs: 1}
	bufs := make([]backends.Buffer, len(in))
	for i, x := range in {
		spec.InputTypes = append(spec.InputTypes, x.DType)
		bufs[i] = &Buf{T: x}
	}
	k, err := New().Prepare(spec)
	if err != nil {
		b.Fatal(err)
	}
	return func(...*ir.Tensor) {
		if _, err := k.Run(bufs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMovBaselineCopy is the reference for the copies above: allocate
// and copy the same number of bytes as the transposes.
func BenchmarkMovBaselineCopy(b *testing.B) {
	x := movIota(1024, 1024)
	b.SetBytes(int64(x.Len() * 4))
	for b.Loop() {
		d := make([]float32, x.Len())
		copy(d, x.Data.([]float32))
	}
}

// BenchmarkMovTransposePaths runs transpose plans through the tiled path
// and its row-by-row twin.
func BenchmarkMovTransposePaths(b *testing.B) {
	for _, sh := range [][2]int{{1024, 1024}, {512, 8192}, {64, 65536}} {
		rows, cols := sh[0], sh[1] // output rows x cols, reading input (cols, rows)
		src := make([]uint32, rows*cols)
		dst := make([]uint32, len(src))
		axes := []movAxis{movAffine(rows, 0, 1), movAffine(cols, 0, rows)}
		b.Run(fmt.Sprintf("tiled-%dx%d", rows, cols), func(b *testing.B) {
			b.SetBytes(int64(len(src) * 4))
			for b.Loop() {
				movTiled(dst, src, axes, 0)
			}
		})
		b.Run(fmt.Sprintf("rows-%dx%d", rows, cols), func(b *testing.B) {
			b.SetBytes(int64(len(src) * 4))
			for b.Loop() {
				movRunRows(dst, src, 0, axes)
			}
		})
	}
}
