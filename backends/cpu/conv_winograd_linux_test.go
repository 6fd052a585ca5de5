package cpu

import (
	"syscall"
	"testing"
	"unsafe"

	"github.com/keenml/keen/ir"
)

// TestConvWinogradMappedWeights: weights outside the Go heap (memory
// mapped, as external data can be) run through Winograd without the
// cache's cleanup hook panicking.
func TestConvWinogradMappedWeights(t *testing.T) {
	winoTesting(t)
	const n = 16 * 16 * 9
	mem, err := syscall.Mmap(-1, 0, 4*n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	defer syscall.Munmap(mem)
	w := unsafe.Slice((*float32)(unsafe.Pointer(&mem[0])), n)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	xs := []int{1, 16, 12, 12}
	win, _ := convReadWin("Conv", ir.Attrs{ir.IntsAttr("pads", 1, 1, 1, 1)})
	p, _ := convPlan(win, 1, xs, []int{16, 16, 3, 3}, nil)
	x := make([]float32, ir.Size(xs))
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	y := make([]float32, 16*12*12)
	if !convWinograd(p, x, w, nil, y, winoNoEpilogue) {
		t.Fatal("declined")
	}
}
