package conformance

import "strings"

// skipReason says why a case is deliberately out of scope ("" when it is in
// scope). Every entry carries its reason; an op that is merely missing is a
// failure, never a skip.
func skipReason(name string) string {
	for _, s := range skips {
		if s.prefix && strings.HasPrefix(name, s.name) || name == s.name {
			return s.why
		}
	}
	return ""
}

var skips = []struct {
	name   string
	prefix bool
	why    string
}{}
