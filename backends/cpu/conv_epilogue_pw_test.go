package cpu

import "testing"

func TestPwSplit(t *testing.T) {
	tests := []struct {
		m, n, nt int
		want     pwBlocks
	}{
		{384, 196, 2, pwBlocks{cols: 32 * 7, rows: 14 * 2, colBlocks: 1, rowBlocks: 14}}, // 14²: 28 tiles
		{960, 49, 2, pwBlocks{cols: 32 * 2, rows: 14 * 5, colBlocks: 1, rowBlocks: 14}},  // 7²: 69 tiles
		{16, 12544, 2, pwBlocks{cols: 32 * 49, rows: 14, colBlocks: 8, rowBlocks: 2}},    // 112²: 392 panels, 2 tiles
		{24, 784, 2, pwBlocks{cols: 32 * 4, rows: 14, colBlocks: 7, rowBlocks: 2}},
		{20, 100, 4, pwBlocks{cols: 32, rows: 14, colBlocks: 4, rowBlocks: 2}}, // fewer blocks than wanted
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
