package plugins

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// area is the shared-memory staging area: a memfd the host creates and the
// plugin inherits, mapped by both. Only one batch is in flight at a time, so
// the two sides never touch it at once. Either side may grow it (ftruncate);
// the other remaps when a message names a larger size.
type area struct {
	f   *os.File
	mem []byte
}

// newArea creates an area of size bytes (the host side).
func newArea(size int) (*area, error) {
	fd, err := unix.MemfdCreate("keen-plugin", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "keen-plugin-shm")
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("sizing shared memory: %w", err)
	}
	a := &area{f: f}
	if err := a.remap(); err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// openArea maps an inherited area (the plugin side).
func openArea(fd uintptr) (*area, error) {
	a := &area{f: os.NewFile(fd, "keen-plugin-shm")}
	if err := a.remap(); err != nil {
		return nil, err
	}
	return a, nil
}

// remap maps the whole file as it is now.
func (a *area) remap() error {
	var st unix.Stat_t
	if err := unix.Fstat(int(a.f.Fd()), &st); err != nil {
		return fmt.Errorf("shared memory: fstat: %w", err)
	}
	if a.mem != nil && int64(len(a.mem)) == st.Size {
		return nil
	}
	if a.mem != nil {
		if err := unix.Munmap(a.mem); err != nil {
			return fmt.Errorf("shared memory: munmap: %w", err)
		}
		a.mem = nil
	}
	if st.Size == 0 {
		return nil
	}
	mem, err := unix.Mmap(int(a.f.Fd()), 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("shared memory: mmap %d bytes: %w", st.Size, err)
	}
	a.mem = mem
	return nil
}

// ensure grows the area to hold at least n bytes.
func (a *area) ensure(n int) error {
	if n <= len(a.mem) {
		return nil
	}
	size := max(2*len(a.mem), n)
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)
	if err := a.f.Truncate(int64(size)); err != nil {
		return fmt.Errorf("shared memory: growing to %d bytes: %w", size, err)
	}
	return a.remap()
}

// follow remaps when the other side grew the area to size.
func (a *area) follow(size uint64) error {
	if size <= uint64(len(a.mem)) {
		return nil
	}
	return a.remap()
}

// trim gives the pages of the area back to the system, keeping its size.
func (a *area) trim() {
	_ = unix.Fallocate(int(a.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, int64(len(a.mem)))
}

func (a *area) close() {
	if a.mem != nil {
		_ = unix.Munmap(a.mem)
		a.mem = nil
	}
	a.f.Close()
}
