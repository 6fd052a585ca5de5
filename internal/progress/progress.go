// Package progress draws a one-line progress bar with rate and ETA on a
// terminal and stays quiet when the output is not a terminal.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar over a known number of steps.
type Bar struct {
	mu     sync.Mutex
	w      io.Writer
	label  string
	total  int
	done   int
	extra  string
	start  time.Time
	last   time.Time
	active bool
	drawn  bool
}

// New returns a bar writing to w; it draws only when w is a terminal.
func New(w io.Writer, label string, total int) *Bar {
	return &Bar{w: w, label: label, total: total, start: time.Now(), active: IsTerminal(w)}
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Set records progress and an optional note (e.g. "loss 0.231") and redraws
// at most ten times a second.
func (b *Bar) Set(done int, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done, b.extra = done, note
	if !b.active || (time.Since(b.last) < 100*time.Millisecond && done < b.total) {
		return
	}
	b.last = time.Now()
	b.draw()
}

func (b *Bar) draw() {
	el := time.Since(b.start).Seconds()
	rate := float64(b.done) / max(el, 1e-9)
	eta := "?"
	if rate > 0 && b.total > 0 {
		eta = (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second).String()
	}
	const width = 24
	fill := 0
	if b.total > 0 {
		fill = width * b.done / b.total
	}
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	fmt.Fprintf(b.w, "\r\033[K%s [%s] %d/%d %.1f/s ETA %s %s", b.label, bar, b.done, b.total, rate, eta, b.extra)
	b.drawn = true
}

// Clear erases the bar so other lines can be printed; the next Set redraws it.
func (b *Bar) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.active && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

// Done erases the bar for good.
func (b *Bar) Done() {
	b.Clear()
	b.mu.Lock()
	b.active = false
	b.mu.Unlock()
}
