package nn_test

import (
	"math/rand"
	"testing"

	"github.com/keenml/keen/eager"
	"github.com/keenml/keen/eager/losses"
	"github.com/keenml/keen/eager/nn"
	"github.com/keenml/keen/eager/optim"
	"github.com/keenml/keen/ir"
)

// A decoder-only transformer block learns to copy: given "a b c d SEP" it
// continues "a b c d". Training runs the whole sequence at once under a
// causal mask; decoding is a plain Go loop that calls the attention once
// per step, feeding back its own greedy predictions and keeping the keys
// and values of earlier steps in a KVCache.

const (
	copyLen   = 4
	copyVocab = 8         // tokens 0..7
	sep       = copyVocab // the separator token
	seqLen    = 2 * copyLen
)

type copier struct {
	Tok  *nn.Embedding
	Pos  *nn.Embedding
	Attn *nn.MultiHeadAttention
	Norm *nn.LayerNorm
	Out  *nn.Linear
}

func newCopier() *copier {
	const e = 32
	return &copier{
		Tok:  nn.NewEmbedding(copyVocab+1, e, nn.Seed(1)),
		Pos:  nn.NewEmbedding(seqLen, e, nn.Seed(2)),
		Attn: nn.NewMultiHeadAttention(e, 4, nn.Seed(3)),
		Norm: nn.NewLayerNorm(e),
		Out:  nn.NewLinear(e, copyVocab, nn.Seed(4)),
	}
}

// logits maps tokens [N, L] at positions pos..pos+L-1 to next-token logits
// [N, L, V]. With a cache, earlier positions are remembered there.
func (m *copier) logits(tokens *eager.Tensor, pos int, cache *nn.KVCache) *eager.Tensor {
	l := tokens.Dim(1)
	positions := make([]int64, l)
	for i := range positions {
		positions[i] = int64(pos + i)
	}
	x := eager.Add(m.Tok.Forward(tokens), m.Pos.Forward(eager.New(positions, l)))
	h := eager.Add(x, m.Attn.Attend(x, x, x, nn.AttendOptions{Causal: true, Cache: cache}))
	return m.Out.Forward(m.Norm.Forward(h))
}

// copyBatch makes n sequences "a b c d SEP a b c" as inputs and, for the
// last copyLen positions, the targets "a b c d".
func copyBatch(r *rand.Rand, n int) (inputs []int64, targets []int64) {
	for i := 0; i < n; i++ {
		src := make([]int64, copyLen)
		for j := range src {
			src[j] = int64(r.Intn(copyVocab))
		}
		inputs = append(inputs, src...)
		inputs = append(inputs, sep)
		inputs = append(inputs, src[:copyLen-1]...)
		targets = append(targets, src...)
	}
	return inputs, targets
}

func TestAttentionDecoderLearnsToCopy(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	m := newCopier()
	opt := optim.NewAdam(nn.Params(m), 0.01)
	const batch = 32
	var loss float64
	for step := 0; step < 200; step++ {
		in, tgt := copyBatch(r, batch)
		tape := eager.NewTape()
		logits := m.logits(eager.New(in, batch, seqLen), 0, nil) // [N, 8, V]
		// Only the copied half is scored.
		copied := eager.Slice(logits, []int{copyLen}, []int{seqLen}, []int{1})
		l := losses.SoftmaxCrossEntropy(eager.Reshape(copied, -1, copyVocab), eager.New(tgt, batch*copyLen))
		if err := opt.Step(tape.Gradient(l, opt.Params()...)); err != nil {
			t.Fatal(err)
		}
		loss = l.Item()
	}

	// Greedy decoding, one attention call per step.
	const tests = 200
	in, tgt := copyBatch(r, tests)
	prompt := eager.New(in, tests, seqLen)
	cache := &nn.KVCache{}
	var out [][]int64 // out[k] holds the k-th generated token of every sequence
	next := eager.Slice(prompt, []int{0}, []int{1}, []int{1})
	for pos := 0; pos < seqLen; pos++ {
		logits := m.logits(next, pos, cache) // [N, 1, V]
		if cache.Len() != pos+1 {
			t.Fatalf("step %d: the cache holds %d positions", pos, cache.Len())
		}
		if pos < copyLen {
			// Still reading the prompt: feed its next token.
			next = eager.Slice(prompt, []int{pos + 1}, []int{pos + 2}, []int{1})
			continue
		}
		next = eager.Cast(eager.ArgMax(logits, 2, false), ir.Int64) // [N, 1], fed back
		ids, err := next.MustHost().Int64s()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids)
	}
	tokens, seqs := 0, 0
	for i := 0; i < tests; i++ {
		all := true
		for k := 0; k < copyLen; k++ {
			if out[k][i] == tgt[i*copyLen+k] {
				tokens++
			} else {
				all = false
			}
		}
		if all {
			seqs++
		}
	}
	tokAcc, seqAcc := float64(tokens)/(tests*copyLen), float64(seqs)/tests
	t.Logf("final training loss %.4f; greedy decoding: %.3f of tokens, %.3f of sequences copied", loss, tokAcc, seqAcc)
	if tokAcc < 0.95 || seqAcc < 0.85 {
		t.Fatalf("greedy decoding copied %.3f of tokens and %.3f of sequences; want 0.95 and 0.85", tokAcc, seqAcc)
	}
}
