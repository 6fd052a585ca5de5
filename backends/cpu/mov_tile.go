package cpu

// Transposes read the input with a large stride along the output's
// innermost axis. Row by row, one output row touches a cache line and a
// page per element; the next rows reuse them while they stay cached, which
// holds for rows up to a few MiB of span (BenchmarkMovTransposePaths:
// 1024x1024 float32 is faster by rows, 512x8192 four times faster tiled).
// Beyond that, copying square tiles keeps both sides in cache.

// movTileSize is the tile edge in elements.
const movTileSize = 32

// movTileSpan is the input span (bytes) of one output row above which
// transposes are copied in tiles.
const movTileSpan = 4 << 20

// movTileAxis returns the axis a tiled copy should pair with the innermost
// one (an affine axis reading the input contiguously), or -1 when the plan
// is not a transpose-like walk worth tiling. elem is the element size.
func movTileAxis(axes []movAxis, elem int) int {
	last := axes[len(axes)-1]
	if last.tab != nil || last.stride == 1 || last.stride == 0 || last.n < 4 ||
		last.n*max(last.stride, -last.stride)*elem <= movTileSpan {
		return -1
	}
	k := -1
	for i, a := range axes[:len(axes)-1] {
		if a.tab != nil {
			return -1
		}
		if a.stride == 1 && a.n >= 4 {
			k = i
		}
	}
	return k
}

// movTiled is movRun for plans movTileAxis accepts: axis k (input stride 1)
// and the last axis are walked in tiles, the other axes one by one.
func movTiled[T movElem](dst, src []T, axes []movAxis, k int) {
	last := len(axes) - 1
	nK, nL, sL := axes[k].n, axes[last].n, axes[last].stride
	outSt := make([]int, len(axes))
	base0, s := 0, 1
	for i := last; i >= 0; i-- {
		outSt[i] = s
		s *= axes[i].n
		base0 += axes[i].start
	}
	var rest []int
	restN := 1
	for i := range axes[:last] {
		if i != k {
			rest = append(rest, i)
			restN *= axes[i].n
		}
	}
	tilesK := (nK + movTileSize - 1) / movTileSize
	parallelFor(restN*tilesK, movTileSize*nL, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			rem, tk := t/tilesK, t%tilesK
			in, out := base0, 0
			for ri := len(rest) - 1; ri >= 0; ri-- {
				a := rest[ri]
				i := rem % axes[a].n
				rem /= axes[a].n
				in += i * axes[a].stride
				out += i * outSt[a]
			}
			i0, i1 := tk*movTileSize, min((tk+1)*movTileSize, nK)
			for j0 := 0; j0 < nL; j0 += movTileSize {
				j1 := min(j0+movTileSize, nL)
				for i := i0; i < i1; i++ {
					d := dst[out+i*outSt[k]:]
					p := in + i + j0*sL
					for j := j0; j < j1; j++ {
						d[j] = src[p]
						p += sL
					}
				}
			}
		}
	})
}
