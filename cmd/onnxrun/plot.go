package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/keenml/keen/internal/finetune"
	"github.com/keenml/keen/internal/fsutil"
)

// plotRun draws the loss per step and the test accuracy per epoch as an SVG.
func plotRun(path string, res *finetune.Result) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
	default:
		return fmt.Errorf("--plot %s: only .svg is supported", path)
	}
	return fsutil.WriteFileAtomic(path, []byte(finetune.SVG(res)))
}
