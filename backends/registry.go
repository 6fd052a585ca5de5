package backends

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

// Opener opens a backend. arg is what followed "name:" in the backend name
// ("" when there was none).
type Opener func(arg string) (Backend, error)

var (
	regMu   sync.Mutex
	openers = map[string]Opener{}
	opened  = map[string]Backend{}
)

// Register makes a backend available under name. It panics on a duplicate,
// as registration happens in init functions.
func Register(name string, open Opener) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := openers[name]; dup {
		panic("backends: Register called twice for " + name)
	}
	openers[name] = open
}

// Names lists the registered backend names, sorted.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	names := make([]string, 0, len(openers))
	for n := range openers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Open returns the backend called name, opening it on first use; later calls
// with the same name share it. "name:arg" passes arg to the opener registered
// under name (e.g. "plugin:bin/keen-backend-cpu").
func Open(name string) (Backend, error) {
	regMu.Lock()
	defer regMu.Unlock()
	if b, ok := opened[name]; ok {
		return b, nil
	}
	base, arg, _ := strings.Cut(name, ":")
	open, ok := openers[base]
	if !ok {
		known := make([]string, 0, len(openers))
		for n := range openers {
			known = append(known, n)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("backends: unknown backend %q (registered: %s)", name, strings.Join(known, ", "))
	}
	b, err := open(arg)
	if err != nil {
		return nil, err
	}
	opened[name] = b
	return b, nil
}

// Forget drops a shared backend opened under name (after it failed, say), so
// the next Open starts a fresh one.
func Forget(name string) {
	regMu.Lock()
	defer regMu.Unlock()
	delete(opened, name)
}

// DefaultName is the backend used when none is named: $KEEN_BACKEND, else "cpu".
func DefaultName() string {
	if s := os.Getenv("KEEN_BACKEND"); s != "" {
		return s
	}
	return "cpu"
}

// Default opens DefaultName().
func Default() (Backend, error) { return Open(DefaultName()) }
