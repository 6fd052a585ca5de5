package main

import (
	"io"

	"github.com/keenml/keen/internal/fsutil"
	"github.com/keenml/keen/internal/progress"
)

func writeFileAtomic(path string, data []byte) error { return fsutil.WriteFileAtomic(path, data) }

// bar adapts progress.Bar to the commands' use.
type bar struct{ b *progress.Bar }

func newProgress(w io.Writer, label string, total int) *bar {
	return &bar{progress.New(w, label, total)}
}

func (b *bar) set(done int) { b.b.Set(done, "") }
func (b *bar) clear()       { b.b.Clear() }
func (b *bar) done()        { b.b.Done() }
