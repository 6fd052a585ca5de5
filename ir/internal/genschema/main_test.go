package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// specDir finds shared/onnx-spec/docs above the working directory or skips.
func specDir(t *testing.T) string {
	t.Helper()
	dir, err := findSpec(filepath.Join("no", "such", "dir"))
	if err != nil {
		t.Skipf("ONNX spec not found: %v", err)
	}
	return dir
}

// TestGeneratedUpToDate regenerates the table and compares it with the
// committed ir/schemas_gen.go.
func TestGeneratedUpToDate(t *testing.T) {
	dir := specDir(t)
	got, err := generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "schemas_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		tmp := filepath.Join(t.TempDir(), "schemas_gen.go")
		os.WriteFile(tmp, got, 0o644)
		t.Errorf("ir/schemas_gen.go is stale; run go generate in ir (fresh output in %s)", tmp)
	}
}

var (
	reOpHeading = regexp.MustCompile(`^### (?:<sub>experimental</sub> )?<a name="([^"]+)"></a><a name="[^"]+">\*\*[^*]+\*\*( \(deprecated\))?</a>$`)
	reVersion   = regexp.MustCompile(`since version (\d+) of`)
)

// operatorsAsChangelog rewrites Operators.md (newest version of each
// operator, headings without versions, examples in code fences) into
// Changelog form, so the same parser reads it.
func operatorsAsChangelog(text string) string {
	lines := strings.Split(text, "\n")
	var out []string
	fence := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		switch {
		case fence:
		case strings.HasPrefix(l, "## ai.onnx"):
			out = append(out, l[1:])
		case strings.HasPrefix(l, "### "):
			m := reOpHeading.FindStringSubmatch(l)
			if m == nil {
				continue // table-of-contents headings
			}
			v := ""
			for _, next := range lines[i+1:] {
				if vm := reVersion.FindStringSubmatch(next); vm != nil {
					v = vm[1]
					break
				}
				if strings.HasPrefix(next, "### ") {
					break
				}
			}
			if v == "" {
				v = "1" // experimental operators state no version
			}
			out = append(out, `### <a name="`+m[1]+"-"+v+`"></a>**`+m[1]+"-"+v+"**"+m[2]+"</a>")
		case strings.HasPrefix(l, "# "):
		default:
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOperatorsAgree parses Operators.md the same way and checks that each
// operator's newest version there equals the newest one in the Changelog.
func TestOperatorsAgree(t *testing.T) {
	dir := specDir(t)
	cl, err := os.Open(filepath.Join(dir, "Changelog.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fromChangelog, err := parseChangelog(cl, "")
	if err != nil {
		t.Fatal(err)
	}
	newest := map[[2]string]*schema{}
	for _, s := range fromChangelog {
		k := [2]string{s.domain, s.op}
		if o := newest[k]; o == nil || o.since < s.since {
			newest[k] = s
		}
	}
	text, err := os.ReadFile(filepath.Join(dir, "Operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	fromOperators, err := parseChangelog(strings.NewReader(operatorsAsChangelog(string(text))), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(fromOperators) != len(newest) {
		t.Errorf("Operators.md has %d operators, Changelog.md %d", len(fromOperators), len(newest))
	}
	t.Logf("%d operators compared", len(fromOperators))
	for _, s := range fromOperators {
		c := newest[[2]string{s.domain, s.op}]
		if c == nil {
			t.Errorf("%q %s-%d is not in the Changelog", s.domain, s.op, s.since)
			continue
		}
		s.line, s.hdrIn, s.hdrOut = c.line, c.hdrIn, c.hdrOut
		if !reflect.DeepEqual(s, c) {
			t.Errorf("%q %s-%d differs:\nOperators.md %+v\nChangelog.md %+v", s.domain, s.op, s.since, s, c)
		}
	}
}
