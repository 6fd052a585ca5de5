package eager_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/ir"
)

// pendingFamilies are default-domain ops still without a rule, by family.
// It must stay empty: every op has a rule, a non-differentiable mark, or is
// composite (run by the executor as other ops).
var pendingFamilies = map[string][]string{}

// TestGradientCompleteness: every default-domain op of the spec has a
// gradient rule or is marked non-differentiable, apart from pendingFamilies.
func TestGradientCompleteness(t *testing.T) {
	pending := map[string]string{}
	for fam, ops := range pendingFamilies {
		for _, op := range ops {
			pending[op] = fam
		}
	}
	seen := map[string]bool{}
	var missing, landed, both []string
	for _, s := range ir.AllSchemas() {
		if s.Domain != "" || seen[s.Op] {
			continue
		}
		seen[s.Op] = true
		rule, nonDiff := eager.GradientStatus("", s.Op)
		rule = rule || eager.IsComposite("", s.Op)
		switch {
		case rule && nonDiff:
			both = append(both, s.Op)
		case !rule && !nonDiff && pending[s.Op] == "":
			missing = append(missing, s.Op)
		}
		if (rule || nonDiff) && pending[s.Op] != "" {
			landed = append(landed, s.Op)
		}
	}
	for op, fam := range pending {
		if !seen[op] {
			t.Errorf("pendingFamilies[%q] names %s, which is no default-domain op", fam, op)
		}
	}
	if len(landed) > 0 {
		sort.Strings(landed)
		t.Logf("covered now, remove from pendingFamilies: %s", strings.Join(landed, " "))
	}
	if len(both) > 0 {
		t.Logf("both a rule and a non-differentiable mark (the rule wins): %s", strings.Join(both, " "))
	}
	t.Logf("%d default-domain ops, %d pending in other families", len(seen), len(pending)-len(landed))
	if len(missing) > 0 {
		t.Errorf("%d default-domain ops have neither a gradient rule nor a non-differentiable mark:\n%s",
			len(missing), strings.Join(missing, " "))
	}
}
