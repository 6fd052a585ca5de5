package eager

import (
	"fmt"
	"sort"
	"strings"

	"github.com/keenml/keen/ir"
)

// Gradient rules of Einsum and Det.

func init() {
	RegisterGradient("", "Einsum", gradEinsum)
	RegisterGradient("", "Det", gradDet)
}

// einsumTerm is one term of an equation: its letters, split at the
// ellipsis when it has one.
type einsumTerm struct {
	pre, post string
	ell       bool
}

func (t einsumTerm) letters() string { return t.pre + t.post }

func (t einsumTerm) String() string {
	if t.ell {
		return t.pre + "..." + t.post
	}
	return t.pre + t.post
}

// parseEinsum splits an equation into its input terms and its output term
// (worked out numpy's way when implicit: the ellipsis, then the letters used
// once, sorted).
func parseEinsum(eq string, nIn int) ([]einsumTerm, einsumTerm, error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	raw := strings.Split(lhs, ",")
	if len(raw) != nIn {
		return nil, einsumTerm{}, fmt.Errorf("equation %q has %d operands, the node %d inputs", eq, len(raw), nIn)
	}
	var ins []einsumTerm
	count := map[rune]int{}
	anyEll := false
	for _, s := range raw {
		t, err := parseEinsumTerm(s)
		if err != nil {
			return nil, einsumTerm{}, fmt.Errorf("equation %q: %w", eq, err)
		}
		for _, l := range t.letters() {
			count[l]++
		}
		anyEll = anyEll || t.ell
		ins = append(ins, t)
	}
	if explicit {
		out, err := parseEinsumTerm(rhs)
		if err != nil {
			return nil, einsumTerm{}, fmt.Errorf("equation %q: %w", eq, err)
		}
		return ins, out, nil
	}
	var once []rune
	for l, c := range count {
		if c == 1 {
			once = append(once, l)
		}
	}
	sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
	return ins, einsumTerm{post: string(once), ell: anyEll}, nil
}

func parseEinsumTerm(s string) (einsumTerm, error) {
	pre, post, ell := strings.Cut(s, "...")
	if !ell {
		pre, post = s, ""
	}
	for _, r := range pre + post {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return einsumTerm{}, fmt.Errorf("bad label %q in term %q", r, s)
		}
	}
	return einsumTerm{pre: pre, post: post, ell: ell}, nil
}

// Einsum, Y = einsum(X_1, ..., X_n): each operand's gradient is the einsum
// of dY with the other operands, its output term the operand's own:
//
//	dX_k = einsum("out,t_1,..,t_n (without t_k)->t_k", dY, X_j...)
//
// Letters repeated in t_k (diagonals, traces) get fresh letters in the
// output term, tied to the first by identity matrices ("ii": dX = diag);
// letters of t_k found nowhere else (summed out by the forward) and the
// operand's ellipsis dims come from a ones tensor (their gradient is
// broadcast); ellipsis dims the operand broadcast are summed back down.
func gradEinsum(g *GradContext) []*Tensor {
	out := make([]*Tensor, len(g.In))
	if !g.In[0].DType().IsFloat() {
		return out
	}
	eq := g.Attrs().Str("equation", "")
	ins, res, err := parseEinsum(eq, len(g.In))
	if err != nil {
		panic(&OpError{Err: fmt.Errorf("Einsum gradient: %w", err)})
	}
	for k := range g.In {
		d, err := einsumGradOf(k, ins, res, g.In, g.D(0), eq)
		if err != nil {
			panic(&OpError{Err: fmt.Errorf("Einsum gradient of input %d: %w", k, err)})
		}
		out[k] = d
	}
	return out
}

// einsumGradOf returns the gradient of operand k (see gradEinsum).
func einsumGradOf(k int, ins []einsumTerm, res einsumTerm, xs []*Tensor, dy *Tensor, eq string) (*Tensor, error) {
	x, tk := xs[k], ins[k]
	letters := tk.letters()
	ellRank := x.Rank() - len(letters)
	if ellRank < 0 || (ellRank > 0 && !tk.ell) {
		return nil, fmt.Errorf("equation %q: term %q does not fit shape %v", eq, tk, x.Shape())
	}
	dimOf := func(pos int) int {
		if pos >= len(tk.pre) {
			pos += ellRank
		}
		return x.Dim(pos)
	}
	fresh := einsumFreshLetters(eq)
	terms, ops := []string{res.String()}, []*Tensor{dy}
	present := map[rune]bool{}
	for _, l := range res.letters() {
		present[l] = true
	}
	for j, t := range ins {
		if j != k {
			terms, ops = append(terms, t.String()), append(ops, xs[j])
			for _, l := range t.letters() {
				present[l] = true
			}
		}
	}
	gradLetters := []rune(letters)
	seen := map[rune]bool{}
	for pos, l := range gradLetters {
		if !seen[l] {
			seen[l] = true
			continue
		}
		if len(fresh) == 0 {
			return nil, fmt.Errorf("equation %q: no free labels left for the diagonal of %q", eq, string(l))
		}
		f := fresh[0]
		fresh = fresh[1:]
		n := dimOf(pos)
		terms = append(terms, string([]rune{l, f}))
		ops = append(ops, op1("EyeLike", nil, Full(x, x.DType(), 0, n, n)))
		gradLetters[pos], present[l] = f, true
	}
	var onesTerm []rune
	var onesShape []int
	for pos, l := range letters {
		if !present[l] {
			present[l] = true
			onesTerm, onesShape = append(onesTerm, l), append(onesShape, dimOf(pos))
		}
	}
	b := len(tk.pre)
	if tk.ell {
		onesShape = append(onesShape, x.Shape()[b:b+ellRank]...)
	}
	if len(onesTerm) > 0 || tk.ell {
		terms = append(terms, einsumTerm{pre: string(onesTerm), ell: tk.ell}.String())
		ops = append(ops, Full(x, x.DType(), 1, onesShape...))
	}
	gt := einsumTerm{pre: string(gradLetters[:b]), post: string(gradLetters[b:]), ell: tk.ell}
	geq := strings.Join(terms, ",") + "->" + gt.String()
	d := op1("Einsum", ir.Attrs{ir.StringAttr("equation", geq)}, ops...)
	if !tk.ell {
		return d, nil
	}
	// d is (pre, E ellipsis dims, post) with E >= ellRank: sum the leading
	// extra ones away and those x has as 1.
	lead := d.Rank() - len(letters) - ellRank
	axes := spanAxes(b, b+lead)
	for j := 0; j < ellRank; j++ {
		if x.Dim(b+j) == 1 && d.Dim(b+lead+j) != 1 {
			axes = append(axes, int64(b+lead+j))
		}
	}
	if len(axes) > 0 {
		d = ReduceSum(d, axes, true)
	}
	return Reshape(d, x.Shape()...), nil
}

// einsumFreshLetters lists the labels eq does not use.
func einsumFreshLetters(eq string) []rune {
	var free []rune
	for _, r := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		if !strings.ContainsRune(eq, r) {
			free = append(free, r)
		}
	}
	return free
}

// Det of each (n, n) matrix in the last two dims: ∂det X/∂X_ij is the
// cofactor C_ij = (-1)^(i+j) det(M_ij), M_ij being X without row i and
// column j (C = det(X) X⁻ᵀ where X is invertible). ONNX has no inverse or
// solve, so the rule builds the n² minors with Gather and runs Det on them:
// exact also for singular X, differentiable again, but O(n⁴) memory and
// O(n⁵) work: meant for the small matrices Det is used on.
func gradDet(g *GradContext) []*Tensor {
	x, dy := g.In[0], g.D(0)
	r, n := x.Rank(), x.Dim(-1)
	dyu := Unsqueeze(dy, r-2, r-1)
	if n <= 1 {
		return []*Tensor{Expand(dyu, x.Shape()...)}
	}
	keep := make([]int64, 0, n*(n-1))
	sign := make([]float64, 0, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if j != i {
				keep = append(keep, int64(j))
			}
			sign = append(sign, float64(1-2*((i+j)%2)))
		}
	}
	idx, err := FromHost(x.dev, ir.FromSlice(keep, n, n-1))
	if err != nil {
		panic(&OpError{Err: err})
	}
	// rows (..., i, n-1, n), then minors (..., i, n-1, j, n-1)
	m := Gather(Gather(x, idx, r-2), idx, r)
	perm := make([]int, 0, r+2)
	for a := 0; a < r-2; a++ {
		perm = append(perm, a)
	}
	perm = append(perm, r-2, r, r-1, r+1)
	minors := op1("Det", nil, Transpose(m, perm...))
	sg, err := FromHost(x.dev, ir.FromSlice(sign, n, n))
	if err != nil {
		panic(&OpError{Err: err})
	}
	cof := Mul(minors, Cast(sg, x.DType()))
	return []*Tensor{Mul(cof, dyu)}
}
