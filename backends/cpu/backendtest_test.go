package cpu_test

import (
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/backendtest"
	"github.com/keenml/keen/backends/cpu"
)

// TestBackendKit runs the shared backend test kit on the CPU backend (which
// is also the kit's reference, so this mostly checks the contract and that
// every case runs).
func TestBackendKit(t *testing.T) {
	backendtest.RunAll(t, func() (backends.Backend, error) { return cpu.New(), nil })
}
