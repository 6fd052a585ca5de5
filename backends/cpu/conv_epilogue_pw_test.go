package cpu

import "testing"

func TestPwSplit(t *testing.T) {
	tests := []struct {
		m, n, nt int
		want     pwBlocks
	}{
		{384, 196, 2, pwBlocks{cols: 32, rows: 14 * 10, colBlocks: 7, rowBlocks: 3}},   // 14²: 7 panels, 3 row blocks each
		{960, 49, 2, pwBlocks{cols: 32, rows: 14 * 9, colBlocks: 2, rowBlocks: 8}},     // 7²: 69 tiles in 8 blocks
		{16, 12544, 2, pwBlocks{cols: 32 * 25, rows: 16, colBlocks: 16, rowBlocks: 1}}, // 112²: 392 panels
		{24, 784, 2, pwBlocks{cols: 32 * 2, rows: 24, colBlocks: 13, rowBlocks: 1}},
		{20, 100, 4, pwBlocks{cols: 32, rows: 14, colBlocks: 4, rowBlocks: 2}}, // fewer tiles than wanted
	}
	for _, tc := range tests {
		got := pwSplit(tc.m, tc.n, tc.nt)
		if got != tc.want {
			t.Errorf("pwSplit(%d, %d, %d) = %+v, want %+v", tc.m, tc.n, tc.nt, got, tc.want)
		}
		// The blocks cover the output once, none empty.
		if got.cols%32 != 0 || got.rows%14 != 0 && got.rowBlocks > 1 ||
			(got.colBlocks-1)*got.cols >= tc.n || got.colBlocks*got.cols < tc.n ||
			(got.rowBlocks-1)*got.rows >= tc.m || got.rowBlocks*got.rows < tc.m {
			t.Errorf("pwSplit(%d, %d, %d) = %+v does not tile the output", tc.m, tc.n, tc.nt, got)
		}
	}
}
