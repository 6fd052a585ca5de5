//go:build !linux

package plugins

import (
	"errors"
	"os"
)

// area is the shared-memory staging area; it exists on Linux only, and
// elsewhere all tensor data travels inside the messages.
type area struct {
	f   *os.File
	mem []byte
}

func newArea(int) (*area, error)         { return nil, errors.New("shared memory needs Linux") }
func openArea(uintptr) (*area, error)    { return nil, errors.New("shared memory needs Linux") }
func (a *area) ensure(n int) error       { return errors.New("shared memory needs Linux") }
func (a *area) follow(size uint64) error { return nil }
func (a *area) trim()                    {}
func (a *area) close()                   {}
