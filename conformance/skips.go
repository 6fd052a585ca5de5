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
}{
	{name: "test_bernoulli", prefix: true, why: "output is random: the reference values come from numpy's binomial sampler, which Keen does not reproduce"},
	{name: "test_dft_inverse", prefix: true, why: "the reference output carries float32 rounding noise (1.9e-7) where the exact value is 0, above the runner's atol of 1e-7; Keen's result is exact to 3e-15"},
}
