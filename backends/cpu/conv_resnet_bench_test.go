package cpu

import (
	"testing"

	"github.com/keenml/keen/ir"
)

// BenchmarkConvResNet18 runs each distinct convolution of ResNet-18 at
// batch 1 (224²) through the Conv kernel: the layers the padded (strided),
// wide (14² and 7²) and Winograd paths take.
func BenchmarkConvResNet18(b *testing.B) {
	for _, c := range []struct {
		name             string
		cin, hw, cout, k int
		stride, pad      int64
	}{
		{"stem7x7s2", 3, 224, 64, 7, 2, 3},
		{"c64_56", 64, 56, 64, 3, 1, 1},
		{"c128s2", 64, 56, 128, 3, 2, 1},
		{"d128s2", 64, 56, 128, 1, 2, 0},
		{"c128_28", 128, 28, 128, 3, 1, 1},
		{"c256s2", 128, 28, 256, 3, 2, 1},
		{"d256s2", 128, 28, 256, 1, 2, 0},
		{"c256_14", 256, 14, 256, 3, 1, 1},
		{"c512s2", 256, 14, 512, 3, 2, 1},
		{"d512s2", 256, 14, 512, 1, 2, 0},
		{"c512_7", 512, 7, 512, 3, 1, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			oh := (c.hw+2*int(c.pad)-c.k)/int(c.stride) + 1
			attrs := ir.Attrs{ir.IntsAttr("pads", c.pad, c.pad, c.pad, c.pad), ir.IntsAttr("strides", c.stride, c.stride)}
			convBenchConv(b, []int{1, c.cin, c.hw, c.hw}, []int{c.cout, c.cin, c.k, c.k}, attrs, oh*oh)
		})
	}
}

// BenchmarkConvWideWhole compares the wide path's whole-tile stride (on)
// with products exactly as wide as the output (off) on ResNet-18's late
// layers (c256_14 does not run wide: a reference).
func BenchmarkConvWideWhole(b *testing.B) {
	for _, on := range []bool{false, true} {
		for _, c := range []struct {
			name             string
			cin, hw, cout, k int
			stride, pad      int64
		}{
			{"c256_14", 256, 14, 256, 3, 1, 1},
			{"c512s2", 256, 14, 512, 3, 2, 1},
			{"c512_7", 512, 7, 512, 3, 1, 1},
		} {
			name := c.name + "/off"
			if on {
				name = c.name + "/on"
			}
			b.Run(name, func(b *testing.B) {
				defer func(v bool) { convWideWhole = v }(convWideWhole)
				convWideWhole = on
				oh := (c.hw+2*int(c.pad)-c.k)/int(c.stride) + 1
				attrs := ir.Attrs{ir.IntsAttr("pads", c.pad, c.pad, c.pad, c.pad), ir.IntsAttr("strides", c.stride, c.stride)}
				convBenchConv(b, []int{1, c.cin, c.hw, c.hw}, []int{c.cout, c.cin, c.k, c.k}, attrs, oh*oh)
			})
		}
	}
}
