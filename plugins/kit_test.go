package plugins

import (
	"os"
	"testing"

	"github.com/keenml/keen/backends"
	"github.com/keenml/keen/backends/backendtest"
)

// TestBackendKit runs the backend test kit over the CPU backend served by a
// plugin, with and without shared memory.
func TestBackendKit(t *testing.T) {
	for _, noShm := range []bool{false, true} {
		name := "shm"
		if noShm {
			name = "inline"
		}
		t.Run(name, func(t *testing.T) {
			backendtest.RunAll(t, func() (backends.Backend, error) {
				return Start(os.Args[0], Options{Env: []string{testModeEnv + "=cpu"}, NoShm: noShm})
			})
		})
	}
}
