package conformance

import (
	"bufio"
	"os"
	"strings"
)

// ReadBaseline reads case names from a baseline file, one per line; '#'
// starts a comment.
func ReadBaseline(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line != "" {
			names = append(names, line)
		}
	}
	return names, sc.Err()
}
