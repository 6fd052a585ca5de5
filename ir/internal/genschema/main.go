// Command genschema writes package ir's operator schema table
// (schemas_gen.go) from the ONNX spec's docs/Changelog.md (and
// docs/Changelog-ml.md when present): every version of every operator with
// its inputs, outputs, attributes and defaults, and type constraints.
//
//	go run ./internal/genschema -spec ../../shared/onnx-spec/docs -out schemas_gen.go
//
// When -spec does not exist, the folder shared/onnx-spec/docs is looked for
// in the working directory and its parents (worktrees sit deeper than the
// main checkout).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	spec := flag.String("spec", "../../shared/onnx-spec/docs", "folder holding Changelog.md")
	out := flag.String("out", "schemas_gen.go", "file to write")
	flag.Parse()
	dir, err := findSpec(*spec)
	if err == nil {
		var src []byte
		if src, err = generate(dir); err == nil {
			err = os.WriteFile(*out, src, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

// changelogs are the files read, each with the domain it starts in.
var changelogs = []struct{ file, domain string }{
	{"Changelog.md", ""},
	{"Changelog-ml.md", "ai.onnx.ml"},
}

// generate parses the changelogs in dir and returns the generated source.
func generate(dir string) ([]byte, error) {
	var all []*schema
	var sources []string
	for _, c := range changelogs {
		f, err := os.Open(filepath.Join(dir, c.file))
		if errors.Is(err, os.ErrNotExist) && c.domain != "" {
			continue
		}
		if err != nil {
			return nil, err
		}
		ss, err := parseChangelog(f, c.domain)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.file, err)
		}
		all = append(all, ss...)
		sources = append(sources, "docs/"+c.file)
	}
	if err := checkUnique(all); err != nil {
		return nil, err
	}
	inheritDeprecated(all)
	return emit(all, sources)
}

func checkUnique(all []*schema) error {
	seen := map[[3]any]bool{}
	for _, s := range all {
		k := [3]any{s.domain, s.op, s.since}
		if seen[k] {
			return fmt.Errorf("%q %s-%d listed twice", s.domain, s.op, s.since)
		}
		seen[k] = true
	}
	return nil
}

// findSpec returns dir if it holds Changelog.md, else the first
// shared/onnx-spec/docs found walking up from the working directory.
func findSpec(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "Changelog.md")); err == nil {
		return dir, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "shared", "onnx-spec", "docs")
		if _, err := os.Stat(filepath.Join(cand, "Changelog.md")); err == nil {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no Changelog.md in %s nor in shared/onnx-spec/docs above %s", dir, wd)
		}
	}
}
