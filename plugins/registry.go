package plugins

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/keenml/keen/backends"
)

// CUDABinary is the plugin binary the "cuda" backend runs.
const CUDABinary = "keen-backend-cuda"

func init() {
	backends.Register("plugin", openPlugin)
	backends.Register("cuda", openCUDA)
}

// openPlugin serves "plugin:PATH".
func openPlugin(path string) (backends.Backend, error) {
	if path == "" {
		return nil, errors.New("plugin: name the plugin binary: plugin:PATH")
	}
	c, err := Start(path, Options{Name: "plugin:" + path})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// openCUDA serves "cuda" (and "cuda:N" for device N) by running the
// keen-backend-cuda plugin. Its errors start with "cuda: " and say why the
// backend is unavailable in the plugin's own words.
func openCUDA(arg string) (backends.Backend, error) {
	path, err := FindBinary(CUDABinary)
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	name := "cuda"
	var env []string
	if arg != "" {
		name += ":" + arg
		env = append(env, "KEEN_CUDA_DEVICE="+arg)
	}
	c, err := Start(path, Options{Name: name, Env: env})
	var ie *InitError
	if errors.As(err, &ie) {
		return nil, fmt.Errorf("cuda: %s", strings.TrimPrefix(ie.Reason, "cuda: "))
	}
	if err != nil {
		return nil, fmt.Errorf("cuda: %w", err)
	}
	return c, nil
}

// FindBinary looks for a plugin binary next to the running executable, then
// in bin/ of the module holding the working directory, then on PATH.
func FindBinary(name string) (string, error) {
	var looked []string
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		if p := filepath.Join(dir, name); isExec(p) {
			return p, nil
		}
		looked = append(looked, dir)
	}
	if root := moduleRoot(); root != "" {
		dir := filepath.Join(root, "bin")
		if p := filepath.Join(dir, name); isExec(p) {
			return p, nil
		}
		looked = append(looked, dir)
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	looked = append(looked, "$PATH")
	return "", fmt.Errorf("plugin binary %s not found (looked in %s); build it with `make plugins`",
		name, strings.Join(looked, ", "))
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// moduleRoot walks up from the working directory to the folder holding
// go.mod ("" if there is none).
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}
